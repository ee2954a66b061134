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


# -- the entry, not just the class (issue 9 §1) -------------------------------------------------

CONDITIONAL = Segregation.CONDITIONAL


def test_cyanides_may_not_go_with_acids() -> None:
    # § 177.848(c): cyanides, cyanide mixtures or solutions may not be stored, loaded and
    # transported with acids if a mixture would generate hydrogen cyanide.
    # UN1613,"Hydrocyanic acid, aqueous solutions or Hydrogen cyanide, ...",6.1,,I,6.1,2;...
    # (zone B: outside the table's 6.1 row, so the table alone let it pass)
    (hydrocyanic,) = entries("UN1613")
    # UN1789,Hydrochloric acid,8,,II,8,386;A3;B3;B15;B133;IB2;N41;T8;TP2,
    hydrochloric = entries("UN1789")[0]
    assert segregation(hydrocyanic, hydrochloric) is FORBIDDEN
    assert segregation(hydrochloric, hydrocyanic) is FORBIDDEN
    (violation,) = mixed_loading_violations([hydrocyanic, hydrochloric])
    assert "§ 177.848(c)" in violation and "UN1789 is an acid" in violation
    # UN1689,"Sodium cyanide, solid",6.1,,I,... with UN1830,Sulfuric acid ...,8,,II,...
    assert segregation(entries("UN1689")[0], entries("UN1830")[0]) is FORBIDDEN


def test_a_cyanide_with_a_corrosive_that_is_not_named_an_acid() -> None:
    # § 177.848(c) only forbids acids: a named base passes, an unnamed corrosive needs a
    # person to confirm it is not an acid, and a bare class 8 is read at its strictest.
    (hydrocyanic,) = entries("UN1613")
    # UN1824,Sodium hydroxide solution,8,,II,8,B2;IB2;N34;T7;TP2,
    assert segregation(hydrocyanic, entries("UN1824")[0]) is NONE
    # UN1760,"Corrosive liquids, n.o.s",8,,II,8,B2;IB2;T11;TP2;TP27,G
    assert segregation(hydrocyanic, entries("UN1760")[1]) is CONDITIONAL
    assert segregation(hydrocyanic, "8") is FORBIDDEN
    # Two cyanides are not an acid pair, though one is named "hydrocyanic acid".
    assert segregation(hydrocyanic, entries("UN1689")[0]) is NONE


def test_a_class_8_solid_is_outside_the_liquids_only_row() -> None:
    # § 177.848(d) table, column "8 liquids only"; § 177.848(e)(1): a class absent from the
    # table is not restricted. 4.2,,4.2,...,8,liquids only,8L,8 liquids only,X,,
    # UN1823,"Sodium hydroxide, solid",8,,II,8,IB8;IP2;IP4;T3;TP33,
    (caustic_solid,) = entries("UN1823")
    # UN1854,"Barium alloys, pyrophoric",4.2,,I,4.2,T21;TP7;TP33;W31,
    (barium,) = entries("UN1854")
    assert segregation("8", "4.2") is FORBIDDEN  # a bare class 8 is read as a liquid
    assert segregation(caustic_solid, barium) is NONE
    assert segregation(entries("UN1824")[0], barium) is FORBIDDEN  # the solution is a liquid
    # 6.1,,6.1,Poisonous liquids PG I Zone A,8,liquids only,8L,...,X: acrolein (6.1A) with the
    # solid is not restricted either.
    (acrolein,) = entries("UN1092")
    assert segregation(caustic_solid, acrolein) is NONE


def test_a_gas_with_subsidiary_8_belongs_to_its_class_2_row() -> None:
    # UN1017,Chlorine,2.3,5.1;8,,2.3;5.1;8,2;B9;...: a gas, Zone B. Its subsidiary 8 is not a
    # Class 8 liquid (§ 177.848(d) "8 liquids only"), so with a 4.2 material the 2.3 Zone B row
    # decides: 4.2,,4.2,...,2.3,gas Zone B,2.3B,2.3 gas Zone B,O,, (not 4.2 with 8L, X).
    (chlorine,) = entries("UN1017")
    (barium,) = entries("UN1854")
    assert segregation(chlorine, barium) is SEPARATED
    (violation,) = mixed_loading_violations([chlorine, barium])
    assert "Poisonous gas Zone B" in violation and "Corrosive liquids" not in violation


