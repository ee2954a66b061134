"""Who may see an order loan and how much of it, and the views of a loan the routes answer.

A loan is seen by its supplier (its supplier and finance roles: the borrower), by the order's
buyer (its buyer and finance roles, who confirms the receivable) and by platform oversight
(finance, ops supervisors and admins of the operator); to anyone else it answers 404 like a
missing loan. The buyer sees the amount and the due date it confirms, not the pricing: no terms,
fee, interest, schedule, balance or repayment split, and not the reasons the process gave (the
supplier's credit assessment). The statement (the loan's ledger) is the supplier's and platform
finance's alone.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, HTTPException, status
from pydantic import BaseModel
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from api.deps import CurrentActor, not_found
from contracts.common import OPERATOR_ORG_ID, Actor, Money, Role
from contracts.finance import REPAYING_STATUSES, LoanStatus, LoanTerms
from db.finance import Loan, LoanRepayment
from rules.day_count import DayCount, accrued_interest
from rules.loan_accrual import accrue
from rules.loan_terms import due_date, effective_apr

SUPPLIER_SIDE = (Role.SUPPLIER, Role.FINANCE)  # the borrower's people
BUYER_SIDE = (Role.BUYER, Role.FINANCE)  # the people who confirm and pay the receivable
OVERSIGHT = (Role.FINANCE, Role.OPS_SUPERVISOR, Role.ADMIN)  # of the operator: every loan


def oversees(actor: Actor) -> bool:
    """Platform finance, ops supervisors and admins: they see every loan, priced."""
    return actor.org_id == OPERATOR_ORG_ID and actor.has_any(*OVERSIGHT)


def platform_finance(actor: Actor) -> bool:
    return actor.org_id == OPERATOR_ORG_ID and actor.has_any(Role.FINANCE)


def _oversight(actor: CurrentActor) -> Actor:
    if not oversees(actor):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="requires platform finance, an ops supervisor or an admin",
        )
    return actor


def _platform_finance(actor: CurrentActor) -> Actor:
    if not platform_finance(actor):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="requires platform finance")
    return actor


OversightActor = Annotated[Actor, Depends(_oversight)]
PlatformFinanceActor = Annotated[Actor, Depends(_platform_finance)]


def borrows(actor: Actor, row: Loan) -> bool:
    """Whether the caller is the loan's supplier, by role."""
    return row.supplier_org_id == actor.org_id and actor.has_any(*SUPPLIER_SIDE)


def owes_receivable(actor: Actor, row: Loan) -> bool:
    """Whether the caller is the financed order's buyer, by role."""
    return row.buyer_org_id == actor.org_id and actor.has_any(*BUYER_SIDE)


def visible_loans(actor: Actor) -> list[ColumnElement[bool]] | None:
    """The loan conditions the caller sees; None means every loan (oversight)."""
    if oversees(actor):
        return None
    sides: list[ColumnElement[bool]] = []
    if actor.org_id != OPERATOR_ORG_ID and actor.has_any(*SUPPLIER_SIDE):
        sides.append(Loan.supplier_org_id == actor.org_id)
    if actor.org_id != OPERATOR_ORG_ID and actor.has_any(*BUYER_SIDE):
        sides.append(Loan.buyer_org_id == actor.org_id)
    if not sides:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="requires the supplier, buyer or finance role (or platform oversight)",
        )
    return sides


def visible_loan(session: Session, actor: Actor, loan_id: str) -> Loan:
    row = session.get(Loan, loan_id)
    if row is None or not (oversees(actor) or borrows(actor, row) or owes_receivable(actor, row)):
        raise not_found("loan")
    return row


def sees_pricing(actor: Actor, row: Loan) -> bool:
    """The supplier and oversight see the loan's price; the buyer does not."""
    return oversees(actor) or borrows(actor, row)


def reads_statement(actor: Actor, row: Loan) -> bool:
    return platform_finance(actor) or borrows(actor, row)


# -- views ------------------------------------------------------------------------------------


class LoanSummary(BaseModel):
    """A loan; the buyer sees it without ``outstanding``. ``due_on`` once paid out."""

    loan_id: str
    order_id: str
    supplier_org_id: str
    buyer_org_id: str
    status: LoanStatus
    amount: Money
    term_days: int
    due_on: date | None
    outstanding: Money | None
    applied_at: datetime
    url: str


class Schedule(BaseModel):
    """What the loan costs to its due date at the contract rate. Before the payout the dates
    are ``estimated`` from today; ``effective_apr`` = (interest + fee) / principal * 365 / days."""

    starts_on: date
    due_on: date
    days: int
    principal: Decimal
    fee: Decimal
    interest: Decimal
    total_due: Decimal
    effective_apr: Decimal
    currency: str
    estimated: bool


class Owed(BaseModel):
    """What the loan owes today (China day): the recorded balance plus the interest and
    penalty interest accrued since it was last booked."""

    as_of: date
    principal: Decimal
    fee: Decimal
    interest: Decimal
    penalty: Decimal
    total: Decimal
    currency: str


