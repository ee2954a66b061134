"""The buyer's one-click comparison of an RFQ's quotes (``GET /rfqs/{id}/comparison``).

Shown to the RFQ's buyer only, once quoting has closed on a sealed RFQ; the API and the
workbench's award task read it through ``buyer_comparison``, one rule for both. The answer is
the one filed when quoting closed, or kept in this process, while nothing it is computed from
has changed (``api.comparison_cache``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from api.comparison_cache import cached_comparison, comparison_body
from api.deps import SessionDep, not_found
from api.params import IdPath
from api.routes.rfq_access import MAX_SUPPLIERS, BuyerActor, visible_rfq
from api.routes.rfqs import unsealed
from contracts.common import Actor
from contracts.sourcing import Comparison
from db.comparison_store import DEFAULT_TOP, buyer_as_of
from db.models import Rfq

router = APIRouter(prefix="/rfqs", tags=["sourcing"])


@router.get("/{rfq_id}/comparison", response_model=Comparison)
def comparison(
    rfq_id: IdPath,
    actor: BuyerActor,
    session: SessionDep,
    top: Annotated[
        int, Query(ge=1, le=MAX_SUPPLIERS, description=f"best N a line; {MAX_SUPPLIERS}: all")
    ] = DEFAULT_TOP,
    eligible_only: bool = False,
) -> Response:
    """Each line's best offers side by side with their landed cost and weighted score, ranked
    against every active offer; ``top`` and ``eligible_only`` shorten the lists without changing
    any score or rank. The body is the filed answer's bytes when they answer the request."""
    row = _buyers_unsealed(session, actor, rfq_id)
    body = comparison_body(
        session, row, as_of=buyer_as_of(row), top=top, eligible_only=eligible_only
    )
    return Response(content=body, media_type="application/json")


def _buyers_unsealed(session: Session, actor: Actor, rfq_id: str) -> Rfq:
    """The RFQ if the actor's organisation is its buyer (404 to an invited supplier) and its
    quotes are shown (409 while a sealed RFQ's quoting is open)."""
    row, mine = visible_rfq(session, actor, rfq_id)
    if mine is not None:
        raise not_found("RFQ")
    unsealed(row)
    return row


def buyer_comparison(
    session: Session,
    actor: Actor,
    rfq_id: str,
    *,
    top: int | None = None,
    eligible_only: bool = False,
) -> Comparison:
    """The comparison as the RFQ's buyer sees it (the API's and the workbench's): to an invited
    supplier the RFQ has none (404), and a sealed RFQ shows none until quoting closes (409).
    Served from ``api.comparison_cache`` when nothing it is computed from has changed."""
    row = _buyers_unsealed(session, actor, rfq_id)
    as_of = buyer_as_of(row)
    return cached_comparison(session, row, as_of=as_of, top=top, eligible_only=eligible_only)
