"""GB 32100-2015 codes: structure and both check characters, against codes worked by hand."""

from __future__ import annotations

import pytest

from db.seed import DEMO_ORGS, DemoOrg
from rules.credit_code import (
    NATIONAL_DIVISION,
    PROVINCE_CODES,
    REGISTRATION_AUTHORITIES,
    check_character,
    credit_code_problem,
    make_credit_code,
    organisation_check_character,
)
from tests.harness.builders import unique_credit_code

# Character values (GB 32100 clause 5): digits are themselves, then A=10 B=11 C=12 D=13 E=14
# F=15 G=16 H=17 J=18 K=19 L=20 M=21 N=22 P=23 Q=24 R=25 T=26 U=27 W=28 X=29 Y=30.
# Weights by position 1..17: 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28.
# The organisation code in positions 9-17 has its own check (GB 11714-1997 2.1.2): weights
# 3 7 9 10 5 8 4 2 on its first eight characters, letters valued over the full alphabet
# A=10 ... Z=35, C9 = 11 - (sum mod 11), with 10 written X and 11 written 0.
PUBLISHED = [
    # The standard's own example, 91350100M000100Y43 (zero terms left out):
    # organisation code M000100Y4: M22*3 + 1*5 + Y34*2 = 66 + 5 + 68 = 139; 139 mod 11 = 7;
    # 11 - 7 = 4.
    # 9*1 + 1*3 + 3*9 + 5*27 + 1*26 + M21*20 + 1*8 + Y30*30 + 4*28
    # = 9 + 3 + 27 + 135 + 26 + 420 + 8 + 900 + 112 = 1640; 1640 mod 31 = 28; 31 - 28 = 3.
    "91350100M000100Y43",
    # Huawei Technologies Co., Ltd., 914403001922038216:
    # organisation code 192203821: 1*3 + 9*7 + 2*9 + 2*10 + 0*5 + 3*8 + 8*4 + 2*2 = 164;
    # 164 mod 11 = 10; 11 - 10 = 1.
    # 9*1 + 1*3 + 4*9 + 4*27 + 3*26 + 1*20 + 9*29 + 2*25 + 2*13 + 3*24 + 8*10 + 2*30 + 1*28
    # = 9 + 3 + 36 + 108 + 78 + 20 + 261 + 50 + 26 + 72 + 80 + 60 + 28 = 831;
    # 831 mod 31 = 25 (31*26 = 806); 31 - 25 = 6.
    "914403001922038216",
    # Shenzhen Tencent Computer Systems Co., Ltd., 91440300708461136T:
    # organisation code 708461136: 7*3 + 0*7 + 8*9 + 4*10 + 6*5 + 1*8 + 1*4 + 3*2 = 181;
    # 181 mod 11 = 5; 11 - 5 = 6.
    # 9*1 + 1*3 + 4*9 + 4*27 + 3*26 + 7*20 + 8*25 + 4*13 + 6*8 + 1*24 + 1*10 + 3*30 + 6*28
    # = 9 + 3 + 36 + 108 + 78 + 140 + 200 + 52 + 48 + 24 + 10 + 90 + 168 = 966;
    # 966 mod 31 = 5 (31*31 = 961); 31 - 5 = 26 = T.
    "91440300708461136T",
    # Alibaba (China) Co., Ltd., 91330100716105852F:
    # organisation code 716105852: 7*3 + 1*7 + 6*9 + 1*10 + 0*5 + 5*8 + 8*4 + 5*2 = 174;
    # 174 mod 11 = 9; 11 - 9 = 2.
    # 9*1 + 1*3 + 3*9 + 3*27 + 1*26 + 7*20 + 1*29 + 6*25 + 1*13 + 5*24 + 8*10 + 5*30 + 2*28
    # = 9 + 3 + 27 + 81 + 26 + 140 + 29 + 150 + 13 + 120 + 80 + 150 + 56 = 884;
    # 884 mod 31 = 16 (31*28 = 868); 31 - 16 = 15 = F.
    "91330100716105852F",
    # A public institution (1, 2: 机构编制, 事业单位) registered at national level (100000),
    # 12100000400009127B: organisation code 400009127: 4*3 + 9*8 + 1*4 + 2*2 = 92;
    # 92 mod 11 = 4; 11 - 4 = 7.
    "12100000400009127B",
    # A foundation (5, 3: 民政, 基金会) registered by the Ministry of Civil Affairs (100000),
    # 53100000500021676K: organisation code 500021676: 5*3 + 2*5 + 1*8 + 6*4 + 7*2 = 71;
    # 71 mod 11 = 5; 11 - 5 = 6.
    "53100000500021676K",
    # A Shenzhen company named on a published certificate, 91440300MA5H8REU3K: organisation
    # code MA5H8REU3 valued over the full alphabet (M=22, A=10, H=17, R=27, E=14, U=30):
    # 22*3 + 10*7 + 5*9 + 17*10 + 8*5 + 27*8 + 14*4 + 30*2 = 723; 723 mod 11 = 8; 11 - 8 = 3.
    # With GB 32100's values instead (R=25, U=27, M=21) the sum is 698 and the check 6: wrong.
    "91440300MA5H8REU3K",
]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code: str) -> None:
    assert organisation_check_character(code[8:16]) == code[16]
    assert check_character(code[:17]) == code[17]
    assert credit_code_problem(code) is None
    assert make_credit_code(code[:17]) == code


