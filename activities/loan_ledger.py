"""A loan's books: the buyer's repayments and the write-off, each booked in the ledger in the
transaction that changes the loan's balances (``db.finance``); the steps that move money at the
bank build on it (``activities.loan_money``).

Once, whatever is retried: every journal's id is its step's key (``{loan}:repayment:{payment}``),
so a step retried after its commit finds its journal and books nothing twice, and the loan row is
locked (``FOR UPDATE``) while a step reads and changes its balances. The database refuses an
unbalanced journal at commit; that is not caught.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.attention import INVALID_RECORD
from contracts.common import OPERATOR_ORG_ID, SYSTEM_ACTOR, Role, money_text
from contracts.finance import LoanStatus, LoanTerms, Repayment, RepaymentInput, WriteOffInput
from contracts.tasks import NotifyInput
from db.audit_log import audit_once
from db.finance import (
    Account,
    JournalKind,
    Loan,
    LoanRepayment,
    bad_debt_figures,
    post_journal,
)
from db.loan_facts import china_day
from db.notifications import store_notification
from db.session import transaction
from rules.day_count import DayCount
from rules.loan_accrual import accrue
from rules.loan_portfolio import bad_debt_alert, bad_debt_rate
from rules.loan_terms import DEFAULT_PRODUCT, LoanProduct, Owed, allocate


def invalid(message: str) -> ApplicationError:
    """A record the step needs is missing or wrong: ops put it right and retry."""
    return ApplicationError(message, type=INVALID_RECORD, non_retryable=True)


def locked_loan(session: Session, loan_id: str) -> Loan:
    row = session.get(Loan, loan_id, with_for_update=True)
    if row is None:
        raise invalid(f"no loan {loan_id}")
    return row


def contracted(row: Loan) -> LoanTerms:
    if row.terms is None:
        raise invalid(f"loan {row.id} has no terms yet")
    return LoanTerms.model_validate(row.terms)


def book_accrual(session: Session, row: Loan, *, to_day: date, journal_id: str) -> None:
    """Accrue the loan's interest and penalty to ``to_day`` on its principal owed: booked as
    receivable and income, added to its balances, ``accrued_to`` moved on."""
    if row.accrued_to is None or row.due_on is None:
        raise invalid(f"loan {row.id} was not paid out: nothing accrues")
    terms = contracted(row)
    interest, penalty = accrue(
        row.principal_owed,
        interest_rate=terms.interest_rate,
        penalty_rate=terms.penalty_rate,
        convention=DayCount(terms.day_count),
        accrued_to=row.accrued_to,
        due_on=row.due_on,
        to_day=to_day,
    )
    booked = not (interest or penalty) or post_journal(
        session,
        journal_id=journal_id,
        loan_id=row.id,
        kind=JournalKind.ACCRUAL,
        booked_on=to_day,
        memo=f"interest and penalty of loan {row.id} from {row.accrued_to} to {to_day}",
        currency=row.currency,
        lines=[
            (Account.INTEREST_RECEIVABLE, interest),
            (Account.INTEREST_INCOME, -interest),
            (Account.PENALTY_RECEIVABLE, penalty),
            (Account.PENALTY_INCOME, -penalty),
        ],
    )
    if not booked:  # booked by an earlier try of the step: its balances are on the row
        return
    row.interest_owed += interest
    row.penalty_owed += penalty
    row.accrued_to = max(row.accrued_to, to_day)


def _repayment(row: LoanRepayment, currency: str) -> Repayment:
    return Repayment(
        payment_id=row.payment_id,
        penalty=row.penalty,
        interest=row.interest,
        fee=row.fee,
        principal=row.principal,
        remitted=row.remitted,
        outstanding=row.outstanding_after,
        currency=currency,
    )


# Loans that ended before their payout: a payment passed on to one meanwhile is the supplier's.
NEVER_PAID_OUT = frozenset({LoanStatus.REFUSED, LoanStatus.CANCELLED})


class LoanLedger:
    """The ledger-only steps of ``activities.loans.LoanActivities`` (the class the worker wires)."""

    def __init__(
        self, sessions: sessionmaker[Session], *, product: LoanProduct = DEFAULT_PRODUCT
    ) -> None:
        self._sessions = sessions
        self._product = product

    @activity.defn(name="apply_repayment")
    def apply_repayment(self, payment: RepaymentInput) -> Repayment:
        """Apply a buyer's payment on the financed order: accrue to its day, split it down the
        waterfall (penalty, interest, fee, principal; the rest is the supplier's) and book it,
        once per payment id: a repeat returns the split recorded first."""
        with transaction(self._sessions) as session:
            row = locked_loan(session, payment.loan_id)
            done = session.get(LoanRepayment, payment.payment_id)
            if done is not None:
                return _repayment(done, row.currency)
            if row.status == LoanStatus.WRITTEN_OFF:
                raise invalid(f"loan {row.id} is {row.status}: a payment cannot repay it")
            if row.accrued_to is None and row.status not in NEVER_PAID_OUT:
                raise invalid(f"loan {row.id} is {row.status}: not paid out yet")
            if payment.amount.amount <= 0:
                raise invalid(f"payment {payment.payment_id} is of {payment.amount.amount}")
            if payment.amount.currency != row.currency:
                raise invalid(
                    f"payment {payment.payment_id} is in {payment.amount.currency}; loan "
                    f"{row.id} is in {row.currency}"
                )
            if row.accrued_to is not None:  # else nothing was lent: it is all the supplier's
                # Accrued to the day the buyer says it paid, but never to a day before the
                # platform heard of the payment: a backdated payment shaves no interest off.
                heard = china_day(activity.info().scheduled_time)
                book_accrual(
                    session,
                    row,
                    to_day=max(payment.paid_on, heard),
                    journal_id=f"{row.id}:accrual:{payment.payment_id}",
                )
            owed = Owed(row.principal_owed, row.fee_owed, row.interest_owed, row.penalty_owed)
            split = allocate(payment.amount.amount, owed)
            post_journal(
                session,
                journal_id=f"{row.id}:repayment:{payment.payment_id}",
                loan_id=row.id,
                kind=JournalKind.REPAYMENT,
                booked_on=payment.paid_on,
                memo=f"the buyer's payment {payment.payment_id} on order {row.order_id}",
                currency=row.currency,
                lines=[
                    (Account.BANK, payment.amount.amount),
                    (Account.PENALTY_RECEIVABLE, -split.penalty),
                    (Account.INTEREST_RECEIVABLE, -split.interest),
                    (Account.FEE_RECEIVABLE, -split.fee),
                    (Account.PRINCIPAL, -split.principal),
                    (Account.SUPPLIER_PAYABLE, -split.remainder),
                ],
                bank_reference=payment.reference,
            )
            row.penalty_owed -= split.penalty
            row.interest_owed -= split.interest
            row.fee_owed -= split.fee
            row.principal_owed -= split.principal
            recorded = LoanRepayment(
                payment_id=payment.payment_id,
                loan_id=row.id,
                paid_on=payment.paid_on,
                amount=payment.amount.amount,
                penalty=split.penalty,
                interest=split.interest,
                fee=split.fee,
                principal=split.principal,
                remitted=split.remainder,
                outstanding_after=row.owed(),
            )
            session.add(recorded)
            return _repayment(recorded, row.currency)

    @activity.defn(name="write_off_loan")
    def write_off_loan(self, request: WriteOffInput) -> None:
        """Write off what the loan owes once two people decided: interest and penalty accrued
        to today (China), then every receivable credited to the write-off expense. Once: a
        retry finds the loan written off."""
        if len(set(request.decided_by)) < 2:
            raise invalid(f"writing off loan {request.loan_id} takes two different people")
        today = china_day(activity.info().current_attempt_scheduled_time)
        with transaction(self._sessions) as session:
            row = locked_loan(session, request.loan_id)
            if row.status == LoanStatus.WRITTEN_OFF:
                return
            book_accrual(session, row, to_day=today, journal_id=f"{row.id}:accrual:write-off")
            total = row.owed()
            if total:
                post_journal(
                    session,
                    journal_id=f"{row.id}:write-off",
                    loan_id=row.id,
                    kind=JournalKind.WRITE_OFF,
                    booked_on=today,
                    memo=f"loan {row.id} written off: {request.reason}"[:2000],
                    currency=row.currency,
                    lines=[
                        (Account.WRITE_OFF, total),
                        (Account.PRINCIPAL, -row.principal_owed),
                        (Account.FEE_RECEIVABLE, -row.fee_owed),
                        (Account.INTEREST_RECEIVABLE, -row.interest_owed),
                        (Account.PENALTY_RECEIVABLE, -row.penalty_owed),
                    ],
                )
            row.principal_owed = row.fee_owed = row.interest_owed = row.penalty_owed = Decimal(0)
            row.written_off = total
            row.status, row.status_reason = LoanStatus.WRITTEN_OFF.value, request.reason
            audit_once(
                session,
                SYSTEM_ACTOR,
                "loan.written_off",
                row.id,
                {
                    "amount": str(total),
                    "currency": row.currency,
                    "decided_by": list(request.decided_by),
                    "reason": request.reason,
                },
            )
            _alert_on_bad_debt(session, row.currency, row.id)


def _alert_on_bad_debt(session: Session, currency: str, loan_id: str) -> None:
    """The portfolio shows the bad-debt rate; a write-off that leaves it past the warning line
    also tells platform finance at once, in the same transaction as the write-off."""
    written_off, disbursed = bad_debt_figures(session, currency)
    rate = bad_debt_rate(written_off, disbursed)
    if not bad_debt_alert(rate):
        return
    store_notification(
        session,
        NotifyInput(
            notification_id=f"bad_debt_alert:{loan_id}",
            org_id=OPERATOR_ORG_ID,
            role=Role.FINANCE,
            kind="bad_debt_alert",
            subject_type="loan",
            subject_id=loan_id,
            message=(
                f"The {currency} bad-debt rate is {rate:.2%} after loan {loan_id} was written "
                f"off ({money_text(written_off, currency)} of {money_text(disbursed, currency)} "
                f"paid out), past the {DEFAULT_PRODUCT.bad_debt_alert_rate:.1%} warning line."
            ),
        ),
    )