def test_note_a_is_read_from_the_entry() -> None:
    # § 177.848(e)(5): notwithstanding X, ammonium nitrate (UN1942) and ammonium nitrate
    # fertilizer may be loaded with 1.1 or 1.5 unless § 177.835(c) forbids it (not checked here,
    # so a person confirms it). 5.1,,5.1,Oxidizers 5.1,1.1,,1.1,1.1 1.2,X,A,yes
    # UN0081,"Explosive, blasting, type A",1.1D,,,1.1D,148,
    (blasting,) = entries("UN0081")
    (ammonium_nitrate,) = entries("UN1942")
    (fertilizer,) = entries("UN2067")  # Ammonium nitrate based fertilizer,5.1,,III,...
    assert segregation(ammonium_nitrate, blasting) is CONDITIONAL
    assert segregation(fertilizer, blasting) is CONDITIONAL
    (violation,) = mixed_loading_violations([ammonium_nitrate, blasting])
    assert "Note A (§ 177.848(e)(5))" in violation and "§ 177.835(c)" in violation
    # Other 5.1 entries, and a bare 5.1, keep the X: UN1486,Potassium nitrate,5.1,,III,...;
    # UN3375,"Ammonium nitrate emulsion ... intermediate for blasting explosives",5.1,,II,...
    assert segregation(entries("UN1486")[0], blasting) is FORBIDDEN
    assert segregation(entries("UN3375")[0], blasting) is FORBIDDEN
    assert segregation("5.1", blasting) is FORBIDDEN


def test_note_5_is_read_from_the_entry() -> None:
    # § 177.848(g)(3)(v): Division 1.4S fireworks may not go with 1.1 or 1.2. D,S,4/5,,4;5
    (blasting,) = entries("UN0081")
    # UN0337,Fireworks,1.4S,,,1.4S,108,
    (fireworks,) = entries("UN0337")
    # UN0012,"Cartridges for weapons, inert projectile or Cartridges, small arms",1.4S,,,None,,
    (cartridges,) = entries("UN0012")
    assert segregation(fireworks, blasting) is FORBIDDEN
    assert segregation(cartridges, blasting) is NONE
    assert segregation("1.4S", blasting) is FORBIDDEN  # a bare 1.4S may be fireworks


def test_note_1_group_l_with_an_identical_explosive() -> None:
    # § 177.848(g)(3)(i): group L only with an identical explosive. L,L,1,,1
    # UN0356,"Articles, explosive, n.o.s.",1.3L,,,1.3L,101,G; UN0380,"Articles, pyrophoric",1.2L
    (articles,) = entries("UN0356")
    (pyrophoric,) = entries("UN0380")
    assert segregation(articles, articles) is NONE
    assert segregation(articles, pyrophoric) is FORBIDDEN


def test_same_class_secondary_hazard_segregation_needs_confirmation() -> None:
    # § 177.848(e)(6): materials of the same class may be stored together without regard to a
    # secondary hazard's segregation if they cannot react dangerously: the entry cannot show
    # that, so a person confirms it. UN2031,"Nitric acid ..., with more than 70 percent nitric
    # acid",8,5.1,I,8;5.1,...: its 5.1 with HCl (8L) is O (5.1,,5.1,Oxidizers 5.1,8,...,O,A,).
    nitric = next(g for g in entries("UN2031") if g.subsidiary_classes == ("5.1",))
    hydrochloric = entries("UN1789")[0]
    assert segregation(nitric, hydrochloric) is CONDITIONAL
    (violation,) = mixed_loading_violations([nitric, hydrochloric])
    assert "§ 177.848(e)(6)" in violation and "cannot react dangerously" in violation
    # Not for different classes: the 5.1 with a class 3 stays O (3,,3,...,5.1,,5.1,5.1,O,,).
    (acetone,) = entries("UN1090")
    assert segregation(nitric, acetone) is SEPARATED


def test_the_exemption_does_not_lift_what_paragraph_c_names() -> None:
    # § 177.848(c) itself forbids 6.1 PG I Zone A with Class 8 liquids: bromine (8, subsidiary
    # 6.1, PG I, Zone A) with hydrochloric acid stays X although both are Class 8.
    bromine = entries("UN1744")[0]
    assert segregation(bromine, entries("UN1789")[0]) is FORBIDDEN
