"""Shipment plans from a confirmation's choices: every line in full, shipments 1..n."""

from __future__ import annotations

from decimal import Decimal

import pytest

from contracts.fulfilment import ShipmentLine
from contracts.sourcing import ContractLine
from rules.shipments import PlanRefused, plan_problem, plan_shipments

ACETONE = ContractLine(
    line_id="L1",
    description="Acetone",
    specification="",
    quantity=Decimal(1000),
    unit="L",
    unit_price=Decimal("9.50"),
    amount=Decimal(9500),
    un_number="UN1090",
    packing_group="II",
)
KITS = ContractLine(
    line_id="L2",
    description="Reagent kit",
    specification="",
    quantity=Decimal("12.5"),
    unit="kg",
    unit_price=Decimal(100),
    amount=Decimal(1250),
)
ACID = ContractLine(
    line_id="L3",
    description="Hydrochloric acid",
    specification="",
    quantity=Decimal(40),
    unit="L",
    unit_price=Decimal(3),
    amount=Decimal(120),
    un_number="UN1789",
    packing_group="II",
)
LINES = (ACETONE, KITS, ACID)


def test_no_choices_ship_everything_at_once_with_one_waybill() -> None:
    (only,) = plan_shipments("ord-c1", LINES, {})
    assert only.number == 1
    assert only.lines == (
        ShipmentLine(line_id="L1", quantity=Decimal(1000)),
        ShipmentLine(line_id="L2", quantity=Decimal("12.5")),
        ShipmentLine(line_id="L3", quantity=Decimal(40)),
    )
    assert only.un_numbers == ("UN1090", "UN1789")
    assert only.waybill_number == "EW-c1-1"


def test_a_split_gives_a_waybill_only_to_shipments_with_dangerous_goods() -> None:
    first, second, third = plan_shipments(
        "ord-c1",
        LINES,
        {"1:L2": "12.5", "2:L1": "600", "3:L1": "400", "3:L3": "40"},
    )
    assert (first.un_numbers, first.waybill_number) == ((), None)
    assert (second.un_numbers, second.waybill_number) == (("UN1090",), "EW-c1-2")
    assert (third.un_numbers, third.waybill_number) == (("UN1090", "UN1789"), "EW-c1-3")
    assert third.lines == (
        ShipmentLine(line_id="L1", quantity=Decimal(400)),
        ShipmentLine(line_id="L3", quantity=Decimal(40)),
    )


@pytest.mark.parametrize(
    ("choices", "reason"),
    [
        ({"1:L1": "999", "1:L2": "12.5", "1:L3": "40"}, "line L1 plans 999 of its 1000 L"),
        ({"1:L1": "1000", "1:L3": "40"}, "line L2 plans 0 of its 12.5 kg"),
        ({"1:L1": "1000", "1:L2": "12.5", "3:L3": "40"}, "numbered 1 to 2 without gaps"),
        ({"0:L1": "1000"}, "choices.0:L1: a key is <shipment>:<line>, the shipment 1 to 20"),
        ({"21:L1": "1000"}, "the shipment 1 to 20"),
        ({"L1": "1000"}, "choices.L1: a key is <shipment>:<line>"),
        ({"1:L9": "1"}, "choices.1:L9: the contract has no line 'L9'"),
        ({"1:L1": "ten"}, "choices.1:L1: 'ten' is not a quantity"),
        ({"1:L1": "0"}, "choices.1:L1: must be above 0, to at most 3 decimals"),
        ({"1:L1": "-5"}, "must be above 0"),
        ({"1:L1": "NaN"}, "must be above 0"),
        ({"1:L1": "999.9995"}, "to at most 3 decimals"),
    ],
)
def test_a_plan_that_breaks_a_rule_is_refused_naming_it(
    choices: dict[str, str], reason: str
) -> None:
    with pytest.raises(PlanRefused) as refused:
        plan_shipments("ord-c1", LINES, choices)
    assert reason in str(refused.value)
    assert plan_problem(LINES, choices) == str(refused.value)


def test_a_whole_plan_has_no_problem() -> None:
    assert plan_problem(LINES, {"1:L1": "1000", "2:L2": "12.500", "2:L3": "40"}) is None
