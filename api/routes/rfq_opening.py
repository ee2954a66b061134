"""Opening an RFQ: the buyer's request checked against the clock and the database, then the
process started.

The audience is either the invited suppliers, each of them accredited now, or every supplier
accredited in a category (best score first). The currency needs a recorded rate to the buyer's
approval chain's, so awards can be checked against it. The RFQ's id comes from the request's
``Idempotency-Key``, so a retry whose first answer was lost finds the process it started.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, BaseModel, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from activities.sourcing_records import latest_rate
from api.deps import PlatformDep
from api.errors import invalid
from api.idempotency import keyed_digest
from api.platform import Platform
from api.routes.rfq_access import MAX_SUPPLIERS, BuyerActor
from contracts.accreditation import AccreditationStatus
from contracts.common import Actor, Line, OrgKind, Text
from contracts.sourcing import (
    DEFAULT_APPROVAL_CHAIN,
    Currency,
    EvaluationWeights,
    Incoterm,
    InvitedSupplier,
    RfqInput,
    RfqLine,
    Text200,
    rfq_workflow_id,
)
from db.models import (
    AccreditationApplication,
    ApprovalChainRecord,
    Organisation,
    SupplierAccreditation,
    new_id,
)
from rules.dangerous_goods import un_number_problem

router = APIRouter(prefix="/rfqs", tags=["sourcing"])

# How far ahead an RFQ may look: a deadline years away is a typo, and would hold a process open.
MAX_QUOTING = timedelta(days=366)
MAX_LEAD = timedelta(days=5 * 366)
OrgId = Annotated[Line, Field(min_length=1, max_length=40)]


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
    payment_terms: Annotated[Text, Field(min_length=1, max_length=2000)]
    weights: EvaluationWeights = Field(default_factory=EvaluationWeights)
    sealed: bool = False
    invited_supplier_ids: list[OrgId] | None = Field(
        default=None, min_length=1, max_length=MAX_SUPPLIERS
    )
    category: Annotated[Line, Field(min_length=1, max_length=100)] | None = None

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


@router.post("", status_code=status.HTTP_202_ACCEPTED)
async def create_rfq(
    body: CreateRfq, actor: BuyerActor, platform: PlatformDep, request: Request
) -> Accepted:
    """Open an RFQ; answers 202 and its URL while the process records it and invites."""
    return await open_rfq(body, actor, platform, request.headers.get("idempotency-key"))


async def open_rfq(body: CreateRfq, actor: Actor, platform: Platform, key: str | None) -> Accepted:
    """Check an RFQ and start its process (``POST /rfqs``, the catalogue's selection, the
    workbench's form); ``key`` is the caller's idempotency key."""
    # A retried request (its first answer lost to a 5xx) finds the process it already started.
    rfq_id = "rfq_" + keyed_digest(actor.user_id, key)[:32] if key else new_id("rfq")
    rfq = await run_in_threadpool(_prepare, platform, body, actor, rfq_id, datetime.now(UTC))
    workflow_id = rfq_workflow_id(rfq.rfq_id)
    await platform.start_process(
        "RfqWorkflow",
        rfq,
        workflow_id=workflow_id,
        org_id=actor.org_id,
        subject_id=rfq.rfq_id,
        retry_key=key,
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
        check_currency(session, actor.org_id, body.currency)
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
    if body.quote_deadline > now + MAX_QUOTING:
        raise invalid("quote_deadline", f"must be within {MAX_QUOTING.days} days")
    if body.needed_by <= now.date():
        raise invalid("needed_by", "must be after today")
    if body.needed_by > (now + MAX_LEAD).date():
        raise invalid("needed_by", f"must be within {MAX_LEAD.days} days")
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
        # Carriers hold standings too (their own accreditation); they are not invited to quote.
        .where(Organisation.kind == OrgKind.SUPPLIER.value)
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


def check_currency(
    session: Session, buyer_org_id: str, currency: str, *, field: str = "currency"
) -> None:
    """Awards are approved in the chain's currency: the rate must exist before anyone quotes.
    ``field``: the request's field the currency came from."""
    chain = session.get(ApprovalChainRecord, buyer_org_id)
    chain_currency = chain.currency if chain is not None else DEFAULT_APPROVAL_CHAIN.currency
    if currency != chain_currency and latest_rate(session, currency, chain_currency) is None:
        raise invalid(
            field,
            f"no exchange rate recorded for {currency}/{chain_currency} (either direction), "
            f"needed to check awards against your {chain_currency} approval chain",
        )
