"""Order-loan financing's tables: loans, their repayments, the double-entry ledger and the daily
bank reconciliations.

The loan row is the balance of record: what the loan still owes, part by part (principal, fee,
interest, penalty), and the day interest was last accrued to. Every change to it is made in the
same transaction as the ledger journal that records the money behind it, and each journal's id
is the idempotency key of the step that booked it, so a retried step finds its journal and books
nothing twice.

The ledger is append-only and balanced by the database itself (migration 0013): a deferred
constraint trigger refuses, at commit, any journal whose postings do not sum to zero in each
currency or that has fewer than two postings; postings and journals cannot be updated or
deleted. Postings are signed: a debit is positive, a credit negative.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, Session, mapped_column

from contracts.finance import ACTIVE_STATUSES
from db.models import Base, JsonDict


class Account(StrEnum):
    """The chart of accounts. Assets are debited when they grow; the rest are credited."""

    BANK = "bank"  # the platform's supervised settlement account (监管账户) at the bank
    PRINCIPAL = "loan_principal"  # principal lent and not yet repaid
    FEE_RECEIVABLE = "fee_receivable"
    INTEREST_RECEIVABLE = "interest_receivable"
    PENALTY_RECEIVABLE = "penalty_receivable"
    FEE_INCOME = "fee_income"
    INTEREST_INCOME = "interest_income"
    PENALTY_INCOME = "penalty_income"
    SUPPLIER_PAYABLE = "supplier_payable"  # the rest of a buyer's payment, owed to the supplier
    WRITE_OFF = "write_off_expense"


class JournalKind(StrEnum):
    DISBURSEMENT = "disbursement"
    FEE = "fee"
    ACCRUAL = "accrual"  # interest and penalty earned up to a day
    REPAYMENT = "repayment"
    REMITTANCE = "remittance"
    WRITE_OFF = "write_off"


class Loan(Base):
    __tablename__ = "loans"
    __table_args__ = (
        # One live loan an order: the database's answer to two applications racing.
        Index(
            "loans_one_active_per_order",
            "order_id",
            unique=True,
            postgresql_where=text(
                "status IN (" + ", ".join(f"'{s.value}'" for s in sorted(ACTIVE_STATUSES)) + ")"
            ),
        ),
        # Each side's list newest first (api.routes.loans), migration 0017.
        Index("ix_loans_supplier_applied", "supplier_org_id", "applied_at", "id"),
        Index("ix_loans_buyer_applied", "buyer_org_id", "applied_at", "id"),
        Index("ix_loans_applied", "applied_at", "id"),  # staff's (migration 0036)
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    supplier_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    buyer_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    workflow_id: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(30))
    status_reason: Mapped[str] = mapped_column(Text, default="")
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Numeric(20, 2))  # applied for
    term_days: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(Text, default="")
    # The priced terms, once assessed (contracts.finance.LoanTerms as JSON) and the reasons.
    terms: Mapped[JsonDict | None]
    assessment: Mapped[JsonDict | None]
    approved_by: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    registration_number: Mapped[str | None] = mapped_column(String(60))
    registration_released: Mapped[bool] = mapped_column(default=False)
    payment_id: Mapped[str | None] = mapped_column(String(80))  # the bank's, for the payout
    disbursed_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    # The balance of record, changed only with the journal that books it.
    principal_owed: Mapped[Decimal] = mapped_column(Numeric(20, 2), default=Decimal(0))
    fee_owed: Mapped[Decimal] = mapped_column(Numeric(20, 2), default=Decimal(0))
    interest_owed: Mapped[Decimal] = mapped_column(Numeric(20, 2), default=Decimal(0))
    penalty_owed: Mapped[Decimal] = mapped_column(Numeric(20, 2), default=Decimal(0))
    accrued_to: Mapped[date | None] = mapped_column(Date)
    written_off: Mapped[Decimal] = mapped_column(Numeric(20, 2), default=Decimal(0))
    applied_by: Mapped[str] = mapped_column(String(40))
    applied_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

    def owed(self) -> Decimal:
        return self.principal_owed + self.fee_owed + self.interest_owed + self.penalty_owed


class LoanRepayment(Base):
    """One buyer payment applied to a loan: its split, kept for the supplier's statement."""

    __tablename__ = "loan_repayments"

    payment_id: Mapped[str] = mapped_column(String(120), primary_key=True)  # the order's
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id"), index=True)
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    penalty: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    interest: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    fee: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    principal: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    remitted: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    remittance_payment_id: Mapped[str | None] = mapped_column(String(80))  # the bank's
    outstanding_after: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Journal(Base):
    __tablename__ = "ledger_journals"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # the step's idempotency key
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    booked_on: Mapped[date] = mapped_column(Date, index=True)
    memo: Mapped[str] = mapped_column(Text)
    # The bank's payment id or idempotency key, for the movements the bank's statement shows.
    bank_reference: Mapped[str | None] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Posting(Base):
    __tablename__ = "ledger_postings"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    journal_id: Mapped[str] = mapped_column(ForeignKey("ledger_journals.id"), index=True)
    account: Mapped[str] = mapped_column(String(40), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(20, 2))  # debit +, credit -
    currency: Mapped[str] = mapped_column(String(3))


