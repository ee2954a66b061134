"""Order-loan pricing, limits, eligibility and the repayment waterfall, worked out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.day_count import DayCount
from rules.loan_terms import (
    DEFAULT_PRODUCT,
    Allocation,
    LoanProduct,
    LoanRequestFacts,
    Owed,
    Problem,
    allocate,
    credit_limit,
    due_date,
    effective_apr,
    eligibility_problems,
    fee,
    max_advance,
    needs_two_approvers,
    penalty_interest,
    penalty_rate,
    percent_text,
    reminder_dates,
)

D = Decimal
DISBURSED, DUE = date(2026, 1, 1), date(2026, 3, 2)  # 60 days


def test_the_product_defaults_are_the_issues() -> None:
    p = DEFAULT_PRODUCT
    assert (p.advance_rate, p.fee_rate_floor, p.fee_rate_cap) == (D("0.80"), D("0.008"), D("0.015"))
    assert (p.two_approvers_above, p.penalty_uplift) == (D("1000000"), D("0.50"))
    assert (p.day_count, p.min_term_days, p.max_term_days) == (DayCount.ACT_360, 7, 180)
    assert (p.offer_valid_days, p.reminder_days_before) == (3, (7, 1))
    assert (p.bad_debt_alert_rate, p.min_amount) == (D("0.005"), D("1000"))


@pytest.mark.parametrize(
    "changes",
    [
        {"fee_rate_floor": D("0.02")},  # floor above the cap
        {"advance_rate": D("0")},
        {"advance_rate": D("1.01")},
        {"min_term_days": 0},
        {"min_term_days": 200},  # above the maximum
        {"penalty_uplift": D("-0.1")},
    ],
)
def test_an_inconsistent_product_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        LoanProduct(**changes)


def test_fee_at_the_floor_and_the_cap() -> None:
    # 800,000 * 0.008 = 6,400.00 and 800,000 * 0.015 = 12,000.00
    assert fee(D("800000"), D("0.008")) == D("6400.00")
    assert fee(D("800000"), D("0.015")) == D("12000.00")
    # 1,234.56 * 0.008 = 9.87648 -> 9.88; 1,234.56 * 0.015 = 18.5184 -> 18.52
    assert fee(D("1234.56"), D("0.008")) == D("9.88")
    assert fee(D("1234.56"), D("0.015")) == D("18.52")


def test_penalty_interest_with_the_50_percent_uplift() -> None:
    # 8% * 1.5 = 12%; 100,000 * 0.12 * 10 / 360 = 333.333... -> 333.33
    assert penalty_rate(D("0.08")) == D("0.12")
    assert penalty_interest(D("100000"), D("0.08"), DUE, date(2026, 3, 12)) == D("333.33")
    # the product's day count: 100,000 * 0.12 * 10 / 365 = 328.767... -> 328.77
    act_365 = LoanProduct(day_count=DayCount.ACT_365F)
    assert penalty_interest(D("100000"), D("0.08"), DUE, date(2026, 3, 12), act_365) == D("328.77")
    # a 30% uplift: 8% * 1.3 = 10.4%; 100,000 * 0.104 * 10 / 360 = 288.888... -> 288.89
    uplift_30 = LoanProduct(penalty_uplift=D("0.30"))
    assert penalty_interest(D("100000"), D("0.08"), DUE, date(2026, 3, 12), uplift_30) == D(
        "288.89"
    )


def test_effective_apr() -> None:
    # (8,000 + 6,400) / 800,000 = 0.018; * 365 / 60 = 0.1095
    assert effective_apr(D("8000.00"), D("6400.00"), D("800000"), 60) == D("0.1095")
    # repaid after 31 days: interest 800,000 * 0.06 * 31 / 360 = 4,133.333... -> 4,133.33;
    # (4,133.33 + 6,400) / 800,000 * 365 / 31 = 0.013166... * 11.774... = 0.15502... -> 0.1550
    assert effective_apr(D("4133.33"), D("6400.00"), D("800000"), 31) == D("0.1550")
    with pytest.raises(ValueError, match="at least one day"):
        effective_apr(D("1"), D("1"), D("100"), 0)
    with pytest.raises(ValueError, match="positive advance"):
        effective_apr(D("1"), D("1"), D("0"), 30)


def test_max_advance_is_rounded_down() -> None:
    # 1,000,000 * 0.80 = 800,000.00
    assert max_advance(D("1000000")) == D("800000.00")
    # 1,234.57 * 0.80 = 987.656 -> 987.65, never up to 987.66
    assert max_advance(D("1234.57")) == D("987.65")
    assert max_advance(D("-5")) == D("0.00")
    assert max_advance(D("1000"), LoanProduct(advance_rate=D("0.70"))) == D("700.00")


def test_credit_limits_by_risk_band() -> None:
    assert credit_limit("low") == D("5000000")
    assert credit_limit("medium") == D("2000000")
    assert credit_limit("high") == D("0")
    with pytest.raises(ValueError, match="risk band 'severe'"):
        credit_limit("severe")


def test_two_approvers_strictly_above_a_million() -> None:
    assert not needs_two_approvers(D("1000000.00"))
    assert needs_two_approvers(D("1000000.01"))


def test_due_date_and_reminders() -> None:
    # 2026-01-01 + 60 days = 2026-03-02; reminders 7 days and 1 day before
    assert due_date(DISBURSED, 60) == DUE
    assert reminder_dates(DUE) == (date(2026, 2, 23), date(2026, 3, 1))


def test_percent_text() -> None:
    assert [percent_text(D(x)) for x in ("0.80", "0.0125", "0.008", "1")] == [
        "80%",
        "1.25%",
        "0.8%",
        "100%",
    ]


# An eligible application: 500,000 of a 1,000,000 unpaid order (ceiling 800,000), a medium-band
# supplier (limit 2,000,000) with 1,000,000 outstanding elsewhere (1,000,000 available).
ELIGIBLE = LoanRequestFacts(
    amount=D("500000.00"),
    term_days=60,
    order_status="invoiced",
    supplier_accredited=True,
    supplier_suspended=False,
    risk_band="medium",
    unpaid_value=D("1000000.00"),
    outstanding_loans=D("1000000.00"),
    other_loan_on_order=False,
    related_party_reasons=(),
)


def problems(**changes: Any) -> list[Problem]:
    return eligibility_problems(replace(ELIGIBLE, **changes))


def test_an_eligible_application_has_no_problem() -> None:
    assert problems() == []
    # the edges are inside: the advance ceiling, the whole credit available, 7 and 180 days
    assert problems(amount=D("800000.00"), term_days=7) == []
    assert problems(amount=D("1000.00"), term_days=180) == []
    assert problems(amount=D("800000.00"), outstanding_loans=D("1200000.00")) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"supplier_accredited": False, "risk_band": None},
            Problem("supplier", "only an accredited supplier may borrow against its orders"),
        ),
        (
            {"supplier_suspended": True},
            Problem("supplier", "the supplier's accreditation is suspended"),
        ),
        (
            {"risk_band": None},
            Problem("supplier", "the supplier has no accreditation risk band, so no credit"),
        ),
        ({"amount": D("0")}, Problem("amount", "the amount must be more than 0")),
        ({"amount": D("-5")}, Problem("amount", "the amount must be more than 0")),
        ({"amount": D("999.99")}, Problem("amount", "the amount must be at least CNY 1,000.00")),
        (
            {"amount": D("1000.005")},
            Problem("amount", "the amount is in whole cents (two decimals)"),
        ),
        (
            # 1,000,000 * 80% = 800,000.00
            {"amount": D("800000.01")},
            Problem(
                "amount",
                "the amount is above CNY 800,000.00, 80% of the order's unpaid value of "
                "CNY 1,000,000.00",
            ),
        ),
        (
            # 2,000,000 - 1,600,000 = 400,000 available
            {"outstanding_loans": D("1600000.00")},
            Problem(
                "amount",
                "the amount is above the credit available, CNY 400,000.00: the limit for risk "
                "band medium is CNY 2,000,000.00 and CNY 1,600,000.00 is outstanding on other "
                "loans",
            ),
        ),
        (
            {"other_loan_on_order": True},
            Problem("order_id", "the order already has a loan: one loan an order"),
        ),
        (
            {"related_party_reasons": ("users in both organisations: a@x.cn",)},
            Problem(
                "order_id",
                "orders between related organisations are not financed: users in both "
                "organisations: a@x.cn",
            ),
        ),
        (
            {"term_days": 6},
            Problem("term_days", "the term is 7 to 180 days, not 6"),
        ),
        (
            {"term_days": 181},
            Problem("term_days", "the term is 7 to 180 days, not 181"),
        ),
    ],
)
def test_each_rule_alone(changes: dict[str, Any], expected: Problem) -> None:
    assert problems(**changes) == [expected]


@pytest.mark.parametrize(
    "status", ["awaiting_confirmation", "disputed", "cancelled", "refused", "completed"]
)
def test_an_order_not_executed_or_already_settled_is_refused(status: str) -> None:
    assert problems(order_status=status) == [
        Problem("order_id", f"an order that is {status} cannot be financed")
    ]


@pytest.mark.parametrize("status", ["confirmed", "in_transit", "delivered", "invoiced"])
def test_an_executed_unpaid_order_may_be_financed(status: str) -> None:
    assert problems(order_status=status) == []


def test_a_high_risk_band_has_no_credit() -> None:
    (problem,) = problems(risk_band="high", outstanding_loans=D("0"))
    assert problem.field == "amount"
    assert problem.rule.startswith("the amount is above the credit available, CNY 0.00")


def test_every_rule_broken_is_listed() -> None:
    found = problems(
        supplier_suspended=True,
        order_status="disputed",
        other_loan_on_order=True,
        related_party_reasons=("the same registered address: x",),
        amount=D("900000.00"),
        outstanding_loans=D("1500000.00"),
        term_days=200,
    )
    assert [p.field for p in found] == [
        "supplier",
        "order_id",
        "order_id",
        "order_id",
        "amount",  # above the advance ceiling
        "amount",  # above the credit available
        "term_days",
    ]


# 800,000 principal, 6,400 fee, 8,000 interest, 2,000 penalty: 816,400 owed.
OWED = Owed(principal=D("800000"), fee=D("6400"), interest=D("8000"), penalty=D("2000"))


def test_a_full_payment_clears_the_loan_and_the_rest_goes_to_the_supplier() -> None:
    assert OWED.total == D("816400")
    # 1,000,000 - 816,400 = 183,600 to the supplier
    assert allocate(D("1000000"), OWED) == Allocation(
        penalty=D("2000"),
        interest=D("8000"),
        fee=D("6400"),
        principal=D("800000"),
        remainder=D("183600"),
    )


def test_a_partial_payment_pays_costs_before_principal() -> None:
    # 12,000: penalty 2,000, interest 8,000, then 2,000 of the 6,400 fee; no principal
    assert allocate(D("12000"), OWED) == Allocation(
        penalty=D("2000"), interest=D("8000"), fee=D("2000"), principal=D("0"), remainder=D("0")
    )
    # 20,000: 2,000 + 8,000 + 6,400 = 16,400 of costs, 3,600 of principal
    partial = allocate(D("20000"), OWED)
    assert partial.principal == D("3600")
    assert partial.repaid == D("20000")
    # 1,500 does not even cover the penalty
    assert allocate(D("1500"), OWED).penalty == D("1500")


def test_nothing_paid_and_negative_payments() -> None:
    zero = allocate(D("0"), OWED)
    assert zero.repaid == zero.remainder == D("0")
    with pytest.raises(ValueError, match="cannot be negative"):
        allocate(D("-0.01"), OWED)
    with pytest.raises(ValueError, match="may be negative"):
        Owed(principal=D("-1"), fee=D("0"), interest=D("0"), penalty=D("0"))


_cents = st.decimals(min_value=0, max_value=10**9, places=2)


@given(payment=_cents, principal=_cents, fee_=_cents, interest=_cents, penalty=_cents)
def test_the_waterfall_never_loses_or_makes_a_cent(
    payment: Decimal, principal: Decimal, fee_: Decimal, interest: Decimal, penalty: Decimal
) -> None:
    owed = Owed(principal=principal, fee=fee_, interest=interest, penalty=penalty)
    split = allocate(payment, owed)
    assert split.repaid + split.remainder == payment
    assert split.repaid == min(payment, owed.total)
    # each part is paid in full before the next one receives anything
    parts = [
        (split.penalty, penalty),
        (split.interest, interest),
        (split.fee, fee_),
        (split.principal, principal),
    ]
    for (paid, due), (later, _) in pairwise(parts):
        assert paid == due or later == 0
