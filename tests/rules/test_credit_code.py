"""GB 32100-2015 check character, against published codes computed by hand."""

from __future__ import annotations

import pytest

from rules.credit_code import check_character, credit_code_problem, make_credit_code

# Character values: digits are themselves, then A=10 B=11 C=12 D=13 E=14 F=15 G=16 H=17 J=18
# K=19 L=20 M=21 N=22 P=23 Q=24 R=25 T=26 U=27 W=28 X=29 Y=30.
# Weights by position 1..17: 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28.
PUBLISHED = [
    # The standard's own example, 91350100M000100Y43 (zero terms left out):
    # 9*1 + 1*3 + 3*9 + 5*27 + 1*26 + M21*20 + 1*8 + Y30*30 + 4*28
    # = 9 + 3 + 27 + 135 + 26 + 420 + 8 + 900 + 112 = 1640; 1640 mod 31 = 28; 31 - 28 = 3.
    "91350100M000100Y43",
    # Huawei Technologies Co., Ltd., 914403001922038216:
    # 9*1 + 1*3 + 4*9 + 4*27 + 3*26 + 1*20 + 9*29 + 2*25 + 2*13 + 3*24 + 8*10 + 2*30 + 1*28
    # = 9 + 3 + 36 + 108 + 78 + 20 + 261 + 50 + 26 + 72 + 80 + 60 + 28 = 831;
    # 831 mod 31 = 25 (31*26 = 806); 31 - 25 = 6.
    "914403001922038216",
    # Shenzhen Tencent Computer Systems Co., Ltd., 91440300708461136T:
    # 9*1 + 1*3 + 4*9 + 4*27 + 3*26 + 7*20 + 8*25 + 4*13 + 6*8 + 1*24 + 1*10 + 3*30 + 6*28
    # = 9 + 3 + 36 + 108 + 78 + 140 + 200 + 52 + 48 + 24 + 10 + 90 + 168 = 966;
    # 966 mod 31 = 5 (31*31 = 961); 31 - 5 = 26 = T.
    "91440300708461136T",
    # Alibaba (China) Co., Ltd., 91330100716105852F:
    # 9*1 + 1*3 + 3*9 + 3*27 + 1*26 + 7*20 + 1*29 + 6*25 + 1*13 + 5*24 + 8*10 + 5*30 + 2*28
    # = 9 + 3 + 27 + 81 + 26 + 140 + 29 + 150 + 13 + 120 + 80 + 150 + 56 = 884;
    # 884 mod 31 = 16 (31*28 = 868); 31 - 16 = 15 = F.
    "91330100716105852F",
]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code: str) -> None:
    assert check_character(code[:17]) == code[17]
    assert credit_code_problem(code) is None
    assert make_credit_code(code[:17]) == code


def test_a_sum_divisible_by_31_gives_check_character_zero() -> None:
    # 1 at position 2 (weight 3) and 1 at position 17 (weight 28): sum 31, 31 mod 31 = 0,
    # 31 - 0 = 31, which the standard writes as 0.
    first17 = "01000000000000001"
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
