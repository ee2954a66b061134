"""A figure someone typed (a spreadsheet cell, a cursor handed back), bounded before anything
computes with it: ``1e999999999`` is a valid ``Decimal``, and making it an integer took a
worker for ever, while PostgreSQL refuses it as overflowing ``numeric`` (a 500 where the
caller's input was at fault). Pure.
"""

from __future__ import annotations

from decimal import Decimal


def bounded(value: Decimal, *, digits: int, places: int) -> bool:
    """``value`` is finite, with at most ``digits`` before the point and ``places`` after it
    (trailing zeros aside). Read from its digits: ``normalize`` rounds to the context's 28
    digits first (1.0000000000000000000000000000001 would pass as 1)."""
    if not value.is_finite():
        return False
    if value.is_zero():
        return True
    if not -places <= value.adjusted() < digits:
        return False  # before the digits are counted: 1e999999999 has a billion
    _, figures, exponent = value.as_tuple()
    trailing = len(figures) - len(bytes(figures).rstrip(b"\0"))
    return int(exponent) + trailing >= -places  # an int: the value is finite
