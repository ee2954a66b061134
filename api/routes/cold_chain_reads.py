"""Cold chain: reading a shipment's trip and its series (its chart and report:
``api.routes.cold_chain_report``).

The order's buyer and supplier, its carrier and platform staff read them, as they read the
order (``api.routes.order_access``); to anyone else the order does not exist (404). The trip
comes from its row (the figures as its workflow last stored them); a series is one logger's
readings, raw a page at a time or downsampled to buckets (``db.cold_chain.buckets``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import CurrentActor, SessionDep, not_found
from api.errors import invalid
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Page, ascending, paged
from api.params import IdPath
from api.routes.cold_chain_assignments import ShipmentPath, shipment_trip
from api.routes.order_access import carries, visible_order
from contracts.cold_chain import Assessment, LoggerId, SeriesBucket, ZoneProfile
from contracts.common import Actor, Money
from db.cold_chain import ColdTrip, LoggerAssignment, TemperatureReading, buckets
from db.models import Order

router = APIRouter(prefix="/orders", tags=["cold chain"])
BY_TIME = Keyset("readings", (ascending(TemperatureReading.at),))
MAX_BUCKETS = 5000  # a series' buckets in one answer: a month at ten minutes
TRIP_PATH = "/{order_id}/shipments/{shipment}/temperature"
BucketSeconds = Annotated[int, Field(ge=60, le=86400)]  # a minute to a day


class LoggerOnTrip(BaseModel):
    logger_id: str
    zone: str
    assigned_at: datetime
    released_at: datetime | None


class TripView(BaseModel):
    """A cold shipment's trip: its zones and loggers, the latest figures, and once decided the
    disposition, losses, liability, credit note and report (``report_document_id``, also at
    ``.../temperature/report``). The order's carrier sees no loss value unless it is liable."""

    trip_id: str
    order_id: str
    shipment: int
    status: str
    route: str
    zones: list[ZoneProfile]
    loggers: list[LoggerOnTrip]
    started_at: datetime | None
    arrived_at: datetime | None
    figures: Assessment | None
    figures_at: datetime | None
    disposition: str | None
    lost: dict[str, Decimal] | None
    shipped: dict[str, Decimal] | None
    loss_value: Money | None
    liable: str | None
    liable_org_id: str | None
    credit_note_id: str | None
    report_document_id: str | None
    decided_by: str | None
    decided_at: datetime | None


class ReadingView(BaseModel):
    at: datetime
    celsius: Decimal
    humidity: Decimal | None
    latitude: Decimal | None
    longitude: Decimal | None


class SeriesView(BaseModel):
    """One logger's series in [start, end]: ``buckets`` when a bucket width was asked for (a
    bucket starts every ``bucket_seconds`` from ``start``; empty ones are left out), else
    ``readings``, a page at a time (the ``Link`` header's next)."""

    logger_id: str
    zone: str
    start: datetime
    end: datetime
    bucket_seconds: int | None
    buckets: list[SeriesBucket]
    readings: list[ReadingView]


def readable_trip(
    session: Session, actor: Actor, order_id: str, shipment: int
) -> tuple[Order, ColdTrip]:
    """The order and the trip, if the caller sees the order (parties, carrier, staff); else 404."""
    order = visible_order(session, actor, order_id)
    return order, shipment_trip(session, order_id, shipment, lock=False)


def _loggers(session: Session, trip_id: str) -> list[LoggerAssignment]:
    query = select(LoggerAssignment).where(LoggerAssignment.trip_id == trip_id)
    return list(session.scalars(query.order_by(LoggerAssignment.assigned_at)))