class RepaymentView(BaseModel):
    """A buyer payment and how it was split: the loan's parts first, the rest to the supplier."""

    payment_id: str
    paid_on: date
    amount: Decimal
    penalty: Decimal
    interest: Decimal
    fee: Decimal
    principal: Decimal
    remitted: Decimal
    outstanding_after: Decimal


class LoanDetail(LoanSummary):
    """The buyer sees ``terms``, ``schedule``, ``owed``, ``repayments`` and ``status_reason``
    as null. ``open_task_ids`` comes from the running process, and is empty once it ended or
    when it cannot answer."""

    status_reason: str | None
    purpose: str
    disbursed_on: date | None
    registration_number: str | None
    terms: LoanTerms | None
    schedule: Schedule | None
    owed: Owed | None
    repayments: list[RepaymentView] | None
    open_task_ids: list[str]


def loan_terms(row: Loan) -> LoanTerms | None:
    return None if row.terms is None else LoanTerms.model_validate(row.terms)


def loan_summary(row: Loan, *, priced: bool) -> LoanSummary:
    return LoanSummary(
        loan_id=row.id,
        order_id=row.order_id,
        supplier_org_id=row.supplier_org_id,
        buyer_org_id=row.buyer_org_id,
        status=LoanStatus(row.status),
        amount=Money(amount=row.amount, currency=row.currency),
        term_days=row.term_days,
        due_on=row.due_on,
        outstanding=Money(amount=row.owed(), currency=row.currency) if priced else None,
        applied_at=row.applied_at,
        url=f"/loans/{row.id}",
    )


def loan_detail(session: Session, row: Loan, *, priced: bool, today: date) -> LoanDetail:
    terms = loan_terms(row) if priced else None
    repayments = None
    if priced:
        query = select(LoanRepayment).where(LoanRepayment.loan_id == row.id)
        order = (LoanRepayment.paid_on, LoanRepayment.recorded_at, LoanRepayment.payment_id)
        repayments = [_repayment(r) for r in session.scalars(query.order_by(*order))]
    return LoanDetail(
        **loan_summary(row, priced=priced).model_dump(),
        status_reason=row.status_reason if priced else None,
        purpose=row.purpose,
        disbursed_on=row.disbursed_on,
        registration_number=row.registration_number,
        terms=terms,
        schedule=schedule(terms, row, today) if terms is not None else None,
        owed=owed_now(row, terms, today) if terms is not None else None,
        repayments=repayments,
        open_task_ids=[],
    )


def schedule(terms: LoanTerms, row: Loan, today: date) -> Schedule:
    """The loan's cost to its due date, from the payout (or from today, before it)."""
    estimated = row.disbursed_on is None
    starts_on = today if row.disbursed_on is None else row.disbursed_on
    due_on = row.due_on or due_date(starts_on, terms.term_days)
    principal, fee = terms.principal.amount, terms.fee.amount
    interest = accrued_interest(
        principal, terms.interest_rate, starts_on, due_on, DayCount(terms.day_count)
    )
    days = (due_on - starts_on).days
    apr = effective_apr(interest, fee, principal, days) if principal > 0 and days > 0 else None
    return Schedule(
        starts_on=starts_on,
        due_on=due_on,
        days=days,
        principal=principal,
        fee=fee,
        interest=interest,
        total_due=principal + fee + interest,
        effective_apr=apr if apr is not None else Decimal(0),
        currency=terms.principal.currency,
        estimated=estimated,
    )


def accrued_since_booked(row: Loan, terms: LoanTerms, today: date) -> tuple[Decimal, Decimal]:
    """(interest, penalty) the loan has earned since its balance was last booked, to today;
    nothing unless it is being repaid."""
    accrued_to, due_on = row.accrued_to, row.due_on
    if LoanStatus(row.status) not in REPAYING_STATUSES or accrued_to is None or due_on is None:
        return Decimal(0), Decimal(0)
    return accrue(
        row.principal_owed,
        interest_rate=terms.interest_rate,
        penalty_rate=terms.penalty_rate,
        convention=DayCount(terms.day_count),
        accrued_to=accrued_to,
        due_on=due_on,
        to_day=today,
    )


def owed_now(row: Loan, terms: LoanTerms, today: date) -> Owed | None:
    """What the loan owes today; None before the payout (nothing is owed yet)."""
    if row.disbursed_on is None:
        return None
    interest, penalty = accrued_since_booked(row, terms, today)
    parts = (row.principal_owed, row.fee_owed, row.interest_owed + interest)
    return Owed(
        as_of=today,
        principal=parts[0],
        fee=parts[1],
        interest=parts[2],
        penalty=row.penalty_owed + penalty,
        total=sum(parts, Decimal(0)) + row.penalty_owed + penalty,
        currency=row.currency,
    )


def _repayment(row: LoanRepayment) -> RepaymentView:
    return RepaymentView(
        payment_id=row.payment_id,
        paid_on=row.paid_on,
        amount=row.amount,
        penalty=row.penalty,
        interest=row.interest,
        fee=row.fee,
        principal=row.principal,
        remitted=row.remitted,
        outstanding_after=row.outstanding_after,
    )
