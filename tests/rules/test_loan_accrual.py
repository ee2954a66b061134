"""A loan's accrual between two days: interest to the due date, penalty interest after it,
against figures worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from rules.day_count import DayCount
from rules.loan_accrual import accrue

D = Decimal
PRINCIPAL = D("800000")
DUE = date(2026, 3, 2)


def accrue_800k(
    accrued_to: date, to_day: date, convention: DayCount = DayCount.ACT_360
) -> tuple[Decimal, Decimal]:
    # 6% a year; the penalty rate 9% (6% * 1.5, the product's 50% uplift).
    return accrue(
        PRINCIPAL,
        interest_rate=D("0.06"),
        penalty_rate=D("0.09"),
        convention=convention,
        accrued_to=accrued_to,
        due_on=DUE,
        to_day=to_day,
    )


def test_to_the_due_date_only_interest() -> None:
    # 2026-01-01 .. 2026-03-02 = 60 days; 800,000 * 0.06 * 60 / 360 = 8,000.00
    assert accrue_800k(date(2026, 1, 1), DUE) == (D("8000.00"), D("0.00"))


def test_past_the_due_date_penalty_instead_of_interest() -> None:
    # Interest 8,000.00 as above; then 2026-03-02 .. 2026-03-12 = 10 days at 9%, not 6 + 9:
    # 800,000 * 0.09 * 10 / 360 = 2,000.00
    assert accrue_800k(date(2026, 1, 1), date(2026, 3, 12)) == (D("8000.00"), D("2000.00"))


def test_the_due_day_is_the_first_overdue_day() -> None:
    # Paid the day after the due date: one day of penalty, 800,000 * 0.09 / 360 = 200.00
    assert accrue_800k(DUE, DUE + timedelta(days=1)) == (D("0.00"), D("200.00"))


def test_accrued_already_past_the_due_date_only_penalty() -> None:
    # 2026-03-12 .. 2026-03-22 = 10 days at 9%: 2,000.00
    assert accrue_800k(date(2026, 3, 12), date(2026, 3, 22)) == (D("0.00"), D("2000.00"))


def test_nothing_when_the_day_is_not_after_the_last_accrual() -> None:
    assert accrue_800k(date(2026, 2, 1), date(2026, 2, 1)) == (D("0.00"), D("0.00"))
    assert accrue_800k(date(2026, 2, 1), date(2026, 1, 20)) == (D("0.00"), D("0.00"))


def test_in_two_steps_every_day_counts_once() -> None:
    # 2026-01-01 .. 2026-02-01 = 31 days: 800,000 * 0.06 * 31 / 360 = 4,133.333.. -> 4,133.33;
    # 2026-02-01 .. 2026-03-02 = 29 days: 3,866.666.. -> 3,866.67; together the 8,000.00 above.
    first = accrue_800k(date(2026, 1, 1), date(2026, 2, 1))
    second = accrue_800k(date(2026, 2, 1), DUE)
    assert first == (D("4133.33"), D("0.00"))
    assert second == (D("3866.67"), D("0.00"))


def test_the_loans_own_day_count() -> None:
    # ACT/365F: 800,000 * 0.06 * 60 / 365 = 7,890.41; then 10 days at 9%:
    # 800,000 * 0.09 * 10 / 365 = 1,972.602.. -> 1,972.60
    assert accrue_800k(date(2026, 1, 1), date(2026, 3, 12), DayCount.ACT_365F) == (
        D("7890.41"),
        D("1972.60"),
    )
    # 30E/360 across a 31st: 2026-01-31 .. 2026-03-02 reads 30 Jan .. 2 Mar:
    # 360 * 0 + 30 * 2 + (2 - 30) = 32 days; 800,000 * 0.06 * 32 / 360 = 4,266.666.. -> 4,266.67
    assert accrue_800k(date(2026, 1, 31), DUE, DayCount.E30_360) == (D("4266.67"), D("0.00"))


days = st.integers(min_value=0, max_value=400)


@given(start=days, length=days, due=days)
def test_interest_only_before_the_due_date_and_penalty_only_after(
    start: int, length: int, due: int
) -> None:
    origin = date(2026, 1, 1)
    accrued_to = origin + timedelta(days=start)
    to_day = accrued_to + timedelta(days=length)
    due_on = origin + timedelta(days=due)
    interest, penalty = accrue(
        D("123456.78"),
        interest_rate=D("0.08"),
        penalty_rate=D("0.12"),
        convention=DayCount.ACT_360,
        accrued_to=accrued_to,
        due_on=due_on,
        to_day=to_day,
    )
    assert interest >= 0 and penalty >= 0
    if to_day <= due_on:
        assert penalty == 0
    if accrued_to >= due_on:
        assert interest == 0
    # Every day is charged at one rate or the other: the sum lies between all-interest and
    # all-penalty (a cent either way for rounding each part).
    whole = D("123456.78") * length / 360
    assert whole * D("0.08") - D("0.01") <= interest + penalty <= whole * D("0.12") + D("0.01")
