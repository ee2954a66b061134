"""Requests for quotation: create, list and read them; quote, decline, compare and steer quoting.

Commands on a running RFQ are updates on its ``RfqWorkflow``, validated there so no path can
skip the rules; reads come from the rows its activities record. The award is decided through
``POST /tasks/{task_id}/decision`` with ``choices`` {line_id: supplier_org_id | "none"}.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, BaseModel, Field, model_validator
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import TemporalError

from activities.sourcing_records import latest_rate
from api.deps import PlatformDep, SessionDep, SupplierActor, not_found, require
from api.errors import invalid
from api.idempotency import update_id
from api.platform import Platform
from contracts.accreditation import AccreditationStatus
from contracts.common import Actor, OrgKind, Role
from contracts.sourcing import (
    DEFAULT_APPROVAL_CHAIN,
    BuyerActionInput,
    Comparison,
    Currency,
    DeclineInput,
    EvaluationWeights,
    ExtendDeadlineInput,
    Incoterm,
    InvitedSupplier,
    QuoteReceipt,
    QuoteTerms,
    RfqInput,
    RfqLine,
    RfqStatus,
    RfqView,
    SubmitQuoteInput,
    Text200,
    rfq_workflow_id,
)
from db.models import (
    AccreditationApplication,
    ApprovalChainRecord,
    Document,
    Organisation,
    QuoteRecord,
    Rfq,
    RfqInvitation,
    SupplierAccreditation,
    new_id,
)
from db.sourcing import comparison_for, rfq_input
from rules.dangerous_goods import un_number_problem
from stack.temporal import ORG_ID, SUBJECT_ID

router = APIRouter(prefix="/rfqs", tags=["sourcing"])

BuyerActor = Annotated[Actor, Depends(require(Role.BUYER))]
SourcingActor = Annotated[Actor, Depends(require(Role.BUYER, Role.SUPPLIER))]
MAX_SUPPLIERS = 200
_FINAL = {RfqStatus.COMPLETED.value, RfqStatus.LAPSED.value, RfqStatus.CANCELLED.value}
_LIVE_TIMEOUT = timedelta(seconds=5)


class CreateRfq(BaseModel):
    """A new RFQ. Give exactly one of ``invited_supplier_ids`` or ``category`` (every supplier
    accredited in it is invited, best score first, at most 200). ``sealed`` defaults to false:
    a sealed RFQ shows the buyer no quote and no comparison until quoting closes."""

    title: Text200
    lines: list[RfqLine] = Field(min_length=1, max_length=200)
    delivery_place: Text200
    incoterm: Incoterm
    needed_by: date
    quote_deadline: AwareDatetime
    currency: Currency
    payment_terms: str = Field(min_length=1, max_length=2000)
    weights: EvaluationWeights = Field(default_factory=EvaluationWeights)
    sealed: bool = False
    invited_supplier_ids: list[str] | None = Field(
        default=None, min_length=1, max_length=MAX_SUPPLIERS
    )
    category: Annotated[str, Field(min_length=1, max_length=100)] | None = None

    @model_validator(mode="after")
    def _one_audience(self) -> CreateRfq:
        if (self.invited_supplier_ids is None) == (self.category is None):
            raise ValueError("give exactly one of invited_supplier_ids or category")
        return self


class Accepted(BaseModel):
    rfq_id: str
    workflow_id: str
    status: str
    url: str


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


class QuoteRequest(BaseModel):
    terms: QuoteTerms
    replaces_revision: int | None = Field(default=None, ge=1)


class DeclineRequest(BaseModel):
    reason: str = Field(default="", max_length=2000)


class DeadlineRequest(BaseModel):
    new_deadline: AwareDatetime


class ReasonRequest(BaseModel):
    reason: str = Field(default="", max_length=2000)


class QuoteView(BaseModel):
    quote_id: str
    supplier_org_id: str
    revision: int
    status: str  # active | superseded | declined
    terms: QuoteTerms
    submitted_by: str
    submitted_at: datetime


# -- create -------------------------------------------------------------------------------


@router.post("", status_code=status.HTTP_202_ACCEPTED)
async def create_rfq(
    body: CreateRfq, actor: BuyerActor, platform: PlatformDep, request: Request
) -> Accepted:
    """Open an RFQ; answers 202 and its URL while the process records it and invites."""
    key = request.headers.get("idempotency-key")
    # A retried request (its first answer lost to a 5xx) finds the process it already started.
    rfq_id = (
        "rfq_" + hashlib.sha256(f"{actor.user_id}\n{key}".encode()).hexdigest()[:32]
        if key
        else new_id("rfq")
    )
    rfq = await run_in_threadpool(_prepare, platform, body, actor, rfq_id, datetime.now(UTC))
    workflow_id = rfq_workflow_id(rfq.rfq_id)
    await platform.temporal.start_workflow(
        "RfqWorkflow",
        rfq,
        id=workflow_id,
        task_queue=platform.settings.task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING
        if key
        else WorkflowIDConflictPolicy.FAIL,
        search_attributes=TypedSearchAttributes(
            [SearchAttributePair(ORG_ID, actor.org_id), SearchAttributePair(SUBJECT_ID, rfq.rfq_id)]
        ),
    )
    return Accepted(
        rfq_id=rfq.rfq_id, workflow_id=workflow_id, status="open", url=f"/rfqs/{rfq.rfq_id}"
    )


def _prepare(
    platform: Platform, body: CreateRfq, actor: Actor, rfq_id: str, now: datetime
) -> RfqInput:
    """Check what needs the clock or the database and build the workflow's input."""
    _check_dates_and_lines(body, now)
    with platform.sessions() as session:
        buyer = session.get(Organisation, actor.org_id)
        if buyer is None or buyer.kind != OrgKind.BUYER:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only buyer organisations")
        suppliers = (
            _invited(session, body.invited_supplier_ids)
            if body.invited_supplier_ids is not None
            else _by_category(session, body.category or "")
        )
        _check_currency(session, actor.org_id, body.currency)
    return RfqInput(
        rfq_id=rfq_id,
        buyer_org_id=buyer.id,
        buyer_legal_name=buyer.legal_name,
        buyer_credit_code=buyer.credit_code,
        title=body.title,
        lines=tuple(body.lines),
        delivery_place=body.delivery_place,
        incoterm=body.incoterm,
        needed_by=body.needed_by,
        quote_deadline=body.quote_deadline,
        currency=body.currency,
        payment_terms=body.payment_terms,
        weights=body.weights,
        sealed=body.sealed,
        category=body.category,
        suppliers=suppliers,
        created_by=actor,
        created_at=now,
    )


