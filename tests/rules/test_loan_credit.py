"""The credit assessment: scores, grades, prices and reasons against figures worked by hand."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.loan_credit import (
    DEFAULT_THRESHOLDS,
    CreditFacts,
    CreditGrade,
    assess,
    fee_rate_for,
    order_jump,
)
from rules.loan_terms import DEFAULT_PRODUCT, LoanProduct

D = Decimal

# A strong supplier selling to a buyer that pays on time.
STRONG = CreditFacts(
    risk_band="low",
    accreditation_score=D("100"),
    orders_delivered=40,
    orders_delivered_late=1,
    disputes=0,
    order_value=D("2000000"),
    losses=D("0"),
    buyer_invoices_paid=24,
    buyer_invoices_paid_late=1,
    buyer_orders_last_30d=3,
    buyer_orders_monthly_before=D("2.5"),
    concentration=D("0.3"),
    loans_overdue=0,
    loans_written_off=0,
)
# A middling one: medium band, accreditation score 65, a dispute, some losses, a slow buyer.
MIDDLING = replace(
    STRONG,
    risk_band="medium",
    accreditation_score=D("65"),
    orders_delivered=20,
    orders_delivered_late=3,
    disputes=1,
    order_value=D("1000000"),
    losses=D("5000"),
    buyer_invoices_paid=10,
    buyer_invoices_paid_late=2,
    buyer_orders_last_30d=2,
    buyer_orders_monthly_before=D("1.0"),
    concentration=D("0.4"),
)


def test_grade_a_with_every_reason_stated() -> None:
    grade = assess(STRONG)
    # 50 + 15 (low band) + 10 ((100 - 50) * 0.2) + 10 (39/40 = 97.5% on time) + 0 (no
    # disputes) + 0 (no losses) + 10 (1/24 = 4.2% paid late) + 0 (3 orders, not above
    # 3 * 2.5 = 7.5) + 0 (30% concentration) + 0 (no loan overdue) = 95
    assert (grade.grade, grade.score) == ("A", 95)
    # fee: 0.015 - 0.007 * (95 - 35) / 65 = 0.015 - 0.0064615... = 0.0085385... -> 0.0085
    assert grade.fee_rate == D("0.0085")
    assert grade.interest_rate == D("0.06")
    assert grade.flags == ()
    assert grade.reasons == (
        "accreditation risk band low: +15",
        "accreditation score 100: +10",
        "39 of 40 orders delivered on time (97.5%): +10",
        "no disputes: no effect",
        "losses of CNY 0.00 on CNY 2,000,000.00 delivered: no effect",
        "the buyer paid 1 of 24 invoices late (4.2%): +10",
        "the buyer placed 3 orders in the last 30 days, against 2.5 a month before: no effect",
        "the buyer accounts for 30% of the supplier's order value: no effect",
        "0 loans overdue: no effect",
    )


def test_grades_b_c_and_d() -> None:
    # 50 + 0 (medium) + 3 ((65 - 50) * 0.2) + 5 (17/20 = 85% on time) - 5 (1 dispute on 20,
    # 5%) + 0 (5,000 / 1,000,000 = 0.5%, not above) + 0 (2/10 = 20% late) + 0 (2 orders, under
    # 3) + 0 (40%) = 53: C; fee 0.015 - 0.007 * 18 / 65 = 0.0130615... -> 0.0131
    c = assess(MIDDLING)
    assert (c.grade, c.score, c.fee_rate, c.interest_rate) == ("C", 53, D("0.0131"), D("0.10"))
    assert "1 dispute on 20 orders delivered: -5" in c.reasons
    assert "losses of CNY 5,000.00 on CNY 1,000,000.00 delivered (0.5%): no effect" in c.reasons
    # a low band instead: 53 + 15 = 68: B; fee 0.015 - 0.007 * 33 / 65 = 0.0114461... -> 0.0114
    b = assess(replace(MIDDLING, risk_band="low"))
    assert (b.grade, b.score, b.fee_rate, b.interest_rate) == ("B", 68, D("0.0114"), D("0.08"))
    # 60% from this buyer instead: 53 - 5 = 48: D; fee 0.015 - 0.007 * 13 / 65 = 0.0136
    d = assess(replace(MIDDLING, concentration=D("0.6")))
    assert (d.grade, d.score, d.fee_rate, d.interest_rate) == ("D", 48, D("0.0136"), D("0.12"))
    assert d.flags == ("high_concentration",)
    assert "the buyer accounts for 60% of the supplier's order value: -5" in d.reasons


def test_a_written_off_loan_declines_whatever_the_score() -> None:
    grade = assess(replace(STRONG, loans_written_off=1))
    assert (grade.grade, grade.score) == ("E", 95)
    assert grade.fee_rate == DEFAULT_PRODUCT.fee_rate_cap
    assert grade.reasons[-1] == "1 loan written off: declined"


def test_a_high_risk_band_declines() -> None:
    grade = assess(replace(STRONG, risk_band="high"))
    # 95 - 15: the band adds nothing, and declines
    assert (grade.grade, grade.score) == ("E", 80)
    assert "accreditation risk band high: no effect" in grade.reasons
    assert grade.reasons[-1] == "a high accreditation risk band: declined"


def test_a_low_score_declines() -> None:
    # 53 - 15 (one loan overdue) = 38: D; two overdue: 53 - 30 = 23: E
    assert assess(replace(MIDDLING, loans_overdue=1)).grade == "D"
    grade = assess(replace(MIDDLING, loans_overdue=2))
    assert (grade.grade, grade.score, grade.fee_rate) == ("E", 23, D("0.015"))
    assert "2 loans overdue: -30" in grade.reasons
    assert grade.reasons[-1] == "score 23 is below grade D's 35: declined"


def test_a_sudden_jump_in_the_buyers_orders_is_flagged() -> None:
    # 9 orders against 2 a month before: 9 > 3 * 2 = 6, and at least 3
    jumped = replace(MIDDLING, buyer_orders_last_30d=9, buyer_orders_monthly_before=D("2"))
    grade = assess(jumped)
    assert grade.flags == ("buyer_order_jump",)
    assert grade.score == 53 - 15
    assert order_jump(jumped)
    # 6 is not above 3 * 2; 2 from nothing is under the minimum of 3; 3 from nothing is a jump
    assert not order_jump(replace(jumped, buyer_orders_last_30d=6))
    none_before = replace(jumped, buyer_orders_monthly_before=D("0"))
    assert not order_jump(replace(none_before, buyer_orders_last_30d=2))
    assert order_jump(replace(none_before, buyer_orders_last_30d=3))


def test_a_new_buyer_is_flagged() -> None:
    grade = assess(replace(MIDDLING, buyer_invoices_paid=0, buyer_invoices_paid_late=0))
    assert grade.flags == ("new_buyer",)
    # 53 - 5 instead of 0
    assert grade.score == 48
    assert "the buyer has paid no invoice on the platform yet: -5" in grade.reasons


def test_thin_and_poor_records() -> None:
    # 2 delivered: -10 instead of +5 -> 53 - 15 = 38; the one dispute is then over 10%: -10
    thin = assess(replace(MIDDLING, orders_delivered=2, orders_delivered_late=0))
    assert "only 2 orders delivered in 12 months: -10" in thin.reasons
    assert "1 dispute on 2 orders delivered: -10" in thin.reasons
    assert thin.score == 53 - 15 - 5
    # 13 of 20 on time = 65% < 70%: -10; losses 25,000 = 2.5% > 2%: -10; 4/10 paid late: -10
    poor = assess(
        replace(MIDDLING, orders_delivered_late=7, losses=D("25000"), buyer_invoices_paid_late=4)
    )
    assert poor.score == 53 - 15 - 10 - 10
    assert "the buyer paid 4 of 10 invoices late (40%): -10" in poor.reasons


@pytest.mark.parametrize(
    "changes",
    [
        {"orders_delivered_late": 21},
        {"buyer_invoices_paid_late": 11},
        {"disputes": -1},
        {"losses": D("-1")},
        {"concentration": D("1.1")},
        {"accreditation_score": D("101")},
    ],
)
def test_impossible_facts_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        assess(replace(MIDDLING, **changes))


def test_an_unknown_risk_band_is_refused() -> None:
    with pytest.raises(ValueError, match="risk band 'severe'"):
        assess(replace(MIDDLING, risk_band="severe"))


def test_fee_rate_ends_at_the_floor_and_the_cap() -> None:
    assert fee_rate_for(100, DEFAULT_PRODUCT, DEFAULT_THRESHOLDS) == D("0.008")
    assert fee_rate_for(35, DEFAULT_PRODUCT, DEFAULT_THRESHOLDS) == D("0.015")
    assert fee_rate_for(0, DEFAULT_PRODUCT, DEFAULT_THRESHOLDS) == D("0.015")


@st.composite
def credit_facts(draw: st.DrawFn) -> CreditFacts:
    delivered = draw(st.integers(0, 500))
    paid = draw(st.integers(0, 500))
    amounts = st.decimals(min_value=0, max_value=10**9, places=2)
    shares = st.decimals(min_value=0, max_value=1, places=3)
    return CreditFacts(
        risk_band=draw(st.sampled_from(["low", "medium", "high"])),
        accreditation_score=draw(st.decimals(min_value=0, max_value=100, places=2)),
        orders_delivered=delivered,
        orders_delivered_late=draw(st.integers(0, delivered)),
        disputes=draw(st.integers(0, 50)),
        order_value=draw(amounts),
        losses=draw(amounts),
        buyer_invoices_paid=paid,
        buyer_invoices_paid_late=draw(st.integers(0, paid)),
        buyer_orders_last_30d=draw(st.integers(0, 100)),
        buyer_orders_monthly_before=draw(st.decimals(min_value=0, max_value=100, places=1)),
        concentration=draw(shares),
        loans_overdue=draw(st.integers(0, 5)),
        loans_written_off=draw(st.integers(0, 2)),
    )


PRODUCTS = [DEFAULT_PRODUCT, LoanProduct(fee_rate_floor=D("0.01"), fee_rate_cap=D("0.02"))]


@given(facts=credit_facts(), product=st.sampled_from(PRODUCTS))
def test_every_grade_is_priced_within_the_fee_bounds(
    facts: CreditFacts, product: LoanProduct
) -> None:
    grade: CreditGrade = assess(facts, product)
    assert product.fee_rate_floor <= grade.fee_rate <= product.fee_rate_cap
    assert 0 <= grade.score <= 100
    assert grade.grade in {"A", "B", "C", "D", "E"}
    rates = {"A": D("0.06"), "B": D("0.08"), "C": D("0.10"), "D": D("0.12"), "E": D("0.12")}
    assert grade.interest_rate == rates[grade.grade]
    if facts.loans_written_off or facts.risk_band == "high":
        assert grade.grade == "E"
    # one reason a factor, and one more for each cause of a decline
    assert len(grade.reasons) >= 9
