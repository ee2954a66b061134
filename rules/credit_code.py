"""The unified social credit code (统一社会信用代码) of GB 32100-2015 and its check character."""

from __future__ import annotations

# The standard's character set: digits and capitals without I, O, Z, S, V (easily misread).
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
MODULUS = len(ALPHABET)  # 31
# Position weights are 3**i mod 31; listed as the standard prints them.
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18

_VALUES = {char: value for value, char in enumerate(ALPHABET)}


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
    """The 18th character for the first 17 characters of a code."""
    if len(first17) != LENGTH - 1:
        raise ValueError(f"expected {LENGTH - 1} characters, got {len(first17)}")
    if (problem := _bad_character(first17)) is not None:
        raise ValueError(problem)
    total = sum(_VALUES[char] * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    # 31 - (sum mod 31) lies in 1..31; the standard writes 31 as 0.
    return ALPHABET[(MODULUS - total % MODULUS) % MODULUS]


def make_credit_code(first17: str) -> str:
    """A complete code: the first 17 characters followed by their check character."""
    return first17 + check_character(first17)


def credit_code_problem(code: str) -> str | None:
    """Why the code is not a valid unified social credit code, or None when it is."""
    if len(code) != LENGTH:
        return f"credit code must be {LENGTH} characters long, got {len(code)}"
    if (problem := _bad_character(code)) is not None:
        return f"credit code has an {problem}"
    expected = check_character(code[:-1])
    if code[-1] != expected:
        return f"credit code has a wrong check character: expected {expected}, got {code[-1]}"
    return None
