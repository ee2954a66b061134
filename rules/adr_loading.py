"""Mixed loading by danger label: ADR 7.5.2, which JT/T 617.7-2018 adopts for China's roads.

ADR 7.5.2.1: packages bearing different danger labels may share a vehicle only where the table
permits it for the labels they bear, the primary label and every subsidiary one
(data/dangerous_goods/adr_mixed_loading_7_5_2_1.csv, read once on first use). A blank cell
prohibits, so the table is read default-deny: any pair it does not permit is ``FORBIDDEN``.
Labels 2.1 to 9 may generally share; class 1 only as the table's notes allow:

- a: 1.4 goods only if they are 1.4S (compatibility group S);
- b: class 1 with the class 9 life-saving appliances UN2990, UN3072 and UN3268;
- c: UN0503 (safety devices, pyrotechnic, 1.4G) with UN3268 (safety devices, electrically
  initiated);
- d: blasting explosives (UN0083 excepted) with the ammonium nitrates and the alkali and alkaline
  earth metal nitrates it names, provided the whole load is treated as class 1 explosives for
  placarding, segregation, stowage and maximum load: allowed only on that condition, which the
  waybill cannot show, so ``CONDITIONAL`` (a person confirms it).

The labels 4.1+1 (self-reactive substances with an explosive subsidiary label) and 5.2+1
(organic peroxides with one) have rows of their own: 4.1+1 only with 4.1+1, 5.2+1 only with 5.2
and 5.2+1.

ADR 7.5.2.1 NOTE 2 and 7.5.2.2: two packages holding only class 1 goods are decided by their
compatibility groups alone (data/dangerous_goods/adr_compatibility_7_5_2_2.csv), whatever other
labels they bear. Its notes: 1 (B with D only in separate compartments or containment approved
by the competent authority: ``CONDITIONAL``), 2 (different kinds of 1.6N articles only when shown
by test or analogy not to detonate each other: ``CONDITIONAL``; the same entry is one kind), 3
(N with C, D or E counts as D: allowed), 4 (group L only with the same type: the same UN number;
anything else ``FORBIDDEN``). A class 1 item without its compatibility group is ``FORBIDDEN``
with any other class 1 item, and a 1.4 without it cannot show note a's S.

The goods are read by what they declare (UN number, class or division with compatibility group,
subsidiary classes): labels follow the classes (ADR 5.2.2.1). Divisions 1.1 to 1.3 and a bare
"1" bear label 1. What 7.5.2 does not decide (7.5.2.3 closed containers, 7.5.2.4 limited
quantities with explosives) is listed in data/dangerous_goods/NOTES.md.

CV28 (ADR 7.5.4), kept away from foodstuffs: ``keeps_from_food`` says whether goods carry it,
from Table A column (18) where rules.adr_table_a has the entry, otherwise from 7.5.4's own words
(labels 6.1 or 6.2, and label 9 for UN2212, 2315, 2590, 3151, 3152 and 3245).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from itertools import product
from typing import Protocol

from rules.adr_table_a import table_a
from rules.dangerous_goods import DATA_DIR, entries
from rules.segregation import STRICTNESS, Segregation

MIXED_LOADING_FILE = DATA_DIR / "adr_mixed_loading_7_5_2_1.csv"
COMPATIBILITY_FILE = DATA_DIR / "adr_compatibility_7_5_2_2.csv"
EXPLOSIVE = re.compile(r"1(?:\.([1-6])([A-HJKLNS])?)?")
SEE_7_5_2_2 = "7.5.2.2"

LIFE_SAVING_APPLIANCES = frozenset({"UN2990", "UN3072", "UN3268"})  # note b
NOTE_C = frozenset({"UN0503", "UN3268"})
# Note d: the 5.1 goods it names, besides the blasting explosives (EXPLOSIVE, BLASTING entries).
NOTE_D_NITRATES = frozenset(
    {"UN1942", "UN2067", "UN3375"}  # ammonium nitrate, AN based fertilizer, AN emulsion
    | {"UN1451", "UN2722", "UN1486", "UN1477", "UN1498"}  # Cs, Li, K, Rb, Na nitrates
    | {"UN1446", "UN2464", "UN1454", "UN1474", "UN1507"}  # Ba, Be, Ca, Mg, Sr nitrates
)
NOT_NOTE_D = "UN0083"  # explosive, blasting, type C
NOTES = {
    "a": "only with 1.4S goods (note a)",
    "b": "class 1 only with the class 9 life-saving appliances UN2990, UN3072, UN3268 (note b)",
    "c": "UN0503 only with UN3268 (note c)",
    "d": (
        "blasting explosives (not UN0083) with the nitrates note d names, the whole load treated"
        " as class 1 for placarding, segregation, stowage and maximum load (note d)"
    ),
}
GROUP_NOTES = {
    "1": "groups B and D only in separate compartments or containment approved by the competent"
    " authority (note 1): confirm it",
    "2": "different kinds of 1.6N articles only if shown by test or analogy not to detonate each"
    " other (note 2): confirm it",
}
# CV28 by the words of ADR 7.5.4, for entries the Table A extract does not hold.
CV28_CLASS_9 = frozenset({"UN2212", "UN2315", "UN2590", "UN3151", "UN3152", "UN3245"})


class Goods(Protocol):
    """What mixed loading reads of a package: a waybill item or a ``Package`` alike."""

    @property
    def un_number(self) -> str: ...
    @property
    def hazard_class(self) -> str: ...
    @property
    def subsidiary_classes(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Package:
    """Goods by their declaration alone; ``un_number`` may be empty (class only)."""

    hazard_class: str
    subsidiary_classes: tuple[str, ...] = ()
    un_number: str = ""


@dataclass(frozen=True)
class _Tables:
    cells: dict[tuple[str, str], str]
    groups: dict[tuple[str, str], str]


@cache
def _tables() -> _Tables:
    with MIXED_LOADING_FILE.open(newline="", encoding="utf-8") as f:
        cells = {(r["label_a"], r["label_b"]): r["cell"] for r in csv.DictReader(f)}
    with COMPATIBILITY_FILE.open(newline="", encoding="utf-8") as f:
        groups = {(r["group_a"], r["group_b"]): r["cell"] for r in csv.DictReader(f)}
    return _Tables(cells, groups)


def _class_label(hazard_class: str) -> str:
    explosive = EXPLOSIVE.fullmatch(hazard_class)
    if explosive:
        division = explosive.group(1)
        return f"1.{division}" if division in ("4", "5", "6") else "1"
    return hazard_class


def compatibility_group(goods: Goods) -> str | None:
    """The class 1 compatibility group the goods declare ('1.4S' -> 'S'), None if none."""
    explosive = EXPLOSIVE.fullmatch(goods.hazard_class)
    return explosive.group(2) if explosive else None


def is_explosive(goods: Goods) -> bool:
    return EXPLOSIVE.fullmatch(goods.hazard_class) is not None


def labels(goods: Goods) -> tuple[str, ...]:
    """The danger labels the package bears (ADR 5.2.2.1), as the 7.5.2.1 table keys them."""
    primary = _class_label(goods.hazard_class)
    subsidiaries = [_class_label(s) for s in goods.subsidiary_classes]
    if primary in ("4.1", "5.2") and "1" in subsidiaries:
        subsidiaries.remove("1")  # one combined row: 4.1+1, 5.2+1
        primary += "+1"
    return tuple(dict.fromkeys((primary, *subsidiaries)))


def _named(goods: Goods) -> str:
    return f"{goods.un_number} ({goods.hazard_class})" if goods.un_number else goods.hazard_class


def _blasting_explosive(goods: Goods) -> bool:
    if not goods.un_number or goods.un_number == NOT_NOTE_D:
        return False
    names = (g.proper_shipping_name.casefold() for g in entries(goods.un_number))
    return any(name.startswith("explosive, blasting") for name in names)


def _note_allows(note: str, one: Goods, other: Goods) -> Segregation | None:
    """What the note lets the two do (``one`` bears the class 1 label); None: not this note."""
    if note == "a":
        group = compatibility_group(one) if is_explosive(one) else None
        return Segregation.NONE if group == "S" else None
    if note == "b":
        return Segregation.NONE if other.un_number in LIFE_SAVING_APPLIANCES else None
    if note == "c":
        return Segregation.NONE if {one.un_number, other.un_number} == NOTE_C else None
    if note == "d" and _blasting_explosive(one) and other.un_number in NOTE_D_NITRATES:
        return Segregation.CONDITIONAL
    return None


def _cell(a: Goods, la: str, b: Goods, lb: str) -> tuple[Segregation, str]:
    where = f"ADR 7.5.2.1: label {la} of {_named(a)} with label {lb} of {_named(b)}"
    cell = _tables().cells[la, lb]
    if cell == SEE_7_5_2_2:  # a class 1 subsidiary label against class 1 goods
        return _explosives(a, b)
    if cell == "X":
        return Segregation.NONE, f"{where}: permitted"
    if not cell:
        return Segregation.FORBIDDEN, f"{where}: blank cell, mixed loading prohibited"
    one, other = (a, b) if la.startswith("1") else (b, a)
    notes = cell.split(";")
    allowed = [v for n in notes if (v := _note_allows(n, one, other)) is not None]
    condition = "; or ".join(NOTES[n] for n in notes)
    if not allowed:
        return Segregation.FORBIDDEN, f"{where}: prohibited except {condition}"
    verdict = min(allowed, key=lambda v: STRICTNESS[v])
    if verdict is Segregation.NONE:
        return verdict, f"{where}: permitted ({condition})"
    return verdict, f"{where}: allowed only for {condition}: confirm it"


def _explosives(a: Goods, b: Goods) -> tuple[Segregation, str]:
    """ADR 7.5.2.2 (and 7.5.2.1 NOTE 2): two class 1 packages, by compatibility group."""
    ga, gb = compatibility_group(a), compatibility_group(b)
    where = f"ADR 7.5.2.2: {_named(a)} with {_named(b)}"
    if ga is None or gb is None:
        return Segregation.FORBIDDEN, f"{where}: a compatibility group is not stated"
    cell = _tables().groups[ga, gb]
    same = bool(a.un_number) and a.un_number == b.un_number
    if cell == "X" or (cell in ("2", "4") and same):
        return Segregation.NONE, f"{where}: groups {ga} and {gb} permitted"
    if cell == "2;3":
        return Segregation.NONE, f"{where}: group N counts as D with C, D or E (note 3)"
    if cell in GROUP_NOTES:
        return Segregation.CONDITIONAL, f"{where}: {GROUP_NOTES[cell]}"
    detail = ": group L only with the same type (note 4)" if cell == "4" else ": blank cell"
    return Segregation.FORBIDDEN, f"{where}: groups {ga} and {gb} prohibited{detail}"


def mixed_loading(a: Goods, b: Goods) -> tuple[Segregation, str]:
    """How ADR 7.5.2 lets the two share a vehicle, and why (the strictest label pair)."""
    if is_explosive(a) and is_explosive(b):
        return _explosives(a, b)
    found = [_cell(a, la, b, lb) for la, lb in product(labels(a), labels(b))]
    return max(found, key=lambda f: STRICTNESS[f[0]])


def keeps_from_food(goods: Goods, packing_group: str | None = None) -> str | None:
    """Why CV28 (ADR 7.5.4) applies to the goods, or None when it does not."""
    listed = table_a(goods.un_number, packing_group) if goods.un_number else None
    if listed is not None:
        return f"ADR Table A column (18) lists CV28 for {listed.un_number}" if listed.cv28 else None
    borne = labels(goods)
    if toxic := [label for label in borne if label in ("6.1", "6.2")]:
        return f"ADR 7.5.4: it bears label {toxic[0]}"
    if "9" in borne and goods.un_number in CV28_CLASS_9:
        return f"ADR 7.5.4: label 9 on {goods.un_number}"
    return None
