"""The 49 CFR § 172.101 list, against rows read in data/dangerous_goods/hazmat_table.csv.

Columns: id_number, proper_shipping_name, hazard_class, subsidiary_classes, packing_group,
label_codes, special_provisions, symbols.
"""

from __future__ import annotations

import pytest

from rules.dangerous_goods import (
    DangerousGood,
    class_name,
    entries,
    forbidden_problem,
    packing_groups,
    un_number_problem,
)

MALFORMED = "must be UN followed by 4 digits"


def test_acetone_is_class_3_packing_group_ii() -> None:
    # UN1090,Acetone,3,,II,3,IB2;T4;TP1,
    assert entries("UN1090") == (
        DangerousGood(
            un_number="UN1090",
            proper_shipping_name="Acetone",
            hazard_class="3",
            subsidiary_classes=(),
            packing_group="II",
            special_provisions=("IB2", "T4", "TP1"),
            symbols=(),
        ),
    )
    assert un_number_problem("UN1090", "II") is None
    assert un_number_problem("UN1090") is None


def test_sulfuric_acid_is_class_8_packing_group_ii_only() -> None:
    # UN1830,Sulfuric acid with more than 51 percent acid,8,,II,8,A3;A7;B3;B83;B84;IB2;N34;T8;TP2,
    (acid,) = entries("UN1830")
    assert (acid.hazard_class, acid.packing_group) == ("8", "II")
    assert acid.proper_shipping_name == "Sulfuric acid with more than 51 percent acid"
    assert un_number_problem("UN1830", "II") is None
    assert un_number_problem("UN1830", "I") == (
        "packing group I is not allowed for UN1830"
        " (Sulfuric acid with more than 51 percent acid): allowed II"
    )


def test_one_entry_a_packing_group_and_the_allowed_ones_listed() -> None:
    # UN1789,Hydrochloric acid,8,,II,8,386;A3;B3;B15;B133;IB2;N41;T8;TP2,
    # UN1789,Hydrochloric acid,8,,III,8,A3;IB3;T4;TP1,
    second, third = entries("UN1789")
    assert (second.packing_group, third.packing_group) == ("II", "III")
    assert "IB2" in second.special_provisions and "IB3" in third.special_provisions
    assert packing_groups("UN1789") == ("II", "III")
    assert un_number_problem("UN1789", "III") is None
    problem = un_number_problem("UN1789", "I")
    assert problem is not None and problem.endswith("allowed II, III")


def test_a_repeated_packing_group_is_listed_once() -> None:
    # UN3181,"Metal salts of organic compounds, flammable, n.o.s",4.1,,II,...,G
    # UN3181,...,4.1,,III,4.1,A1;IB8;IP3;T1;TP33;W31,G
    # UN3181,...,4.1,,III,4.1,A1;IB8;IP3;T1;TP33,G
    assert len(entries("UN3181")) == 3
    assert packing_groups("UN3181") == ("II", "III")


def test_an_entry_without_packing_group_refuses_one() -> None:
    # UN1017,Chlorine,2.3,5.1;8,,2.3;5.1;8,2;B9;B14;N86;T50;TP19,
    (chlorine,) = entries("UN1017")
    assert chlorine.packing_group is None
    assert chlorine.subsidiary_classes == ("5.1", "8")
    assert chlorine.inhalation_hazard_zone == "B"  # special provision 2
    assert packing_groups("UN1017") == ()
    assert un_number_problem("UN1017") is None
    assert un_number_problem("UN1017", "II") == (
        "packing group II is not allowed for UN1017 (Chlorine): it has no packing group"
    )


def test_an_unknown_packing_group_value_is_refused() -> None:
    assert un_number_problem("UN1090", "IV") == "packing group 'IV' is not one of I, II, III"


@pytest.mark.parametrize("un_number", ["UN12345", "1090", "un1090", "UN 1090", "UN109", ""])
def test_malformed_numbers_are_refused_with_the_format_rule(un_number: str) -> None:
    assert un_number_problem(un_number) == (
        f"UN number {un_number!r} is malformed: it must be UN followed by 4 digits"
    )


def test_a_well_formed_number_not_on_the_list_is_refused() -> None:
    # No row has id_number UN0000 (nor UN9999): the list decides, not a numeric range.
    for un_number in ("UN0000", "UN9999"):
        assert entries(un_number) == ()
        assert un_number_problem(un_number, "II") == (
            f"{un_number} is not on the dangerous goods list"
            " (49 CFR § 172.101 hazardous materials table)"
        )


def test_us_only_numbers_are_found_but_not_accepted_as_un_numbers() -> None:
    # NA1993,Diesel fuel,3,,III,None,144;B1;IB3;T4;TP1;TP29,D
    # ID8000,Consumer commodity,9,,,9,,
    assert any(good.proper_shipping_name == "Diesel fuel" for good in entries("NA1993"))
    assert entries("ID8000")[0].hazard_class == "9"
    for number in ("NA1993", "ID8000"):
        problem = un_number_problem(number)
        assert problem is not None and MALFORMED in problem and "US-only" in problem


def test_a_forbidden_entry_is_refused_by_name() -> None:
    # ,Acetylene silver nitrate,Forbidden,,,,,
    # ,"Acetylene, solvent free",Forbidden,,,,,
    # UN1001,"Acetylene, dissolved",2.1,,,2.1,N86;N88,
    assert forbidden_problem("Acetylene silver nitrate") == (
        "'Acetylene silver nitrate' is forbidden for transport"
        " (49 CFR § 172.101 hazardous materials table, Column 3 'Forbidden')"
    )
    problem = forbidden_problem("  acetylene,   SOLVENT free ")
    assert problem is not None and "'Acetylene, solvent free' is forbidden" in problem
    assert forbidden_problem("Acetylene, dissolved") is None
    assert entries("UN1001")[0].hazard_class == "2.1"


