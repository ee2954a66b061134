"""Who may see and act on an RFQ: its buyer's organisation (buyer role) or an invited supplier.

Anyone else gets 404 as for a missing RFQ. Shared by the RFQ routes: opening, reads, commands.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from api.deps import not_found, require
from contracts.common import Actor, Role
from contracts.sourcing import RfqStatus
from db.models import Rfq, RfqInvitation

BuyerActor = Annotated[Actor, Depends(require(Role.BUYER))]
SourcingActor = Annotated[Actor, Depends(require(Role.BUYER, Role.SUPPLIER))]
MAX_SUPPLIERS = 200
FINAL = {RfqStatus.COMPLETED.value, RfqStatus.LAPSED.value, RfqStatus.CANCELLED.value}


def visible_rfq(session: Session, actor: Actor, rfq_id: str) -> tuple[Rfq, RfqInvitation | None]:
    """The RFQ for its buyer (invitation None) or an invited supplier (its invitation)."""
    row = session.get(Rfq, rfq_id)
    if row is not None and row.buyer_org_id == actor.org_id and actor.has_any(Role.BUYER):
        return row, None
    invitation = session.get(RfqInvitation, (rfq_id, actor.org_id))
    if row is None or invitation is None or not actor.has_any(Role.SUPPLIER):
        raise not_found("RFQ")
    return row, invitation
