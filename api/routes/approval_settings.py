"""A buyer's finance approval chain, and the exchange rates awards are converted at."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.deps import AdminActor, CurrentActor, SessionDep, is_operator, not_found
from api.errors import invalid
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Page, descending, paged
from api.params import IdPath
from contracts.common import OPERATOR_ORG_ID, Actor, Line, OrgKind, Role
from contracts.sourcing import (
    DEFAULT_APPROVAL_CHAIN,
    ApprovalChain,
    ApprovalLevel,
    Currency,
    FxRate,
)
from db.audit_log import append_audit
from db.models import ApprovalChainRecord, ExchangeRate, Organisation

router = APIRouter(tags=["approval settings"])
NEWEST_FIRST = Keyset("fx_rates", (descending(ExchangeRate.as_of), descending(ExchangeRate.id)))


class ChainView(BaseModel):
    buyer_org_id: str
    chain: ApprovalChain
    is_default: bool
    updated_by: str | None
    updated_at: datetime | None


class ChainRequest(BaseModel):
    """Contracts above each level's ``above`` (in ``currency``) need one more finance approval;
    levels in strictly ascending order, at most five, none for no approval at all."""

    currency: Currency
    levels: list[ApprovalLevel] = Field(max_length=5)


class RateRequest(FxRate):
    """``source`` says where the rate comes from (a bank's published rate, say)."""

    source: Annotated[Line, Field(min_length=1, max_length=200)]


class RateView(FxRate):
    id: int
    recorded_by: str
    created_at: datetime


def _buyer_org(session: Session, org_id: str) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None or org.kind != OrgKind.BUYER:
        raise not_found("organisation")
    return org


def _is_admin(actor: Actor) -> bool:
    return actor.org_id == OPERATOR_ORG_ID and actor.has_any(Role.ADMIN)


@router.get("/organisations/{org_id}/approval-chain")
def get_chain(org_id: IdPath, actor: CurrentActor, session: SessionDep) -> ChainView:
    """The buyer organisation's approval levels (the platform default until it sets its own)."""
    if actor.org_id != org_id and not is_operator(actor):
        raise not_found("organisation")
    _buyer_org(session, org_id)
    row = session.get(ApprovalChainRecord, org_id)
    if row is None:
        return ChainView(
            buyer_org_id=org_id,
            chain=DEFAULT_APPROVAL_CHAIN,
            is_default=True,
            updated_by=None,
            updated_at=None,
        )
    return ChainView(
        buyer_org_id=org_id,
        chain=ApprovalChain.model_validate({"currency": row.currency, "levels": row.levels}),
        is_default=False,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


@router.put("/organisations/{org_id}/approval-chain")
def put_chain(
    org_id: IdPath, body: ChainRequest, actor: CurrentActor, session: SessionDep
) -> ChainView:
    """Set the approval levels: the organisation's finance role, or the platform admin."""
    if not _is_admin(actor):
        if actor.org_id != org_id:
            raise not_found("organisation")
        if not actor.has_any(Role.FINANCE):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="requires the finance role")
    _buyer_org(session, org_id)
    amounts = [level.above for level in body.levels]
    for i in range(1, len(amounts)):
        if amounts[i] <= amounts[i - 1]:
            raise invalid(f"levels.{i}.above", "levels must rise strictly in amount")
    chain = ApprovalChain(currency=body.currency, levels=tuple(body.levels))
    levels = [level.model_dump(mode="json") for level in chain.levels]
    row = session.get(ApprovalChainRecord, org_id, with_for_update=True)
    if row is None:
        row = ApprovalChainRecord(buyer_org_id=org_id)
        session.add(row)
    row.currency = chain.currency
    row.levels = levels
    row.updated_by = actor.user_id
    append_audit(
        session,
        actor=actor,
        action="approval_chain.updated",
        target_type="organisation",
        target_id=org_id,
        detail={"currency": chain.currency, "levels": levels},
    )
    session.commit()
    return get_chain(org_id, actor, session)


@router.get("/fx-rates", responses=NEXT_PAGE_HEADERS)
def list_rates(
    actor: CurrentActor,
    session: SessionDep,
    page: Annotated[Page, paged(NEWEST_FIRST)],
    base: Currency | None = None,
    quote: Currency | None = None,
) -> list[RateView]:
    """Recorded exchange rates, newest first, a page at a time (the ``Link`` header's next);
    awards convert at the newest for their pair."""
    query = select(ExchangeRate)
    if base is not None:
        query = query.where(ExchangeRate.base == base)
    if quote is not None:
        query = query.where(ExchangeRate.quote == quote)
    return [_rate(row) for row in page.rows(session, query)]


@router.post("/fx-rates", status_code=status.HTTP_201_CREATED)
def record_rate(body: RateRequest, actor: AdminActor, session: SessionDep) -> RateView:
    """Record a rate (platform admin): one ``base`` costs ``rate`` ``quote`` as of a date."""
    if body.quote == body.base:
        raise invalid("quote", "must differ from base")
    if body.as_of > datetime.now(UTC).date():
        raise invalid("as_of", "must not be in the future")
    if not body.source.strip():
        raise invalid("source", "say where the rate comes from")
    row = ExchangeRate(
        base=body.base,
        quote=body.quote,
        rate=body.rate,
        as_of=body.as_of,
        source=body.source.strip(),
        recorded_by=actor.user_id,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"a {body.base}/{body.quote} rate as of {body.as_of.isoformat()} is recorded",
        ) from None
    append_audit(
        session,
        actor=actor,
        action="fx_rate.recorded",
        target_type="exchange_rate",
        target_id=str(row.id),
        detail={
            "base": row.base,
            "quote": row.quote,
            "rate": str(row.rate),
            "as_of": row.as_of.isoformat(),
            "source": row.source,
        },
    )
    session.commit()
    session.refresh(row)
    return _rate(row)


def _rate(row: ExchangeRate) -> RateView:
    return RateView(
        id=row.id,
        base=row.base,
        quote=row.quote,
        rate=row.rate,
        as_of=row.as_of,
        source=row.source,
        recorded_by=row.recorded_by,
        created_at=row.created_at,
    )
