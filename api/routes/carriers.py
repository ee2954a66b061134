"""Carriers: the accredited carriers to choose from, and who may see and change a fleet.

``GET /carriers`` lists accredited carriers with their licence's classes and expiry for the
suppliers, buyers and platform staff who choose one. A carrier's fleet is its own business: its
CARRIER users register and retire vehicles (``api.routes.carrier_vehicles``) and crew
(``api.routes.carrier_crew``); its CARRIER and LOGISTICS users (the dispatchers who pick a vehicle
for a waybill) and platform staff read them; to anyone else the carrier does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, TypeVar

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.deps import CurrentActor, SessionDep, is_operator, not_found
from api.errors import invalid
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Page, ascending, paged
from contracts.common import Actor, OrgKind, Role
from contracts.waybill import PermitClass
from db.audit_log import append_audit
from db.fleet import ACCREDITED, CarrierCrewMember, CarrierLicence, CarrierVehicle
from db.models import Organisation, SupplierAccreditation
from rules.waybill_load import covers

router = APIRouter(prefix="/carriers", tags=["carriers"])
CHOOSERS = (Role.SUPPLIER, Role.BUYER, Role.LOGISTICS, Role.CARRIER)
BY_ORG = Keyset("carriers", (ascending(CarrierLicence.carrier_org_id),))


class CarrierView(BaseModel):
    org_id: str
    legal_name: str
    name_en: str
    credit_code: str
    licence_number: str
    permitted_classes: list[str]
    licence_expiry: date


@router.get("", responses=NEXT_PAGE_HEADERS)
def list_carriers(
    actor: CurrentActor,
    session: SessionDep,
    page: Annotated[Page, paged(BY_ORG)],
    hazard_class: Annotated[
        list[PermitClass] | None,
        Query(max_length=10, description="only carriers whose licence covers each of these"),
    ] = None,
) -> list[CarrierView]:
    """Accredited carriers with their licence's classes and expiry, a page at a time."""
    query = accredited_carriers(actor)
    for wanted in hazard_class or ():
        # The licence covers a class when it names the class or one that contains it.
        query = query.where(CarrierLicence.permitted_classes.overlap(_containing(wanted)))
    views = []
    for licence in page.rows(session, query):
        org = session.get(Organisation, licence.carrier_org_id)
        if org is not None:
            views.append(
                CarrierView(
                    org_id=org.id,
                    legal_name=org.legal_name,
                    name_en=org.name_en,
                    credit_code=org.credit_code,
                    licence_number=licence.number,
                    permitted_classes=licence.permitted_classes,
                    licence_expiry=licence.expiry_date,
                )
            )
    return views


def accredited_carriers(actor: Actor) -> Select[tuple[CarrierLicence]]:
    """The licences of accredited carriers, for those who choose one (the parties and staff);
    403 for anyone else. The workbench's register lists the same."""
    if not (is_operator(actor) or actor.has_any(*CHOOSERS)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="carriers are chosen by parties")
    return (
        select(CarrierLicence)
        .join(Organisation, Organisation.id == CarrierLicence.carrier_org_id)
        .join(
            SupplierAccreditation,
            SupplierAccreditation.supplier_org_id == CarrierLicence.carrier_org_id,
        )
        .where(Organisation.kind == OrgKind.CARRIER.value)
        .where(SupplierAccreditation.status == ACCREDITED)
    )


def _containing(hazard_class: str) -> list[str]:
    """'1.4S' → ['1', '1.4', '1.4S']: the permitted classes that cover it (rules.waybill_load)."""
    found = [hazard_class]
    if "." in hazard_class:
        whole, division = hazard_class.split(".", 1)
        found += [whole] + ([f"{whole}.{division[0]}"] if len(division) > 1 else [])
    return [c for c in found if covers(c, hazard_class)]


# -- who may see and change a fleet ---------------------------------------------------------


def fleet_carrier(session: Session, actor: Actor, org_id: str, *, write: bool) -> Organisation:
    """The carrier whose fleet the caller acts on: its own CARRIER users write, its CARRIER and
    LOGISTICS users and platform staff read; to anyone else it does not exist."""
    org = session.get(Organisation, org_id, with_for_update=write)
    own = actor.org_id == org_id
    if org is None or org.kind != OrgKind.CARRIER.value or not (own or is_operator(actor)):
        raise not_found("carrier")
    if write and not (own and actor.has_any(Role.CARRIER)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="requires the carrier role")
    if not write and own and not actor.has_any(Role.CARRIER, Role.LOGISTICS):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail="requires the carrier or logistics role"
        )
    return org


FleetItem = TypeVar("FleetItem", CarrierVehicle, CarrierCrewMember)


def retire(
    session: Session,
    actor: Actor,
    org_id: str,
    model: type[FleetItem],
    item_id: str,
    *,
    what: str,
    detail: Callable[[FleetItem], dict[str, str]],
) -> None:
    """Retire one of the carrier's vehicles or crew (once; audited): no new waybill may name it,
    the waybills made with it keep it. ``detail`` says which it was, for the audit log."""
    fleet_carrier(session, actor, org_id, write=True)
    row = session.get(model, item_id, with_for_update=True)
    if row is None or row.carrier_org_id != org_id:
        raise not_found(what)
    if row.retired_at is None:
        row.retired_at = datetime.now(UTC)
        target = what.replace(" ", "_")
        append_audit(
            session,
            actor=actor,
            action=f"fleet.{target.removesuffix('_member')}_retired",
            target_type=target,
            target_id=row.id,
            detail={"carrier_org_id": org_id, **detail(row)},
        )


def not_before_today(value: date, field: str) -> None:
    if value < datetime.now(UTC).date():
        raise invalid(field, f"{value} is in the past: register a valid document")


def within_licence(session: Session, org_id: str, classes: tuple[str, ...]) -> None:
    """A vehicle may carry no class its carrier's licence does not (when it has one yet)."""
    licence = session.get(CarrierLicence, org_id)
    if licence is None:
        return
    for i, cls in enumerate(classes):
        if not any(covers(p, cls) for p in licence.permitted_classes):
            allowed = ", ".join(licence.permitted_classes)
            raise invalid(
                f"permitted_classes.{i}",
                f"class {cls} is outside the carrier's operating licence ({allowed})",
            )
