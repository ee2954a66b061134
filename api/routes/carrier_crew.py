"""A carrier's drivers and escorts (押运员), and the fleet's expiries to watch.

Crew are registered and retired by the carrier's CARRIER users (audited, without the personal
numbers), read by its CARRIER and LOGISTICS users and platform staff
(``api.routes.carriers.fleet_carrier``). A driver holds the dangerous-goods driver category of
the qualification certificate (从业资格证), an escort the escort category; a person is
registered once a carrier (by certificate number) while in service, so driver and escort of one
waybill are two people. ``/fleet/expiring`` lists what needs renewing soon.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from api.deps import CurrentActor, PlatformDep, SessionDep
from api.errors import invalid
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Page, ascending, paged
from api.params import IdPath
from api.routes.carriers import fleet_carrier, not_before_today, retire
from contracts.common import Frozen
from contracts.fleet import CrewRole
from contracts.waybill import Phone, QualificationCategory, Text64, Text200
from db.audit_log import append_audit
from db.fleet import CarrierCrewMember, CarrierVehicle
from db.models import new_id
from db.session import transaction
from rules.certificates import normalise

router = APIRouter(prefix="/carriers", tags=["carriers"])
BY_NAME = Keyset("crew", (ascending(CarrierCrewMember.name), ascending(CarrierCrewMember.id)))
# The category each role must hold (道路危险货物运输驾驶人员 / 押运人员).
REQUIRED_CATEGORY: dict[str, QualificationCategory] = {
    "driver": "dg_driver",
    "escort": "dg_escort",
}
MAX_EXPIRING = 500  # rows of each kind: a carrier's fleet, not the platform's


class CrewRequest(Frozen):
    name: Annotated[Text200, Field(min_length=1)]
    role: CrewRole
    qualification_certificate_number: Annotated[Text64, Field(min_length=6)]
    qualification_categories: Annotated[
        tuple[QualificationCategory, ...], Field(min_length=1, max_length=3)
    ]
    certificate_expiry: date
    phone: Annotated[Phone, Field(min_length=5)]


class CrewView(BaseModel):
    crew_id: str
    carrier_org_id: str
    name: str
    role: str
    qualification_certificate_number: str
    qualification_categories: list[str]
    certificate_expiry: date
    phone: str
    created_at: datetime
    retired_at: datetime | None


def crew_view(row: CarrierCrewMember) -> CrewView:
    return CrewView(
        crew_id=row.id,
        **{name: getattr(row, name) for name in CrewView.model_fields if name != "crew_id"},
    )


@router.post("/{org_id}/crew", status_code=status.HTTP_201_CREATED)
def register_crew_member(
    org_id: IdPath,
    body: CrewRequest,
    actor: CurrentActor,
    platform: PlatformDep,
    response: Response,
) -> CrewView:
    """Register a driver or escort of the caller's carrier, with their qualification."""
    needed = REQUIRED_CATEGORY[body.role]
    if needed not in body.qualification_categories:
        raise invalid("qualification_categories", f"a {body.role} must hold {needed}")
    if len(set(body.qualification_categories)) != len(body.qualification_categories):
        raise invalid("qualification_categories", "each category once")
    not_before_today(body.certificate_expiry, "certificate_expiry")
    with transaction(platform.sessions) as session:
        # The carrier's row is locked: two requests cannot both find the number free.
        fleet_carrier(session, actor, org_id, write=True)
        number = normalise(body.qualification_certificate_number)
        active = session.scalars(
            select(CarrierCrewMember).where(
                CarrierCrewMember.carrier_org_id == org_id, CarrierCrewMember.retired_at.is_(None)
            )
        )
        # Encrypted, so compared here rather than by an index.
        if any(normalise(m.qualification_certificate_number) == number for m in active):
            raise invalid(
                "qualification_certificate_number",
                "already registered for this carrier: retire the earlier record first",
                code=status.HTTP_409_CONFLICT,
            )
        row = CarrierCrewMember(
            id=new_id("crew"),
            carrier_org_id=org_id,
            name=body.name,
            role=body.role,
            qualification_certificate_number=body.qualification_certificate_number,
            qualification_categories=list(body.qualification_categories),
            certificate_expiry=body.certificate_expiry,
            phone=body.phone,
            created_by=actor.user_id,
        )
        session.add(row)
        session.flush()
        append_audit(
            session,
            actor=actor,
            action="fleet.crew_registered",
            target_type="crew_member",
            target_id=row.id,
            detail={"carrier_org_id": org_id, "role": row.role, "name": row.name},
        )
    response.headers["Location"] = f"/carriers/{org_id}/crew/{row.id}"
    return crew_view(row)


