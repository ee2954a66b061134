"""Mixed loading by road: 49 CFR § 177.848, the segregation and Class 1 compatibility tables.

The § 177.848(d) table (data/dangerous_goods/segregation_177_848.csv, read once on first use)
gives, for two hazard classes on one vehicle or in one storage facility:

- X (``FORBIDDEN``): they may not be loaded, transported or stored together (§ 177.848(e)(2));
- O (``SEPARATED``): the same, unless separated so that leaking packages could not mix under
  normal transport conditions; even then Class 8 liquids may not go above or next to Class 4 or
  5 materials (§ 177.848(e)(3));
- blank (``NONE``): the table does not restrict the pair, nor any class it does not list (6.2,
  9, 2.3 Zone C and D, 6.1 other than PG I Zone A liquids, Class 8 other than liquids)
  (§ 177.848(e)(1)).

``CONDITIONAL`` is allowed only on a condition the entry cannot show, so a person must confirm
it: the same-class exemption of § 177.848(e)(6), Note A's § 177.835(c) proviso, and a cyanide
with a corrosive the name does not show to be an acid or a base (§ 177.848(c)).

The table is symmetric, so the order of the two never matters. Two Class 1 materials are decided
by the § 177.848(f) compatibility table, by compatibility group.

A class may be given as a string or as a table entry (``DangerousGood``). A string names only a
class, so a part the table scopes is read as the strictest row it could be: "2.3" as Zone A
("2.3A" .. "2.3D" state the zone), "6.1" as PG I Zone A liquids ("6.1A" states it), "8" as
liquids ("8L"), "1" and a division without a group as any division or group; a string is never
ammonium nitrate, may be fireworks, and "8" may be an acid. An entry is read for what it is
(rules.dangerous_goods): its zone and packing group decide 2.3 and 6.1, its physical state the
liquids-only rows (a solid or a gas, primary or subsidiary, is outside "8 liquids only"; a state
the entry does not show is read as liquid), its subsidiary classes are checked too, and its name
decides cyanides and acids, Note A and fireworks. Which paragraph of § 177.848 is applied and how,
and which is not covered, is listed paragraph by paragraph in data/dangerous_goods/NOTES.md.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from itertools import combinations

from rules.dangerous_goods import DATA_DIR, DangerousGood

SEGREGATION_FILE = DATA_DIR / "segregation_177_848.csv"
COMPATIBILITY_FILE = DATA_DIR / "explosives_compatibility_177_848f.csv"
DIVISIONS_1 = ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6")
EXPLOSIVE = re.compile(r"1(?:\.([1-6])([A-HJKLNS])?)?")
# What a class string may be read as: table rows it could fall under; None = outside the table.
READINGS: dict[str, tuple[str | None, ...]] = {
    "2.1": ("2.1",),
    "2.2": ("2.2",),
    "2.3": ("2.3A", "2.3B", None),
    "2.3A": ("2.3A",),
    "2.3B": ("2.3B",),
    "2.3C": (None,),
    "2.3D": (None,),
    "3": ("3",),
    "4.1": ("4.1",),
    "4.2": ("4.2",),
    "4.3": ("4.3",),
    "5.1": ("5.1",),
    "5.2": ("5.2",),
    "6.1": ("6.1A", None),
    "6.1A": ("6.1A",),
    "6.2": (None,),
    "7": ("7",),
    "8": ("8L", None),
    "8L": ("8L",),
    "9": (None,),
    "Comb liq": (None,),
}
VERDICTS = {
    "X": "may not be loaded, transported or stored together",
    "O": "only if separated so that leaking packages could not mix",
}
NOTE_A = (
    "; Note A: ammonium nitrate (UN1942) and ammonium nitrate fertilizer may go with 1.1 or 1.5"
    " unless § 177.835(c) forbids it"
)
E3 = "; even separated, Class 8 liquids may not go above or next to Class 4 or 5 (§ 177.848(e)(3))"
COMPATIBILITY_NOTES = {
    "1": "group L only with an identical explosive (note 1)",
    "5": "1.4S fireworks may not go with 1.1 or 1.2 (note 5)",
    "6": "group G articles only if not fireworks and no explosive substance is aboard (note 6)",
}
# § 177.848(c) names these pairs itself, besides the table: no (e)(6) exemption lifts them.
PARAGRAPH_C_PAIRS = frozenset(
    {frozenset({"4.2", "8L"})}
    | {frozenset({"6.1A", row}) for row in ("3", "8L", "4.1", "4.2", "4.3", "5.1", "5.2")}
)
CYANIDES_WITH_ACIDS = (
    "§ 177.848(c): cyanides, cyanide mixtures or solutions may not be stored, loaded and"
    " transported with acids if a mixture would generate hydrogen cyanide"
)


class Segregation(StrEnum):
    """What § 177.848 says of two materials on one vehicle."""

    NONE = "none"  # blank
    CONDITIONAL = "conditional"  # allowed on a condition a person must confirm
    SEPARATED = "separated"  # O
    FORBIDDEN = "forbidden"  # X


STRICTNESS = {
    Segregation.NONE: 0,
    Segregation.CONDITIONAL: 1,
    Segregation.SEPARATED: 2,
    Segregation.FORBIDDEN: 3,
}
CLASSES_4_5 = frozenset({"4.1", "4.2", "4.3", "5.1", "5.2"})


@dataclass(frozen=True)
class _Hazard:
    label: str
    rows: tuple[str | None, ...]
    group: str | None = None  # Class 1 compatibility group
    subsidiary: bool = False
    ammonium_nitrate: bool = False  # Note A
    fireworks: bool = True  # note 5: a class string may be fireworks
    entry: DangerousGood | None = None

    @property
    def explosive(self) -> bool:
        return all(row is not None and row.startswith("1.") for row in self.rows)


@dataclass(frozen=True)
class _Tables:
    cells: dict[tuple[str, str], tuple[str, bool]]  # (row, column) -> rule, note A applies
    labels: dict[str, str]
    compatibility: dict[tuple[str, str], tuple[bool, tuple[str, ...]]]  # prohibited, notes


@cache
def _tables() -> _Tables:
    cells: dict[tuple[str, str], tuple[str, bool]] = {}
    labels: dict[str, str] = {}
    with SEGREGATION_FILE.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            a, b = row["class_a_key"], row["class_b_key"]
            cells[a, b] = (row["rule"], row["note_a_applies"] == "yes")
            labels[a] = row["class_a_row_label"]
    compatibility: dict[tuple[str, str], tuple[bool, tuple[str, ...]]] = {}
    with COMPATIBILITY_FILE.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            notes = tuple(n for n in row["notes"].split(";") if n)
            compatibility[row["group_a"], row["group_b"]] = (row["prohibited"] == "X", notes)
    return _Tables(cells, labels, compatibility)


def _class_hazard(hazard_class: str, label: str) -> _Hazard:
    explosive = EXPLOSIVE.fullmatch(hazard_class)
    if explosive:
        division, group = explosive.groups()
        rows = (f"1.{division}",) if division else DIVISIONS_1
        return _Hazard(label, rows, group)
    if hazard_class not in READINGS:
        raise ValueError(f"{hazard_class!r} is not a hazard class the segregation table can read")
    return _Hazard(label, READINGS[hazard_class])


def _entry_rows(good: DangerousGood, hazard_class: str) -> _Hazard:
    zone, state = good.inhalation_hazard_zone, good.physical_state
    liquid = state in ("liquid", None)  # a state the entry does not show: read as liquid
    if hazard_class == "2.3" and zone:
        return _class_hazard(f"2.3{zone}", "")
    if hazard_class == "6.1":
        zone_a = good.packing_group == "I" and zone == "A" and liquid
        return _Hazard("", ("6.1A",) if zone_a else (None,))
    if hazard_class == "8":  # the table's row is "8 liquids only"
        return _Hazard("", ("8L",) if liquid else (None,))
    # UN0190 (explosive samples) has no class: its division is assigned case by case.
    return _class_hazard(hazard_class or "1", "")


def _entry_hazard(good: DangerousGood, hazard_class: str, label: str, subsidiary: bool) -> _Hazard:
    rows = _entry_rows(good, hazard_class)
    return _Hazard(
        label,
        rows.rows,
        rows.group,
        subsidiary=subsidiary,
        ammonium_nitrate=good.is_ammonium_nitrate and hazard_class == "5.1",
        fireworks=good.is_fireworks,
        entry=good,
    )


def _hazards(item: str | DangerousGood) -> tuple[_Hazard, ...]:
    if isinstance(item, str):
        return (_class_hazard(item, f"class {item}"),)
    name = f"{item.un_number} (class {item.hazard_class or '1, division unassigned'})"
    primary = _entry_hazard(item, item.hazard_class, name, subsidiary=False)
    subsidiaries = tuple(
        _entry_hazard(item, sub, f"{item.un_number} (subsidiary {sub})", subsidiary=True)
        for sub in item.subsidiary_classes
    )
    return (primary, *subsidiaries)


def _explosives(a: _Hazard, b: _Hazard) -> tuple[Segregation, str]:
    where = "§ 177.848(f)"
    if a.group is None or b.group is None:
        return Segregation.FORBIDDEN, f"{where}: the compatibility group is not stated"
    prohibited, notes = _tables().compatibility[a.group, b.group]
    if prohibited:
        detail = "; see § 177.835(g) for detonators (note 4)" if "4" in notes else ""
        return Segregation.FORBIDDEN, f"{where}: groups {a.group} and {b.group} are X{detail}"
    divisions = {a.rows[0], b.rows[0]}
    # Note 1: an identical explosive is the same entry; two class strings never show that.
    identical = a.entry is not None and a.entry == b.entry
    conditions = [COMPATIBILITY_NOTES["1"]] if "1" in notes and not identical else []
    conditions += [COMPATIBILITY_NOTES["6"]] if "6" in notes else []
    fireworks = any(h.group == "S" and h.fireworks for h in (a, b))
    if "5" in notes and divisions & {"1.1", "1.2"} and fireworks:
        conditions.append(COMPATIBILITY_NOTES["5"])
    if conditions:
        return (
            Segregation.FORBIDDEN,
            f"{where}: allowed only on a condition: {'; '.join(conditions)}",
        )
    return Segregation.NONE, f"{where}: groups {a.group} and {b.group} are compatible"


def _cell(a: _Hazard, b: _Hazard, row_a: str | None, row_b: str | None) -> tuple[Segregation, str]:
    if row_a is None or row_b is None:
        return Segregation.NONE, "§ 177.848(d): not restricted"
    tables = _tables()
    rule, note_a = tables.cells[row_a, row_b]
    if rule not in VERDICTS:
        return Segregation.NONE, "§ 177.848(d): not restricted"
    reason = f"§ 177.848(d): {tables.labels[row_a]} with {tables.labels[row_b]} is {rule}, "
    if note_a and (a.ammonium_nitrate or b.ammonium_nitrate):
        reason += (
            "lifted by Note A (§ 177.848(e)(5)) for ammonium nitrate (UN1942) and ammonium"
            " nitrate fertilizer: allowed unless § 177.835(c) forbids it, which is not checked"
        )
        return Segregation.CONDITIONAL, reason
    reason += VERDICTS[rule] + (NOTE_A if note_a else "")
    if rule == "O" and "8L" in (row_a, row_b) and {row_a, row_b} & CLASSES_4_5:
        reason += E3
    return Segregation.SEPARATED if rule == "O" else Segregation.FORBIDDEN, reason


def _same_class(a: _Hazard, b: _Hazard) -> str | None:
    """The class both entries' primary hazards share ('8' for 8 and 8), else None."""
    if a.entry is None or b.entry is None:
        return None
    class_a, class_b = (e.hazard_class.split(".")[0] for e in (a.entry, b.entry))
    return class_a if class_a and class_a == class_b else None


