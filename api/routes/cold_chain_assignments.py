"""Cold chain: putting loggers on a shipment's trip, and taking them off, before pickup.

While the trip is ``planned`` (recorded by its workflow when the shipment is planned), the
order's carrier (its CARRIER or LOGISTICS users; the supplier's LOGISTICS users when the order
has no carrier) puts its own loggers on the trip, each in one of the trip's zones. A logger is
on one live trip at a time: its assignment is released when its trip is decided. Audited.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import CurrentActor, PlatformDep, not_found
from api.errors import invalid
from api.params import MAX_INT4, IdPath
from api.routes.order_access import visible_order
from contracts.cold_chain import LoggerId, ZoneName, trip_id_for
from contracts.common import Actor, Frozen, Role
from db.audit_log import append_audit
from db.cold_chain import ColdLogger, ColdTrip, LoggerAssignment, TripStatus
from db.models import Order
from db.session import transaction

router = APIRouter(prefix="/orders", tags=["cold chain"])
ShipmentPath = Annotated[int, Path(ge=1, le=MAX_INT4)]


class AssignmentRequest(Frozen):
    logger_id: LoggerId
    zone: ZoneName = Field(examples=["chilled"])


class AssignmentView(BaseModel):
    trip_id: str
    logger_id: str
    zone: str
    assigned_by: str
    assigned_at: datetime


def shipment_trip(session: Session, order_id: str, shipment: int, *, lock: bool) -> ColdTrip:
    """The shipment's cold trip; 404 when the shipment has none (not cold, or not planned)."""
    trip = session.get(ColdTrip, trip_id_for(order_id, shipment), with_for_update=lock)
    if trip is None or trip.order_id != order_id or trip.shipment != shipment:
        raise not_found("cold-chain trip")
    return trip


def _planned_trip(session: Session, actor: Actor, order_id: str, shipment: int) -> ColdTrip:
    """The trip, if the caller may put loggers on it (the order's carrier's carrier or
    logistics users; the supplier's logistics when the order has no carrier) and it has not
    started."""
    order = visible_order(session, actor, order_id)
    if not _keeps_loggers(actor, order):
        who = "carrier's carrier or logistics" if order.carrier_org_id else "supplier's logistics"
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"requires the order's {who} role")
    trip = shipment_trip(session, order_id, shipment, lock=True)
    if trip.status != TripStatus.PLANNED:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"the trip is {trip.status}: loggers are assigned and removed before pickup",
        )
    return trip


def _keeps_loggers(actor: Actor, order: Order) -> bool:
    if order.carrier_org_id is not None:
        return actor.org_id == order.carrier_org_id and actor.has_any(Role.CARRIER, Role.LOGISTICS)
    return actor.org_id == order.supplier_org_id and actor.has_any(Role.LOGISTICS)


@router.post("/{order_id}/shipments/{shipment}/loggers", status_code=status.HTTP_201_CREATED)
def assign_logger(
    order_id: IdPath,
    shipment: ShipmentPath,
    body: AssignmentRequest,
    actor: CurrentActor,
    platform: PlatformDep,
) -> AssignmentView:
    """Put one of the caller's loggers on the shipment's trip, in one of its zones (before
    pickup; a logger is on one live trip at a time); audited."""
    with transaction(platform.sessions) as session:
        trip = _planned_trip(session, actor, order_id, shipment)
        zones = [zone["zone"] for zone in trip.plan.get("zones", [])]
        if body.zone not in zones:
            raise invalid("zone", f"not one of the trip's zones: {', '.join(zones)}")
        # Locked, so two trips cannot take the same logger at once.
        logger = session.get(ColdLogger, body.logger_id, with_for_update=True)
        if logger is None or logger.owner_org_id != actor.org_id:
            raise invalid("logger_id", f"{body.logger_id} is not a logger of your organisation")
        if logger.retired_at is not None:
            raise invalid("logger_id", f"{body.logger_id} is retired")
        held = session.execute(
            select(LoggerAssignment)
            .join(ColdTrip, ColdTrip.id == LoggerAssignment.trip_id)
            .where(
                LoggerAssignment.logger_id == logger.id,
                LoggerAssignment.released_at.is_(None),
                ColdTrip.status != TripStatus.DECIDED,
            )
        ).scalar_one_or_none()
        if held is not None and held.trip_id == trip.id and held.zone == body.zone:
            return _assignment(held)  # the same assignment again
        if held is not None:
            where = "this trip in another zone" if held.trip_id == trip.id else "another trip"
            raise invalid(
                "logger_id",
                f"{logger.id} is already on {where} ({held.trip_id}, {held.zone})",
                code=status.HTTP_409_CONFLICT,
            )
        row = LoggerAssignment(
            trip_id=trip.id,
            logger_id=logger.id,
            zone=body.zone,
            assigned_by=actor.user_id,
            assigned_at=datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        _audit(session, actor, "cold_chain.logger_assigned", trip.id, logger.id, body.zone)
        return _assignment(row)


@router.delete(
    "/{order_id}/shipments/{shipment}/loggers/{logger_id}",
    status_code=status.HTTP_204_NO_CONTENT,
)
def remove_logger(
    order_id: IdPath,
    shipment: ShipmentPath,
    logger_id: IdPath,
    actor: CurrentActor,
    platform: PlatformDep,
) -> None:
    """Take a logger off the shipment's trip, before pickup; audited."""
    with transaction(platform.sessions) as session:
        trip = _planned_trip(session, actor, order_id, shipment)
        row = session.get(LoggerAssignment, (trip.id, logger_id), with_for_update=True)
        if row is None:
            raise not_found("logger on this trip")
        session.delete(row)
        _audit(session, actor, "cold_chain.logger_removed", trip.id, logger_id, row.zone)


def _assignment(row: LoggerAssignment) -> AssignmentView:
    return AssignmentView(
        trip_id=row.trip_id,
        logger_id=row.logger_id,
        zone=row.zone,
        assigned_by=row.assigned_by,
        assigned_at=row.assigned_at,
    )


def _audit(
    session: Session, actor: Actor, action: str, trip_id: str, logger_id: str, zone: str
) -> None:
    append_audit(
        session,
        actor=actor,
        action=action,
        target_type="cold_trip",
        target_id=trip_id,
        detail={"logger_id": logger_id, "zone": zone},
    )
