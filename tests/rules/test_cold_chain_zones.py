"""A contract line's range read as a zone: the built-in profiles, custom ranges with their own
tolerances, and a shipment's cold lines with their zones (issue 10, rules.cold_chain_zones)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from contracts.cold_chain import ColdLine, ZoneProfile
from contracts.fulfilment import Shipment, ShipmentLine
from contracts.sourcing import ContractLine, TemperatureRange
from rules.cold_chain_profiles import CHILLED, CONTROLLED_ROOM, FROZEN, REFRIGERATED, Profile
from rules.cold_chain_zones import cold_lines, profile_of, zone_for
from rules.shipments import plan_shipments


def celsius(low: str, high: str, **options: object) -> TemperatureRange:
    return TemperatureRange.model_validate({"min_celsius": low, "max_celsius": high, **options})


def line(line_id: str, quantity: str, temperature: TemperatureRange | None) -> ContractLine:
    return ContractLine(
        line_id=line_id,
        description=f"Goods {line_id}",
        specification="",
        quantity=Decimal(quantity),
        unit="kg",
        unit_price=Decimal("12.50"),
        amount=Decimal(quantity) * Decimal("12.50"),
        temperature=temperature,
    )


@pytest.mark.parametrize(
    ("line_range", "built_in", "label"),
    [
        (celsius("-25", "-18"), FROZEN, "冷冻 frozen ≤ -18 °C"),
        (celsius("-18.0", "-18.0"), FROZEN, "冷冻 frozen ≤ -18 °C"),
        (celsius("0", "4"), CHILLED, "冷鲜 chilled 0–4 °C"),
        (celsius("2.0", "8.0"), REFRIGERATED, "冷藏 refrigerated 2–8 °C"),
        (celsius("15", "25"), CONTROLLED_ROOM, "室温 controlled room 15–25 °C"),
    ],
)
def test_a_built_in_profiles_range_takes_its_settings(
    line_range: TemperatureRange, built_in: Profile, label: str
) -> None:
    zone = zone_for(line_range)
    assert (zone.zone, zone.label) == (built_in.name, label)
    # The round trip through the contract gives back the rules' own profile, setting by setting
    # (the start and end gaps are the silence, as profile_of carries them).
    assert profile_of(zone) == built_in


def test_frozen_keeps_its_critical_limit_and_open_minimum() -> None:
    zone = zone_for(celsius("-30", "-18"))
    assert zone.min_celsius is None
    assert zone.max_celsius == Decimal(-18)
    assert zone.critical_max_celsius == Decimal(-15)  # Directive 89/108/EEC


@pytest.mark.parametrize(
    ("low", "high", "name"),
    [
        ("-2", "6", "custom_m2_6"),
        ("-2.5", "6.0", "custom_m2p5_6"),
        ("-18", "-15", "custom_m18_m15"),  # not frozen: its maximum is not -18
        ("-20", "-18.5", "custom_m20_m18p5"),
        ("0", "5", "custom_0_5"),
        ("8", "15", "custom_8_15"),
        ("20", "25", "custom_20_25"),  # USP <659> is not a range a contract line names
    ],
)
def test_any_other_range_is_a_custom_zone_named_by_its_bounds(
    low: str, high: str, name: str
) -> None:
    zone = zone_for(celsius(low, high))
    assert zone.zone == name
    assert (zone.min_celsius, zone.max_celsius) == (Decimal(low), Decimal(high))
    default = Profile(name, Decimal(low), Decimal(high))
    assert profile_of(zone) == Profile(
        name,
        Decimal(low),
        Decimal(high),
        mkt_label_max_celsius=Decimal(high),  # as the built-ins: the label maximum is the range's
    )
    assert zone.single_tolerance_s == default.single_tolerance.total_seconds()
    assert (zone.critical_min_celsius, zone.critical_max_celsius) == (None, None)


def test_a_custom_zone_label_is_bilingual() -> None:
    assert zone_for(celsius("-2", "6")).label == "温控 custom -2–6 °C"


def test_a_ranges_own_options_override_a_custom_zones_defaults() -> None:
    zone = zone_for(
        celsius(
            "-2",
            "6",
            warning_margin="1.25",
            single_tolerance_minutes=10,
            stability_budget_minutes=45,
            max_silence_minutes=5,
            activation_energy_kj_per_mol="100.5",
            mkt_max_celsius="5.5",
        )
    )
    assert zone == ZoneProfile(
        zone="custom_m2_6",
        label="温控 custom -2–6 °C",
        min_celsius=Decimal(-2),
        max_celsius=Decimal(6),
        warning_margin=Decimal("1.25"),
        single_tolerance_s=600,
        cumulative_tolerance_s=2700,
        max_silence_s=300,
        delta_h_j_per_mol=Decimal(100500),  # kJ to J
        mkt_label_max_celsius=Decimal("5.5"),
    )
    profile = profile_of(zone)
    assert profile.single_tolerance == timedelta(minutes=10)
    assert profile.cumulative_tolerance == timedelta(minutes=45)
    assert profile.max_start_gap == profile.max_end_gap == timedelta(minutes=5)


def test_a_ranges_own_options_override_a_built_in_profiles_and_keep_its_name() -> None:
    zone = zone_for(celsius("2", "8", single_tolerance_minutes=0, stability_budget_minutes=600))
    assert (zone.zone, zone.label) == ("refrigerated", "冷藏 refrigerated 2–8 °C")
    assert (zone.single_tolerance_s, zone.cumulative_tolerance_s) == (0, 36000)
    assert zone.max_silence_s == 900  # not overridden: the profile's
    assert zone.delta_h_j_per_mol == Decimal(83144)
    assert zone.mkt_label_max_celsius == Decimal(8)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("warning_margin", "5.01"),
        ("warning_margin", "-0.1"),
        ("single_tolerance_minutes", 10081),
        ("stability_budget_minutes", 43201),
        ("max_silence_minutes", 0),
        ("max_silence_minutes", 1441),
        ("activation_energy_kj_per_mol", "9.9"),
        ("activation_energy_kj_per_mol", "300.1"),
        ("mkt_max_celsius", "61"),
    ],
)
def test_a_ranges_options_are_bounded(option: str, value: object) -> None:
    with pytest.raises(ValueError, match=option):
        celsius("2", "8", **{option: value})


def test_a_stored_range_without_options_still_decodes() -> None:
    stored = TemperatureRange.model_validate_json('{"min_celsius":"2","max_celsius":"8"}')
    assert stored.single_tolerance_minutes is None
    assert zone_for(stored).zone == "refrigerated"


CHILLED_MEAT = line("L1", "600", celsius("0", "4"))
ICE_CREAM = line("L2", "300", celsius("-25", "-18"))
BOXES = line("L3", "50", None)
VACCINE = line("L4", "20", celsius("2", "8"))
LINES = (CHILLED_MEAT, ICE_CREAM, BOXES, VACCINE)


def test_cold_lines_of_a_split_plan_are_each_shipments_own() -> None:
    first, second, third = plan_shipments(
        "ord-z1",
        LINES,
        {"1:L1": "400", "1:L3": "50", "2:L1": "200", "2:L2": "300", "2:zones": "2", "3:L4": "20"},
    )
    zones, cold = cold_lines(LINES, first)
    assert [z.zone for z in zones] == ["chilled"]
    assert cold == (
        ColdLine(
            line_id="L1",
            description="Goods L1",
            quantity=Decimal(400),  # shipped in this shipment, not the contract's 600
            unit="kg",
            unit_price=Decimal("12.50"),
            zone="chilled",
        ),
    )
    zones, cold = cold_lines(LINES, second)
    assert [z.zone for z in zones] == ["chilled", "frozen"]  # first-seen order
    assert [(c.line_id, c.quantity, c.zone) for c in cold] == [
        ("L1", Decimal(200), "chilled"),
        ("L2", Decimal(300), "frozen"),
    ]
    assert [z.zone for z in cold_lines(LINES, third)[0]] == ["refrigerated"]


def test_a_shipment_without_cold_lines_has_no_zones() -> None:
    shipment = Shipment(
        number=1,
        lines=(ShipmentLine(line_id="L3", quantity=Decimal(50)),),
        un_numbers=(),
        waybill_number=None,
    )
    assert cold_lines(LINES, shipment) == ((), ())


def test_lines_sharing_a_range_share_a_zone_judged_by_the_strictest_of_them() -> None:
    fish = line("L5", "10", celsius("0", "4", single_tolerance_minutes=15, mkt_max_celsius="3"))
    salad = line("L6", "10", celsius("0", "4", warning_margin="1", max_silence_minutes=10))
    both = Shipment(
        number=1,
        lines=(
            ShipmentLine(line_id="L5", quantity=Decimal(10)),
            ShipmentLine(line_id="L6", quantity=Decimal(10)),
        ),
        un_numbers=(),
        waybill_number=None,
    )
    (zone,), cold = cold_lines((fish, salad), both)
    assert [c.zone for c in cold] == ["chilled", "chilled"]
    assert zone.zone == "chilled"
    assert (zone.single_tolerance_s, zone.max_silence_s) == (900, 600)
    assert (zone.warning_margin, zone.mkt_label_max_celsius) == (Decimal(1), Decimal(3))
    assert zone.cumulative_tolerance_s == 7200  # neither changed it