def _pair(a: _Hazard, b: _Hazard) -> tuple[Segregation, str]:
    if a.explosive and b.explosive:
        return _explosives(a, b)
    found = [(_cell(a, b, ra, rb), frozenset({ra, rb})) for ra in a.rows for rb in b.rows]
    (verdict, reason), rows = max(found, key=lambda f: STRICTNESS[f[0][0]])
    same = _same_class(a, b)
    exempt = verdict in (Segregation.SEPARATED, Segregation.FORBIDDEN)
    if exempt and same and (a.subsidiary or b.subsidiary) and rows not in PARAGRAPH_C_PAIRS:
        reason += (
            f"; both are Class {same}, so § 177.848(e)(6) sets this secondary-hazard segregation"
            " aside only if they cannot react dangerously with each other: confirm it"
        )
        return Segregation.CONDITIONAL, reason
    return verdict, reason


def _corrosive(item: str | DangerousGood) -> bool:
    if isinstance(item, str):
        return item in ("8", "8L")
    return "8" in (item.hazard_class, *item.subsidiary_classes)


def _cyanide_with_acid(a: str | DangerousGood, b: str | DangerousGood) -> tuple[Segregation, str]:
    """§ 177.848(c), cyanides with acids, by name; see the module docstring of dangerous_goods."""
    for cyanide, other in ((a, b), (b, a)):
        if not isinstance(cyanide, DangerousGood) or not cyanide.is_cyanide:
            continue
        if isinstance(other, DangerousGood) and other.is_cyanide:
            continue
        if isinstance(other, DangerousGood) and other.is_acid:
            return Segregation.FORBIDDEN, f"{CYANIDES_WITH_ACIDS}: {other.un_number} is an acid"
        if _corrosive(other) and not (isinstance(other, DangerousGood) and other.is_alkaline):
            named = other.un_number if isinstance(other, DangerousGood) else f"class {other}"
            if isinstance(other, str):  # a class string is read at its strictest: an acid
                return Segregation.FORBIDDEN, f"{CYANIDES_WITH_ACIDS}: {named} may be an acid"
            return (
                Segregation.CONDITIONAL,
                f"{CYANIDES_WITH_ACIDS}: confirm that {named}, a corrosive its name does not"
                " show to be an acid or a base, is not an acid",
            )
    return Segregation.NONE, ""


