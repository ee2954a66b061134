"""Reading RFQs: the list, one RFQ with its invitations and live status, and its quotes (the
side-by-side comparison is ``api.routes.rfq_comparison``).

A buyer's organisation sees its RFQs whole; an invited supplier sees the RFQ's terms, its own
invitation and its own quotes. Reads come from the rows the process records, plus its live
``get_status`` for the buyer; a sealed RFQ shows the buyer no quote until quoting closes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from api.deps import PlatformDep, SessionDep, read_then_release
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Page, ascending, descending, paged
from api.params import IdPath
from api.routes.rfq_access import SourcingActor, visible_rfq
from contracts.common import Actor, Role
from contracts.sourcing import (
    EvaluationWeights,
    Incoterm,
    QuoteTerms,
    RfqLine,
    RfqStatus,
    RfqView,
)
from db.models import QuoteRecord, Rfq, RfqInvitation
from db.sourcing import rfq_input

router = APIRouter(prefix="/rfqs", tags=["sourcing"])

_LIVE_TIMEOUT = timedelta(seconds=5)
NEWEST_FIRST = Keyset("rfqs", (descending(Rfq.created_at), ascending(Rfq.id)))
LATEST_QUOTE_FIRST = Keyset(
    "quotes", (descending(QuoteRecord.submitted_at), ascending(QuoteRecord.id))
)


class InvitationView(BaseModel):
    supplier_org_id: str
    status: str  # invited | quoted | declined
    decline_reason: str
    answered_at: datetime | None


class RfqSummary(BaseModel):
    rfq_id: str
    title: str
    status: str
    sealed: bool
    currency: str
    quote_deadline: datetime
    needed_by: date
    created_at: datetime
    url: str
    # "rfq" when sourced, "catalogue" for a purchase straight from the catalogue recorded as an
    # RFQ (its quote is the offers' terms; it takes no commands: GET /catalogue/orders/{id}).
    origin: str = "rfq"


class RfqDetail(RfqSummary):
    """The buyer sees every invitation and the live process; a supplier only its own."""

    status_reason: str
    buyer_org_id: str
    buyer_legal_name: str
    category: str | None
    delivery_place: str
    incoterm: Incoterm
    payment_terms: str
    weights: EvaluationWeights
    lines: list[RfqLine]
    invitations: list[InvitationView] | None = None
    my_invitation: InvitationView | None = None
    live: RfqView | None = None


class QuoteView(BaseModel):
    quote_id: str
    supplier_org_id: str
    revision: int
    status: str  # active | superseded | declined
    terms: QuoteTerms
    submitted_by: str
    submitted_at: datetime


@router.get("", responses=NEXT_PAGE_HEADERS)
def list_rfqs(
    actor: SourcingActor,
    session: SessionDep,
    page: Annotated[Page, paged(NEWEST_FIRST)],
    status_filter: Annotated[RfqStatus | None, Query(alias="status")] = None,
) -> list[RfqSummary]:
    """A buyer's organisation's RFQs, or the RFQs a supplier is invited to; newest first, a
    page at a time (the ``Link`` header's next)."""
    query = select(Rfq).where(or_(*rfq_audience(actor)))
    if status_filter is not None:
        query = query.where(Rfq.status == status_filter.value)
    return [RfqSummary(**_summary(row)) for row in page.rows(session, query)]


def rfq_audience(actor: Actor) -> list[ColumnElement[bool]]:
    """The RFQ conditions the caller sees: its organisation's as buyer, those it is invited to
    as supplier (the workbench's register asks the same)."""
    audience: list[ColumnElement[bool]] = []
    if actor.has_any(Role.BUYER):
        audience.append(Rfq.buyer_org_id == actor.org_id)
    if actor.has_any(Role.SUPPLIER):
        invited = select(RfqInvitation.rfq_id).where(RfqInvitation.supplier_org_id == actor.org_id)
        audience.append(Rfq.id.in_(invited))
    return audience


@router.get("/{rfq_id}")
async def get_rfq(
    rfq_id: IdPath, actor: SourcingActor, session: SessionDep, platform: PlatformDep
) -> RfqDetail:
    """One RFQ: its lines and terms; for its buyer also every invitation and the live status.
    404 until the process has recorded it (moments after the 202)."""
    read = partial(_detail, actor=actor, rfq_id=rfq_id)
    detail, workflow_id = await read_then_release(session, read)
    if detail.invitations is not None:
        detail.live = await platform.live_status(workflow_id, RfqView, timeout=_LIVE_TIMEOUT)
    return detail


def _detail(session: Session, *, actor: Actor, rfq_id: str) -> tuple[RfqDetail, str]:
    row, mine = visible_rfq(session, actor, rfq_id)
    body = rfq_input(row)
    invitations = session.scalars(
        select(RfqInvitation)
        .where(RfqInvitation.rfq_id == rfq_id)
        .order_by(RfqInvitation.supplier_org_id)
    )
    detail = RfqDetail(
        **_summary(row),
        status_reason=row.status_reason,
        buyer_org_id=row.buyer_org_id,
        buyer_legal_name=body.buyer_legal_name,
        category=row.category,
        delivery_place=body.delivery_place,
        incoterm=body.incoterm,
        payment_terms=body.payment_terms,
        weights=body.weights,
        lines=list(body.lines),
    )
    if mine is None:
        detail.invitations = [_invitation(i) for i in invitations]
    else:
        detail.my_invitation = _invitation(mine)
    return detail, row.workflow_id


def _summary(row: Rfq) -> dict[str, Any]:
    return {
        "rfq_id": row.id,
        "title": row.title,
        "status": row.status,
        "sealed": row.sealed,
        "currency": row.currency,
        "quote_deadline": row.quote_deadline,
        "needed_by": row.needed_by,
        "created_at": row.created_at,
        "url": f"/rfqs/{row.id}",
        "origin": row.origin,
    }


def _invitation(row: RfqInvitation) -> InvitationView:
    return InvitationView(
        supplier_org_id=row.supplier_org_id,
        status=row.status,
        decline_reason=row.decline_reason,
        answered_at=row.answered_at,
    )


def unsealed(row: Rfq) -> None:
    """409 while a sealed RFQ's quoting is open: its quotes and comparison are not shown."""
    if row.sealed and row.status == RfqStatus.OPEN.value:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"sealed until the quote deadline {row.quote_deadline.isoformat()}: quotes "
            "and the comparison are shown once quoting closes",
        )


