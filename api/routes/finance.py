"""The loan portfolio for platform oversight: what was lent, what is owed, by whom, how late, and
the bad-debt rate with its alert.

Figures are by currency, never summed across currencies. Money that moved comes from the ledger
(``db.finance``): ``disbursed`` is the principal the payouts booked, ``written_off`` the
write-off expense booked. What is owed comes from the loan rows, the balance of record, plus the
interest and penalty interest accrued since each was last booked, to today (China day): the same
figure a loan's own view shows. Exposure and the overdue buckets count the loans being repaid
(disbursed or overdue). The bad-debt rate is written off / disbursed, and ``alert`` is set when it
is above the product's warning line (0.5%: ``rules.loan_portfolio``). The ledger itself and the
bank reconciliations are in ``api.routes.finance_ledger``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import SessionDep
from api.routes import loan_access as access
from contracts.common import Line
from contracts.finance import REPAYING_STATUSES
from db.finance import Account, JournalKind, Loan, ledger_sums
from db.models import Organisation
from rules.day_count import DayCount
from rules.loan_accrual import accrue
from rules.loan_portfolio import (
    OVERDUE_BUCKETS,
    bad_debt_alert,
    bad_debt_rate,
    days_overdue,
    overdue_bucket,
)
from rules.loan_terms import DEFAULT_PRODUCT
from rules.waybill_parties import china_today

router = APIRouter(prefix="/finance", tags=["finance"])

CurrencyFilter = Annotated[
    Line | None, Query(pattern=r"^[A-Z]{3}$", min_length=3, max_length=3, description="one only")
]


class Exposure(BaseModel):
    """What one organisation's loans owe today, and how many loans."""

    org_id: str
    name: str
    amount: Decimal
    loans: int


class OverdueBucket(BaseModel):
    """Loans by days past their due date: current, 1-30, 31-60, 61-90, 90+."""

    bucket: str
    loans: int
    amount: Decimal


class CurrencyPortfolio(BaseModel):
    """One currency's book. ``outstanding`` = ``principal_owed`` + ``accrued`` (fee, interest
    and penalty owed, accrued to today); exposure largest first."""

    currency: str
    disbursed: Decimal
    principal_owed: Decimal
    accrued: Decimal
    outstanding: Decimal
    loans_outstanding: int
    by_supplier: list[Exposure]
    by_buyer: list[Exposure]
    overdue: list[OverdueBucket]
    written_off: Decimal
    bad_debt_rate: Decimal
    alert: bool


class Portfolio(BaseModel):
    """The book by currency on ``as_of`` (China day); ``alert_above`` is the bad-debt warning
    line, a fraction (0.005 is 0.5%)."""

    as_of: date
    alert_above: Decimal
    currencies: list[CurrencyPortfolio]


@router.get("/portfolio")
def get_portfolio(
    _: access.OversightActor,
    session: SessionDep,
    currency: CurrencyFilter = None,
) -> Portfolio:
    """Disbursed, outstanding, exposure by supplier and by buyer, overdue buckets, written off
    and the bad-debt rate with its alert, by currency (platform finance, ops supervisors,
    admins)."""
    today = china_today()
    books: dict[str, _Book] = {}

    def book(code: str) -> _Book:
        return books.setdefault(code, _Book(code))

    for code, amount in ledger_sums(session, JournalKind.DISBURSEMENT, Account.PRINCIPAL):
        book(code).disbursed = amount
    for code, amount in ledger_sums(session, JournalKind.WRITE_OFF, Account.WRITE_OFF):
        book(code).written_off = amount
    # Only the columns the figures need, the rates read out of the terms by the database:
    # whole rows with their JSON decoded and validated cost ten times as much per loan.
    query = select(
        Loan.currency,
        Loan.supplier_org_id,
        Loan.buyer_org_id,
        Loan.principal_owed,
        Loan.fee_owed + Loan.interest_owed + Loan.penalty_owed,
        Loan.accrued_to,
        Loan.due_on,
        Loan.terms["interest_rate"].astext,
        Loan.terms["penalty_rate"].astext,
        Loan.terms["day_count"].astext,
    ).where(Loan.status.in_([s.value for s in REPAYING_STATUSES]))
    for row in session.execute(query.order_by(Loan.id)):
        book(row[0]).add(_Owing(*row[1:]), today)
    names = _names(session, {org for b in books.values() for org in b.orgs()})
    codes = sorted(c for c in books if currency is None or c == currency)
    return Portfolio(
        as_of=today,
        alert_above=DEFAULT_PRODUCT.bad_debt_alert_rate,
        currencies=[books[c].view(names) for c in codes],
    )


