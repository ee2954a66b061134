"""Reading the loan ledger: journals with their postings, a loan's statement and trial balances.

The ledger is the record of every movement of money (``db.finance``); these views only read it.
Postings are signed, a debit positive and a credit negative, so a journal's postings, and any
set of whole journals, sum to zero in each currency: the trial balance shows that sum, and a
non-zero one is a fault to investigate, not a figure to hide. What a loan owes, as the ledger
sees it, is the balance of its four receivable accounts (principal, fee, interest, penalty).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from db.finance import Account, Journal, Posting

RECEIVABLES = (
    Account.PRINCIPAL,
    Account.FEE_RECEIVABLE,
    Account.INTEREST_RECEIVABLE,
    Account.PENALTY_RECEIVABLE,
)
BOOKING_ORDER = (Journal.booked_on, Journal.created_at, Journal.id)


class PostingView(BaseModel):
    account: str
    amount: Decimal  # debit positive, credit negative
    currency: str


class JournalView(BaseModel):
    """One balanced journal: what moved, booked on which day, with the bank's reference for
    the movements the bank's statement shows."""

    journal_id: str
    loan_id: str
    kind: str
    booked_on: date
    memo: str
    bank_reference: str | None
    postings: list[PostingView]


class StatementLine(JournalView):
    """``owed_change``: how the journal changed what the loan owes; ``owed_after`` the result."""

    owed_change: Decimal
    owed_after: Decimal


class Statement(BaseModel):
    """A loan's journals booked from ``start`` to ``end`` (both included; open when null), in
    booking order, and what it owed before the first and after the last."""

    loan_id: str
    currency: str
    start: date | None
    end: date | None
    opening_owed: Decimal
    closing_owed: Decimal
    lines: list[StatementLine]


class AccountBalance(BaseModel):
    account: str
    debits: Decimal
    credits: Decimal  # as a positive figure
    balance: Decimal  # debits less credits


class TrialBalance(BaseModel):
    """One currency's accounts; ``total`` is the sum of their balances, which must be zero
    (``balanced``)."""

    currency: str
    accounts: list[AccountBalance]
    total: Decimal
    balanced: bool


def journal_views(session: Session, journals: Sequence[Journal]) -> list[JournalView]:
    """The journals with their postings, in the order given."""
    postings = _postings(session, [j.id for j in journals])
    return [_journal(j, postings.get(j.id, [])) for j in journals]


def _postings(session: Session, journal_ids: list[str]) -> dict[str, list[PostingView]]:
    found: dict[str, list[PostingView]] = {}
    if not journal_ids:
        return found
    query = select(Posting).where(Posting.journal_id.in_(journal_ids)).order_by(Posting.id)
    for p in session.scalars(query):
        view = PostingView(account=p.account, amount=p.amount, currency=p.currency)
        found.setdefault(p.journal_id, []).append(view)
    return found


def _journal(row: Journal, postings: list[PostingView]) -> JournalView:
    return JournalView(
        journal_id=row.id,
        loan_id=row.loan_id,
        kind=row.kind,
        booked_on=row.booked_on,
        memo=row.memo,
        bank_reference=row.bank_reference,
        postings=postings,
    )


def _owed_change(postings: list[PostingView]) -> Decimal:
    receivable = {a.value for a in RECEIVABLES}
    return sum((p.amount for p in postings if p.account in receivable), Decimal(0))


def statement(
    session: Session, *, loan_id: str, currency: str, start: date | None, end: date | None
) -> Statement:
    """The loan's statement (``Statement``) from its journals."""
    owed_before = Decimal(0)
    if start is not None:
        owed_before = Decimal(
            session.scalar(
                select(func.coalesce(func.sum(Posting.amount), 0))
                .join(Journal, Journal.id == Posting.journal_id)
                .where(Journal.loan_id == loan_id, Journal.booked_on < start)
                .where(Posting.account.in_([a.value for a in RECEIVABLES]))
            )
            or 0
        )
    query = select(Journal).where(Journal.loan_id == loan_id)
    if start is not None:
        query = query.where(Journal.booked_on >= start)
    if end is not None:
        query = query.where(Journal.booked_on <= end)
    owed = owed_before
    lines = []
    for view in journal_views(session, list(session.scalars(query.order_by(*BOOKING_ORDER)))):
        change = _owed_change(view.postings)
        owed += change
        lines.append(StatementLine(**view.model_dump(), owed_change=change, owed_after=owed))
    return Statement(
        loan_id=loan_id,
        currency=currency,
        start=start,
        end=end,
        opening_owed=owed_before,
        closing_owed=owed,
        lines=lines,
    )


def trial_balance(session: Session, where: Sequence[ColumnElement[bool]]) -> list[TrialBalance]:
    """Each currency's account balances over the journals ``where`` selects."""
    debit = func.sum(case((Posting.amount > 0, Posting.amount), else_=0))
    credit = func.sum(case((Posting.amount < 0, -Posting.amount), else_=0))
    query = (
        select(Posting.currency, Posting.account, debit, credit)
        .join(Journal, Journal.id == Posting.journal_id)
        .where(*where)
        .group_by(Posting.currency, Posting.account)
        .order_by(Posting.currency, Posting.account)
    )
    by_currency: dict[str, list[AccountBalance]] = {}
    for currency, account, debits, credits in session.execute(query):
        by_currency.setdefault(currency, []).append(
            AccountBalance(
                account=account,
                debits=Decimal(debits),
                credits=Decimal(credits),
                balance=Decimal(debits) - Decimal(credits),
            )
        )
    balances = []
    for currency, accounts in by_currency.items():
        total = sum((a.balance for a in accounts), Decimal(0))
        balances.append(
            TrialBalance(currency=currency, accounts=accounts, total=total, balanced=total == 0)
        )
    return balances