def _check_dates_and_lines(body: CreateRfq, now: datetime) -> None:
    if body.quote_deadline <= now:
        raise invalid("quote_deadline", "must be in the future")
    if body.needed_by <= now.date():
        raise invalid("needed_by", "must be after today")
    if body.needed_by < body.quote_deadline.astimezone(UTC).date():
        raise invalid("needed_by", "must not be before the quote deadline")
    seen: set[str] = set()
    for i, line in enumerate(body.lines):
        if line.line_id in seen:
            raise invalid(f"lines.{i}.line_id", f"{line.line_id} is used by an earlier line")
        seen.add(line.line_id)
        if line.un_number is None:
            if line.packing_group is not None:
                raise invalid(f"lines.{i}.packing_group", "given without a un_number")
            continue
        if (problem := un_number_problem(line.un_number, line.packing_group)) is not None:
            raise invalid(f"lines.{i}.un_number", problem)


def _eligible(row: SupplierAccreditation | None) -> str | None:
    """Why a supplier may not be invited now, or None."""
    if row is None:
        return "is not accredited"
    if row.status != AccreditationStatus.ACCREDITED:
        return f"is {row.status}: only accredited suppliers may be invited"
    if row.expires_on <= date.today():
        return f"accreditation expired on {row.expires_on.isoformat()}"
    return None


