"""Commands on a running RFQ: quote, revise or decline (suppliers); move the deadline, close
quoting early or cancel (its buyer).

Each is an update on the RFQ's ``RfqWorkflow``, validated there so no path can skip the rules;
the API checks the caller may act on the RFQ and, for a quote, the supplier's attachments and
standing first. The award is decided through ``POST /tasks/{task_id}/decision``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, BaseModel, Field

from api.deps import PlatformDep, SupplierActor, not_found
from api.errors import invalid
from api.idempotency import update_id
from api.params import MAX_INT4, IdPath
from api.platform import Platform
from api.routes.rfq_access import FINAL, BuyerActor, visible_rfq
from api.routes.rfq_opening import MAX_QUOTING
from contracts.accreditation import AccreditationStatus
from contracts.catalogue_orders import CATALOGUE_PURCHASE
from contracts.common import Actor, Text
from contracts.sourcing import (
    BuyerActionInput,
    DeclineInput,
    ExtendDeadlineInput,
    QuoteReceipt,
    QuoteTerms,
    RfqView,
    SubmitQuoteInput,
)
from db.models import Document, Rfq, SupplierAccreditation

router = APIRouter(prefix="/rfqs", tags=["sourcing"])

Reason = Annotated[Text, Field(max_length=2000)]


class QuoteRequest(BaseModel):
    terms: QuoteTerms
    replaces_revision: Annotated[int, Field(ge=1, le=MAX_INT4)] | None = None


class DeclineRequest(BaseModel):
    reason: Reason = ""


class DeadlineRequest(BaseModel):
    new_deadline: AwareDatetime


class ReasonRequest(BaseModel):
    reason: Reason = ""


def _running(platform: Platform, actor: Actor, rfq_id: str, *, buyer: bool) -> Rfq:
    with platform.sessions() as session:
        row, mine = visible_rfq(session, actor, rfq_id)
        if buyer and mine is not None:
            raise not_found("RFQ")
        if row.status in FINAL:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=f"the RFQ is {row.status}")
        if row.origin == CATALOGUE_PURCHASE:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail="a purchase from the catalogue takes no quotes or RFQ commands: its "
                "offers' terms are its quote (GET /catalogue/orders/{id})",
            )
        return row


def _standing(platform: Platform, actor: Actor, quote: QuoteRequest) -> str:
    """The supplier's standing now, after checking its attachments are its own documents."""
    with platform.sessions() as session:
        for i, ref in enumerate(quote.terms.attachments):
            document = session.get(Document, ref.document_id)
            if document is None or document.org_id != actor.org_id or document.sha256 != ref.sha256:
                raise invalid(
                    f"terms.attachments.{i}",
                    "no document of your organisation with this id and hash",
                )
        row = session.get(SupplierAccreditation, actor.org_id)
    if row is None:
        return "not_accredited"
    if row.status == AccreditationStatus.ACCREDITED and row.expires_on <= date.today():
        return "expired"
    return row.status


def _update_id(request: Request, actor: Actor) -> str | None:
    key = request.headers.get("idempotency-key")
    return update_id(actor.user_id, key) if key else None


@router.post("/{rfq_id}/quotes")
async def submit_quote(
    rfq_id: IdPath,
    quote: QuoteRequest,
    actor: SupplierActor,
    platform: PlatformDep,
    request: Request,
) -> QuoteReceipt:
    """Quote, or revise naming the revision you saw (``replaces_revision``); a stale one is 409."""
    row = await run_in_threadpool(_running, platform, actor, rfq_id, buyer=False)
    standing = await run_in_threadpool(_standing, platform, actor, quote)
    receipt: QuoteReceipt = await platform.temporal.get_workflow_handle(
        row.workflow_id
    ).execute_update(
        "submit_quote",
        SubmitQuoteInput(
            terms=quote.terms,
            replaces_revision=quote.replaces_revision,
            actor=actor,
            standing=standing,
        ),
        result_type=QuoteReceipt,
        id=_update_id(request, actor),
    )
    return receipt


@router.post("/{rfq_id}/decline")
async def decline(
    rfq_id: IdPath,
    body: DeclineRequest,
    actor: SupplierActor,
    platform: PlatformDep,
    request: Request,
) -> QuoteReceipt:
    """Decline to quote; withdraws any quote you had made."""
    row = await run_in_threadpool(_running, platform, actor, rfq_id, buyer=False)
    receipt: QuoteReceipt = await platform.temporal.get_workflow_handle(
        row.workflow_id
    ).execute_update(
        "decline_rfq",
        DeclineInput(reason=body.reason, actor=actor),
        result_type=QuoteReceipt,
        id=_update_id(request, actor),
    )
    return receipt


@router.post("/{rfq_id}/deadline")
async def extend_deadline(
    rfq_id: IdPath,
    body: DeadlineRequest,
    actor: BuyerActor,
    platform: PlatformDep,
    request: Request,
) -> RfqView:
    """Move the quote deadline later; invited suppliers are told."""
    now = datetime.now(UTC)
    if body.new_deadline <= now:
        raise invalid("new_deadline", "must be in the future")
    if body.new_deadline > now + MAX_QUOTING:
        raise invalid("new_deadline", f"must be within {MAX_QUOTING.days} days")
    return await _buyer_update(
        platform,
        request,
        actor,
        rfq_id,
        "extend_deadline",
        ExtendDeadlineInput(new_deadline=body.new_deadline, actor=actor),
    )


@router.post("/{rfq_id}/close")
async def close_early(
    rfq_id: IdPath, body: ReasonRequest, actor: BuyerActor, platform: PlatformDep, request: Request
) -> RfqView:
    """Close quoting before the deadline; only once every invited supplier has answered."""
    update = BuyerActionInput(reason=body.reason, actor=actor)
    return await _buyer_update(platform, request, actor, rfq_id, "close_early", update)


@router.post("/{rfq_id}/cancel")
async def cancel(
    rfq_id: IdPath, body: ReasonRequest, actor: BuyerActor, platform: PlatformDep, request: Request
) -> RfqView:
    """Cancel the RFQ while quoting, giving the reason the suppliers are told."""
    if not body.reason.strip():
        raise invalid("reason", "a cancellation must give its reason")
    update = BuyerActionInput(reason=body.reason, actor=actor)
    return await _buyer_update(platform, request, actor, rfq_id, "cancel_rfq", update)


async def _buyer_update(
    platform: Platform,
    request: Request,
    actor: Actor,
    rfq_id: str,
    name: str,
    update: ExtendDeadlineInput | BuyerActionInput,
) -> RfqView:
    row = await run_in_threadpool(_running, platform, actor, rfq_id, buyer=True)
    view: RfqView = await platform.temporal.get_workflow_handle(row.workflow_id).execute_update(
        name, update, result_type=RfqView, id=_update_id(request, actor)
    )
    return view