@router.get("/{rfq_id}/quotes", responses=NEXT_PAGE_HEADERS)
def list_quotes(
    rfq_id: IdPath,
    actor: SourcingActor,
    session: SessionDep,
    page: Annotated[Page, paged(LATEST_QUOTE_FIRST)],
) -> list[QuoteView]:
    """Every revision, newest first, a page at a time: a supplier sees only its own; the buyer
    all, once a sealed RFQ has closed."""
    row, mine = visible_rfq(session, actor, rfq_id)
    query = select(QuoteRecord).where(QuoteRecord.rfq_id == rfq_id)
    if mine is None:
        unsealed(row)
    else:
        query = query.where(QuoteRecord.supplier_org_id == actor.org_id)
    return [
        QuoteView(
            quote_id=q.id,
            supplier_org_id=q.supplier_org_id,
            revision=q.revision,
            status=q.status,
            terms=QuoteTerms.model_validate(q.terms),
            submitted_by=q.submitted_by,
            submitted_at=q.submitted_at,
        )
        for q in page.rows(session, query)
    ]


# Every offer of the largest RFQ (200 lines x 200 suppliers) is 22 MB of JSON: a line's best five
# by default (DEFAULT_TOP, the view filed as quoting closes); MAX_SUPPLIERS, a line's most offers
# (an active quote a supplier), shows them all.