def _names(session: Session, org_ids: set[str]) -> dict[str, str]:
    if not org_ids:
        return {}
    query = select(Organisation.id, Organisation.legal_name).where(Organisation.id.in_(org_ids))
    return {org_id: name for org_id, name in session.execute(query)}


@dataclass
class _Tally:
    amount: Decimal = Decimal(0)
    loans: int = 0

    def add(self, amount: Decimal) -> None:
        self.amount += amount
        self.loans += 1


@dataclass(frozen=True)
class _Owing:
    """What a loan being repaid owes, as booked, and its rates."""

    supplier_org_id: str
    buyer_org_id: str
    principal_owed: Decimal
    costs_owed: Decimal  # fee, interest and penalty booked
    accrued_to: date | None
    due_on: date | None
    interest_rate: str | None
    penalty_rate: str | None
    day_count: str | None

    def accrued_since_booked(self, today: date) -> tuple[Decimal, Decimal]:
        """(interest, penalty) earned since the balance was booked (``rules.loan_accrual``)."""
        if (
            self.accrued_to is None
            or self.due_on is None
            or self.interest_rate is None
            or self.penalty_rate is None
            or self.day_count is None
        ):
            return Decimal(0), Decimal(0)
        return accrue(
            self.principal_owed,
            interest_rate=Decimal(self.interest_rate),
            penalty_rate=Decimal(self.penalty_rate),
            convention=DayCount(self.day_count),
            accrued_to=self.accrued_to,
            due_on=self.due_on,
            to_day=today,
        )


@dataclass
class _Book:
    """One currency's figures, gathered loan by loan."""

    currency: str
    disbursed: Decimal = Decimal(0)
    written_off: Decimal = Decimal(0)
    principal_owed: Decimal = Decimal(0)
    accrued: Decimal = Decimal(0)
    loans: int = 0
    suppliers: dict[str, _Tally] = field(default_factory=dict)
    buyers: dict[str, _Tally] = field(default_factory=dict)
    buckets: dict[str, _Tally] = field(default_factory=dict)

    def add(self, row: _Owing, today: date) -> None:
        interest, penalty = row.accrued_since_booked(today)
        accrued = row.costs_owed + interest + penalty
        owed = row.principal_owed + accrued
        self.principal_owed += row.principal_owed
        self.accrued += accrued
        self.loans += 1
        self.suppliers.setdefault(row.supplier_org_id, _Tally()).add(owed)
        self.buyers.setdefault(row.buyer_org_id, _Tally()).add(owed)
        late = days_overdue(row.due_on, today) if row.due_on is not None else 0
        self.buckets.setdefault(overdue_bucket(late), _Tally()).add(owed)

    def orgs(self) -> set[str]:
        return set(self.suppliers) | set(self.buyers)

    def view(self, names: dict[str, str]) -> CurrencyPortfolio:
        rate = bad_debt_rate(self.written_off, self.disbursed)
        return CurrencyPortfolio(
            currency=self.currency,
            disbursed=self.disbursed,
            principal_owed=self.principal_owed,
            accrued=self.accrued,
            outstanding=self.principal_owed + self.accrued,
            loans_outstanding=self.loans,
            by_supplier=_exposures(self.suppliers, names),
            by_buyer=_exposures(self.buyers, names),
            overdue=[
                OverdueBucket(bucket=name, loans=tally.loans, amount=tally.amount)
                for name in OVERDUE_BUCKETS
                for tally in [self.buckets.get(name, _Tally())]
            ],
            written_off=self.written_off,
            bad_debt_rate=rate,
            alert=bad_debt_alert(rate),
        )


def _exposures(tallies: dict[str, _Tally], names: dict[str, str]) -> list[Exposure]:
    ranked = sorted(tallies.items(), key=lambda item: (-item[1].amount, item[0]))
    return [
        Exposure(org_id=org_id, name=names.get(org_id, ""), amount=t.amount, loans=t.loans)
        for org_id, t in ranked
    ]
