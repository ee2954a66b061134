"""Credit assessment of an order loan: a 0-100 score, a grade, the price and the reasons.

Over platform data only (issue 11): the supplier's accreditation, delivery record, disputes and
losses; the buyer's payment record and orders; and how much the supplier depends on the buyer.
The default points (``CreditThresholds``, each configurable):

    start                           50
    accreditation risk band         low +15, medium 0 (high: declined)
    accreditation score (0-100)     (score - 50) * 0.2, rounded half up: -10 .. +10
    delivered on time               >= 95% +10, >= 85% +5, < 70% -10; under 3 delivered -10
    disputes / orders delivered     none 0, up to 10% -5, above -10
    losses / order value            up to 0.5% 0, up to 2% -5, above -10
    buyer's invoices paid late      none paid yet -5 (new_buyer); <= 10% +10; <= 30% 0; above -10
    buyer's orders, last 30 days    above 3 * its monthly average before, and at least 3: -15
                                    (buyer_order_jump: the pattern of orders made up to borrow)
    the buyer's share of the
    supplier's order value          above 50%: -5 (high_concentration)
    the supplier's loans overdue    -15 each

The score is clamped to 0-100. Grade A from 80, B from 65, C from 50, D from 35, else E
(declined); a loan ever written off or a high risk band is E whatever the score. The fee rate
falls linearly with the score from the product's cap at D's cut-off to its floor at 100, to four
places (E is priced at the cap, though nothing is offered); interest is A 6%, B 8%, C 10%,
D 12% a year (E: D's).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from contracts.common import money_text
from rules.loan_terms import DEFAULT_PRODUCT, LoanProduct, percent_text

FEE_RATE_PLACES = Decimal("0.0001")
_SHARE_PLACES = Decimal("0.001")  # shares shown to a tenth of a percent
DECLINED = "E"
HIGH_RISK = "high"


@dataclass(frozen=True, slots=True)
class CreditFacts:
    risk_band: str
    accreditation_score: Decimal  # 0-100, rules/accreditation.supplier_score
    orders_delivered: int
    orders_delivered_late: int
    disputes: int
    order_value: Decimal  # the supplier's delivered order value, 12 months
    losses: Decimal  # credit notes and claims against it, 12 months
    buyer_invoices_paid: int
    buyer_invoices_paid_late: int
    buyer_orders_last_30d: int
    buyer_orders_monthly_before: Decimal  # average a month over the 6 months before
    concentration: Decimal  # share 0..1 of the supplier's order value from this buyer
    loans_overdue: int
    loans_written_off: int


@dataclass(frozen=True, slots=True)
class CreditGrade:
    grade: str  # "A".."D", or "E" = declined
    score: int  # 0-100
    fee_rate: Decimal
    interest_rate: Decimal  # annual
    reasons: tuple[str, ...]
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CreditThresholds:
    """Weights and cut-offs of the module docstring; conventions, not regulations."""

    base_score: int = 50
    low_band_points: int = 15
    medium_band_points: int = 0
    accreditation_midpoint: Decimal = Decimal(50)
    accreditation_weight: Decimal = Decimal("0.2")
    min_delivered: int = 3
    thin_record_points: int = -10
    on_time_good: Decimal = Decimal("0.95")
    on_time_good_points: int = 10
    on_time_fair: Decimal = Decimal("0.85")
    on_time_fair_points: int = 5
    on_time_poor: Decimal = Decimal("0.70")  # below
    on_time_poor_points: int = -10
    dispute_rate_high: Decimal = Decimal("0.10")  # above
    some_disputes_points: int = -5
    many_disputes_points: int = -10
    loss_rate_some: Decimal = Decimal("0.005")  # above
    loss_rate_high: Decimal = Decimal("0.02")  # above
    some_losses_points: int = -5
    high_losses_points: int = -10
    buyer_late_good: Decimal = Decimal("0.10")  # at or below
    buyer_late_good_points: int = 10
    buyer_late_poor: Decimal = Decimal("0.30")  # above
    buyer_late_poor_points: int = -10
    new_buyer_points: int = -5
    jump_factor: Decimal = Decimal(3)
    jump_min_orders: int = 3
    jump_points: int = -15
    concentration_high: Decimal = Decimal("0.5")  # above
    concentration_points: int = -5
    overdue_loan_points: int = -15  # each
    grade_a_from: int = 80
    grade_b_from: int = 65
    grade_c_from: int = 50
    grade_d_from: int = 35
    interest_a: Decimal = Decimal("0.06")
    interest_b: Decimal = Decimal("0.08")
    interest_c: Decimal = Decimal("0.10")
    interest_d: Decimal = Decimal("0.12")


DEFAULT_THRESHOLDS = CreditThresholds()

# One factor's effect: the points and the sentence stating the fact.
_Effect = tuple[int, str]


def _share(part: Decimal | int, whole: Decimal | int) -> Decimal:
    return (Decimal(part) / Decimal(whole)).quantize(_SHARE_PLACES, rounding=ROUND_HALF_UP)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _check(facts: CreditFacts) -> None:
    counts = (
        facts.orders_delivered,
        facts.orders_delivered_late,
        facts.disputes,
        facts.buyer_invoices_paid,
        facts.buyer_invoices_paid_late,
        facts.buyer_orders_last_30d,
        facts.loans_overdue,
        facts.loans_written_off,
    )
    amounts = (facts.order_value, facts.losses, facts.buyer_orders_monthly_before)
    if min(counts) < 0 or min(amounts) < 0:
        raise ValueError(f"counts and amounts must not be negative: {facts}")
    if facts.orders_delivered_late > facts.orders_delivered:
        raise ValueError("more orders delivered late than delivered")
    if facts.buyer_invoices_paid_late > facts.buyer_invoices_paid:
        raise ValueError("more invoices paid late than paid")
    if not 0 <= facts.concentration <= 1 or not 0 <= facts.accreditation_score <= 100:
        raise ValueError("concentration is a share 0..1 and the accreditation score 0..100")


def _band(facts: CreditFacts, t: CreditThresholds) -> _Effect:
    points = {"low": t.low_band_points, "medium": t.medium_band_points, HIGH_RISK: 0}
    if facts.risk_band not in points:
        raise ValueError(f"risk band {facts.risk_band!r} is not one of {', '.join(points)}")
    return points[facts.risk_band], f"accreditation risk band {facts.risk_band}"


def _accreditation(facts: CreditFacts, t: CreditThresholds) -> _Effect:
    exact = (facts.accreditation_score - t.accreditation_midpoint) * t.accreditation_weight
    points = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return points, f"accreditation score {facts.accreditation_score}"


def _delivery(facts: CreditFacts, t: CreditThresholds) -> _Effect:
    delivered = facts.orders_delivered
    if delivered < t.min_delivered:
        return t.thin_record_points, f"only {_count(delivered, 'order')} delivered in 12 months"
    on_time = _share(delivered - facts.orders_delivered_late, delivered)
    fact = f"{delivered - facts.orders_delivered_late} of {delivered} orders delivered on time "
    fact += f"({percent_text(on_time)})"
    if on_time >= t.on_time_good:
        return t.on_time_good_points, fact
    if on_time >= t.on_time_fair:
        return t.on_time_fair_points, fact
    return (t.on_time_poor_points if on_time < t.on_time_poor else 0), fact


def _disputes(facts: CreditFacts, t: CreditThresholds) -> _Effect:
    if facts.disputes == 0:
        return 0, "no disputes"
    fact = f"{_count(facts.disputes, 'dispute')} on {_count(facts.orders_delivered, 'order')}"
    fact += " delivered"
    many = facts.orders_delivered == 0 or _share(facts.disputes, facts.orders_delivered) > (
        t.dispute_rate_high
    )
    return (t.many_disputes_points if many else t.some_disputes_points), fact


def _losses(facts: CreditFacts, t: CreditThresholds, currency: str) -> _Effect:
    fact = (
        f"losses of {money_text(facts.losses, currency)} on "
        f"{money_text(facts.order_value, currency)} delivered"
    )
    if facts.losses == 0:
        return 0, fact
    if facts.order_value == 0:
        return t.high_losses_points, fact
    rate = facts.losses / facts.order_value
    fact += f" ({percent_text(rate.quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP))})"
    if rate > t.loss_rate_high:
        return t.high_losses_points, fact
    return (t.some_losses_points if rate > t.loss_rate_some else 0), fact


def _buyer_payments(facts: CreditFacts, t: CreditThresholds) -> _Effect:
    paid = facts.buyer_invoices_paid
    if paid == 0:
        return t.new_buyer_points, "the buyer has paid no invoice on the platform yet"
    late = _share(facts.buyer_invoices_paid_late, paid)
    fact = f"the buyer paid {facts.buyer_invoices_paid_late} of {paid} invoices late "
    fact += f"({percent_text(late)})"
    if late <= t.buyer_late_good:
        return t.buyer_late_good_points, fact
    return (t.buyer_late_poor_points if late > t.buyer_late_poor else 0), fact


def order_jump(facts: CreditFacts, thresholds: CreditThresholds = DEFAULT_THRESHOLDS) -> bool:
    """A sudden jump in the buyer's orders: above ``jump_factor`` * the monthly average before,
    and at least ``jump_min_orders`` (a first few orders from a new buyer are not a jump)."""
    recent = facts.buyer_orders_last_30d
    return (
        recent >= thresholds.jump_min_orders
        and recent > thresholds.jump_factor * facts.buyer_orders_monthly_before
    )


def _jump(facts: CreditFacts, t: CreditThresholds) -> _Effect:
    fact = (
        f"the buyer placed {_count(facts.buyer_orders_last_30d, 'order')} in the last 30 days, "
        f"against {facts.buyer_orders_monthly_before} a month before"
    )
    return (t.jump_points if order_jump(facts, t) else 0), fact


def _concentration(facts: CreditFacts, t: CreditThresholds) -> _Effect:
    share = percent_text(facts.concentration.quantize(_SHARE_PLACES, rounding=ROUND_HALF_UP))
    fact = f"the buyer accounts for {share} of the supplier's order value"
    return (t.concentration_points if facts.concentration > t.concentration_high else 0), fact


def _overdue(facts: CreditFacts, t: CreditThresholds) -> _Effect:
    return (
        t.overdue_loan_points * facts.loans_overdue,
        f"{_count(facts.loans_overdue, 'loan')} overdue",
    )


def _flags(facts: CreditFacts, t: CreditThresholds) -> tuple[str, ...]:
    flags = []
    if order_jump(facts, t):
        flags.append("buyer_order_jump")
    if facts.buyer_invoices_paid == 0:
        flags.append("new_buyer")
    if facts.concentration > t.concentration_high:
        flags.append("high_concentration")
    return tuple(flags)


def _effect_text(points: int) -> str:
    return "no effect" if points == 0 else f"{points:+d}"


def _grade(score: int, t: CreditThresholds) -> str:
    for grade, cut_off in (
        ("A", t.grade_a_from),
        ("B", t.grade_b_from),
        ("C", t.grade_c_from),
        ("D", t.grade_d_from),
    ):
        if score >= cut_off:
            return grade
    return DECLINED


def fee_rate_for(score: int, product: LoanProduct, thresholds: CreditThresholds) -> Decimal:
    """The fee rate for a score (module docstring), always within the product's floor and cap."""
    span = 100 - thresholds.grade_d_from
    above_d = min(max(score - thresholds.grade_d_from, 0), span)
    spread = product.fee_rate_cap - product.fee_rate_floor
    exact = product.fee_rate_cap - spread * above_d / span
    rate = exact.quantize(FEE_RATE_PLACES, rounding=ROUND_HALF_UP)
    return min(max(rate, product.fee_rate_floor), product.fee_rate_cap)