@router.get(TRIP_PATH)
def get_trip(
    order_id: IdPath, shipment: ShipmentPath, actor: CurrentActor, session: SessionDep
) -> TripView:
    """The shipment's cold-chain trip: zones, loggers, latest figures and the decision."""
    order, trip = readable_trip(session, actor, order_id, shipment)
    priced = sees_claim(actor, order, trip)
    value = trip.loss_value if priced and trip.currency else None
    return TripView(
        trip_id=trip.id,
        order_id=trip.order_id,
        shipment=trip.shipment,
        status=trip.status,
        route=trip.route,
        zones=[ZoneProfile.model_validate(z) for z in trip.plan.get("zones", [])],
        loggers=[
            LoggerOnTrip(
                logger_id=a.logger_id,
                zone=a.zone,
                assigned_at=a.assigned_at,
                released_at=a.released_at,
            )
            for a in _loggers(session, trip.id)
        ],
        started_at=trip.started_at,
        arrived_at=trip.arrived_at,
        figures=Assessment.model_validate(trip.figures) if trip.figures else None,
        figures_at=trip.figures_at,
        disposition=trip.disposition,
        lost=stored_quantities(trip.lost),
        shipped=stored_quantities(trip.shipped),
        loss_value=Money(amount=value, currency=trip.currency or "") if value is not None else None,
        liable=trip.liable,
        liable_org_id=trip.liable_org_id,
        credit_note_id=trip.credit_note_id if priced else None,
        report_document_id=trip.report_document_id,
        decided_by=trip.decided_by,
        decided_at=trip.decided_at,
    )


def sees_claim(actor: Actor, order: Order, trip: ColdTrip) -> bool:
    """Whether the caller sees the trip's money (its loss value, claim and credit note): the
    order's parties and staff do; its carrier only when it is the party liable."""
    return not carries(actor, order) or trip.liable_org_id == actor.org_id


def stored_quantities(stored: dict[str, object] | None) -> dict[str, Decimal] | None:
    """Quantities per line as the trip row keeps them (decimal text), or None before."""
    return None if stored is None else {line: Decimal(str(q)) for line, q in stored.items()}


def window(trip: ColdTrip) -> tuple[datetime, datetime]:
    """The trip's time: from pickup to arrival, or to now while under way."""
    now = datetime.now(UTC)
    return trip.started_at or now, trip.arrived_at or now


@router.get(f"{TRIP_PATH}/series", responses=NEXT_PAGE_HEADERS)
def get_series(
    order_id: IdPath,
    shipment: ShipmentPath,
    logger_id: Annotated[LoggerId, Query()],
    actor: CurrentActor,
    session: SessionDep,
    page: Annotated[Page, paged(BY_TIME, default=1000, maximum=5000)],
    bucket: Annotated[
        BucketSeconds | None, Query(description="bucket width in seconds; raw readings if left out")
    ] = None,
    start: Annotated[AwareDatetime | None, Query(description="default: the pickup")] = None,
    end: Annotated[AwareDatetime | None, Query(description="default: arrival, or now")] = None,
) -> SeriesView:
    """One logger's readings on the trip, downsampled (min, max, mean, count a bucket) or raw."""
    _, trip = readable_trip(session, actor, order_id, shipment)
    zone = next((a.zone for a in _loggers(session, trip.id) if a.logger_id == logger_id), None)
    if zone is None:
        raise not_found("logger on this trip")
    first, last = window(trip)
    start, end = start or first, end or last
    if start > end:
        raise invalid("start", "after end")
    view = SeriesView(
        logger_id=logger_id,
        zone=zone,
        start=start,
        end=end,
        bucket_seconds=bucket,
        buckets=[],
        readings=[],
    )
    if bucket is not None:
        width = timedelta(seconds=bucket)
        if (end - start) / width > MAX_BUCKETS:
            raise invalid("bucket", f"more than {MAX_BUCKETS} buckets: widen them or narrow")
        view.buckets = buckets(session, logger_id, start, end, width)
        return view
    query = select(TemperatureReading).where(
        TemperatureReading.logger_id == logger_id,
        TemperatureReading.at >= start,
        TemperatureReading.at <= end,
    )
    view.readings = [
        ReadingView(
            at=r.at,
            celsius=r.celsius,
            humidity=r.humidity,
            latitude=r.latitude,
            longitude=r.longitude,
        )
        for r in page.rows(session, query)
    ]
    return view
