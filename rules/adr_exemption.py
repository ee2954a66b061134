"""The small-load exemption of ADR 1.1.3.6: few enough dangerous goods on one transport unit.

Points (ADR 1.1.3.6.4) = Σ quantity x the factor of its transport category: category 1 x 50
(x 20 for the entries of footnote a to the 1.1.3.6.3 table, whose own limit is 50 kg), 2 x 3,
3 x 1, 4 x 0. The load is within the exemption at 1000 points or fewer; any category 0 goods rule
it out (their maximum is 0). It covers goods carried in packages only (1.1.3.6.2), so a waybill
naming a tank is not applicable.

What it relaxes (1.1.3.6.2): chapter 1.10 (security, with exceptions), chapter 5.3 (placards and
orange plates), 5.4.3 (instructions in writing), chapter 7.2 except V5 and V8, CV1 of 7.5.11,
Part 8 except 8.1.2.1 (a) (the transport document), 8.1.4.2 to 8.1.4.5 (fire extinguishers),
8.2.3, 8.3.3 to 8.3.5, chapter 8.4 and some S provisions (so the driver's ADR training
certificate of 8.2.1 is not required), and Part 9. What it does not: the rest of chapter 7.5,
so mixed loading (7.5.2) and CV28 (7.5.4) still apply. Whether JT/T 617 adopts 1.1.3.6
unchanged for China is not verified here. The platform waives none of its own checks for it
(its crew qualification and mixed-loading rules stand): the assessment is information for the
carrier, shown beside the check (``small_load_exemption``), never a reason to pass a waybill.

Quantity, as the 1.1.3.6.3 table's note defines it, read from the item: liquids in litres,
solids and liquefied or dissolved gases by net mass in kg, articles by their mass (class 1 by
net explosive mass: the goods' net mass never counts less), compressed gases by the receptacles'
water capacity in litres. An item in litres counts its litres (a gas's litres read as water
capacity; a solid in litres is not assessable). An item in kg counts its kg, except: a liquid
(by its list entry's state) counts kg ÷ its declared density, and without one is not
assessable; a compressed gas (named so) is not assessable; goods whose state the entry does not
show are not assessable.

Transport category (ADR 3.2 Table A column (15)): from the Table A extract (rules.adr_table_a);
else by the 1.1.3.6.3 table's own assignment, which column (15) follows: its lists of UN numbers
and class 1 classification codes, then, for classes 3, 4.1, 4.2, 4.3, 5.1, 6.1, 8 and 9, the
packing group (4.2 PG I: 0; PG I: 1; PG II: 2; PG III: 3, but 6.1 PG III: 2). Class 2 goes by
classification code, which the 49 CFR list does not hold: class 2 goods not on file, and
anything else the assignment does not decide, are not assessable, never guessed. Each line says
which basis gave its category.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from contracts.waybill import EWaybill, WaybillItem
from rules.adr_table_a import table_a
from rules.waybill_items import listed_entries
from rules.waybill_load import quantity_text

Status = Literal["exempt", "over_limit", "ruled_out", "not_assessable", "not_applicable"]
Unit = Literal["kg", "L"]

EXEMPTION_POINTS = Decimal(1000)
FACTORS = {1: 50, 2: 3, 3: 1, 4: 0}
FOOTNOTE_A_FACTOR = 20
# Footnote a to the 1.1.3.6.3 table: at most 50 kg a transport unit, so x 20 (1.1.3.6.4).
FOOTNOTE_A = frozenset(
    f"UN{n:04d}" for n in (81, 82, 84, 241, 331, 332, 482, 1005, 1017)
)  # fmt: skip
TABLE_A = "ADR Table A column (15)"
ASSIGNMENT = "ADR 1.1.3.6.3 assignment"
EXPLOSIVE = re.compile(r"1\.([1-6])([A-HJKLNS])")


def _numbers(*spans: int | tuple[int, int]) -> frozenset[str]:
    found: set[str] = set()
    for span in spans:
        low, high = span if isinstance(span, tuple) else (span, span)
        found |= {f"UN{n:04d}" for n in range(low, high + 1)}
    return frozenset(found)


# The 1.1.3.6.3 table's UN lists (ADR 2025), by category. UN2215 is category 0 only molten;
# its solid entry (category 3) shares the number and packing group, so the stricter is read.
LISTED: tuple[tuple[int, frozenset[str]], ...] = (
    (0, _numbers(190, 3343, 1183, 1242, 1295, 1340, 1390, 1403, 1928, 2813, 2965, 2968, 2988,
                 (3129, 3132), 3134, 3148, 3396, 3398, 3399, 2426, 1051, 1600, 1613, 1614, 2312,
                 3250, 3294, 2814, 2900, 3549, (2912, 2919), 2977, 2978, (3321, 3333), 2215,
                 2315, 3151, 3152, 3432)),
    (4, _numbers((3537, 3540), 1331, 1345, 1944, 1945, 2254, 2623, 3541, 3542, 3543, 3544,
                 3545, 3546, (2908, 2911), 3547, 3268, 3499, 3508, 3509, 3548, 3559)),
    (1, _numbers((3502, 3505), (3221, 3224), (3231, 3240), 3533, 3534, (3101, 3104),
                 (3111, 3120))),
    (2, _numbers(3501, (3225, 3230), 3531, 3532, 3292, 3356, (3105, 3110), 1700, 2016, 2017,
                 3291, 3090, 3091, 3245, 3480, 3481, 3536, 3551, 3552)),
    (3, _numbers(3500, 3473, 3476, 2794, 2795, 2800, 3028, 3477, 3506, 3554, 2990, 3072)),
)  # fmt: skip
CLASS_1 = {
    0: {"1.1A", "1.1L", "1.2L", "1.3L"},
    1: {f"1.{d}{g}" for d in "12" for g in "BCDEFGHJ"} | {"1.3C", "1.3G", "1.3H", "1.3J", "1.5D"},
    2: {f"1.4{g}" for g in "BCDEFG"} | {"1.6N"},
    4: {"1.4S"},
}
BY_PACKING_GROUP = frozenset({"3", "4.1", "4.2", "4.3", "5.1", "6.1", "8", "9"})
PG_CATEGORY = {"I": 1, "II": 2, "III": 3}


@dataclass(frozen=True)
class ExemptionLine:
    """One item's share: its category and where it came from, quantity and points."""

    item: int
    un_number: str
    transport_category: int | None
    basis: str  # TABLE_A, ASSIGNMENT, or why there is none
    quantity: Decimal | None
    unit: Unit
    points: Decimal | None
    problem: str | None = None  # why the line is not assessable


