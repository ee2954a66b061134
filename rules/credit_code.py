"""GB 32100-2015 unified social credit codes (统一社会信用代码): structure and check characters.

GB 32100-2015 clause 4 builds the 18 characters from five parts, and each is checked here so
that a code with letters where digits belong cannot pass on its check character alone:

    position  1      registration authority code (登记管理部门代码), Appendix A
    position  2      organisation category code (机构类别代码), Appendix A, per authority
    positions 3-8    administrative division of the registration authority (GB/T 2260), digits
    positions 9-17   organisation code (主体标识码, GB 11714) with its own check character at 17
    position  18     check character over positions 1-17 (clause 5, after GB/T 17710)

A problem names the part that is wrong, in the order of the positions.
"""

from __future__ import annotations

from collections.abc import Mapping

# The standard's character set: digits and capitals without I, O, Z, S, V (easily misread).
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
MODULUS = len(ALPHABET)  # 31
# Position weights are 3**i mod 31; listed as the standard prints them.
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18

_VALUES = {char: value for value, char in enumerate(ALPHABET)}

# GB 32100-2015 Appendix A: registration authority code -> (authority, {category code: category}).
# 1-9 and Y are the 2015 table; A (军委编制) and N (农业) were added to it later and are issued
# today, so both are accepted. Y ("other") does not divide into categories and always uses 1.
REGISTRATION_AUTHORITIES: Mapping[str, tuple[str, Mapping[str, str]]] = {
    "1": (
        "机构编制",
        {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"},
    ),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": (
        "旅游",
        {
            "1": "外国旅游部门常驻代表机构",
            "2": "港澳台地区旅游部门常驻内地(大陆)代表机构",
            "9": "其他",
        },
    ),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": (
        "农业",
        {
            "1": "组级集体经济组织",
            "2": "村级集体经济组织",
            "3": "乡镇级集体经济组织",
            "9": "其他",
        },
    ),
    "Y": ("其他", {"1": "不再具体划分机构类别"}),
}

# GB/T 2260 province-level codes (the first two digits of a division code): 11-15 north,
# 21-23 north-east, 31-37 east, 41-46 centre-south, 50-54 south-west, 61-65 north-west,
# 71 Taiwan, 81 Hong Kong, 82 Macao.
PROVINCE_CODES = frozenset(
    f"{code:02d}"
    for code in (
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
    )
)
# Authorities at national level register under 100000 (e.g. the foundations the Ministry of
# Civil Affairs registers, 53100000…); 10 is no province, so only that exact division is allowed.
NATIONAL_DIVISION = "100000"

# GB 11714-1997 clause 2.1.2: C9 = 11 - MOD(sum(Ci * Wi), 11), 10 written X and 11 written 0.
# Its Appendix A values the full Latin alphabet, A=10 ... Z=35 (unlike GB 32100, which skips
# I, O, S, V, Z); e.g. MA5DLQQW0: 22*3+10*7+5*9+13*10+21*5+26*8+26*4+32*2 = 792, 792 mod 11 = 0.
ORGANISATION_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORGANISATION_CODE_VALUES = {
    char: value for value, char in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
}


def _bad_character(text: str) -> str | None:
    for position, char in enumerate(text, start=1):
        if char not in _VALUES:
            hint = " (letters must be upper case)" if char.upper() in _VALUES else ""
            return (
                f"invalid character {char!r} at position {position}{hint}: only digits and "
                "the letters A-Z except I, O, Z, S, V are allowed"
            )
    return None


def check_character(first17: str) -> str:
    """The 18th character for the first 17 characters of a code (GB 32100-2015 clause 5)."""
    if len(first17) != LENGTH - 1:
        raise ValueError(f"expected {LENGTH - 1} characters, got {len(first17)}")
    if (problem := _bad_character(first17)) is not None:
        raise ValueError(problem)
    total = sum(_VALUES[char] * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    # 31 - (sum mod 31) lies in 1..31; the standard writes 31 as 0.
    return ALPHABET[(MODULUS - total % MODULUS) % MODULUS]


def organisation_check_character(first8: str) -> str:
    """The 9th character of a GB 11714 organisation code for its first eight characters."""
    if len(first8) != len(ORGANISATION_CODE_WEIGHTS):
        raise ValueError(f"expected {len(ORGANISATION_CODE_WEIGHTS)} characters, got {len(first8)}")
    if any(char not in _ORGANISATION_CODE_VALUES for char in first8):
        raise ValueError(f"{first8!r} is not digits and upper-case letters")
    total = sum(
        _ORGANISATION_CODE_VALUES[char] * weight
        for char, weight in zip(first8, ORGANISATION_CODE_WEIGHTS, strict=True)
    )
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def make_credit_code(first17: str) -> str:
    """A complete code: the first 17 characters followed by their check character."""
    return first17 + check_character(first17)


def _listing(codes: Mapping[str, object]) -> str:
    return ", ".join(codes)


def _authority_problem(authority: str, category: str) -> str | None:
    """Positions 1 and 2 against GB 32100-2015 Appendix A."""
    if authority not in REGISTRATION_AUTHORITIES:
        return (
            f"credit code has registration authority code {authority!r} (position 1), which is "
            f"not one of {_listing(REGISTRATION_AUTHORITIES)} (GB 32100-2015 Appendix A)"
        )
    name, categories = REGISTRATION_AUTHORITIES[authority]
    if category not in categories:
        return (
            f"credit code has organisation category code {category!r} (position 2), which is "
            f"not a category of registration authority {authority} ({name}): expected one of "
            f"{_listing(categories)} (GB 32100-2015 Appendix A)"
        )
    return None


def _division_problem(division: str) -> str | None:
    """Positions 3-8: the registration authority's administrative division (GB/T 2260)."""
    if not (division.isascii() and division.isdigit()):
        return (
            f"credit code has administrative division {division!r} (positions 3-8), which must "
            "be six digits (GB/T 2260)"
        )
    if division[:2] not in PROVINCE_CODES and division != NATIONAL_DIVISION:
        return (
            f"credit code has administrative division {division!r} (positions 3-8), whose first "
            f"two digits {division[:2]} are not a province-level code of GB/T 2260 (nor the "
            f"national {NATIONAL_DIVISION})"
        )
    return None


def _organisation_code_problem(organisation_code: str) -> str | None:
    """Positions 9-17: a GB 11714 organisation code and its check character."""
    expected = organisation_check_character(organisation_code[:-1])
    if organisation_code[-1] != expected:
        return (
            f"credit code has organisation code {organisation_code!r} (positions 9-17) with a "
            f"wrong GB 11714 check character: expected {expected}, got {organisation_code[-1]}"
        )
    return None


def credit_code_problem(code: str) -> str | None:
    """Why the code is not a valid unified social credit code, or None when it is.

    The first part found wrong, in the order of the positions, is named.
    """
    if len(code) != LENGTH:
        return f"credit code must be {LENGTH} characters long, got {len(code)}"
    if (problem := _bad_character(code)) is not None:
        return f"credit code has an {problem}"
    structure = (
        _authority_problem(code[0], code[1])
        or _division_problem(code[2:8])
        or _organisation_code_problem(code[8:17])
    )
    if structure is not None:
        return structure
    expected = check_character(code[:-1])
    if code[-1] != expected:
        return f"credit code has a wrong check character: expected {expected}, got {code[-1]}"
    return None