def _strictest(a: str | DangerousGood, b: str | DangerousGood) -> tuple[Segregation, str, str, str]:
    ha, hb = _hazards(a), _hazards(b)
    found = [(*_pair(x, y), x.label, y.label) for x in ha for y in hb]
    verdict, reason = _cyanide_with_acid(a, b)
    found.append((verdict, reason, ha[0].label, hb[0].label))
    return max(found, key=lambda f: STRICTNESS[f[0]])


def segregation(class_a: str | DangerousGood, class_b: str | DangerousGood) -> Segregation:
    """How § 177.848 lets the two share a vehicle; see the module docstring for the reading."""
    return _strictest(class_a, class_b)[0]


def mixed_loading_violations(classes: Collection[str | DangerousGood]) -> tuple[str, ...]:
    """One reason for each pair that is restricted in any way, in the order given."""
    found: dict[frozenset[str | DangerousGood], str] = {}
    for a, b in combinations(classes, 2):
        pair = frozenset((a, b))  # the same two classes again, either way round, add nothing
        if pair in found:
            continue
        verdict, reason, label_a, label_b = _strictest(a, b)
        if verdict is not Segregation.NONE:
            found[pair] = f"{label_a} with {label_b}: {verdict.value} ({reason})"
    return tuple(found.values())
