"""The loan ledger and the daily bank reconciliations, for platform finance.

The ledger answers its journals a page at a time, in booking order, with the trial balance of
every journal the filters select (all pages): each currency's accounts, whose balances must sum
to zero (``api.routes.ledger_views``). A reconciliation compares a day's postings to the bank
account with the bank's own statement of the platform's supervised account; the daily process
(``workflows.reconciliation``) runs it each morning, and finance may run it again for a day.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, sessionmaker

from activities.bank_reconciliation import reconcile_day
from api.deps import PlatformDep, SessionDep
from api.errors import RETRY_SOON, invalid
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Page, ascending, descending, paged
from api.params import IdFilter
from api.routes.ledger_views import JournalView, TrialBalance, journal_views, trial_balance
from api.routes.loan_access import PlatformFinanceActor
from db.finance import Journal, Reconciliation
from gateways.bank import BankClient
from gateways.http_adapter import ExternalSystemUnavailable
from rules.waybill_parties import china_today
from settings import Settings

router = APIRouter(prefix="/finance", tags=["finance"])

BOOKING_ORDER = Keyset(
    "ledger",
    (ascending(Journal.booked_on), ascending(Journal.created_at), ascending(Journal.id)),
)
LATEST_DAY_FIRST = Keyset("reconciliations", (descending(Reconciliation.day),))


class Ledger(BaseModel):
    """A page of journals (the ``Link`` header's next for more) and the trial balance of all the
    journals the filters select."""

    journals: list[JournalView]
    trial_balance: list[TrialBalance]


class ReconcileRequest(BaseModel):
    """A day (China time) that has closed: before today."""

    model_config = ConfigDict(extra="forbid")

    day: date


class ReconciliationView(BaseModel):
    """One day's comparison: the movements that matched, and each difference found (none when
    the ledger and the bank agree: ``agreed``)."""

    day: date
    run_at: datetime
    matched: int
    differences: list[str]
    agreed: bool


@router.get("/ledger", responses=NEXT_PAGE_HEADERS)
def get_ledger(
    _: PlatformFinanceActor,
    session: SessionDep,
    page: Annotated[Page, paged(BOOKING_ORDER)],
    loan_id: IdFilter = None,
    start: Annotated[date | None, Query(description="first booking day")] = None,
    end: Annotated[date | None, Query(description="last booking day")] = None,
) -> Ledger:
    """Journals with their postings in booking order, and the trial balance by currency and
    account (platform finance)."""
    if start is not None and end is not None and start > end:
        raise invalid("start", "after end")
    where: list[ColumnElement[bool]] = []
    if loan_id is not None:
        where.append(Journal.loan_id == loan_id)
    if start is not None:
        where.append(Journal.booked_on >= start)
    if end is not None:
        where.append(Journal.booked_on <= end)
    journals = page.rows(session, select(Journal).where(*where))
    return Ledger(
        journals=journal_views(session, journals), trial_balance=trial_balance(session, where)
    )


@router.get("/reconciliations", responses=NEXT_PAGE_HEADERS)
def list_reconciliations(
    _: PlatformFinanceActor,
    session: SessionDep,
    page: Annotated[Page, paged(LATEST_DAY_FIRST)],
) -> list[ReconciliationView]:
    """The daily comparisons of the ledger's bank account with the bank's statement, latest
    day first (platform finance)."""
    return [reconciliation_view(row) for row in page.rows(session, select(Reconciliation))]


def reconciliation_view(row: Reconciliation) -> ReconciliationView:
    differences = [str(item) for item in row.differences.get("items", [])]
    return ReconciliationView(
        day=row.day,
        run_at=row.run_at,
        matched=row.matched,
        differences=differences,
        agreed=not differences,
    )


@router.post("/reconciliations")
async def run_reconciliation(
    body: ReconcileRequest, _: PlatformFinanceActor, platform: PlatformDep
) -> ReconciliationView:
    """Reconcile a day again now: the bank's statement of the supervised account against the
    ledger's bank postings, as the daily process does; its record replaces the day's last
    (platform finance)."""
    if body.day >= china_today():
        raise invalid("day", "only a day that has closed, before today (China time)")
    try:
        return await run_in_threadpool(_reconcile, platform.settings, platform.sessions, body.day)
    except ExternalSystemUnavailable:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="the bank is unavailable; retry shortly",
            headers=RETRY_SOON,
        ) from None


def _reconcile(
    settings: Settings, sessions: sessionmaker[Session], day: date
) -> ReconciliationView:
    """The daily process's own step, run now with a bank client of our own."""
    with BankClient.from_settings(settings) as bank:
        reconcile_day(sessions, bank, settings.bank_platform_account, day)
    with sessions() as session:
        return reconciliation_view(session.get_one(Reconciliation, day))