def assess(
    facts: CreditFacts,
    product: LoanProduct = DEFAULT_PRODUCT,
    thresholds: CreditThresholds = DEFAULT_THRESHOLDS,
) -> CreditGrade:
    """Score, grade and price a loan on ``facts`` (module docstring), with a reason a factor."""
    _check(facts)
    t = thresholds
    effects = [
        _band(facts, t),
        _accreditation(facts, t),
        _delivery(facts, t),
        _disputes(facts, t),
        _losses(facts, t, product.currency),
        _buyer_payments(facts, t),
        _jump(facts, t),
        _concentration(facts, t),
        _overdue(facts, t),
    ]
    score = min(max(t.base_score + sum(points for points, _ in effects), 0), 100)
    reasons = [f"{fact}: {_effect_text(points)}" for points, fact in effects]
    grade = _grade(score, t)
    if facts.risk_band == HIGH_RISK:
        reasons.append("a high accreditation risk band: declined")
        grade = DECLINED
    if facts.loans_written_off:
        reasons.append(f"{_count(facts.loans_written_off, 'loan')} written off: declined")
        grade = DECLINED
    fee_rate = product.fee_rate_cap if grade == DECLINED else fee_rate_for(score, product, t)
    if score < t.grade_d_from:
        reasons.append(f"score {score} is below grade D's {t.grade_d_from}: declined")
    interest = {"A": t.interest_a, "B": t.interest_b, "C": t.interest_c}.get(grade, t.interest_d)
    return CreditGrade(
        grade=grade,
        score=score,
        fee_rate=fee_rate,
        interest_rate=interest,
        reasons=tuple(reasons),
        flags=_flags(facts, t),
    )
