"""ADR 7.5.2 mixed loading by danger label (JT/T 617.7-2018), against the cells shipped in
data/dangerous_goods/.

adr_mixed_loading_7_5_2_1.csv columns: label_a, label_b, label_a_printed, label_b_printed, cell
(X permitted, blank prohibited, a-d the table's notes, 7.5.2.2 for two class 1 labels).
adr_compatibility_7_5_2_2.csv columns: group_a, group_b, cell (X, blank, notes 1-4).
"""

from __future__ import annotations

import csv
from itertools import product

import pytest

from rules.adr_loading import (
    COMPATIBILITY_FILE,
    MIXED_LOADING_FILE,
    Package,
    keeps_from_food,
    labels,
    mixed_loading,
)
from rules.segregation import Segregation

NONE, CONDITIONAL, FORBIDDEN = Segregation.NONE, Segregation.CONDITIONAL, Segregation.FORBIDDEN

ACETONE = Package("3", (), "UN1090")
CAUSTIC_SODA_SOLUTION = Package("8", (), "UN1824")
PHOSGENE = Package("2.3", ("8",), "UN1076")
HYDROCYANIC_ACID = Package("6.1", ("3",), "UN1613")
HYDROCHLORIC_ACID = Package("8", (), "UN1789")
BLASTING_TYPE_A = Package("1.1D", (), "UN0081")
BLASTING_TYPE_C = Package("1.1D", (), "UN0083")
CARTRIDGES = Package("1.4S", (), "UN0012")
SAFETY_DEVICES = Package("1.4G", (), "UN0503")
AIR_BAG_MODULES = Package("9", (), "UN3268")
LIFE_RAFTS = Package("9", (), "UN2990")
AMMONIUM_NITRATE = Package("5.1", (), "UN1942")
PEROXIDE_TYPE_B = Package("5.2", ("1",), "UN3101")
PEROXIDE_TYPE_D = Package("5.2", (), "UN3105")
SELF_REACTIVE_B = Package("4.1", ("1",), "UN3221")


def _rows(path: object) -> list[dict[str, str]]:
    with open(str(path), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_7_5_2_1_table_is_symmetric_and_complete() -> None:
    """ADR 7.5.2.1: 20 labels (2.1-2.3 and 7A-7C as printed together), one cell each way."""
    cells = {(r["label_a"], r["label_b"]): r["cell"] for r in _rows(MIXED_LOADING_FILE)}
    keys = {a for a, _ in cells}
    assert len(keys) == 20 and len(cells) == 400
    assert all(cells[a, b] == cells[b, a] for a, b in product(keys, keys))
    assert {cell for cell in cells.values()} == {"", "X", "a", "a;b;c", "b", "d", "7.5.2.2"}


def test_the_7_5_2_2_table_is_symmetric() -> None:
    """ADR 7.5.2.2: the twelve compatibility groups, one cell each way."""
    groups = {(r["group_a"], r["group_b"]): r["cell"] for r in _rows(COMPATIBILITY_FILE)}
    keys = {a for a, _ in groups}
    assert keys == set("ABCDEFGHJLNS")
    assert all(groups[a, b] == groups[b, a] for a, b in product(keys, keys))


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # 3,8,...,X: labels 2.1 to 9 may generally share a vehicle.
        (ACETONE, CAUSTIC_SODA_SOLUTION, NONE),
        (ACETONE, PHOSGENE, NONE),  # 3 with 2.3 and with 8: X, X
        (HYDROCYANIC_ACID, HYDROCHLORIC_ACID, NONE),  # labels 6.1, 3 with 8: X
        # 1,3,...,(blank): class 1 is default-deny.
        (BLASTING_TYPE_A, ACETONE, FORBIDDEN),
        (Package("1"), ACETONE, FORBIDDEN),  # a division not stated reads as label 1
        # 1.4,3,...,a: only 1.4S.
        (CARTRIDGES, ACETONE, NONE),
        (SAFETY_DEVICES, ACETONE, FORBIDDEN),
        (Package("1.4"), ACETONE, FORBIDDEN),  # no group: cannot show S
        # 1.4,9,...,a;b;c: note c lets UN0503 go with UN3268.
        (SAFETY_DEVICES, AIR_BAG_MODULES, NONE),
        (SAFETY_DEVICES, Package("9", (), "UN3077"), FORBIDDEN),
        # 1,9,...,b: life-saving appliances only.
        (BLASTING_TYPE_A, LIFE_RAFTS, NONE),
        (BLASTING_TYPE_A, Package("9", (), "UN3082"), FORBIDDEN),
        # 1,5.1,...,d: blasting explosives (not UN0083) with ammonium nitrate, on a condition.
        (BLASTING_TYPE_A, AMMONIUM_NITRATE, CONDITIONAL),
        (BLASTING_TYPE_C, AMMONIUM_NITRATE, FORBIDDEN),
        (BLASTING_TYPE_A, Package("5.1", (), "UN1479"), FORBIDDEN),
        # 5.2+1 only with 5.2 and 5.2+1; 4.1+1 only with 4.1+1.
        (PEROXIDE_TYPE_B, PEROXIDE_TYPE_D, NONE),
        (PEROXIDE_TYPE_B, ACETONE, FORBIDDEN),
        (SELF_REACTIVE_B, SELF_REACTIVE_B, NONE),
        (SELF_REACTIVE_B, Package("4.1", (), "UN1325"), FORBIDDEN),
    ],
)
def test_7_5_2_1_cells_and_notes(a: Package, b: Package, expected: Segregation) -> None:
    assert mixed_loading(a, b)[0] is expected
    assert mixed_loading(b, a)[0] is expected  # symmetric


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (BLASTING_TYPE_A, CARTRIDGES, NONE),  # D with S: X
        (Package("1.1B", (), "UN0029"), BLASTING_TYPE_A, CONDITIONAL),  # B with D: note 1
        (Package("1.1B"), Package("1.1C"), FORBIDDEN),  # blank
        (Package("1.1D", (), "UN0081"), Package("1.6N", (), "UN0486"), NONE),  # note 3: N as D
        (Package("1.6N", (), "UN0486"), Package("1.6N", (), "UN0486"), NONE),
        (Package("1.6N", (), "UN0486"), Package("1.6N", (), "UN9999"), CONDITIONAL),  # note 2
        (Package("1.1L", (), "UN0357"), Package("1.1L", (), "UN0357"), NONE),  # note 4
        (Package("1.1L", (), "UN0357"), Package("1.2L", (), "UN0358"), FORBIDDEN),
        (Package("1.1"), CARTRIDGES, FORBIDDEN),  # a group not stated
        # 7.5.2.1 NOTE 2: two class 1 packages by group alone, whatever else they bear.
        (Package("1.2G", ("6.1",), "UN0018"), Package("1.4G", (), "UN0503"), NONE),
    ],
)
def test_7_5_2_2_compatibility_groups(a: Package, b: Package, expected: Segregation) -> None:
    verdict, reason = mixed_loading(a, b)
    assert verdict is expected and reason.startswith("ADR 7.5.2.2")


