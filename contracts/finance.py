"""Order-loan financing: the messages of the loan process (``workflows.loan``), its activities
and the daily bank reconciliation.

A supplier borrows against one of its orders; the buyer confirms the receivable (确权), the
platform's finance approves (two people above a threshold), the supplier accepts the offer, the
financing is registered, the bank pays out once, and the buyer's payments on the order repay the
loan first. Amounts are Decimal with the loan's currency; rates are annual fractions.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from contracts.common import Actor, Frozen, Line, Money, Text

LOAN_WORKFLOW_PREFIX = "loan:"
RECONCILIATION_WORKFLOW_ID = "finance-reconciliation"

# Task kinds of the loan process; ``contracts.tasks.SECOND_FACTOR_TASK_KINDS`` names the ones
# that move money and so need a second factor.
CONFIRMATION_TASK = "loan_receivable_confirmation"
APPROVAL_TASK = "loan_approval"
OFFER_TASK = "loan_offer"
DISBURSEMENT_REJECTED_TASK = "loan_disbursement_rejected"
COLLECTIONS_TASK = "loan_collections"
WRITE_OFF_TASK = "loan_write_off"

_RATE = Field(ge=0, le=1, max_digits=9, decimal_places=6)


def loan_workflow_id(loan_id: str) -> str:
    return f"{LOAN_WORKFLOW_PREFIX}{loan_id}"


class LoanStatus(StrEnum):
    APPLIED = "applied"  # eligibility being checked
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # the buyer confirms the receivable (确权)
    UNDER_REVIEW = "under_review"  # credit assessment and finance approval
    OFFERED = "offered"  # the supplier accepts or lets it lapse
    REGISTERING = "registering"  # with the receivables registry
    DISBURSING = "disbursing"
    DISBURSEMENT_REJECTED = "disbursement_rejected"  # the bank refused: finance decides
    DISBURSED = "disbursed"  # repaid from the buyer's payments on the order
    OVERDUE = "overdue"
    REPAID = "repaid"
    WRITTEN_OFF = "written_off"
    # Ended before any money moved:
    REFUSED = "refused"  # not eligible (or the receivable is financed elsewhere)
    REJECTED = "rejected"  # by the buyer (not confirmed) or by finance
    WITHDRAWN = "withdrawn"  # by the applicant, before approval
    LAPSED = "lapsed"  # the offer or the confirmation was not answered in time
    CANCELLED = "cancelled"  # finance gave up after the bank refused the payout


# Loans that hold their order: no second loan may be taken on it.
ACTIVE_STATUSES = frozenset(
    {
        LoanStatus.APPLIED,
        LoanStatus.AWAITING_CONFIRMATION,
        LoanStatus.UNDER_REVIEW,
        LoanStatus.OFFERED,
        LoanStatus.REGISTERING,
        LoanStatus.DISBURSING,
        LoanStatus.DISBURSEMENT_REJECTED,
        LoanStatus.DISBURSED,
        LoanStatus.OVERDUE,
    }
)
# Loans that money has gone out on and that the order's payments repay.
REPAYING_STATUSES = frozenset({LoanStatus.DISBURSED, LoanStatus.OVERDUE})
# Loans the order's payments are passed on to: from the last eligibility check before the
# payout. A payment that comes while the payout is under way waits for it and repays the loan;
# if there is no payout after all, it goes on to the supplier.
ROUTED_STATUSES = REPAYING_STATUSES | {
    LoanStatus.REGISTERING,
    LoanStatus.DISBURSING,
    LoanStatus.DISBURSEMENT_REJECTED,
}


class LoanTerms(Frozen):
    """The priced terms: the offer the supplier accepts, and the contract afterwards."""

    principal: Money
    term_days: int = Field(ge=1, le=366)
    fee_rate: Decimal = _RATE
    interest_rate: Decimal = _RATE
    penalty_rate: Decimal = _RATE  # annual, on overdue principal, instead of interest_rate
    day_count: Line = Field(max_length=10)  # rules.day_count.DayCount
    fee: Money
    grade: Line = Field(max_length=2)


class LoanApplication(Frozen):
    """What the supplier asks for; validated at the edge (``api.routes.loans``)."""

    loan_id: Line = Field(max_length=40)
    order_id: Line = Field(max_length=80)
    supplier_org_id: Line = Field(max_length=40)
    buyer_org_id: Line = Field(max_length=40)
    amount: Money
    term_days: int = Field(ge=1, le=366)
    purpose: Text = Field(default="", max_length=500)
    applied_by: Actor
    applied_at: datetime


class LoanInput(Frozen):
    application: LoanApplication
    # Days the buyer has to confirm the receivable, and the supplier to accept the offer.
    confirm_within_days: int = Field(default=7, ge=1, le=60)
    offer_valid_days: int = Field(default=3, ge=1, le=60)
    # Above this principal two different finance approvers decide (four eyes).
    two_approvers_above: Decimal = Field(default=Decimal(1_000_000), ge=0, lt=10**18)
    reminder_days_before: tuple[int, ...] = (7, 1)


class EligibilityCheck(Frozen):
    """``check_loan``'s answer: the problems (field and rule), empty when eligible."""

    problems: tuple[tuple[Line, Text], ...] = ()
    unpaid_value: Money
    receivable_due_on: date