def test_the_issue_s_code_of_letters_has_a_right_check_character_but_a_wrong_category() -> None:
    # ABCDEFGHJKLMNPQRT gets T as its check character, so before the structure was checked
    # ABCDEFGHJKLMNPQRTT passed. A (中央军委改革和编制办公室) is an authority, B no category of it.
    assert make_credit_code("ABCDEFGHJKLMNPQRT") == "ABCDEFGHJKLMNPQRTT"
    assert credit_code_problem("ABCDEFGHJKLMNPQRTT") == (
        "credit code has organisation category code 'B' (position 2), which is not a category "
        "of registration authority A (中央军委改革和编制办公室): expected one of 1, 9 "
        "(GB 32100-2015 Appendix A)"
    )


# Appendix A, pair by pair: every listed (authority, category) is accepted.
PAIRS = [(a, c) for a, (_, categories) in REGISTRATION_AUTHORITIES.items() for c in categories]


def test_appendix_a_is_the_published_table() -> None:
    assert {a: "".join(cats) for a, (_, cats) in REGISTRATION_AUTHORITIES.items()} == {
        "1": "1239",  # 机构编制: 机关, 事业单位, 中央编办直管群众团体, 其他
        "2": "19",  # 外交
        "3": "123459",  # 司法行政: 律所, 公证处, 基层法律服务所, 司法鉴定, 仲裁委员会, 其他
        "4": "19",  # 文化
        "5": "1239",  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
        "6": "129",  # 旅游
        "7": "129",  # 宗教
        "8": "19",  # 工会
        "9": "123",  # 工商: 企业, 个体工商户, 农民专业合作社 (no 9)
        "A": "19",  # 中央军委改革和编制办公室
        "N": "1239",  # 农业: 组级, 村级, 乡镇级集体经济组织, 其他
        "Y": "1",  # 其他: not divided
    }


@pytest.mark.parametrize(("authority", "category"), PAIRS)
def test_every_authority_and_category_pair_of_appendix_a_is_accepted(
    authority: str, category: str
) -> None:
    assert credit_code_problem(make_credit_code(authority + category + "320200MA1HENGX5")) is None


