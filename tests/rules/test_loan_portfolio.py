"""Overdue buckets and the bad-debt rate with its 0.5% alert, worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rules.loan_portfolio import (
    OVERDUE_BUCKETS,
    bad_debt_alert,
    bad_debt_rate,
    days_overdue,
    overdue_bucket,
)
from rules.loan_terms import LoanProduct

D = Decimal


def test_the_buckets_in_order() -> None:
    assert OVERDUE_BUCKETS == ("current", "1-30", "31-60", "61-90", "90+")


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-5, "current"),
        (0, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
        (400, "90+"),
    ],
)
def test_overdue_buckets_at_their_edges(days: int, bucket: str) -> None:
    assert overdue_bucket(days) == bucket


def test_days_overdue_counts_from_the_due_date() -> None:
    due = date(2026, 3, 2)
    assert days_overdue(due, date(2026, 3, 1)) == -1
    assert days_overdue(due, due) == 0
    # 2026-03-02 .. 2026-04-01: 29 + 1 = 30 days
    assert days_overdue(due, date(2026, 4, 1)) == 30


def test_bad_debt_rate_and_its_alert() -> None:
    # 40,000 / 8,000,000 = 0.005 exactly: on the line, not above it
    assert bad_debt_rate(D("40000"), D("8000000")) == D("0.0050")
    assert not bad_debt_alert(D("0.0050"))
    # 41,000 / 8,000,000 = 0.005125 -> 0.0051: above
    assert bad_debt_rate(D("41000"), D("8000000")) == D("0.0051")
    assert bad_debt_alert(D("0.0051"))
    # 40,400 / 8,000,000 = 0.00505 -> 0.0051 half up
    assert bad_debt_rate(D("40400"), D("8000000")) == D("0.0051")
    # the platform in the issue: 640,000 / 8,000,000 = 0.08
    assert bad_debt_rate(D("640000"), D("8000000")) == D("0.0800")


def test_nothing_disbursed_is_a_zero_rate() -> None:
    assert bad_debt_rate(D("0"), D("0")) == D("0.0000")
    assert not bad_debt_alert(bad_debt_rate(D("0"), D("0")))
    with pytest.raises(ValueError):
        bad_debt_rate(D("-1"), D("100"))


def test_the_alert_line_is_the_products() -> None:
    stricter = LoanProduct(bad_debt_alert_rate=D("0.002"))
    assert bad_debt_alert(D("0.0030"), stricter)
    assert not bad_debt_alert(D("0.0030"))
