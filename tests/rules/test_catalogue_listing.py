"""A listing checked against its category: specifications typed and converted, problems named."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from contracts.catalogue import AttributeKind, AttributeSpec, ProductListing
from rules.catalogue_listing import (
    CheckedListing,
    Problem,
    check_listing,
    identity_key,
    product_identity,
    unit_of,
)

SPECS = (
    AttributeSpec(key="length", label_zh="长度", label_en="Length", kind=AttributeKind.NUMBER,
                  unit="mm", required=True),
    AttributeSpec(key="tip", label_zh="刀头", label_en="Tip", kind=AttributeKind.CHOICE,
                  choices=("Phillips", "Slotted")),
    AttributeSpec(key="insulated", label_zh="绝缘", label_en="Insulated",
                  kind=AttributeKind.BOOLEAN),
    AttributeSpec(key="material", label_zh="材质", label_en="Material", kind=AttributeKind.TEXT),
)  # fmt: skip


def wide(text: str) -> str:
    """The full-width form a Chinese input method types (U+FF01-FF5E)."""
    return "".join(chr(ord(ch) + 0xFEE0) for ch in text)


def listing(**changes: Any) -> ProductListing:
    body: dict[str, Any] = {
        "sku": "SD-100",
        "category_id": "screwdrivers",
        "name": "十字螺丝刀 PH2",
        "brand": "Stanley",
        "model": "STHT-65",
        "attributes": {"length": "100", "tip": "phillips", "insulated": "是"},
        "offer": {
            "currency": "CNY",
            "unit": "把",
            "price_breaks": [{"min_quantity": "1", "unit_price": "12.50"}],
            "stock": "500",
            "lead_time_days": 3,
            "delivery_regions": ["CN"],
            "valid_until": date(2030, 1, 1).isoformat(),
        },
    }
    return ProductListing.model_validate(body | changes)


def passed(result: CheckedListing | list[Problem]) -> CheckedListing:
    assert isinstance(result, CheckedListing), result
    return result


@pytest.mark.parametrize(
    ("written", "stored"),
    [("100", "100"), ("100.0 mm", "100"), ("10cm", "100"), ("100毫米", "100"), ("0.1 米", "100"),
     (wide("4") + " in", "101.6"), (wide("100mm"), "100")],
)  # fmt: skip
def test_a_length_is_kept_in_the_categorys_unit(written: str, stored: str) -> None:
    checked = passed(check_listing(listing(attributes={"length": written}), SPECS))
    assert checked.attributes["length"] == stored
    assert checked.units == {"length": "mm"}


def test_choices_and_booleans_take_their_canonical_spelling() -> None:
    checked = passed(check_listing(listing(), SPECS))
    assert checked.attributes == {"length": "100", "tip": "Phillips", "insulated": "true"}


def test_every_problem_is_named_at_once() -> None:
    bad = listing(
        attributes={"length": "5 kg", "tip": "Torx", "insulated": "maybe", "colour": "red"},
        un_number="UN9999",
    )
    result = check_listing(bad, SPECS)
    assert isinstance(result, list)
    fields = {p.field: p.rule for p in result}
    assert set(fields) == {
        "attributes.colour",
        "attributes.length",
        "attributes.tip",
        "attributes.insulated",
        "un_number",
    }
    assert "not a length" in fields["attributes.length"]
    assert "Phillips, Slotted" in fields["attributes.tip"]


def test_a_required_specification_must_be_stated() -> None:
    result = check_listing(listing(attributes={}), SPECS)
    assert result == [Problem("attributes.length", "is required in this category")]


def test_a_dangerous_good_gets_its_class_from_the_list() -> None:
    checked = passed(check_listing(listing(un_number="UN1090", packing_group="II"), SPECS))
    assert checked.hazard_class == "3"  # acetone
    result = check_listing(listing(un_number="UN1090", packing_group="I"), SPECS)
    assert isinstance(result, list) and result[0].field == "un_number"
    result = check_listing(listing(packing_group="II"), SPECS)
    assert result == [Problem("packing_group", "needs a un_number")]


def test_an_moq_above_a_stated_stock_is_refused() -> None:
    offer = listing().offer.model_dump() | {"stock": Decimal(5), "min_order_quantity": Decimal(10)}
    result = check_listing(listing(offer=offer), SPECS)
    assert isinstance(result, list) and result[0].field == "offer.min_order_quantity"
    made_to_order = offer | {"stock": Decimal(0)}
    passed(check_listing(listing(offer=made_to_order), SPECS))


def test_a_listing_no_buyer_could_tell_apart_or_reach_is_refused() -> None:
    """Found by a hostile client: a brand "!!!" and one "—" were one product; CN-XX and a
    province named twice were stored; an offer valid until 2000 was listed, never shown."""
    offer = listing().offer.model_dump()
    bad = listing(
        brand="!!!",
        model="\u200b",
        offer=offer
        | {"delivery_regions": ["CN-JS", "CN-XX", "CN-JS"], "valid_until": "2000-01-01"},
    )
    assert check_listing(bad, SPECS, today=date(2026, 12, 6)) == [
        Problem("brand", "must hold a letter or a digit"),
        Problem("model", "must hold a letter or a digit"),
        Problem("offer.delivery_regions.1", "CN-XX is not a province"),
        Problem("offer.delivery_regions.2", "CN-JS is named twice"),
        Problem("offer.valid_until", "must not be before today (2026-12-06)"),
    ]
    passed(check_listing(listing(brand="3M", model="-1-"), SPECS, today=date(2026, 12, 6)))


def test_identity_ignores_width_case_and_separators() -> None:
    assert identity_key("STHT-65") == identity_key("stht 65") == identity_key(wide("STHT65"))
    assert identity_key("STHT-65") != identity_key("STHT-66")


def test_a_brand_or_model_folding_past_the_identitys_room_is_refused() -> None:
    """Found by review: case folding makes "ß" "ss", so 100 of them (within the brand's 100
    characters) folded to 200 and the product's identity overflowed its column: a 500."""
    result = check_listing(listing(brand="ß" * 100, model="ẞ" * 51), SPECS)
    assert result == [
        Problem("brand", "folds to more than 100 letters and digits"),
        Problem("model", "folds to more than 100 letters and digits"),
    ]
    passed(check_listing(listing(brand="ß" * 50, model="m" * 100), SPECS))
    assert len(product_identity("ß" * 50, "m" * 100, "UN1090", "III", "x" * 30)) <= 260


def test_units_are_understood_in_chinese_and_unknown_ones_refused() -> None:
    assert unit_of("毫米") == "mm"
    assert unit_of("℃") == "c"
    assert unit_of("furlong") is None