@dataclass(frozen=True)
class SmallLoadExemption:
    """ADR 1.1.3.6 for one waybill; ``reason`` is one sentence citing the paragraphs."""

    status: Status
    points: Decimal | None
    reason: str
    lines: tuple[ExemptionLine, ...]

    @property
    def exempt(self) -> bool:
        return self.status == "exempt"


def transport_category(item: WaybillItem) -> tuple[int | None, str]:
    """The item's transport category and its basis; None and why when neither decides it."""
    if (entry := table_a(item.un_number, item.packing_group)) is not None:
        return entry.transport_category, TABLE_A
    for category, numbers in LISTED:
        if item.un_number in numbers:
            return category, ASSIGNMENT
    if (explosive := EXPLOSIVE.fullmatch(item.hazard_class)) is not None:
        code = explosive.group(0)
        for category, codes in CLASS_1.items():
            if code in codes:
                return category, ASSIGNMENT
    pg = item.packing_group or ""
    if item.un_number in ("UN1361", "UN1362") and pg == "III":
        return 4, ASSIGNMENT
    if item.hazard_class in BY_PACKING_GROUP and pg in PG_CATEGORY:
        if item.hazard_class == "4.2" and pg == "I":
            return 0, ASSIGNMENT
        if item.hazard_class == "6.1" and pg == "III":
            return 2, ASSIGNMENT
        return PG_CATEGORY[pg], ASSIGNMENT
    return None, (
        f"no transport category for {item.un_number or 'the item'} class {item.hazard_class}:"
        f" not in the Table A extract, and ADR 1.1.3.6.3 does not decide it from what the"
        " waybill shows"
    )


