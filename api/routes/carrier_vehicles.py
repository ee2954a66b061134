"""A carrier's vehicles: registered and retired by its CARRIER users (audited), read by its
CARRIER and LOGISTICS users and platform staff (``api.routes.carriers.fleet_carrier``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from api.deps import CurrentActor, PlatformDep, SessionDep
from api.errors import invalid
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Page, ascending, paged
from api.params import IdPath
from api.routes.carriers import fleet_carrier, not_before_today, retire, within_licence
from contracts.common import Frozen
from contracts.fleet import LicenceClasses
from contracts.waybill import Kilograms, Litres, Plate, Text64
from db.audit_log import append_audit
from db.fleet import CarrierVehicle
from db.models import new_id
from db.session import transaction

router = APIRouter(prefix="/carriers", tags=["carriers"])
BY_PLATE = Keyset("vehicles", (ascending(CarrierVehicle.plate), ascending(CarrierVehicle.id)))

PlateColourName = Literal["yellow", "yellow_green", "blue", "green", "white", "black"]
Certificate = Annotated[Text64, Field(min_length=1)]


class VehicleRequest(Frozen):
    """A vehicle with its road transport certificate (道路运输证); a trailer and a tank with
    their numbers when it has them. ``plate`` is the tractor's or truck's, without 挂."""

    plate: Annotated[Plate, Field(min_length=5, examples=["苏B12345"])]
    plate_colour: PlateColourName
    transport_certificate_number: Certificate
    permitted_classes: LicenceClasses
    inspection_valid_until: date
    max_load_kg: Kilograms
    trailer_plate: Annotated[Plate, Field(min_length=5, examples=["苏B6789挂"])] | None = None
    trailer_certificate_number: Certificate | None = None
    tank_number: Certificate | None = None
    tank_volume_litres: Litres | None = None


def vehicle_problem(body: VehicleRequest) -> HTTPException | None:
    """The first part of a vehicle that does not fit the rest, as a 422 naming it."""
    if body.plate.endswith("挂"):
        return invalid("plate", "the tractor's or truck's plate: a trailer's (挂) is trailer_plate")
    if body.trailer_plate is not None and not body.trailer_plate.endswith("挂"):
        return invalid("trailer_plate", "a trailer's plate ends with 挂")
    if (body.trailer_plate is None) != (body.trailer_certificate_number is None):
        return invalid("trailer_certificate_number", "a trailer comes with its certificate")
    if (body.tank_number is None) != (body.tank_volume_litres is None):
        return invalid("tank_volume_litres", "a tank comes with its number and its volume")
    return None


class VehicleView(BaseModel):
    vehicle_id: str
    carrier_org_id: str
    plate: str
    plate_colour: str
    transport_certificate_number: str
    permitted_classes: list[str]
    inspection_valid_until: date
    max_load_kg: Kilograms
    trailer_plate: str | None
    trailer_certificate_number: str | None
    tank_number: str | None
    tank_volume_litres: Litres | None
    created_at: datetime
    retired_at: datetime | None


def vehicle_view(row: CarrierVehicle) -> VehicleView:
    return VehicleView(
        vehicle_id=row.id,
        **{name: getattr(row, name) for name in VehicleView.model_fields if name != "vehicle_id"},
    )


@router.post("/{org_id}/vehicles", status_code=status.HTTP_201_CREATED)
def register_vehicle(
    org_id: IdPath,
    body: VehicleRequest,
    actor: CurrentActor,
    platform: PlatformDep,
    response: Response,
) -> VehicleView:
    """Register a vehicle of the caller's carrier; a plate once while in service."""
    if (problem := vehicle_problem(body)) is not None:
        raise problem
    not_before_today(body.inspection_valid_until, "inspection_valid_until")
    try:
        with transaction(platform.sessions) as session:
            fleet_carrier(session, actor, org_id, write=True)
            within_licence(session, org_id, body.permitted_classes)
            if session.scalar(_active_plate(org_id, body.plate)) is not None:
                raise _plate_taken(body.plate)
            row = CarrierVehicle(
                id=new_id("veh"),
                carrier_org_id=org_id,
                **body.model_dump(exclude={"permitted_classes"}),
                permitted_classes=list(body.permitted_classes),
                created_by=actor.user_id,
            )
            session.add(row)
            session.flush()
            append_audit(
                session,
                actor=actor,
                action="fleet.vehicle_registered",
                target_type="vehicle",
                target_id=row.id,
                detail={"carrier_org_id": org_id, "plate": row.plate},
            )
    except IntegrityError:  # registered by a request racing this one
        raise _plate_taken(body.plate) from None
    response.headers["Location"] = f"/carriers/{org_id}/vehicles/{row.id}"
    return vehicle_view(row)


def _active_plate(org_id: str, plate: str) -> Select[tuple[str]]:
    return select(CarrierVehicle.id).where(
        CarrierVehicle.carrier_org_id == org_id,
        CarrierVehicle.plate == plate,
        CarrierVehicle.retired_at.is_(None),
    )


def _plate_taken(plate: str) -> HTTPException:
    return invalid("plate", f"{plate} is already registered", code=status.HTTP_409_CONFLICT)


@router.get("/{org_id}/vehicles", responses=NEXT_PAGE_HEADERS)
def list_vehicles(
    org_id: IdPath,
    actor: CurrentActor,
    session: SessionDep,
    page: Annotated[Page, paged(BY_PLATE)],
    include_retired: bool = False,
) -> list[VehicleView]:
    """The carrier's vehicles by plate, in service only unless asked, a page at a time."""
    fleet_carrier(session, actor, org_id, write=False)
    query = select(CarrierVehicle).where(CarrierVehicle.carrier_org_id == org_id)
    if not include_retired:
        query = query.where(CarrierVehicle.retired_at.is_(None))
    return [vehicle_view(row) for row in page.rows(session, query)]


@router.delete("/{org_id}/vehicles/{vehicle_id}", status_code=status.HTTP_204_NO_CONTENT)
def retire_vehicle(
    org_id: IdPath, vehicle_id: IdPath, actor: CurrentActor, platform: PlatformDep
) -> None:
    """Retire a vehicle: no new waybill may use it; waybills made with it keep it."""
    with transaction(platform.sessions) as session:
        retire(
            session,
            actor,
            org_id,
            CarrierVehicle,
            vehicle_id,
            what="vehicle",
            detail=lambda row: {"plate": row.plate},
        )
