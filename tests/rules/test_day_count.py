"""Day counts (算头不算尾) and accrued interest against figures worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rules.day_count import DayCount, accrued_interest, days_counted, year_basis

D = Decimal
ACT_360, ACT_365F, E30_360 = DayCount.ACT_360, DayCount.ACT_365F, DayCount.E30_360


def test_the_conventions_are_named_as_core_banking_systems_write_them() -> None:
    assert [c.value for c in DayCount] == ["ACT/360", "ACT/365F", "30E/360"]
    assert [year_basis(c) for c in DayCount] == [360, 365, 360]


def test_800k_at_6_percent_for_60_days_act_360() -> None:
    # 2026-01-01 .. 2026-03-02: 31 (January) + 28 (February) + 1 (1 March) = 60 days,
    # the start day counted and the end day not.
    start, end = date(2026, 1, 1), date(2026, 3, 2)
    assert days_counted(start, end, ACT_360) == 60
    # 800,000 * 0.06 * 60 / 360 = 8,000.00
    assert accrued_interest(D("800000"), D("0.06"), start, end, ACT_360) == D("8000.00")


def test_the_same_loan_act_365f() -> None:
    # 800,000 * 0.06 * 60 / 365 = 2,880,000 / 365 = 7,890.4109... -> 7,890.41
    start, end = date(2026, 1, 1), date(2026, 3, 2)
    assert accrued_interest(D("800000"), D("0.06"), start, end, ACT_365F) == D("7890.41")


def test_act_365f_keeps_365_in_a_leap_year() -> None:
    # 2028 is a leap year: 366 days; 36,500 * 0.10 * 366 / 365 = 3,660.00
    start, end = date(2028, 1, 1), date(2029, 1, 1)
    assert days_counted(start, end, ACT_365F) == 366
    assert accrued_interest(D("36500"), D("0.10"), start, end, ACT_365F) == D("3660.00")


@pytest.mark.parametrize(
    ("start", "end", "e30", "actual"),
    [
        # D1 31 -> 30, D2 31 -> 30: 30 * (3 - 1) + (30 - 30) = 60; actual 28 + 31 = 59
        (date(2026, 1, 31), date(2026, 3, 31), 60, 59),
        # D2 31 -> 30: 30 - 15 = 15; actual 16
        (date(2026, 1, 15), date(2026, 1, 31), 15, 16),
        # February is not adjusted (30E/360, not 30E/360 ISDA): 30 * 1 + (30 - 28) = 32; 31
        (date(2026, 2, 28), date(2026, 3, 31), 32, 31),
        # across a year end: 360 * 1 + 30 * (1 - 12) + (30 - 30) = 30; actual 31
        (date(2025, 12, 31), date(2026, 1, 31), 30, 31),
        # a 30-day month with no 31st: 30 * 1 + (1 - 1) = 30; actual 30
        (date(2026, 4, 1), date(2026, 5, 1), 30, 30),
    ],
)
def test_30e_360_reads_a_31st_as_the_30th(start: date, end: date, e30: int, actual: int) -> None:
    assert days_counted(start, end, E30_360) == e30
    assert days_counted(start, end, ACT_360) == actual


def test_30e_360_interest_across_a_31st() -> None:
    # 2026-01-31 .. 2026-03-31 is 60 days: 800,000 * 0.06 * 60 / 360 = 8,000.00
    start, end = date(2026, 1, 31), date(2026, 3, 31)
    assert accrued_interest(D("800000"), D("0.06"), start, end, E30_360) == D("8000.00")
    # ACT/360 counts 59: 800,000 * 0.06 * 59 / 360 = 7,866.666... -> 7,866.67
    assert accrued_interest(D("800000"), D("0.06"), start, end, ACT_360) == D("7866.67")


def test_the_same_day_accrues_nothing_and_the_next_day_one_day() -> None:
    day = date(2026, 3, 2)
    assert days_counted(day, day, ACT_360) == 0
    assert accrued_interest(D("800000"), D("0.06"), day, day, ACT_360) == D("0.00")
    # 800,000 * 0.06 / 360 = 133.333... -> 133.33
    assert accrued_interest(D("800000"), D("0.06"), day, date(2026, 3, 3), ACT_360) == D("133.33")


def test_rounded_once_at_the_end_half_up() -> None:
    start = date(2026, 1, 1)
    # 1,000 * 0.10 * 3 / 360 = 0.8333... -> 0.83 (three days rounded each would be 3 * 0.28)
    assert accrued_interest(D("1000"), D("0.10"), start, date(2026, 1, 4), ACT_360) == D("0.83")
    # 900 * 0.05 * 1 / 360 = 0.125 exactly -> 0.13 half up (0.12 half even)
    assert accrued_interest(D("900"), D("0.05"), start, date(2026, 1, 2), ACT_360) == D("0.13")


def test_a_period_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        days_counted(date(2026, 3, 2), date(2026, 3, 1), ACT_360)


def test_negative_principal_or_rate_is_refused() -> None:
    start, end = date(2026, 1, 1), date(2026, 3, 2)
    with pytest.raises(ValueError, match="must not be negative"):
        accrued_interest(D("-1"), D("0.06"), start, end, ACT_360)
    with pytest.raises(ValueError, match="must not be negative"):
        accrued_interest(D("1"), D("-0.06"), start, end, ACT_360)
