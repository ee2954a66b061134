"""49 CFR § 177.848 mixed loading, against cells read in data/dangerous_goods/.

segregation_177_848.csv columns: class_a, class_a_scope, class_a_key, class_a_row_label, class_b,
class_b_scope, class_b_key, class_b_column_label, rule, row_notes, note_a_applies.
explosives_compatibility_177_848f.csv columns: group_a, group_b, cell, prohibited, notes.
"""

from __future__ import annotations

from itertools import product

import pytest

from rules.dangerous_goods import entries
from rules.segregation import Segregation, mixed_loading_violations, segregation

NONE, SEPARATED, FORBIDDEN = Segregation.NONE, Segregation.SEPARATED, Segregation.FORBIDDEN


@pytest.mark.parametrize(
    ("class_a", "class_b", "expected"),
    [
        # 3,,3,Flammable liquids 3,2.1,,2.1,2.1,,,
        ("3", "2.1", NONE),
        # 3,,3,Flammable liquids 3,5.1,,5.1,5.1,O,,
        ("3", "5.1", SEPARATED),
        # 3,,3,Flammable liquids 3,8,liquids only,8L,8 liquids only,,,
        ("3", "8", NONE),
        # 3,,3,Flammable liquids 3,2.3,gas Zone A,2.3A,2.3 gas zone A,X,,
        ("3", "2.3A", FORBIDDEN),
        # 3,,3,Flammable liquids 3,2.3,gas Zone B,2.3B,2.3 gas Zone B,O,,
        ("3", "2.3B", SEPARATED),
        # 3,,3,Flammable liquids 3,6.1,liquids PG I Zone A,6.1A,6.1 liquids PG I zone A,X,,
        ("3", "6.1A", FORBIDDEN),
        # 4.2,,4.2,Spontaneously combustible materials 4.2,8,liquids only,8L,8 liquids only,X,,
        ("4.2", "8", FORBIDDEN),
        # 5.1,,5.1,Oxidizers 5.1,8,liquids only,8L,8 liquids only,O,A,
        ("5.1", "8L", SEPARATED),
        # 1.4,,1.4,Explosives 1.4,2.2,,2.2,2.2,,,
        ("1.4S", "2.2", NONE),
        # 1.1,,1.1,Explosives 1.1 and 1.2,2.2,,2.2,2.2,X,A,
        ("1.1D", "2.2", FORBIDDEN),
        # Not in the table at all: 9, 6.2, 2.3 Zone C and D.
        ("9", "1.1D", NONE),
        ("6.2", "3", NONE),
        ("2.3C", "3", NONE),
        ("2.3D", "5.1", NONE),
    ],
)
def test_cells_of_the_table(class_a: str, class_b: str, expected: Segregation) -> None:
    assert segregation(class_a, class_b) is expected


CLASSES = [
    "1",
    "1.1D",
    "1.2C",
    "1.3G",
    "1.4S",
    "1.5D",
    "1.6N",
    "2.1",
    "2.2",
    "2.3",
    "2.3A",
    "2.3B",
    "2.3C",
    "3",
    "4.1",
    "4.2",
    "4.3",
    "5.1",
    "5.2",
    "6.1",
    "6.1A",
    "6.2",
    "7",
    "8",
    "8L",
    "9",
]


def test_lookups_are_symmetric() -> None:
    for a, b in product(CLASSES, repeat=2):
        assert segregation(a, b) is segregation(b, a), (a, b)


@pytest.mark.parametrize(
    ("vague", "other", "expected"),
    [
        ("2.3", "3", FORBIDDEN),  # read as Zone A: X (a stated Zone B would be O)
        ("6.1", "3", FORBIDDEN),  # read as PG I Zone A liquids: X
        ("8", "4.1", SEPARATED),  # read as liquids: 8L with 4.1 is O
        ("1", "2.2", FORBIDDEN),  # any division: 1.1 with 2.2 is X
        ("1.4", "1.4S", FORBIDDEN),  # no compatibility group: § 177.848(f) cannot be shown
    ],
)
def test_a_class_string_is_read_at_its_strictest(
    vague: str, other: str, expected: Segregation
) -> None:
    assert segregation(vague, other) is expected