class CreditAssessment(Frozen):
    """``assess_loan``'s answer: the grade, the priced terms and the reasons."""

    grade: Line = Field(max_length=2)
    score: int = Field(ge=0, le=100)
    declined: bool
    terms: LoanTerms
    reasons: tuple[Text, ...]
    flags: tuple[Line, ...] = ()
    effective_apr: Decimal = Field(ge=0, lt=100)


class LoanStatusInput(Frozen):
    loan_id: Line
    status: LoanStatus
    reason: Text = ""
    terms: LoanTerms | None = None  # once assessed
    approved_by: tuple[Line, ...] = ()


class RegisterInput(Frozen):
    loan_id: Line
    terms: LoanTerms
    due_on: date


class Registration(Frozen):
    """The receivables registry's answer; ``problem`` when the receivable is financed already."""

    number: Line | None = None
    problem: Text = ""


class DisburseInput(Frozen):
    loan_id: Line
    attempt: int = Field(ge=1, le=100)  # a new bank payment only after finance retries a refusal
    terms: LoanTerms


class Disbursement(Frozen):
    settled: bool
    payment_id: Line | None = None
    value_date: date | None = None
    reason: Text = ""  # the bank's, when it refused


class RepaymentInput(Frozen):
    """A buyer's payment on a financed order, as the order workflow passes it on."""

    loan_id: Line
    payment_id: Line  # the order's payment row: one repayment per payment, however often sent
    amount: Money
    paid_on: date
    reference: Line = Field(max_length=100)


class Repayment(Frozen):
    """How a payment was split: the loan's parts first, the rest to the supplier."""

    payment_id: Line
    penalty: Decimal
    interest: Decimal
    fee: Decimal
    principal: Decimal
    remitted: Decimal  # paid on to the supplier
    outstanding: Decimal  # what the loan still owes after this payment
    currency: Line = Field(max_length=3)


class ReleaseInput(Frozen):
    loan_id: Line


class WriteOffInput(Frozen):
    loan_id: Line
    decided_by: tuple[Line, ...]
    reason: Text


class WithdrawInput(Frozen):
    reason: Text = Field(default="", max_length=500)
    actor: Actor


class LoanView(Frozen):
    loan_id: Line
    status: LoanStatus
    terms: LoanTerms | None
    due_on: date | None
    outstanding: Money | None
    open_task_ids: tuple[Line, ...]


class LoanOutcome(Frozen):
    loan_id: Line
    status: LoanStatus
    reason: Text


class ReconcileInput(Frozen):
    day: date


class ReconciliationResult(Frozen):
    day: date
    matched: int
    differences: tuple[Text, ...]


class OrderLoanInput(Frozen):
    order_id: Line = Field(max_length=80)


class OrderLoan(Frozen):
    """The loan an order's payments repay, if one is being repaid (``loan_for_order``); else
    the loan written off on the order, if any, whose recovery finance books by hand."""

    loan_id: Line | None = None
    written_off_loan_id: Line | None = None