@pytest.mark.parametrize("authority", ["0", "B", "C", "M", "X"])
def test_an_authority_outside_appendix_a_is_named(authority: str) -> None:
    code = make_credit_code(authority + "1320200MA1HENGX5")
    assert credit_code_problem(code) == (
        f"credit code has registration authority code {authority!r} (position 1), which is not "
        "one of 1, 2, 3, 4, 5, 6, 7, 8, 9, A, N, Y (GB 32100-2015 Appendix A)"
    )


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ("94", "9 (工商): expected one of 1, 2, 3"),
        ("99", "9 (工商): expected one of 1, 2, 3"),
        ("Y9", "Y (其他): expected one of 1"),
        ("54", "5 (民政): expected one of 1, 2, 3, 9"),
        ("2A", "2 (外交): expected one of 1, 9"),
    ],
)
def test_a_category_its_authority_does_not_have_is_named(pair: str, expected: str) -> None:
    problem = credit_code_problem(make_credit_code(pair + "320200MA1HENGX5"))
    assert problem == (
        f"credit code has organisation category code {pair[1]!r} (position 2), which is not a "
        f"category of registration authority {expected} (GB 32100-2015 Appendix A)"
    )


@pytest.mark.parametrize("province", sorted(PROVINCE_CODES))
def test_every_province_level_division_is_accepted(province: str) -> None:
    assert credit_code_problem(make_credit_code("91" + province + "0100MA1HENGX5")) is None


def test_the_province_level_codes_are_those_of_gb_t_2260() -> None:
    # North 11-15, north-east 21-23, east 31-37, centre-south 41-46, south-west 50-54,
    # north-west 61-65, then Taiwan 71, Hong Kong 81 and Macao 82.
    assert " ".join(sorted(PROVINCE_CODES)) == (
        "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
        "50 51 52 53 54 61 62 63 64 65 71 81 82"
    )


@pytest.mark.parametrize("division", ["12345A", "32020B", "ABCDEF", "3Y0200"])
def test_a_division_that_is_not_six_digits_is_named(division: str) -> None:
    assert credit_code_problem(make_credit_code("91" + division + "MA1HENGX5")) == (
        f"credit code has administrative division {division!r} (positions 3-8), which must be "
        "six digits (GB/T 2260)"
    )


@pytest.mark.parametrize("division", ["000000", "160000", "200000", "380000", "470000", "990000"])
def test_a_division_outside_the_provinces_is_named(division: str) -> None:
    problem = credit_code_problem(make_credit_code("91" + division + "MA1HENGX5"))
    assert problem == (
        f"credit code has administrative division {division!r} (positions 3-8), whose first two "
        f"digits {division[:2]} are not a province-level code of GB/T 2260 (nor the national "
        "100000)"
    )


def test_national_registrations_use_100000_and_nothing_else_under_10() -> None:
    assert NATIONAL_DIVISION == "100000"
    assert credit_code_problem(make_credit_code("91100000MA1HENGX5")) is None
    problem = credit_code_problem(make_credit_code("91101000MA1HENGX5"))
    assert problem is not None and "'101000' (positions 3-8)" in problem


@pytest.mark.parametrize(
    ("first8", "expected"),
    [
        # 6 at position 8: 6*2 = 12; 12 mod 11 = 1; 11 - 1 = 10, written X.
        ("00000006", "X"),
        # All zeros: sum 0; 11 - 0 = 11, written 0.
        ("00000000", "0"),
        # 1 at position 4: 1*10 = 10; 10 mod 11 = 10; 11 - 10 = 1.
        ("00010000", "1"),
        # Letters skipped by GB 32100 still count in GB 11714's own alphabet: I=18, O=24, Z=35.
        # 18*3 + 24*7 + 35*9 = 54 + 168 + 315 = 537; 537 mod 11 = 9; 11 - 9 = 2.
        ("IOZ00000", "2"),
    ],
)
def test_organisation_check_character_by_hand(first8: str, expected: str) -> None:
    assert organisation_check_character(first8) == expected


def test_organisation_check_characters_x_and_0_make_valid_codes() -> None:
    # 9132020000000006X + A: 145 for 91320200 (9 + 3 + 27 + 54 + 52) + 6*30 + X29*28
    # = 145 + 180 + 812 = 1137; 1137 mod 31 = 21; 31 - 21 = 10 = A.
    assert credit_code_problem("9132020000000006XA") is None
    # 913202000000000000 + A: 145 mod 31 = 21; 31 - 21 = 10 = A.
    assert credit_code_problem("91320200000000000A") is None


