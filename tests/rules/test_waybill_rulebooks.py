"""The same loads judged under both rulebooks: JT/T 617.7-2018 (ADR 7.5.2) where the trip runs
in China ("CN", the default), 49 CFR § 177.848 in the United States ("US").

Rows quoted are from data/dangerous_goods/: adr_mixed_loading_7_5_2_1.csv (label_a, label_b,
..., cell) and segregation_177_848.csv (class_a, ..., class_b, ..., rule).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from contracts.waybill import WaybillItem
from rules.waybill import FOOD_SEPARATION, SEGREGATION, WaybillPolicy, check_waybill
from tests.harness.waybills import HYDROCHLORIC_ACID
from tests.rules.test_waybill import (
    ACETONE,
    BARIUM_ALLOYS,
    HYDROCYANIC_ACID,
    PHOSGENE,
    codes,
    permitted,
    waybill,
)

LOADING = (SEGREGATION, FOOD_SEPARATION)
ALL_CLASSES = permitted("1", "2", "3", "4", "6", "8")

# UN1824,Sodium hydroxide solution,8,,II,8,B2;IB2;N34;T7;TP2,
CAUSTIC_SODA_SOLUTION = ACETONE.model_copy(
    update={
        "un_number": "UN1824",
        "proper_shipping_name": "Sodium hydroxide solution",
        "hazard_class": "8",
    }
)
# UN0081,"Explosive, blasting, type A",1.1D,,,1.1D,...  /  UN0503,"Safety devices,
# pyrotechnic",1.4G,,,1.4G,...
BLASTING_EXPLOSIVE = PHOSGENE.model_copy(
    update={
        "un_number": "UN0081",
        "proper_shipping_name": "Explosive, blasting, type A",
        "hazard_class": "1.1D",
        "subsidiary_classes": (),
        "quantity": Decimal(10),
    }
)
SAFETY_DEVICES = BLASTING_EXPLOSIVE.model_copy(
    update={
        "un_number": "UN0503",
        "proper_shipping_name": "Safety devices, pyrotechnic",
        "hazard_class": "1.4G",
    }
)


def judged(
    items: tuple[WaybillItem, ...], policy: WaybillPolicy | None = None
) -> dict[str, list[tuple[str, str, str]]]:
    """The mixed-loading violations of the load under each rulebook."""
    found = {}
    for jurisdiction in ("CN", "US"):
        draft = waybill(items=items, jurisdiction=jurisdiction, **ALL_CLASSES)
        check = check_waybill(draft, policy=policy or WaybillPolicy())
        found[jurisdiction] = [c for c in codes(check) if c[0] in LOADING]
    return found


PAIR = "items[0],items[1]"
BLOCKED = [(SEGREGATION, PAIR, "blocking")]
TO_CONFIRM = [(SEGREGATION, PAIR, "warning")]
CV28 = [(FOOD_SEPARATION, "items", "warning")]


@pytest.mark.parametrize(
    ("items", "cn", "us"),
    [
        # 3,8,...,X  and  3,,3,...,8,liquids only,8L,...,(blank): fine under both.
        ((ACETONE, CAUSTIC_SODA_SOLUTION), [], []),
        # 49 CFR § 177.848(c) forbids a cyanide with an acid; ADR 7.5.2.1 has 6.1/3 with 8 as X,
        # so CN warns by platform policy, and warns of CV28 (6.1, ADR 7.5.4).
        ((HYDROCYANIC_ACID, HYDROCHLORIC_ACID), TO_CONFIRM + CV28, BLOCKED),
        # 3,2.3,...,X under ADR; 3,,3,...,2.3,gas Zone A,2.3A,...,X under 49 CFR.
        ((ACETONE, PHOSGENE), [], BLOCKED),
        # 4.2,8,...,X under ADR; 4.2,...,8,liquids only,8L,...,X under 49 CFR.
        ((BARIUM_ALLOYS, HYDROCHLORIC_ACID), [], BLOCKED),
        # 1,3,...,(blank): class 1 default-deny under ADR; 1.1,...,3,...,X under 49 CFR.
        ((BLASTING_EXPLOSIVE, ACETONE), BLOCKED, BLOCKED),
        # 1.4,3,...,a (1.4S only): a 1.4G is refused under ADR; 1.4,...,3,...,O under 49 CFR.
        ((SAFETY_DEVICES, ACETONE), BLOCKED, TO_CONFIRM),
    ],
)
def test_the_same_load_under_both_rulebooks(
    items: tuple[WaybillItem, ...], cn: list[tuple[str, str, str]], us: list[tuple[str, str, str]]
) -> None:
    assert judged(items) == {"CN": cn, "US": us}


@pytest.mark.parametrize(
    "items",
    [
        (HYDROCYANIC_ACID, HYDROCHLORIC_ACID),
        (ACETONE, PHOSGENE),
        (BLASTING_EXPLOSIVE, ACETONE),
        (SAFETY_DEVICES, ACETONE),
    ],
)
@pytest.mark.parametrize("jurisdiction", ["CN", "US"])
def test_every_segregation_message_names_its_rulebook_and_paragraph(
    items: tuple[WaybillItem, ...], jurisdiction: str
) -> None:
    check = check_waybill(waybill(items=items, jurisdiction=jurisdiction, **ALL_CLASSES))
    for v in check.violations:
        if v.code != SEGREGATION:
            continue
        if jurisdiction == "US":
            assert "under 49 CFR 177.848:" in v.message and "§ 177.848(" in v.message
        elif "platform policy" in v.message:
            assert "beyond JT/T 617.7-2018 (ADR 7.5.2)" in v.message
            assert "49 CFR § 177.848(c)" in v.message  # the hazard it borrows
        else:
            assert "under JT/T 617.7-2018 (ADR 7.5.2): ADR 7.5.2.1: label" in v.message


def test_the_check_names_its_rulebook() -> None:
    """Issue 9 §2: the verdict shows which rulebook judged the load."""
    assert check_waybill(waybill()).rulebook == "JT/T 617.7-2018 (ADR 7.5.2)"
    assert check_waybill(waybill(jurisdiction="US")).rulebook == "49 CFR 177.848"


def test_cv28_goods_warn_to_keep_them_from_food() -> None:
    """ADR 7.5.4 (CV28): no food flag on the waybill, so a person confirms none is aboard."""
    check = check_waybill(waybill(items=(ACETONE, HYDROCYANIC_ACID), **ALL_CLASSES))
    (food,) = [v for v in check.violations if v.code == FOOD_SEPARATION]
    assert food.severity == "warning" and food.field == "items"
    assert "items[1] UN1613 (ADR Table A column (18) lists CV28 for UN1613)" in food.message
    assert "CV28 under JT/T 617.7-2018 (ADR 7.5.4)" in food.message
    assert "at least 0.8 m" in food.message


def test_the_platform_warnings_beyond_the_rulebook_are_configurable() -> None:
    """Conventions, not ADR 7.5.2: the cyanide-with-acid and the CV28 warnings can be off."""
    quiet = WaybillPolicy(keep_from_food_warning=False, cyanide_acid_warning=False)
    assert judged((HYDROCYANIC_ACID, HYDROCHLORIC_ACID), quiet) == {"CN": [], "US": BLOCKED}


def test_two_lines_of_the_same_goods_are_not_compared() -> None:
    """ADR 7.5.2.1 restricts packages bearing different labels; 7.5.2.2 groups alike pass."""
    assert judged((BLASTING_EXPLOSIVE, BLASTING_EXPLOSIVE))["CN"] == []
