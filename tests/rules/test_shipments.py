"""Shipment plans from a confirmation's choices: every line in full, shipments 1..n."""

from __future__ import annotations

from decimal import Decimal

import pytest

from contracts.fulfilment import Shipment, ShipmentLine
from contracts.sourcing import ContractLine, TemperatureRange
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


# Issue 10: lines with different temperature profiles on one vehicle are refused at planning
# unless the vehicle has zones ("<n>:zones").
CHILLED_MEAT = ContractLine(
    line_id="C1",
    description="Chilled pork",
    specification="",
    quantity=Decimal(600),
    unit="kg",
    unit_price=Decimal(40),
    amount=Decimal(24000),
    temperature=TemperatureRange(min_celsius=Decimal(0), max_celsius=Decimal(4)),
)
ICE_CREAM = ContractLine(
    line_id="F1",
    description="Ice cream",
    specification="",
    quantity=Decimal(300),
    unit="kg",
    unit_price=Decimal(20),
    amount=Decimal(6000),
    temperature=TemperatureRange(min_celsius=Decimal(-25), max_celsius=Decimal(-18)),
)
MORE_PORK = CHILLED_MEAT.model_copy(update={"line_id": "C2"})
COLD = (CHILLED_MEAT, ICE_CREAM, KITS)


def test_plans_without_zones_are_unchanged_and_on_one_zone_vehicles() -> None:
    (only,) = plan_shipments("ord-c1", LINES, {})
    assert only == Shipment(
        number=1,
        lines=only.lines,
        un_numbers=("UN1090", "UN1789"),
        waybill_number="EW-c1-1",
    )
    assert only.zones == 1
    split = plan_shipments("ord-c1", LINES, {"1:L1": "1000", "2:L2": "12.5", "2:L3": "40"})
    assert [s.zones for s in split] == [1, 1]
    # One profile, however many lines, needs one zone.
    (same,) = plan_shipments("ord-c1", (CHILLED_MEAT, MORE_PORK, KITS), {})
    assert same.zones == 1


def test_lines_in_two_profiles_on_a_one_zone_vehicle_are_refused_naming_them() -> None:
    expected = (
        "choices.1:zones: shipment 1 carries lines in 2 temperature profiles on a vehicle with"
        " 1 zone(s): C1 (0 to 4 °C, chilled), F1 (-25 to -18 °C, frozen)"
    )
    for choices in ({}, {"1:C1": "600", "1:F1": "300", "1:L2": "12.5"}):
        with pytest.raises(PlanRefused) as refused:
            plan_shipments("ord-c1", COLD, choices)
        assert str(refused.value).startswith(expected)
        assert plan_problem(COLD, choices) == str(refused.value)
    refusal = plan_problem(COLD, {"1:C1": "600", "1:F1": "300", "1:L2": "12.5", "1:zones": "1"})
    assert refusal is not None and refusal.startswith(expected)


def test_a_vehicle_with_zones_carries_the_profiles_together() -> None:
    choices = {"1:C1": "600", "1:F1": "300", "1:L2": "12.5", "1:zones": "2"}
    assert plan_problem(COLD, choices) is None
    (only,) = plan_shipments("ord-c1", COLD, choices)
    assert only.zones == 2
    assert [x.line_id for x in only.lines] == ["C1", "F1", "L2"]
    (roomy,) = plan_shipments("ord-c1", COLD, {**choices, "1:zones": "4"})
    assert roomy.zones == 4


def test_shipping_the_profiles_apart_needs_no_zones() -> None:
    first, second = plan_shipments("ord-c1", COLD, {"1:C1": "600", "1:L2": "12.5", "2:F1": "300"})
    assert (first.zones, second.zones) == (1, 1)
    # Only the shipment that mixes them is refused, and named.
    refusal = plan_problem(
        COLD, {"1:C1": "600", "2:L2": "12.5", "2:F1": "300", "2:zones": "2", "3:zones": "2"}
    )
    assert refusal == "choices.3:zones: shipment 3 carries no line"
    refusal = plan_problem(
        COLD, {"1:C1": "500", "1:L2": "12.5", "2:C1": "100", "2:F1": "300", "1:zones": "2"}
    )
    assert refusal is not None and refusal.startswith("choices.2:zones: shipment 2 carries")


@pytest.mark.parametrize("count", ["0", "5", "two", "2.0", " 2", "-1", ""])
def test_a_vehicles_zones_are_1_to_4(count: str) -> None:
    refusal = plan_problem(COLD, {"1:C1": "600", "1:F1": "300", "1:L2": "12.5", "1:zones": count})
    assert refusal == f"choices.1:zones: {count!r} is not a count of zones, 1 to 4"


def test_a_line_called_zones_keeps_its_meaning() -> None:
    zones_line = KITS.model_copy(update={"line_id": "zones"})
    (only,) = plan_shipments("ord-c1", (zones_line,), {"1:zones": "12.5"})
    assert only.lines == (ShipmentLine(line_id="zones", quantity=Decimal("12.5")),)
    assert only.zones == 1
