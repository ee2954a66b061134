"""Order loans: the list, one loan with its schedule, balance and repayments, and its statement.

Reads come from the rows the loan's process records (``db.finance``), plus the open tasks from
its ``get_status`` query while it runs. Who sees what, and the buyer's view without the pricing:
``api.routes.loan_access``; applying and withdrawing: ``api.routes.loan_commands``.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from api.deps import CurrentActor, PlatformDep, SessionDep, read_then_release
from api.errors import invalid
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Page, ascending, descending, paged
from api.params import IdFilter, IdPath
from api.routes import loan_access as access
from api.routes.ledger_views import Statement, statement
from contracts.common import Actor
from contracts.finance import ACTIVE_STATUSES, LoanStatus, LoanView
from db.finance import Loan
from rules.waybill_parties import china_today

router = APIRouter(prefix="/loans", tags=["loans"])

NEWEST_FIRST = Keyset("loans", (descending(Loan.applied_at), ascending(Loan.id)))


@router.get("", responses=NEXT_PAGE_HEADERS)
def list_loans(
    actor: CurrentActor,
    session: SessionDep,
    page: Annotated[Page, paged(NEWEST_FIRST)],
    status_filter: Annotated[LoanStatus | None, Query(alias="status")] = None,
    order_id: IdFilter = None,
) -> list[access.LoanSummary]:
    """Your organisation's loans as supplier, or the loans on its orders as buyer (without what
    they owe); platform finance, ops supervisors and admins see all. Newest first, a page at a
    time (the ``Link`` header's next)."""
    return [
        access.loan_summary(row, priced=access.sees_pricing(actor, row))
        for row in page.rows(session, listed_loans(actor, status_filter, order_id))
    ]


def listed_loans(
    actor: Actor, of_status: LoanStatus | None, order_id: str | None
) -> Select[tuple[Loan]]:
    """The list's query: the caller's loans (``visible_loans``), of a status or an order, which
    the indexes of migrations 0017 (each side's) and 0036 (oversight's) serve newest first."""
    query = select(Loan)
    sides = access.visible_loans(actor)
    if sides is not None:
        query = query.where(or_(*sides))
    if of_status is not None:
        query = query.where(Loan.status == of_status.value)
    if order_id is not None:
        query = query.where(Loan.order_id == order_id)
    return query


@router.get("/{loan_id}")
async def get_loan(
    loan_id: IdPath, actor: CurrentActor, session: SessionDep, platform: PlatformDep
) -> access.LoanDetail:
    """Status, amount, terms, the schedule to the due date, what is owed today, the
    registration, the repayments and the open tasks (the buyer sees no pricing)."""
    read = partial(_detail, actor=actor, loan_id=loan_id)
    detail, workflow_id = await read_then_release(session, read)
    if detail.status in ACTIVE_STATUSES:
        live = await platform.live_status(workflow_id, LoanView)
        if live is not None:
            detail.open_task_ids = list(live.open_task_ids)
    return detail


def _detail(session: Session, *, actor: Actor, loan_id: str) -> tuple[access.LoanDetail, str]:
    row = access.visible_loan(session, actor, loan_id)
    priced = access.sees_pricing(actor, row)
    detail = access.loan_detail(session, row, priced=priced, today=china_today())
    return detail, row.workflow_id


@router.get("/{loan_id}/statement")
def get_statement(
    loan_id: IdPath,
    actor: CurrentActor,
    session: SessionDep,
    start: Annotated[
        date | None, Query(description="first booking day; default: the first")
    ] = None,
    end: Annotated[date | None, Query(description="last booking day; default: the last")] = None,
) -> Statement:
    """The loan's ledger journals in booking order, with what it owed before and after
    (the loan's supplier and platform finance)."""
    row = access.visible_loan(session, actor, loan_id)
    if not access.reads_statement(actor, row):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="a loan's statement is its supplier's and platform finance's",
        )
    if start is not None and end is not None and start > end:
        raise invalid("start", "after end")
    return statement(session, loan_id=row.id, currency=row.currency, start=start, end=end)