def test_a_wrong_organisation_check_character_is_named_even_with_a_right_final_one() -> None:
    # The old demo code 91320200MA1HENGX3W: its final W is right for the first 17 characters,
    # but MA1HENGX: 22*3 + 10*7 + 1*9 + 17*10 + 14*5 + 23*8 + 16*4 + 33*2 = 699;
    # 699 mod 11 = 6; 11 - 6 = 5, not 3.
    assert check_character("91320200MA1HENGX3") == "W"
    assert credit_code_problem("91320200MA1HENGX3W") == (
        "credit code has organisation code 'MA1HENGX3' (positions 9-17) with a wrong GB 11714 "
        "check character: expected 5, got 3"
    )


def test_the_first_wrong_part_by_position_is_named() -> None:
    # Authority, division, organisation code and final check are all wrong; position 1 is named.
    problem = credit_code_problem("B132020AMA1HENGX3Y")
    assert problem is not None and problem.startswith("credit code has registration authority")
    problem = credit_code_problem("9132020AMA1HENGX3Y")
    assert problem is not None and problem.startswith("credit code has administrative division")


def test_a_sum_divisible_by_31_gives_check_character_zero() -> None:
    # 913202000000000940: organisation code 000000094 (9*2 = 18; 18 mod 11 = 7; 11 - 7 = 4).
    # 9*1 + 1*3 + 3*9 + 2*27 + 2*26 + 9*30 + 4*28 = 9 + 3 + 27 + 54 + 52 + 270 + 112 = 527
    # = 31*17, so sum mod 31 = 0 and 31 - 0 = 31, which the standard writes as 0.
    first17 = "91320200000000094"
    assert check_character(first17) == "0"
    assert credit_code_problem(first17 + "0") is None


def test_wrong_check_character_names_the_expected_one() -> None:
    assert credit_code_problem("91350100M000100Y44") == (
        "credit code has a wrong check character: expected 3, got 4"
    )


def test_lowercase_is_rejected_with_a_hint() -> None:
    problem = credit_code_problem("91350100m000100Y43")
    assert problem is not None
    assert "position 9" in problem and "upper case" in problem


@pytest.mark.parametrize(("letter", "position"), [("I", 9), ("O", 9), ("Z", 9), ("S", 9), ("V", 9)])
def test_excluded_letters_are_rejected(letter: str, position: int) -> None:
    code = "91350100" + letter + "000100Y43"
    problem = credit_code_problem(code)
    assert problem is not None
    assert f"invalid character {letter!r} at position {position}" in problem


def test_punctuation_and_spaces_are_rejected() -> None:
    problem = credit_code_problem("91350100-000100Y43")
    assert problem is not None and "'-' at position 9" in problem
    problem = credit_code_problem("91350100 000100Y43")
    assert problem is not None and "' ' at position 9" in problem


@pytest.mark.parametrize("code", ["", "91350100M000100Y4", "91350100M000100Y433"])
def test_wrong_length_is_named(code: str) -> None:
    assert credit_code_problem(code) == (f"credit code must be 18 characters long, got {len(code)}")


def test_check_character_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="expected 17 characters"):
        check_character("91350100M000100Y")
    with pytest.raises(ValueError, match="position 1"):
        make_credit_code("I1350100M000100Y4")
    with pytest.raises(ValueError, match="expected 8 characters"):
        organisation_check_character("M000100")
    with pytest.raises(ValueError, match="upper-case"):
        organisation_check_character("m000100Y")


@pytest.mark.parametrize("org", DEMO_ORGS, ids=lambda org: org.id)
def test_the_demo_organisations_have_valid_codes(org: DemoOrg) -> None:
    assert credit_code_problem(org.credit_code) is None


def test_the_test_builder_makes_valid_codes() -> None:
    codes = [unique_credit_code() for _ in range(500)]
    assert [c for c in codes if credit_code_problem(c) is not None] == []