class Reconciliation(Base):
    """One day's comparison of the ledger's bank account with the bank's statement."""

    __tablename__ = "bank_reconciliations"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    run_at: Mapped[datetime]
    matched: Mapped[int] = mapped_column(Integer)
    differences: Mapped[JsonDict]  # {"items": [text, ...]}


def post_journal(
    session: Session,
    *,
    journal_id: str,
    loan_id: str,
    kind: JournalKind,
    booked_on: date,
    memo: str,
    currency: str,
    lines: list[tuple[Account, Decimal]],
    bank_reference: str | None = None,
) -> bool:
    """Book one journal (signed lines, debit +) unless a journal of that id exists; True when
    booked. Zero lines are left out; the database refuses an unbalanced journal at commit."""
    if session.get(Journal, journal_id) is not None:
        return False
    session.add(
        Journal(
            id=journal_id,
            loan_id=loan_id,
            kind=kind.value,
            booked_on=booked_on,
            memo=memo,
            bank_reference=bank_reference,
        )
    )
    session.flush()
    for account, amount in lines:
        if amount != 0:
            session.add(
                Posting(
                    journal_id=journal_id, account=account.value, amount=amount, currency=currency
                )
            )
    return True


def balance(session: Session, account: Account, *, loan_id: str | None = None) -> Decimal:
    """An account's balance (debits less credits), over one loan's journals or all."""
    query = select(func.coalesce(func.sum(Posting.amount), 0)).where(
        Posting.account == account.value
    )
    if loan_id is not None:
        query = query.join(Journal, Journal.id == Posting.journal_id).where(
            Journal.loan_id == loan_id
        )
    return Decimal(session.scalar(query) or 0)


def ledger_sums(session: Session, kind: JournalKind, account: Account) -> list[tuple[str, Decimal]]:
    """Each currency's booked balance of ``account`` over the journals of ``kind``: e.g. the
    principal paid out (disbursement journals, principal account) or written off."""
    query = (
        select(Posting.currency, func.sum(Posting.amount))
        .join(Journal, Journal.id == Posting.journal_id)
        .where(Journal.kind == kind.value, Posting.account == account.value)
        .group_by(Posting.currency)
    )
    return [(code, Decimal(total)) for code, total in session.execute(query)]


def bad_debt_figures(session: Session, currency: str) -> tuple[Decimal, Decimal]:
    """(written off, disbursed) in ``currency``: the bad-debt rate's two terms."""
    written = dict(ledger_sums(session, JournalKind.WRITE_OFF, Account.WRITE_OFF))
    paid_out = dict(ledger_sums(session, JournalKind.DISBURSEMENT, Account.PRINCIPAL))
    return written.get(currency, Decimal(0)), paid_out.get(currency, Decimal(0))
