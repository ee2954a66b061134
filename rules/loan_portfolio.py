"""The loan portfolio's early-warning figures: overdue buckets and the bad-debt rate.

Overdue buckets are the ageing bands banks report (current, 1-30, 31-60, 61-90, over 90 days
past the due date; over 90 is where a loan is commonly classed non-performing). The bad-debt
rate is written off / disbursed over the same loans; the industry's warning line is 0.5%
(issue 11: lending on fake orders took one platform to 8%), the product's
``bad_debt_alert_rate``, and the alert fires strictly above it, on the rate as shown (four
places), so the figure on screen and the alert never disagree.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from rules.loan_terms import DEFAULT_PRODUCT, LoanProduct

RATE_PLACES = Decimal("0.0001")
CURRENT = "current"
# (last day in the bucket, its name), in order; past the last one: OVER_90.
_BUCKETS = ((30, "1-30"), (60, "31-60"), (90, "61-90"))
OVER_90 = "90+"
OVERDUE_BUCKETS = (CURRENT, *(name for _, name in _BUCKETS), OVER_90)


def days_overdue(due: date, on: date) -> int:
    """Days past the due date on ``on``: 0 on the due date itself, negative before it."""
    return (on - due).days


def overdue_bucket(days_overdue: int) -> str:
    """The ageing bucket: "current" (not past due), "1-30", "31-60", "61-90" or "90+"."""
    if days_overdue <= 0:
        return CURRENT
    for last_day, name in _BUCKETS:
        if days_overdue <= last_day:
            return name
    return OVER_90


def bad_debt_rate(written_off: Decimal, disbursed: Decimal) -> Decimal:
    """Written off / disbursed, to four places; 0 when nothing was disbursed."""
    if written_off < 0 or disbursed < 0:
        raise ValueError(f"amounts must not be negative: {written_off} / {disbursed}")
    if disbursed == 0:
        return Decimal(0).quantize(RATE_PLACES)
    return (written_off / disbursed).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def bad_debt_alert(rate: Decimal, product: LoanProduct = DEFAULT_PRODUCT) -> bool:
    """True when the bad-debt rate is strictly above the product's warning line."""
    return rate > product.bad_debt_alert_rate