@router.get("/{org_id}/crew", responses=NEXT_PAGE_HEADERS)
def list_crew(
    org_id: IdPath,
    actor: CurrentActor,
    session: SessionDep,
    page: Annotated[Page, paged(BY_NAME)],
    role: CrewRole | None = None,
    include_retired: bool = False,
) -> list[CrewView]:
    """The carrier's drivers and escorts by name, in service only unless asked, a page at a
    time."""
    fleet_carrier(session, actor, org_id, write=False)
    query = select(CarrierCrewMember).where(CarrierCrewMember.carrier_org_id == org_id)
    if role is not None:
        query = query.where(CarrierCrewMember.role == role)
    if not include_retired:
        query = query.where(CarrierCrewMember.retired_at.is_(None))
    return [crew_view(row) for row in page.rows(session, query)]


@router.delete("/{org_id}/crew/{crew_id}", status_code=status.HTTP_204_NO_CONTENT)
def retire_crew_member(
    org_id: IdPath, crew_id: IdPath, actor: CurrentActor, platform: PlatformDep
) -> None:
    """Retire a driver or escort: no new waybill may name them; filed waybills keep them."""
    with transaction(platform.sessions) as session:
        retire(
            session,
            actor,
            org_id,
            CarrierCrewMember,
            crew_id,
            what="crew member",
            detail=lambda row: {"role": row.role, "name": row.name},
        )


class Expiring(BaseModel):
    """A vehicle's inspection or a crew member's certificate that expires soon (or has)."""

    kind: str  # "vehicle_inspection" | "qualification_certificate"
    id: str
    label: str  # the plate, or the person's name and role
    expires_on: date
    days_left: int  # negative: expired that many days ago


class ExpiringFleet(BaseModel):
    as_of: date
    within_days: int
    expiring: list[Expiring]


@router.get("/{org_id}/fleet/expiring")
def expiring_fleet(
    org_id: IdPath,
    actor: CurrentActor,
    session: SessionDep,
    within_days: Annotated[int, Query(ge=0, le=366)] = 30,
) -> ExpiringFleet:
    """Vehicles in service whose inspection, and crew whose qualification certificate, expires
    within ``within_days`` (or has expired), soonest first."""
    fleet_carrier(session, actor, org_id, write=False)
    today = datetime.now(UTC).date()
    until = today + timedelta(days=within_days)
    vehicles = session.scalars(
        select(CarrierVehicle)
        .where(CarrierVehicle.carrier_org_id == org_id, CarrierVehicle.retired_at.is_(None))
        .where(CarrierVehicle.inspection_valid_until <= until)
        .order_by(CarrierVehicle.inspection_valid_until, CarrierVehicle.id)
        .limit(MAX_EXPIRING)
    )
    crew = session.scalars(
        select(CarrierCrewMember)
        .where(CarrierCrewMember.carrier_org_id == org_id, CarrierCrewMember.retired_at.is_(None))
        .where(CarrierCrewMember.certificate_expiry <= until)
        .order_by(CarrierCrewMember.certificate_expiry, CarrierCrewMember.id)
        .limit(MAX_EXPIRING)
    )
    found = [
        Expiring(
            kind="vehicle_inspection",
            id=v.id,
            label=v.plate,
            expires_on=v.inspection_valid_until,
            days_left=(v.inspection_valid_until - today).days,
        )
        for v in vehicles
    ] + [
        Expiring(
            kind="qualification_certificate",
            id=m.id,
            label=f"{m.name} ({m.role})",
            expires_on=m.certificate_expiry,
            days_left=(m.certificate_expiry - today).days,
        )
        for m in crew
    ]
    found.sort(key=lambda e: (e.expires_on, e.id))
    return ExpiringFleet(as_of=today, within_days=within_days, expiring=found)
