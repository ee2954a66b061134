"""Order-loan terms: the product's thresholds, pricing, eligibility and the repayment waterfall.

Issue 11 and domain-rules.md §4. Every figure is a Decimal rounded half up to the cent once, where
it is charged; the advance limit is rounded down, so the platform never lends a cent above the
advance rate.

Pricing: fee = advance * fee rate (a one-off charge, 0.8%-1.5% by the credit grade); interest at
the contract rate on the days outstanding in the product's day count; after the due date the
overdue principal accrues penalty interest at the contract rate * (1 + uplift) instead (罚息:
banks commonly charge the contract rate plus 30-50%; rules.loan_accrual splits a period at the
due date); effective APR = (interest + fees) / advance * 365 / days.

Eligibility lists every rule an application breaks, each naming the field to correct.

Repayment waterfall (``allocate``): penalty, then interest, then the fee, then principal; what is
left goes on to the supplier. Costs come before principal because that is the order the Civil
Code sets when a payment falls short and the parties agreed none (《民法典》art. 561: costs of
enforcing the claim, then interest, then the principal), and the banks' practice (先息后本):
interest accrues only on the principal still owed and interest earns none, so a short payment
that settled principal first would leave the lender the one claim that no longer pays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from contracts.common import CENT, money_text
from contracts.fulfilment import OrderStatus
from rules.day_count import DayCount, accrued_interest

APR_PLACES = Decimal("0.0001")
DAYS_A_YEAR = 365  # the effective APR is stated on a calendar year whatever the day count

# An order is financed only once executed and before it is paid: not before the supplier has
# confirmed it, nor once disputed, cancelled, refused or already paid in full.
REFUSED_ORDER_STATUSES = frozenset(
    {
        OrderStatus.AWAITING_CONFIRMATION,
        OrderStatus.DISPUTED,
        OrderStatus.CANCELLED,
        OrderStatus.REFUSED,
        OrderStatus.COMPLETED,
    }
)


@dataclass(frozen=True, slots=True)
class LoanProduct:
    """The configurable terms of the order-loan product (issue 11 defaults; amounts in CNY)."""

    advance_rate: Decimal = Decimal("0.80")  # of the order's unpaid value
    fee_rate_floor: Decimal = Decimal("0.008")
    fee_rate_cap: Decimal = Decimal("0.015")
    two_approvers_above: Decimal = Decimal("1000000")  # strictly above: four eyes
    penalty_uplift: Decimal = Decimal("0.50")  # penalty rate = contract rate * (1 + uplift)
    day_count: DayCount = DayCount.ACT_360
    min_term_days: int = 7
    max_term_days: int = 180
    offer_valid_days: int = 3  # the supplier accepts an offer within this, or it lapses
    reminder_days_before: tuple[int, ...] = (7, 1)  # before the due date
    bad_debt_alert_rate: Decimal = Decimal("0.005")  # written off / disbursed, strictly above
    min_amount: Decimal = Decimal("1000")
    currency: str = "CNY"
    # Credit limits by accreditation risk band (contracts.accreditation.RiskBand values).
    credit_limit_low: Decimal = Decimal("5000000")
    credit_limit_medium: Decimal = Decimal("2000000")
    credit_limit_high: Decimal = Decimal("0")

    def __post_init__(self) -> None:
        if not 0 < self.advance_rate <= 1:
            raise ValueError(f"advance rate {self.advance_rate} must be in (0, 1]")
        if not 0 <= self.fee_rate_floor <= self.fee_rate_cap:
            raise ValueError(
                f"fee rates must satisfy 0 <= floor ({self.fee_rate_floor}) <= cap "
                f"({self.fee_rate_cap})"
            )
        if not 0 < self.min_term_days <= self.max_term_days:
            raise ValueError(
                f"terms must satisfy 0 < {self.min_term_days} <= {self.max_term_days} days"
            )
        if self.penalty_uplift < 0:
            raise ValueError(f"penalty uplift {self.penalty_uplift} must not be negative")


DEFAULT_PRODUCT = LoanProduct()


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def percent_text(rate: Decimal) -> str:
    """A rate as a percentage without trailing zeros: 0.80 -> '80%', 0.0125 -> '1.25%'."""
    return f"{(rate * 100).normalize():f}%"


def fee(principal: Decimal, fee_rate: Decimal) -> Decimal:
    """The one-off fee on ``principal``, to the cent."""
    return _cents(principal * fee_rate)


def penalty_rate(annual_rate: Decimal, product: LoanProduct = DEFAULT_PRODUCT) -> Decimal:
    """The annual penalty rate: the contract rate * (1 + the product's uplift)."""
    return annual_rate * (1 + product.penalty_uplift)


def penalty_interest(
    overdue_principal: Decimal,
    annual_rate: Decimal,
    start: date,
    end: date,
    product: LoanProduct = DEFAULT_PRODUCT,
) -> Decimal:
    """Penalty interest on the overdue principal from ``start`` to ``end``, to the cent."""
    return accrued_interest(
        overdue_principal, penalty_rate(annual_rate, product), start, end, product.day_count
    )


def effective_apr(interest: Decimal, fees: Decimal, advance: Decimal, days: int) -> Decimal:
    """(interest + fees) / advance * 365 / days, to four places."""
    if days <= 0:
        raise ValueError(f"an APR needs a term of at least one day, got {days}")
    if advance <= 0:
        raise ValueError(f"an APR needs a positive advance, got {advance}")
    exact = (interest + fees) / advance * DAYS_A_YEAR / days
    return exact.quantize(APR_PLACES, rounding=ROUND_HALF_UP)


def max_advance(unpaid_value: Decimal, product: LoanProduct = DEFAULT_PRODUCT) -> Decimal:
    """The most that may be lent on an order's unpaid value, rounded down to the cent."""
    return max(unpaid_value * product.advance_rate, Decimal(0)).quantize(CENT, rounding=ROUND_DOWN)


def credit_limit(risk_band: str, product: LoanProduct = DEFAULT_PRODUCT) -> Decimal:
    """A supplier's credit limit for its accreditation risk band ("low", "medium", "high")."""
    limits = {
        "low": product.credit_limit_low,
        "medium": product.credit_limit_medium,
        "high": product.credit_limit_high,
    }
    if risk_band not in limits:
        raise ValueError(f"risk band {risk_band!r} is not one of {', '.join(limits)}")
    return limits[risk_band]


def needs_two_approvers(amount: Decimal, product: LoanProduct = DEFAULT_PRODUCT) -> bool:
    """Four eyes for an amount strictly above the product's threshold."""
    return amount > product.two_approvers_above


def due_date(disbursed_on: date, term_days: int) -> date:
    """The repayment date: ``term_days`` after disbursement, so the term is its accrued days."""
    return disbursed_on + timedelta(days=term_days)


def reminder_dates(due: date, product: LoanProduct = DEFAULT_PRODUCT) -> tuple[date, ...]:
    """The days to remind the supplier and buyer of the due date, earliest first."""
    return tuple(sorted(due - timedelta(days=n) for n in product.reminder_days_before))


@dataclass(frozen=True, slots=True)
class Problem:
    """A refusal naming the field of the application to correct and the rule, in words."""

    field: str
    rule: str


@dataclass(frozen=True, slots=True)
class LoanRequestFacts:
    amount: Decimal
    term_days: int
    order_status: str
    supplier_accredited: bool
    supplier_suspended: bool
    risk_band: str | None
    unpaid_value: Decimal
    outstanding_loans: Decimal  # the supplier's other loans' principal still owed
    other_loan_on_order: bool
    related_party_reasons: tuple[str, ...]


def _supplier_problems(facts: LoanRequestFacts) -> list[Problem]:
    if not facts.supplier_accredited:
        return [Problem("supplier", "only an accredited supplier may borrow against its orders")]
    if facts.supplier_suspended:
        return [Problem("supplier", "the supplier's accreditation is suspended")]
    return []


def _amount_problems(facts: LoanRequestFacts, product: LoanProduct) -> list[Problem]:
    def money(amount: Decimal) -> str:
        return money_text(amount, product.currency)

    amount = facts.amount
    if amount <= 0:
        return [Problem("amount", "the amount must be more than 0")]
    problems: list[Problem] = []
    if amount != amount.quantize(CENT):
        problems.append(Problem("amount", "the amount is in whole cents (two decimals)"))
    if amount < product.min_amount:
        problems.append(
            Problem("amount", f"the amount must be at least {money(product.min_amount)}")
        )
    ceiling = max_advance(facts.unpaid_value, product)
    if amount > ceiling:
        problems.append(
            Problem(
                "amount",
                f"the amount is above {money(ceiling)}, {percent_text(product.advance_rate)} "
                f"of the order's unpaid value of {money(facts.unpaid_value)}",
            )
        )
    if facts.risk_band is None:
        if facts.supplier_accredited:  # else the supplier's problem says it all
            problems.append(
                Problem("supplier", "the supplier has no accreditation risk band, so no credit")
            )
        return problems
    limit = credit_limit(facts.risk_band, product)
    available = max(limit - facts.outstanding_loans, Decimal(0))
    if amount > available:
        problems.append(
            Problem(
                "amount",
                f"the amount is above the credit available, {money(available)}: the limit for "
                f"risk band {facts.risk_band} is {money(limit)} and "
                f"{money(facts.outstanding_loans)} is outstanding on other loans",
            )
        )
    return problems


def eligibility_problems(
    facts: LoanRequestFacts, product: LoanProduct = DEFAULT_PRODUCT
) -> list[Problem]:
    """Every rule the application breaks (module docstring); empty when it is eligible."""
    problems = _supplier_problems(facts)
    if facts.order_status in REFUSED_ORDER_STATUSES:
        problems.append(
            Problem("order_id", f"an order that is {facts.order_status} cannot be financed")
        )
    if facts.other_loan_on_order:
        problems.append(Problem("order_id", "the order already has a loan: one loan an order"))
    if facts.related_party_reasons:
        problems.append(
            Problem(
                "order_id",
                "orders between related organisations are not financed: "
                + "; ".join(facts.related_party_reasons),
            )
        )
    problems += _amount_problems(facts, product)
    if not product.min_term_days <= facts.term_days <= product.max_term_days:
        problems.append(
            Problem(
                "term_days",
                f"the term is {product.min_term_days} to {product.max_term_days} days, "
                f"not {facts.term_days}",
            )
        )
    return problems


@dataclass(frozen=True, slots=True)
class Owed:
    principal: Decimal
    fee: Decimal
    interest: Decimal
    penalty: Decimal

    def __post_init__(self) -> None:
        if min(self.principal, self.fee, self.interest, self.penalty) < 0:
            raise ValueError(f"nothing owed may be negative: {self}")

    @property
    def total(self) -> Decimal:
        return self.principal + self.fee + self.interest + self.penalty


@dataclass(frozen=True, slots=True)
class Allocation:
    penalty: Decimal
    interest: Decimal
    fee: Decimal
    principal: Decimal
    remainder: Decimal  # what goes on to the supplier

    @property
    def repaid(self) -> Decimal:
        """The part of the payment that went to the loan."""
        return self.penalty + self.interest + self.fee + self.principal


def allocate(payment: Decimal, owed: Owed) -> Allocation:
    """Split a payment down the waterfall penalty → interest → fee → principal (module
    docstring); a partial payment stops where it runs out, the rest is the remainder."""
    if payment < 0:
        raise ValueError(f"a payment cannot be negative, got {payment}")
    left = payment
    taken: list[Decimal] = []
    for due in (owed.penalty, owed.interest, owed.fee, owed.principal):
        part = min(left, due)
        taken.append(part)
        left -= part
    penalty, interest, fee_part, principal = taken
    return Allocation(
        penalty=penalty, interest=interest, fee=fee_part, principal=principal, remainder=left
    )