def _quantity(item: WaybillItem) -> tuple[Decimal | None, Unit, str | None]:
    """The 1.1.3.6.3 quantity and its unit (see the module docstring), or why there is none."""
    listed = listed_entries(item)
    states = {g.physical_state for g in listed}
    state = states.pop() if len(states) == 1 else None
    if item.unit == "L":
        if state == "solid":
            return None, "L", "a solid declared in litres: 1.1.3.6.3 counts solids by net mass"
        return item.quantity, "L", None
    if state == "gas":
        if any("compressed" in g.proper_shipping_name.casefold() for g in listed):
            return None, "L", "a compressed gas counts by its receptacles' water capacity in L"
        return item.quantity, "kg", None
    if state == "liquid":
        if item.density_kg_per_l is None:
            return None, "L", "a liquid in kg: 1.1.3.6.3 counts litres; declare its density"
        return item.quantity / item.density_kg_per_l, "L", None
    if state == "solid" or item.hazard_class.startswith("1"):
        return item.quantity, "kg", None
    return None, "kg", "the list entry does not show whether it is a liquid (counted in litres)"


def _line(i: int, item: WaybillItem) -> ExemptionLine:
    category, basis = transport_category(item)
    quantity, unit, problem = _quantity(item)
    if category is None:
        why = "; ".join(p for p in (basis, problem) if p)
        return ExemptionLine(i, item.un_number, None, basis, quantity, unit, None, why)
    factor = FOOTNOTE_A_FACTOR if item.un_number in FOOTNOTE_A else FACTORS.get(category, 0)
    points = None if quantity is None or category == 0 else quantity * factor
    return ExemptionLine(i, item.un_number, category, basis, quantity, unit, points, problem)


def _listing(lines: Iterable[ExemptionLine], why: bool = False) -> str:
    return "; ".join(
        f"items[{line.item}] {line.un_number}" + (f" ({line.problem})" if why else "")
        for line in lines
    )


def assess(items: tuple[WaybillItem, ...], *, in_tank: bool = False) -> SmallLoadExemption:
    """ADR 1.1.3.6 for these items on one transport unit."""
    lines = tuple(_line(i, item) for i, item in enumerate(items))
    if in_tank:
        reason = "ADR 1.1.3.6.2: the exemption covers goods in packages, not carriage in tanks"
        return SmallLoadExemption("not_applicable", None, reason, lines)
    if zero := [line for line in lines if line.transport_category == 0]:
        reason = (
            f"ADR 1.1.3.6.3: transport category 0 ({_listing(zero)}) may not be carried under"
            " the exemption"
        )
        return SmallLoadExemption("ruled_out", None, reason, lines)
    if unknown := [line for line in lines if line.points is None]:
        reason = f"ADR 1.1.3.6 not assessable: {_listing(unknown, why=True)}"
        return SmallLoadExemption("not_assessable", None, reason, lines)
    points = sum((line.points or Decimal(0) for line in lines), Decimal(0))
    total = f"{quantity_text(points.quantize(Decimal('0.01')))} points"
    if points > EXEMPTION_POINTS:
        reason = f"ADR 1.1.3.6.4: {total}, over 1000: the full provisions apply"
        return SmallLoadExemption("over_limit", points, reason, lines)
    reason = (
        f"ADR 1.1.3.6.4: {total}, within 1000: exempt from orange plates (5.3), instructions in"
        " writing (5.4.3), the driver's ADR certificate (8.2.1) and the rest 1.1.3.6.2 lists;"
        " mixed loading (7.5.2) and CV28 (7.5.4) still apply, and the platform waives none of"
        " its checks"
    )
    return SmallLoadExemption("exempt", points, reason, lines)


def small_load_exemption(waybill: EWaybill) -> SmallLoadExemption | None:
    """ADR 1.1.3.6 for the waybill under JT/T 617 ("CN"); None under 49 CFR, which has none."""
    if waybill.jurisdiction != "CN":
        return None
    return assess(waybill.items, in_tank=bool(waybill.vehicle.tank_number))
