"""Day-count conventions and accrued interest, as core-banking systems configure them per product.

Days are counted 算头不算尾: the start day counts, the end day does not, so a loan disbursed and
repaid on the same day accrues nothing and one repaid the next day accrues one day
(domain-rules.md §4).

    ACT/360    actual days / 360   (the default for short-term trade loans)
    ACT/365F   actual days / 365   (fixed 365, leap years included)
    30E/360    ISDA 2006 §4.16(g) "Eurobond basis": a 31st counts as the 30th at either end,
               days = 360 * (Y2 - Y1) + 30 * (M2 - M1) + (D2 - D1), over 360. February is not
               adjusted (that is 30E/360 ISDA, §4.16(h)).

Interest = principal * annual rate * days / basis, rounded half up to the cent once, at the end:
rounding the daily figure first would lose or gain up to half a cent a day.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from contracts.common import CENT

_LAST_COUNTED_DAY = 30  # 30E/360: a 31st is read as the 30th


class DayCount(StrEnum):
    ACT_360 = "ACT/360"
    ACT_365F = "ACT/365F"
    E30_360 = "30E/360"


_YEAR_BASIS = {DayCount.ACT_360: 360, DayCount.ACT_365F: 365, DayCount.E30_360: 360}


def year_basis(convention: DayCount) -> int:
    """The days in the convention's year: 360, 365 or 360."""
    return _YEAR_BASIS[convention]


def days_counted(start: date, end: date, convention: DayCount) -> int:
    """The days from ``start`` (counted) to ``end`` (not counted) under ``convention``."""
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    if convention is DayCount.E30_360:
        d1 = min(start.day, _LAST_COUNTED_DAY)
        d2 = min(end.day, _LAST_COUNTED_DAY)
        return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)
    return (end - start).days


def accrued_interest(
    principal: Decimal, annual_rate: Decimal, start: date, end: date, convention: DayCount
) -> Decimal:
    """Simple interest on ``principal`` from ``start`` to ``end``, to the cent (half up)."""
    if principal < 0 or annual_rate < 0:
        raise ValueError(f"principal {principal} and rate {annual_rate} must not be negative")
    days = days_counted(start, end, convention)
    exact = principal * annual_rate * days / year_basis(convention)
    return exact.quantize(CENT, rounding=ROUND_HALF_UP)
