"""Shipment plans: how an order's lines are split into consignments, one vehicle each.

The supplier confirms an order with its plan as the task's choices, one per shipment and line,
quantities in the line's unit: ``{"1:L1": "600", "2:L1": "400", "2:L2": "50"}`` sends 600 of L1
first, then the other 400 with all 50 of L2. A confirmation without choices ships everything
at once. Every line must be planned in full, and shipments are numbered from 1 without gaps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

from contracts.fulfilment import MAX_SHIPMENTS, Shipment, ShipmentLine, waybill_number_for
from contracts.sourcing import ContractLine

# Stock is reserved to the thousandth of a unit.
_QUANTUM = Decimal("0.001")


class PlanRefused(ValueError):
    """The plan breaks a rule; the message names the choice and the rule."""


def plan_shipments(
    order_id: str, lines: Sequence[ContractLine], choices: Mapping[str, str]
) -> tuple[Shipment, ...]:
    """The shipments the choices describe, or every line in one shipment without choices."""
    if not choices:
        return (_shipment(order_id, 1, lines, {line.line_id: line.quantity for line in lines}),)
    by_id = {line.line_id: line for line in lines}
    planned: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for key, text in choices.items():
        number, line_id = _key(key, by_id)
        planned[number][line_id] = _quantity(key, text)
    numbers = sorted(planned)
    if numbers != list(range(1, len(numbers) + 1)):
        raise PlanRefused(f"choices: shipments are numbered 1 to {len(numbers)} without gaps")
    for line in lines:
        total = sum((q.get(line.line_id, Decimal(0)) for q in planned.values()), Decimal(0))
        if total != line.quantity:
            raise PlanRefused(
                f"choices: line {line.line_id} plans {total} of its {line.quantity} {line.unit};"
                " every line ships in full"
            )
    return tuple(_shipment(order_id, n, lines, planned[n]) for n in numbers)


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
    if line_id not in lines:
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


def _shipment(
    order_id: str, number: int, lines: Sequence[ContractLine], quantities: Mapping[str, Decimal]
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
    )
