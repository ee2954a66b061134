"""A figure someone typed (a spreadsheet cell, a cursor handed back), bounded before anything
computes with it: ``1e999999999`` is a valid ``Decimal``, and making it an integer took a
worker for ever, while PostgreSQL refuses it as overflowing ``numeric`` (a 500 where the
caller's input was at fault). Pure.
"""

from __future__ import annotations

from decimal import Decimal


def bounded(value: Decimal, *, digits: int, places: int) -> bool:
    """``value`` is finite, with at most ``digits`` before the point and ``places`` after it
    (trailing zeros aside)."""
    if not value.is_finite():
        return False
    if value.is_zero():
        return True
    if not -places <= value.adjusted() < digits:
        return False  # checked first: normalising 1e999999999 overflows the context
    return int(value.normalize().as_tuple().exponent) >= -places
