"""The catalogue's glue to the RFQ's rules, pure: a product's line, an offer's quote, units."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from contracts.catalogue import AttributeKind, AttributeSpec
from rules.catalogue_comparison import (
    OfferFacts,
    ProductFacts,
    delivers_to,
    offers_quote,
    product_line,
    temperature_range,
    usual_unit,
)
from rules.cold_chain_profiles import PROFILES
from rules.cold_chain_zones import zone_for
from tests.harness.catalogue_offers import terms

VOLTAGE = AttributeSpec(
    key="voltage", label_zh="电压", label_en="Voltage", kind=AttributeKind.NUMBER, unit="v"
)
DRILL = ProductFacts(
    name="充电钻 Cordless drill",
    brand="Bosch",
    model="GSR 120",
    attributes={"voltage": "12", "legacy": "blue"},
    specs=(VOLTAGE,),
    un_number=None,
    packing_group=None,
    temperature_profile="frozen",
)


def test_a_products_line_states_its_specification_and_temperature_range() -> None:
    line = product_line(1, DRILL, Decimal(3), "台")
    assert (line.line_id, line.description, line.unit) == ("P2", DRILL.name, "台")
    assert line.specification == "Bosch GSR 120; 电压 Voltage: 12 v; legacy: blue"
    assert line.temperature is not None and line.temperature.max_celsius == Decimal(-18)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_each_profiles_range_travels_in_its_zone(profile: str) -> None:
    found = temperature_range(profile)
    assert found is not None
    zone = zone_for(found)
    # The built-in zones are the profiles' own; the USP room range is a custom zone of it.
    expected = profile if profile != "usp_controlled_room" else "custom_20_25"
    assert zone.zone == expected
    assert temperature_range(None) is None


def test_the_usual_unit_is_the_most_stated_and_ties_go_by_name() -> None:
    assert usual_unit(["kg", "t", "kg"]) == "kg"
    assert usual_unit(["t", "kg"]) == "kg"
    assert usual_unit([]) is None
    assert delivers_to(["CN"], "CN-SH") and not delivers_to(["CN-JS"], "CN-SH")


def test_offers_at_different_vat_rates_make_no_single_quote() -> None:
    at = datetime.now(UTC)
    goods = OfferFacts("ofr_1", "org_s", 2, terms([("1", "10")]), Decimal(5))
    farm = OfferFacts("ofr_2", "org_s", 1, terms([("1", "10")], tax_rate="0.09"), Decimal(5))
    quote = offers_quote(
        quote_id="q", rfq_id="r", offers=[(0, goods)], submitted_by="org_s", submitted_at=at
    )
    (line,) = quote.terms.lines
    assert (line.line_id, line.unit_price, line.stock_available) == ("P1", Decimal(10), Decimal(5))
    with pytest.raises(ValueError, match="different VAT rates"):
        offers_quote(
            quote_id="q",
            rfq_id="r",
            offers=[(0, goods), (1, farm)],
            submitted_by="org_s",
            submitted_at=at,
        )