def _invited(session: Session, org_ids: list[str]) -> tuple[InvitedSupplier, ...]:
    suppliers: list[InvitedSupplier] = []
    for i, org_id in enumerate(org_ids):
        field = f"invited_supplier_ids.{i}"
        org = session.get(Organisation, org_id)
        if org is None or org.kind != OrgKind.SUPPLIER:
            raise invalid(field, f"{org_id} is not a supplier organisation")
        if org_id in org_ids[:i]:
            raise invalid(field, f"{org_id} is listed twice")
        standing = session.get(SupplierAccreditation, org_id)
        if (problem := _eligible(standing)) is not None or standing is None:
            raise invalid(field, f"{org_id} {problem}")
        suppliers.append(_supplier(org, standing))
    return tuple(suppliers)


def _by_category(session: Session, category: str) -> tuple[InvitedSupplier, ...]:
    rows = session.execute(
        select(Organisation, SupplierAccreditation)
        .join(SupplierAccreditation, SupplierAccreditation.supplier_org_id == Organisation.id)
        .join(
            AccreditationApplication,
            AccreditationApplication.id == SupplierAccreditation.application_id,
        )
        .where(SupplierAccreditation.status == AccreditationStatus.ACCREDITED.value)
        .where(SupplierAccreditation.expires_on > date.today())
        .where(AccreditationApplication.product_categories.contains([category]))
        .order_by(SupplierAccreditation.score.desc(), Organisation.id)
        .limit(MAX_SUPPLIERS)
    ).all()
    if not rows:
        raise invalid("category", f"no accredited supplier offers the category {category!r}")
    return tuple(_supplier(org, standing) for org, standing in rows)


def _supplier(org: Organisation, standing: SupplierAccreditation) -> InvitedSupplier:
    return InvitedSupplier(
        org_id=org.id, legal_name=org.legal_name, credit_code=org.credit_code, score=standing.score
    )


def _check_currency(session: Session, buyer_org_id: str, currency: str) -> None:
    """Awards are approved in the chain's currency: the rate must exist before anyone quotes."""
    chain = session.get(ApprovalChainRecord, buyer_org_id)
    chain_currency = chain.currency if chain is not None else DEFAULT_APPROVAL_CHAIN.currency
    if currency != chain_currency and latest_rate(session, currency, chain_currency) is None:
        raise invalid(
            "currency",
            f"no exchange rate recorded for {currency}/{chain_currency} (either direction), "
            f"needed to check awards against your {chain_currency} approval chain",
        )


# -- read ---------------------------------------------------------------------------------


@router.get("")
def list_rfqs(
    actor: SourcingActor,
    session: SessionDep,
    status_filter: Annotated[RfqStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[RfqSummary]:
    """A buyer's organisation's RFQs, or the RFQs a supplier is invited to; newest first."""
    audience = []
    if actor.has_any(Role.BUYER):
        audience.append(Rfq.buyer_org_id == actor.org_id)
    if actor.has_any(Role.SUPPLIER):
        invited = select(RfqInvitation.rfq_id).where(RfqInvitation.supplier_org_id == actor.org_id)
        audience.append(Rfq.id.in_(invited))
    query = select(Rfq).where(or_(*audience)).order_by(Rfq.created_at.desc()).limit(limit)
    if status_filter is not None:
        query = query.where(Rfq.status == status_filter.value)
    return [RfqSummary(**_summary(row)) for row in session.scalars(query)]


@router.get("/{rfq_id}")
async def get_rfq(rfq_id: str, actor: SourcingActor, platform: PlatformDep) -> RfqDetail:
    """One RFQ: its lines and terms; for its buyer also every invitation and the live status.
    404 until the process has recorded it (moments after the 202)."""
    detail, workflow_id = await run_in_threadpool(_detail, platform, actor, rfq_id)
    if detail.invitations is not None:
        try:
            detail.live = await platform.temporal.get_workflow_handle(workflow_id).query(
                "get_status", result_type=RfqView, rpc_timeout=_LIVE_TIMEOUT
            )
        except TemporalError:
            detail.live = None  # the recorded rows still answer
    return detail


def _detail(platform: Platform, actor: Actor, rfq_id: str) -> tuple[RfqDetail, str]:
    with platform.sessions() as session:
        row, mine = _visible(session, actor, rfq_id)
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


def _visible(session: Session, actor: Actor, rfq_id: str) -> tuple[Rfq, RfqInvitation | None]:
    """The RFQ for its buyer (invitation None) or an invited supplier (its invitation)."""
    row = session.get(Rfq, rfq_id)
    if row is not None and row.buyer_org_id == actor.org_id and actor.has_any(Role.BUYER):
        return row, None
    invitation = session.get(RfqInvitation, (rfq_id, actor.org_id))
    if row is None or invitation is None or not actor.has_any(Role.SUPPLIER):
        raise not_found("RFQ")
    return row, invitation


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
    }


def _invitation(row: RfqInvitation) -> InvitationView:
    return InvitationView(
        supplier_org_id=row.supplier_org_id,
        status=row.status,
        decline_reason=row.decline_reason,
        answered_at=row.answered_at,
    )


def _unsealed(row: Rfq) -> None:
    if row.sealed and row.status == RfqStatus.OPEN.value:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"sealed until the quote deadline {row.quote_deadline.isoformat()}: quotes "
            "and the comparison are shown once quoting closes",
        )


