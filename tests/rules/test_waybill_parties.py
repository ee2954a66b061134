"""The fields carriers now fill in (issue 9 §3): mandatory ones, crew qualification categories,
and the plate colour."""

from __future__ import annotations

from typing import Any

import pytest

from rules.waybill import (
    MISSING_FIELD,
    PLATE_COLOUR,
    QUALIFICATION,
    WaybillPolicy,
    check_waybill,
)
from tests.rules.test_waybill import codes, waybill


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"consignor__contact_name": ""}, "consignor.contact_name"),
        ({"consignee__contact_name": " "}, "consignee.contact_name"),
        ({"consignor__credit_code": None}, "consignor.credit_code"),  # required now
        ({"consignor__credit_code": ""}, "consignor.credit_code"),
        ({"dispatcher": ""}, "dispatcher"),
        ({"gross_mass_kg": None}, "gross_mass_kg"),
        ({"vehicle__plate_colour": ""}, "vehicle.plate_colour"),
    ],
)
def test_the_new_fields_are_mandatory(change: dict[str, Any], path: str) -> None:
    """MISSING_FIELD: the waybill fields of Order No. 29 of 2019 the carrier now fills in."""
    check = check_waybill(waybill(**change))
    assert codes(check) == [(MISSING_FIELD, path, "blocking")]
    assert check.violations[0].message == f"{path} is required"


def test_the_consignee_credit_code_stays_optional() -> None:
    """A person may be the consignee; a code that is given is still checked (GB 32100)."""
    assert check_waybill(waybill(consignee__credit_code=None)).ok


@pytest.mark.parametrize(
    ("change", "path", "needed"),
    [
        ({"driver__qualification_categories": ()}, "driver.qualification_categories", "dg_driver"),
        (
            {"driver__qualification_categories": ("dg_escort",)},
            "driver.qualification_categories",
            "dg_driver",
        ),
        (
            {"escort__qualification_categories": ("dg_driver", "dg_loading_manager")},
            "escort.qualification_categories",
            "dg_escort",
        ),
    ],
)
def test_crew_hold_the_category_of_their_role(
    change: dict[str, Any], path: str, needed: str
) -> None:
    """QUALIFICATION (《危险货物道路运输安全管理办法》, 《道路运输从业人员管理规定》): the driver a
    dangerous-goods driver's category, the escort an escort's."""
    check = check_waybill(waybill(**change))
    assert codes(check) == [(QUALIFICATION, path, "blocking")]
    assert f"not {needed}" in check.violations[0].message


def test_one_person_may_hold_both_categories() -> None:
    """QUALIFICATION asks for the role's category, not for that one alone."""
    both = ("dg_driver", "dg_escort")
    assert check_waybill(waybill(driver__qualification_categories=both)).ok


@pytest.mark.parametrize("colour", ["yellow", "yellow_green"])
def test_goods_vehicle_plate_colours_pass(colour: str) -> None:
    """GA 36-2018: yellow plates for medium and heavy goods vehicles, yellow-green new energy."""
    assert check_waybill(waybill(vehicle__plate_colour=colour)).ok


def test_another_plate_colour_is_a_warning_in_china_only() -> None:
    """PLATE_COLOUR: a platform convention, configurable, applied under jurisdiction CN."""
    blue = {"vehicle__plate_colour": "blue"}
    check = check_waybill(waybill(**blue))
    assert codes(check) == [(PLATE_COLOUR, "vehicle.plate_colour", "warning")]
    assert (
        "blue plate" in check.violations[0].message and "GA 36-2018" in check.violations[0].message
    )
    assert check_waybill(waybill(jurisdiction="US", **blue)).ok
    lenient = WaybillPolicy(plate_colours=("yellow", "yellow_green", "blue"))
    assert check_waybill(waybill(**blue), policy=lenient).ok