def test_the_reason_cites_the_paragraph_and_the_labels() -> None:
    verdict, reason = mixed_loading(SAFETY_DEVICES, ACETONE)
    assert verdict is FORBIDDEN
    assert reason.startswith("ADR 7.5.2.1: label 1.4 of UN0503 (1.4G) with label 3 of UN1090")
    assert "only with 1.4S goods (note a)" in reason


def test_every_label_of_a_package_counts() -> None:
    """ADR 7.5.2.1: by the labels borne, subsidiary ones too: 3 with 6.1 and 3 (UN1613) is X,
    but 5.2+1 is read on its own row, not as 5.2 and 1."""
    assert labels(HYDROCYANIC_ACID) == ("6.1", "3")
    assert labels(PEROXIDE_TYPE_B) == ("5.2+1",)
    assert labels(Package("1.3C", ("6.1",))) == ("1", "6.1")
    # A subsidiary 1 on other goods is a label 1: its row forbids even another class 3.
    verdict, reason = mixed_loading(Package("3", ("1",)), ACETONE)
    assert verdict is FORBIDDEN and "label 1 of 3 with label 3 of UN1090" in reason


@pytest.mark.parametrize(
    ("goods", "packing_group", "applies"),
    [
        (HYDROCYANIC_ACID, "I", "ADR Table A column (18) lists CV28 for UN1613"),
        (Package("3", ("6.1",), "UN1230"), "II", "ADR Table A column (18) lists CV28 for UN1230"),
        (ACETONE, "II", None),  # on file, no CV28
        (Package("6.1", (), "UN2811"), "III", "ADR 7.5.4: it bears label 6.1"),  # not on file
        (Package("6.2", (), "UN3373"), None, "ADR 7.5.4: it bears label 6.2"),
        (Package("9", (), "UN3245"), None, "ADR 7.5.4: label 9 on UN3245"),
        (Package("9", (), "UN3077"), "III", None),
    ],
)
def test_cv28_keep_away_from_food(
    goods: Package, packing_group: str | None, applies: str | None
) -> None:
    """ADR 7.5.4: CV28 from Table A column (18) where on file, else 7.5.4's own words."""
    assert keeps_from_food(goods, packing_group) == applies