@router.get("/{rfq_id}/quotes")
def list_quotes(rfq_id: str, actor: SourcingActor, session: SessionDep) -> list[QuoteView]:
    """Every revision, newest first: a supplier sees only its own; the buyer all, once a
    sealed RFQ has closed."""
    row, mine = _visible(session, actor, rfq_id)
    query = select(QuoteRecord).where(QuoteRecord.rfq_id == rfq_id)
    if mine is None:
        _unsealed(row)
    else:
        query = query.where(QuoteRecord.supplier_org_id == actor.org_id)
    query = query.order_by(QuoteRecord.submitted_at.desc(), QuoteRecord.revision.desc())
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
        for q in session.scalars(query)
    ]


@router.get("/{rfq_id}/comparison")
def comparison(
    rfq_id: str,
    actor: BuyerActor,
    session: SessionDep,
    top: Annotated[
        int | None,
        Query(ge=1, le=MAX_SUPPLIERS, description="keep the best N offers a line (default all)"),
    ] = None,
    eligible_only: bool = False,
) -> Comparison:
    """Every active offer per line side by side with its landed cost and weighted score;
    ``top`` and ``eligible_only`` shorten the lists without changing any score or rank."""
    row, mine = _visible(session, actor, rfq_id)
    if mine is not None:
        raise not_found("RFQ")
    _unsealed(row)
    as_of = min(date.today(), row.quote_deadline.astimezone(UTC).date())
    return comparison_for(session, row, as_of=as_of, top=top, eligible_only=eligible_only)


# -- commands -----------------------------------------------------------------------------


def _running(platform: Platform, actor: Actor, rfq_id: str, *, buyer: bool) -> Rfq:
    with platform.sessions() as session:
        row, mine = _visible(session, actor, rfq_id)
        if buyer and mine is not None:
            raise not_found("RFQ")
        if row.status in _FINAL:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=f"the RFQ is {row.status}")
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
    rfq_id: str, quote: QuoteRequest, actor: SupplierActor, platform: PlatformDep, request: Request
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
    rfq_id: str,
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
    rfq_id: str, body: DeadlineRequest, actor: BuyerActor, platform: PlatformDep, request: Request
) -> RfqView:
    """Move the quote deadline later; invited suppliers are told."""
    if body.new_deadline <= datetime.now(UTC):
        raise invalid("new_deadline", "must be in the future")
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
    rfq_id: str, body: ReasonRequest, actor: BuyerActor, platform: PlatformDep, request: Request
) -> RfqView:
    """Close quoting before the deadline; only once every invited supplier has answered."""
    update = BuyerActionInput(reason=body.reason, actor=actor)
    return await _buyer_update(platform, request, actor, rfq_id, "close_early", update)


@router.post("/{rfq_id}/cancel")
async def cancel(
    rfq_id: str, body: ReasonRequest, actor: BuyerActor, platform: PlatformDep, request: Request
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