def test_g_symbol_asks_for_the_technical_name() -> None:
    # UN3132,"Water-reactive solid, flammable, n.o.s.",4.3,4.1,I,4.3;4.1,IB4;N40;W31,G
    # (and PG II, PG III rows, also G); UN1090 Acetone has no symbol.
    water_reactive = entries("UN3132")
    assert [good.packing_group for good in water_reactive] == ["I", "II", "III"]
    assert all(good.needs_technical_name for good in water_reactive)
    assert water_reactive[0].subsidiary_classes == ("4.1",)
    assert not entries("UN1090")[0].needs_technical_name


def test_domestic_and_international_descriptions_are_both_entries() -> None:
    # UN1005,"Ammonia, anhydrous",2.3,8,,2.3;8,4;379;N87;T50,I
    # UN1005,"Ammonia, anhydrous",2.2,,,2.2,13;379;T50,D
    international, domestic = entries("UN1005")
    assert (international.hazard_class, international.symbols) == ("2.3", ("I",))
    assert international.inhalation_hazard_zone == "D"  # special provision 4
    assert (domestic.hazard_class, domestic.symbols) == ("2.2", ("D",))
    assert domestic.inhalation_hazard_zone is None


def test_one_name_in_two_hazard_zones() -> None:
    # UN1744,Bromine,8,6.1,I,8;6.1,1;B9;...,+
    # UN1744,Bromine solutions,8,6.1,I,8;6.1,1;B9;...,+
    # UN1744,Bromine solutions,8,6.1,I,8;6.1,2;B9;...,+
    zones = [(g.proper_shipping_name, g.inhalation_hazard_zone) for g in entries("UN1744")]
    assert zones == [("Bromine", "A"), ("Bromine solutions", "A"), ("Bromine solutions", "B")]
    assert packing_groups("UN1744") == ("I",)


def test_explosive_samples_keep_their_empty_class() -> None:
    # UN0190,"Samples, explosive, other than initiating explosives",,,,,113,G
    (samples,) = entries("UN0190")
    assert samples.hazard_class == ""
    assert un_number_problem("UN0190") is None


@pytest.mark.parametrize(
    ("hazard_class", "zh", "en"),
    [
        ("3", "第3类 易燃液体", "Flammable liquids"),
        ("8", "第8类 腐蚀性物质", "Corrosive substances"),
        ("2.1", "第2.1项 易燃气体", "Flammable gases"),
        ("2.3", "第2.3项 毒性气体", "Toxic gases"),
        ("5.1", "第5.1项 氧化性物质", "Oxidizing substances"),
        ("6.2", "第6.2项 感染性物质", "Infectious substances"),
        ("7", "第7类 放射性物质", "Radioactive material"),
        (
            "1.4S",
            "第1.4项 不呈现重大危险的物质和物品",
            "Substances and articles which present no significant hazard",
        ),
    ],
)
def test_class_names_are_bilingual(hazard_class: str, zh: str, en: str) -> None:
    assert class_name(hazard_class) == (zh, en)


@pytest.mark.parametrize(
    "hazard_class",
    [
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
        "1.1",
        "1.2",
        "1.3",
        "1.4",
        "1.5",
        "1.6",
        "2.1",
        "2.2",
        "2.3",
        "4.1",
        "4.2",
        "4.3",
        "5.1",
        "5.2",
        "6.1",
        "6.2",
    ],
)
def test_every_class_and_division_is_named(hazard_class: str) -> None:
    zh, en = class_name(hazard_class)
    kind = "项" if "." in hazard_class else "类"
    assert zh.startswith(f"第{hazard_class}{kind} ") and en


@pytest.mark.parametrize("hazard_class", ["10", "Forbidden", "", "1.7", "3.1", "1.1I"])
def test_unknown_classes_are_refused(hazard_class: str) -> None:
    with pytest.raises(ValueError, match="not a dangerous goods class"):
        class_name(hazard_class)


@pytest.mark.parametrize(
    ("un_number", "state"),
    [
        ("UN1017", "gas"),  # Chlorine,2.3,...: Class 2
        ("UN1823", "solid"),  # "Sodium hydroxide, solid"
        ("UN1824", "liquid"),  # Sodium hydroxide solution
        ("UN1789", "liquid"),  # Hydrochloric acid: IB2 (§ 172.102(c)(4): IBCs for liquids)
        ("UN1942", "solid"),  # Ammonium nitrate, ...: IB8;...;TP33 (solids)
        ("UN0081", None),  # "Explosive, blasting, type A": neither name nor provisions tell
    ],
)
def test_the_physical_state_is_read_from_name_and_provisions(
    un_number: str, state: str | None
) -> None:
    assert entries(un_number)[0].physical_state == state


def test_cyanides_acids_and_the_notes_are_read_from_the_name() -> None:
    assert entries("UN1613")[0].is_cyanide and not entries("UN1613")[0].is_acid
    assert entries("UN1689")[0].is_cyanide  # "Sodium cyanide, solid"
    assert not entries("UN1694")[0].is_cyanide  # "Bromobenzyl cyanides, liquid": a nitrile
    assert entries("UN1789")[0].is_acid and entries("UN1050")[0].is_acid  # hydrogen chloride
    assert entries("UN1824")[0].is_alkaline and not entries("UN1824")[0].is_acid
    assert entries("UN1942")[0].is_ammonium_nitrate and entries("UN2067")[0].is_ammonium_nitrate
    assert not entries("UN3375")[0].is_ammonium_nitrate  # an emulsion, not Note A's goods
    assert entries("UN0337")[0].is_fireworks and not entries("UN0012")[0].is_fireworks
