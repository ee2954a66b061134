"""Mixed loading by road: the 49 CFR § 177.848 segregation and Class 1 compatibility tables.

The § 177.848(d) table (data/dangerous_goods/segregation_177_848.csv, read once on first use)
gives, for two hazard classes on one vehicle or in one storage facility:

- X (``FORBIDDEN``): they may not be loaded, transported or stored together;
- O (``SEPARATED``): the same, unless separated so that leaking packages could not mix under
  normal transport conditions; even then Class 8 liquids may not go above or next to Class 4 or
  5 materials (§ 177.848(e)(3));
- blank (``NONE``): the table does not restrict the pair, nor any class it does not list (6.2,
  9, 2.3 Zone C and D, 6.1 other than PG I Zone A liquids, Class 8 solids).

It is symmetric, so the order of the two classes never matters. Two Class 1 materials are
decided by the § 177.848(f) compatibility table, by compatibility group.

A class may be given as a string or as a table entry (``DangerousGood``). A string names only
a class, so a part the table scopes is read as the strictest row it could be: "2.3" as Zone A
("2.3A" .. "2.3D" state the zone), "6.1" as PG I Zone A liquids ("6.1A" states it), "8" as
liquids, "1" and a division without a group as any division or group. An entry is exact where
the data allows: its zone (special provisions 1-4) and packing group decide 2.3 and 6.1 (a 6.1
that is not PG I Zone A falls outside the table), and its subsidiary classes are checked too
(§ 177.848(e)(6)). Its physical state is not in the data, so Class 8 is always read as liquid.

Read strictly, and not covered:

- Note A (5.1 with 1.1 or 1.5, ammonium nitrate): the X stands; the reason mentions the note.
- Compatibility notes that allow a pair only on a condition the class cannot show are read as
  forbidden, the reason naming the condition: group L only with an identical explosive (note 1),
  group G articles with C, D, E (note 6), 1.4S with 1.1 or 1.2 unless not fireworks (note 5).
  Notes 2 and 3 (how a mixed C/D/E/N load is grouped) and 4 (detonators, § 177.835(g)) restrict
  nothing further here; B with D stays X.
- Not covered: cyanides with acids (§ 177.848(c)), same-group mixing of divisions
  (§ 177.848(h)-(i)), and the same-class exemption from subsidiary segregation, which needs
  knowledge of the reaction.
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


class Segregation(StrEnum):
    """What § 177.848 says of two classes on one vehicle."""

    NONE = "none"  # blank
    SEPARATED = "separated"  # O
    FORBIDDEN = "forbidden"  # X


STRICTNESS = {Segregation.NONE: 0, Segregation.SEPARATED: 1, Segregation.FORBIDDEN: 2}
CLASSES_4_5 = frozenset({"4.1", "4.2", "4.3", "5.1", "5.2"})


@dataclass(frozen=True)
class _Hazard:
    label: str
    rows: tuple[str | None, ...]
    group: str | None = None  # Class 1 compatibility group

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


def _entry_hazard(good: DangerousGood, hazard_class: str, label: str) -> _Hazard:
    zone = good.inhalation_hazard_zone
    if hazard_class == "2.3" and zone:
        return _class_hazard(f"2.3{zone}", label)
    if hazard_class == "6.1":
        zone_a = good.packing_group == "I" and zone == "A"
        return _Hazard(label, ("6.1A",) if zone_a else (None,))
    # UN0190 (explosive samples) has no class: its division is assigned case by case.
    return _class_hazard(hazard_class or "1", label)


def _hazards(item: str | DangerousGood) -> tuple[_Hazard, ...]:
    if isinstance(item, str):
        return (_class_hazard(item, f"class {item}"),)
    name = f"{item.un_number} (class {item.hazard_class or '1, division unassigned'})"
    primary = _entry_hazard(item, item.hazard_class, name)
    subsidiaries = tuple(
        _entry_hazard(item, sub, f"{item.un_number} (subsidiary {sub})")
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
    conditions = [COMPATIBILITY_NOTES[n] for n in notes if n in ("1", "6")]
    if "5" in notes and divisions & {"1.1", "1.2"}:
        conditions.append(COMPATIBILITY_NOTES["5"])
    if conditions:
        return (
            Segregation.FORBIDDEN,
            f"{where}: allowed only on a condition: {'; '.join(conditions)}",
        )
    return Segregation.NONE, f"{where}: groups {a.group} and {b.group} are compatible"


def _cell(row_a: str | None, row_b: str | None) -> tuple[Segregation, str]:
    if row_a is None or row_b is None:
        return Segregation.NONE, "§ 177.848(d): not restricted"
    tables = _tables()
    rule, note_a = tables.cells[row_a, row_b]
    if rule not in VERDICTS:
        return Segregation.NONE, "§ 177.848(d): not restricted"
    reason = f"§ 177.848(d): {tables.labels[row_a]} with {tables.labels[row_b]} is {rule}, "
    reason += VERDICTS[rule] + (NOTE_A if note_a else "")
    if rule == "O" and "8L" in (row_a, row_b) and {row_a, row_b} & CLASSES_4_5:
        reason += E3
    return Segregation.SEPARATED if rule == "O" else Segregation.FORBIDDEN, reason


def _pair(a: _Hazard, b: _Hazard) -> tuple[Segregation, str]:
    if a.explosive and b.explosive:
        return _explosives(a, b)
    found = [_cell(row_a, row_b) for row_a in a.rows for row_b in b.rows]
    return max(found, key=lambda verdict: STRICTNESS[verdict[0]])


def _strictest(
    a: str | DangerousGood, b: str | DangerousGood
) -> tuple[Segregation, _Hazard, _Hazard, str]:
    found = [(*_pair(ha, hb), ha, hb) for ha in _hazards(a) for hb in _hazards(b)]
    verdict, reason, ha, hb = max(found, key=lambda f: STRICTNESS[f[0]])
    return verdict, ha, hb, reason


def segregation(class_a: str | DangerousGood, class_b: str | DangerousGood) -> Segregation:
    """How § 177.848 lets the two share a vehicle; see the module docstring for the reading."""
    return _strictest(class_a, class_b)[0]


def mixed_loading_violations(classes: Collection[str | DangerousGood]) -> tuple[str, ...]:
    """One reason for each pair that is forbidden or must be separated, in the order given."""
    found: dict[frozenset[str | DangerousGood], str] = {}
    for a, b in combinations(classes, 2):
        pair = frozenset((a, b))  # the same two classes again, either way round, add nothing
        if pair in found:
            continue
        verdict, ha, hb, reason = _strictest(a, b)
        if verdict is not Segregation.NONE:
            found[pair] = f"{ha.label} with {hb.label}: {verdict.value} ({reason})"
    return tuple(found.values())