def test_an_entry_is_read_by_its_zone_and_packing_group() -> None:
    # UN1090,Acetone,3,,II,3,IB2;T4;TP1,
    (acetone,) = entries("UN1090")
    # UN1017,Chlorine,2.3,5.1;8,,2.3;5.1;8,2;B9;...: Zone B (2.3B with 3 is O, 5.1 with 3 is O).
    (chlorine,) = entries("UN1017")
    assert segregation(chlorine, acetone) is SEPARATED
    # UN1092,"Acrolein, stabilized",6.1,3,I,6.1;3,1;380;...: PG I, Zone A (6.1A with 3 is X).
    (acrolein,) = entries("UN1092")
    assert segregation(acrolein, acetone) is FORBIDDEN
    # UN2810,"Toxic, liquids, organic, n.o.s.",6.1,,I,6.1,T14;TP2;TP13;TP27,G: PG I, no zone,
    # so not in the table; likewise UN1593,Dichloromethane,6.1,,III,6.1,IB3;IP8;N36;T7;TP2,
    toxic_pg_i = entries("UN2810")[0]
    (dichloromethane,) = entries("UN1593")
    assert segregation(toxic_pg_i, acetone) is NONE
    assert segregation(dichloromethane, acetone) is NONE


def test_subsidiary_hazards_are_segregated_too() -> None:
    # UN1744,Bromine,8,6.1,I,8;6.1,1;B9;...,+: class 8, subsidiary 6.1, PG I, Zone A.
    bromine = entries("UN1744")[0]
    (acetone,) = entries("UN1090")
    assert segregation("8", "3") is NONE
    assert segregation(bromine, acetone) is FORBIDDEN
    assert mixed_loading_violations([bromine, acetone]) == (
        "UN1744 (subsidiary 6.1) with UN1090 (class 3): forbidden (§ 177.848(d):"
        " Poisonous liquids PG I Zone A 6.1 with Flammable liquids 3 is X,"
        " may not be loaded, transported or stored together)",
    )


@pytest.mark.parametrize(
    ("class_a", "class_b", "expected", "reason"),
    [
        # B,D,X(4),X,4
        ("1.1B", "1.1D", FORBIDDEN, "groups B and D are X; see § 177.835(g) for detonators"),
        # D,D,,,
        ("1.1D", "1.4D", NONE, ""),
        # C,D,2,,2 (a mixed C/D load is grouped E: no restriction)
        ("1.1C", "1.2D", NONE, ""),
        # C,S,4/5,,4;5 with neither 1.1 nor 1.2
        ("1.3C", "1.4S", NONE, ""),
        # D,S,4/5,,4;5 with 1.1: note 5
        ("1.1D", "1.4S", FORBIDDEN, "1.4S fireworks may not go with 1.1 or 1.2 (note 5)"),
        # L,L,1,,1
        ("1.3L", "1.3L", FORBIDDEN, "group L only with an identical explosive (note 1)"),
        # G,C,6,,6
        ("1.4G", "1.4C", FORBIDDEN, "group G articles only if not fireworks"),
    ],
)
def test_explosives_by_compatibility_group(
    class_a: str, class_b: str, expected: Segregation, reason: str
) -> None:
    assert segregation(class_a, class_b) is expected
    violations = mixed_loading_violations([class_a, class_b])
    if expected is NONE:
        assert violations == ()
    else:
        (violation,) = violations
        assert "§ 177.848(f)" in violation and reason in violation


def test_violations_name_each_pair_and_the_rule() -> None:
    # 3/2.1, 3/8, 2.1/5.1 (2.1,,2.1,Flammable gases 2.1,5.1,,5.1,5.1,,,) and 2.1/8 are blank.
    assert mixed_loading_violations(["3", "2.1", "5.1", "8"]) == (
        "class 3 with class 5.1: separated (§ 177.848(d): Flammable liquids 3 with Oxidizers 5.1"
        " is O, only if separated so that leaking packages could not mix)",
        "class 5.1 with class 8: separated (§ 177.848(d): Oxidizers 5.1 with Corrosive liquids 8"
        " is O, only if separated so that leaking packages could not mix; even separated,"
        " Class 8 liquids may not go above or next to Class 4 or 5 (§ 177.848(e)(3)))",
    )


def test_note_a_is_named_where_it_applies() -> None:
    # 5.1,,5.1,Oxidizers 5.1,1.1,,1.1,1.1 1.2,X,A,yes
    (violation,) = mixed_loading_violations(["5.1", "1.1D"])
    assert violation.startswith("class 5.1 with class 1.1D: forbidden")
    assert "Note A: ammonium nitrate (UN1942)" in violation
    # 3,,3,Flammable liquids 3,1.1,...,X: Note A does not apply.
    (other,) = mixed_loading_violations(["3", "1.1D"])
    assert "Note A" not in other


def test_a_pair_is_reported_once_and_compatible_loads_give_none() -> None:
    assert len(mixed_loading_violations(["3", "5.1", "5.1", "3"])) == 1
    assert mixed_loading_violations(["3", "2.1", "8", "9"]) == ()
    assert mixed_loading_violations(["3"]) == ()
    assert mixed_loading_violations([]) == ()


@pytest.mark.parametrize("bad", ["10", "2", "Forbidden", "1.1I", "3 (8)", ""])
def test_an_unreadable_class_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a hazard class"):
        segregation(bad, "3")
