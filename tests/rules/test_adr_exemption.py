"""The small-load exemption of ADR 1.1.3.6, against the transport categories shipped in
data/dangerous_goods/adr_transport_categories.csv (columns: un_number, packing_group,
transport_category, tunnel_code, cv28, adr_name) and the 1.1.3.6.3 assignment.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from contracts.waybill import WaybillItem
from rules.adr_exemption import ASSIGNMENT, TABLE_A, Unit, assess, small_load_exemption
from tests.rules.test_waybill import ACETONE, waybill


def item(
    un: str, name: str, cls: str, pg: str | None, qty: int | str, unit: Unit, **more: Any
) -> WaybillItem:
    return WaybillItem(
        un_number=un,
        proper_shipping_name=name,
        hazard_class=cls,
        packing_group=pg,
        packaging="drums",
        packages=1,
        quantity=Decimal(qty),
        unit=unit,
        **more,
    )


# UN1090,ACETONE,II: transport category 2 (Table A column (15): "2 (D/E)").
def acetone(litres: int) -> WaybillItem:
    return ACETONE.model_copy(update={"quantity": Decimal(litres)})


DIESEL = item("UN1202", "Diesel fuel", "3", "III", 500, "L")  # category 3
HYDROCYANIC = item(
    "UN1613",
    "Hydrocyanic acid, aqueous solutions or Hydrogen cyanide, aqueous solutions with not more"
    " than 20 percent hydrogen cyanide",
    "6.1",
    "I",
    1,
    "L",
)  # category 0
BROMINE = item("UN1744", "Bromine solutions", "8", "I", 10, "L", subsidiary_classes=("6.1",))
CHLORINE = item("UN1017", "Chlorine", "2.3", None, 40, "kg", subsidiary_classes=("5.1", "8"))
TOXIC_SOLID = item("UN2811", "Toxic solids, organic, n.o.s. (contains x)", "6.1", "III", 100, "kg")
SULFURIC = item("UN1830", "Sulfuric acid with more than 51 percent acid", "8", "II", 100, "kg")
PROPANE = item("UN1978", "Propane", "2.1", None, 10, "kg")


def test_points_within_1000_are_exempt() -> None:
    """ADR 1.1.3.6.4: 300 L of acetone (category 2, x 3) = 900 points, within 1000."""
    found = assess((acetone(300),))
    assert found.status == "exempt" and found.exempt and found.points == 900
    (line,) = found.lines
    assert (line.transport_category, line.basis, line.unit) == (2, TABLE_A, "L")
    assert "900 points, within 1000" in found.reason
    # What it relaxes and what it does not (1.1.3.6.2).
    assert "orange plates (5.3)" in found.reason and "mixed loading (7.5.2)" in found.reason


def test_points_over_1000_are_not() -> None:
    """ADR 1.1.3.6.3: category 2 at most 333 a transport unit; 334 L is 1002 points."""
    assert assess((acetone(333),)).status == "exempt"
    over = assess((acetone(334),))
    assert over.status == "over_limit" and over.points == 1002 and not over.exempt


def test_mixed_categories_add_up() -> None:
    """ADR 1.1.3.6.4: 100 L acetone x 3 + 500 L diesel (category 3) x 1 = 800."""
    found = assess((acetone(100), DIESEL))
    assert found.points == 800 and found.status == "exempt"
    assert [line.points for line in found.lines] == [300, 500]


def test_category_0_rules_it_out() -> None:
    """ADR 1.1.3.6.3: UN1613 is category 0 (maximum 0), however little."""
    found = assess((HYDROCYANIC, acetone(10)))
    assert found.status == "ruled_out" and found.points is None
    assert "transport category 0 (items[0] UN1613)" in found.reason


def test_category_1_and_footnote_a() -> None:
    """Category 1 counts x 50 (10 L bromine = 500); the footnote-a entries, such as chlorine,
    at most 50 kg, count x 20 (40 kg = 800), 1.1.3.6.3 note a and 1.1.3.6.4."""
    assert assess((BROMINE,)).points == 500
    assert assess((CHLORINE,)).points == 800
    assert assess((BROMINE, CHLORINE)).status == "over_limit"


def test_the_1_1_3_6_3_assignment_where_the_extract_has_no_row() -> None:
    """ADR 1.1.3.6.3: 6.1 packing group III is category 2 (x 3); class 9 PG III category 3."""
    found = assess((TOXIC_SOLID,))
    (line,) = found.lines
    assert (line.transport_category, line.basis, found.points) == (2, ASSIGNMENT, Decimal(300))
    env = item("UN3082", "Environmentally hazardous substance, liquid, n.o.s", "9", "III", 10, "L")
    assert assess((env,)).lines[0].transport_category == 3


@pytest.mark.parametrize(
    ("goods", "why"),
    [
        (PROPANE, "no transport category for UN1978 class 2.1"),  # class 2: by classification code
        (SULFURIC, "a liquid in kg: 1.1.3.6.3 counts litres; declare its density"),
        (item("UN1049", "Hydrogen, compressed", "2.1", None, 5, "kg"), "water capacity"),
        (
            item("UN1823", "Sodium hydroxide, solid", "8", "II", 5, "L"),
            "a solid declared in litres",
        ),
    ],
)
def test_what_cannot_be_assessed_is_not_guessed(goods: WaybillItem, why: str) -> None:
    found = assess((acetone(10), goods))
    assert found.status == "not_assessable" and found.points is None
    assert why in found.reason and "items[1]" in found.reason


def test_a_liquid_in_kg_counts_its_litres_at_the_declared_density() -> None:
    """1.1.3.6.3: liquids in litres: 184 kg of sulfuric acid at 1.84 kg/L is 100 L, x 3."""
    declared = SULFURIC.model_copy(
        update={"quantity": Decimal(184), "density_kg_per_l": Decimal("1.84")}
    )
    (line,) = assess((declared,)).lines
    assert (line.quantity, line.unit, line.points) == (Decimal(100), "L", Decimal(300))


def test_tanks_are_not_covered() -> None:
    """ADR 1.1.3.6.2: the exemption is for goods in packages."""
    assert assess((acetone(10),), in_tank=True).status == "not_applicable"
    tank = waybill(vehicle__tank_number="TK-0931", vehicle__tank_volume_litres=Decimal(4000))
    assessed = small_load_exemption(tank)
    assert assessed is not None and assessed.status == "not_applicable"


def test_assessed_under_jt_t_617_only() -> None:
    """ADR 1.1.3.6 (JT/T 617) for CN; 49 CFR has no such exemption: None for US."""
    assessed = small_load_exemption(waybill())  # acetone 1000 L + hydrochloric acid 2000 L
    assert assessed is not None and assessed.status == "over_limit" and assessed.points == 9000
    assert small_load_exemption(waybill(jurisdiction="US")) is None
