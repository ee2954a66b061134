"""Shipment plans: how an order's lines are split into consignments, one vehicle each.

The supplier confirms an order with its plan as the task's choices, one per shipment and line,
quantities in the line's unit: ``{"1:L1": "600", "2:L1": "400", "2:L2": "50"}`` sends 600 of L1
first, then the other 400 with all 50 of L2. A confirmation without choices ships everything
at once. Every line must be planned in full, and shipments are numbered from 1 without gaps.

Issue 10: lines with different temperature profiles on one vehicle are refused unless the
vehicle has zones. ``"<n>:zones": "<k>"`` says shipment n's vehicle has k temperature zones
(1 to 4; 1 when not given, and always 1 without choices); a shipment whose cold lines need more
zones than that (rules.cold_chain_zones.cold_lines) is refused, naming the lines and their
ranges. A contract with a line whose id is "zones" keeps the key's old meaning (that line's
quantity), so no plan that was valid before changes meaning.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

from contracts.fulfilment import (
    MAX_SHIPMENTS,
    MAX_VEHICLE_ZONES,
    Shipment,
    ShipmentLine,
    waybill_number_for,
)
from contracts.sourcing import ContractLine, TemperatureRange
from rules.cold_chain_zones import cold_lines

# Stock is reserved to the thousandth of a unit.
_QUANTUM = Decimal("0.001")
ZONES = "zones"  # "<n>:zones": how many temperature zones shipment n's vehicle has
_ZONE_COUNTS = {str(k): k for k in range(1, MAX_VEHICLE_ZONES + 1)}


class PlanRefused(ValueError):
    """The plan breaks a rule; the message names the choice and the rule."""


def plan_shipments(
    order_id: str, lines: Sequence[ContractLine], choices: Mapping[str, str]
) -> tuple[Shipment, ...]:
    """The shipments the choices describe, or every line in one shipment without choices."""
    if not choices:
        everything = {line.line_id: line.quantity for line in lines}
        return (_zoned(lines, _shipment(order_id, 1, lines, everything, zones=1)),)
    by_id = {line.line_id: line for line in lines}
    planned: dict[int, dict[str, Decimal]] = defaultdict(dict)
    zones: dict[int, int] = {}
    for key, text in choices.items():
        number, line_id = _key(key, by_id)
        if line_id == ZONES and ZONES not in by_id:
            zones[number] = _zone_count(key, text)
        else:
            planned[number][line_id] = _quantity(key, text)
    numbers = sorted(planned)
    if numbers != list(range(1, len(numbers) + 1)):
        raise PlanRefused(f"choices: shipments are numbered 1 to {len(numbers)} without gaps")
    unplanned = sorted(set(zones) - set(planned))
    if unplanned:
        raise PlanRefused(
            f"choices.{unplanned[0]}:{ZONES}: shipment {unplanned[0]} carries no line"
        )
    for line in lines:
        total = sum((q.get(line.line_id, Decimal(0)) for q in planned.values()), Decimal(0))
        if total != line.quantity:
            raise PlanRefused(
                f"choices: line {line.line_id} plans {total} of its {line.quantity} {line.unit};"
                " every line ships in full"
            )
    return tuple(
        _zoned(lines, _shipment(order_id, n, lines, planned[n], zones=zones.get(n, 1)))
        for n in numbers
    )


def plan_problem(lines: Sequence[ContractLine], choices: Mapping[str, str]) -> str | None:
    """Why the choices are not a plan for these lines, or None."""
    try:
        plan_shipments("check", lines, choices)
    except PlanRefused as refused:
        return str(refused)
    return None


def _key(key: str, lines: Mapping[str, ContractLine]) -> tuple[int, str]:
    number_text, _, line_id = key.partition(":")
    if not number_text.isdigit() or not 1 <= int(number_text) <= MAX_SHIPMENTS:
        raise PlanRefused(
            f"choices.{key}: a key is <shipment>:<line>, the shipment 1 to {MAX_SHIPMENTS}"
        )
    if line_id not in lines and line_id != ZONES:
        raise PlanRefused(f"choices.{key}: the contract has no line {line_id!r}")
    return int(number_text), line_id


def _quantity(key: str, text: str) -> Decimal:
    try:
        quantity = Decimal(text)
    except InvalidOperation:
        raise PlanRefused(f"choices.{key}: {text!r} is not a quantity") from None
    if not quantity.is_finite() or quantity <= 0 or quantity != quantity.quantize(_QUANTUM):
        raise PlanRefused(f"choices.{key}: must be above 0, to at most 3 decimals")
    return quantity


def _zone_count(key: str, text: str) -> int:
    if text not in _ZONE_COUNTS:
        raise PlanRefused(
            f"choices.{key}: {text!r} is not a count of zones, 1 to {MAX_VEHICLE_ZONES}"
        )
    return _ZONE_COUNTS[text]


def _zoned(lines: Sequence[ContractLine], shipment: Shipment) -> Shipment:
    """The shipment, if its vehicle has a zone for each profile its cold lines travel in."""
    zones, cold = cold_lines(lines, shipment)
    if len(zones) <= shipment.zones:
        return shipment
    ranges = {line.line_id: line.temperature for line in lines}
    carried = ", ".join(f"{x.line_id} ({_range_text(ranges[x.line_id])}, {x.zone})" for x in cold)
    n = shipment.number
    raise PlanRefused(
        f"choices.{n}:{ZONES}: shipment {n} carries lines in {len(zones)} temperature profiles"
        f" on a vehicle with {shipment.zones} zone(s): {carried}; lines with different profiles"
        f" share a vehicle only if it has a zone for each (choices.{n}:{ZONES}, 1 to"
        f" {MAX_VEHICLE_ZONES}), otherwise ship them apart"
    )


def _range_text(value: TemperatureRange | None) -> str:
    return "" if value is None else f"{value.min_celsius} to {value.max_celsius} °C"


def _shipment(
    order_id: str,
    number: int,
    lines: Sequence[ContractLine],
    quantities: Mapping[str, Decimal],
    *,
    zones: int,
) -> Shipment:
    carried = [line for line in lines if line.line_id in quantities]
    un_numbers = tuple(sorted({line.un_number for line in carried if line.un_number}))
    return Shipment(
        number=number,
        lines=tuple(
            ShipmentLine(line_id=x.line_id, quantity=quantities[x.line_id]) for x in carried
        ),
        un_numbers=un_numbers,
        waybill_number=waybill_number_for(order_id, number) if un_numbers else None,
        zones=zones,
    )
