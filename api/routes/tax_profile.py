"""A buyer's tax profile: whether it deducts input VAT, which sets the basis its quotes compare on.

A general taxpayer (一般纳税人, the default) deducts the VAT on its purchases, so its comparison
ranks offers net of deductible VAT; a small-scale taxpayer (小规模纳税人) cannot, and ranks them
including VAT (rules/landed_cost.py). The comparison reads the profile when it is made, so a
change reaches the next comparison screen and the next award round, not contracts drafted before.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.deps import CurrentActor, SessionDep, is_operator, not_found
from api.params import IdPath
from contracts.common import OPERATOR_ORG_ID, Actor, OrgKind, Role
from db.audit_log import append_audit
from db.models import Organisation
from rules.quotes import INCLUDING_VAT, NET_OF_VAT

router = APIRouter(tags=["approval settings"])


class TaxProfileView(BaseModel):
    buyer_org_id: str
    deducts_input_vat: bool
    comparison_basis: str  # "net of deductible VAT" or "including VAT"


class TaxProfileRequest(BaseModel):
    """``deducts_input_vat``: true for a general taxpayer (一般纳税人), false for a small-scale
    taxpayer (小规模纳税人), which cannot deduct input VAT."""

    deducts_input_vat: bool


def _buyer_org(session: Session, org_id: str, *, lock: bool = False) -> Organisation:
    org = session.get(Organisation, org_id, with_for_update=lock)
    if org is None or org.kind != OrgKind.BUYER:
        raise not_found("organisation")
    return org


def _view(org: Organisation) -> TaxProfileView:
    return TaxProfileView(
        buyer_org_id=org.id,
        deducts_input_vat=org.deducts_input_vat,
        comparison_basis=NET_OF_VAT if org.deducts_input_vat else INCLUDING_VAT,
    )


def _is_platform_admin(actor: Actor) -> bool:
    return actor.org_id == OPERATOR_ORG_ID and actor.has_any(Role.ADMIN)


@router.get("/organisations/{org_id}/tax-profile")
def get_tax_profile(org_id: IdPath, actor: CurrentActor, session: SessionDep) -> TaxProfileView:
    """Whether the buyer organisation deducts input VAT, and so the basis its quotes compare on."""
    if actor.org_id != org_id and not is_operator(actor):
        raise not_found("organisation")
    return _view(_buyer_org(session, org_id))


@router.put("/organisations/{org_id}/tax-profile")
def put_tax_profile(
    org_id: IdPath, body: TaxProfileRequest, actor: CurrentActor, session: SessionDep
) -> TaxProfileView:
    """Say whether the buyer deducts input VAT: its finance or admin role, or the platform admin."""
    if not _is_platform_admin(actor):
        if actor.org_id != org_id:
            raise not_found("organisation")
        if not actor.has_any(Role.FINANCE, Role.ADMIN):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail="requires the finance or admin role"
            )
    org = _buyer_org(session, org_id, lock=True)
    before = org.deducts_input_vat
    org.deducts_input_vat = body.deducts_input_vat
    append_audit(
        session,
        actor=actor,
        action="tax_profile.updated",
        target_type="organisation",
        target_id=org_id,
        detail={"deducts_input_vat": body.deducts_input_vat, "before": before},
    )
    session.commit()
    return _view(org)
