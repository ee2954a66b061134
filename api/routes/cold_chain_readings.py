"""Cold chain: a logger posts its readings, in batches, with its own credential.

``POST /cold-chain/readings`` is the telemetry's hot path. The logger authenticates as itself
(``Authorization: Logger <logger_id>:<secret>``, the secret shown when it was registered) and
may post only for itself, while it is on a trip under way or arrived and not yet decided. One
query finds the logger, its assignment and the trip; the batch is judged whole
(``rules.cold_chain_profiles.refusals``, and a repeat of an instant with another value): any
refusal answers 422 naming every refused reading, and nothing is written. Otherwise one
``INSERT .. ON CONFLICT DO NOTHING`` stores it, so a resent or reordered batch stores nothing
twice; then the trip's workflow is told about what was new in one ``ReadingsBatch`` signal,
never one a reading. A workflow not running yet misses nothing: it assesses from the database.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, cast

from fastapi import APIRouter, HTTPException, Security, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import Table, and_, select
from sqlalchemy.dialects.postgresql import insert
from temporalio.service import RPCError, RPCStatusCode

from api.deps import PlatformDep
from api.platform import Platform
from api.routes.cold_chain_batches import (
    check_stored,
    kept_reading,
    refusal,
    refused_readings,
    summary,
)
from contracts.cold_chain import (
    MAX_BATCH,
    LoggerId,
    ReadingIn,
    ReadingsBatch,
    ZoneProfile,
    cold_chain_workflow_id,
)
from contracts.common import Frozen
from db.cold_chain import ColdLogger, ColdTrip, LoggerAssignment, TemperatureReading, TripStatus
from db.session import transaction
from rules.cold_chain_profiles import Reading

log = logging.getLogger("tradeflow.api")
router = APIRouter(prefix="/cold-chain", tags=["cold chain"])
LOGGER_CREDENTIAL = APIKeyHeader(
    name="Authorization",
    scheme_name="LoggerCredential",
    description="A logger's own credential, not a user's token: "
    "`Logger <logger_id>:<secret>`, the secret answered when the logger was registered.",
    auto_error=False,
)
UNDER_WAY = (TripStatus.IN_TRANSIT, TripStatus.ARRIVED)
# Core, not the ORM: no object a reading on the hot path.
READINGS = cast(Table, TemperatureReading.__table__)


class TimedReading(ReadingIn):
    """A reading; its time must carry its UTC offset. The optional figures bear their bounds
    inside the union, where the API's checks (and OpenAPI) see them."""

    at: AwareDatetime
    humidity: (
        Annotated[Decimal, Field(allow_inf_nan=False, max_digits=8, decimal_places=3)] | None
    ) = None
    latitude: Annotated[Decimal, Field(ge=-90, le=90, max_digits=9, decimal_places=6)] | None = None
    longitude: (
        Annotated[Decimal, Field(ge=-180, le=180, max_digits=10, decimal_places=6)] | None
    ) = None


class ReadingsRequest(Frozen):
    logger_id: LoggerId
    readings: list[TimedReading] = Field(min_length=1, max_length=MAX_BATCH)


class ReadingsStored(BaseModel):
    trip_id: str
    stored: int  # readings new to the database
    duplicates: int  # readings it already held (a resent batch)


@dataclass(frozen=True, slots=True)
class _Live:
    """A logger on a live trip: what one query answers for a batch."""

    trip_id: str
    status: str
    started_at: datetime
    arrived_at: datetime | None
    zone: ZoneProfile


@router.post("/readings", status_code=status.HTTP_202_ACCEPTED)
async def post_readings(
    body: ReadingsRequest,
    platform: PlatformDep,
    authorization: Annotated[str | None, Security(LOGGER_CREDENTIAL)] = None,
) -> ReadingsStored:
    """Store a logger's batch of readings (all or none; idempotent by logger and time) and
    tell the trip's workflow what was new. Authenticated by the logger's own credential."""
    stored, batch = await run_in_threadpool(_store, platform, authorization, body)
    if batch is not None:
        await _signal(platform, stored.trip_id, batch)
    return stored


def _store(
    platform: Platform, authorization: str | None, body: ReadingsRequest
) -> tuple[ReadingsStored, ReadingsBatch | None]:
    logger_id, secret = _credential(authorization)
    with transaction(platform.sessions) as session:
        found = session.execute(_logger_on_trip(logger_id)).first()
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if found is None or not hmac.compare_digest(found.secret_sha256, digest):
            raise _unauthorised("unknown logger or wrong secret")
        if found.retired_at is not None:
            raise _unauthorised(f"logger {logger_id} is retired")
        if body.logger_id != logger_id:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"logger {logger_id} posts only its own readings, not {body.logger_id}'s",
            )
        live = _live(found)
        readings = [kept_reading(r) for r in body.readings]
        refused = refused_readings(
            readings, trip_start=live.started_at, trip_end=live.arrived_at or datetime.now(UTC)
        )
        if refused:
            raise refusal(refused)
        # One row an instant, the first given (rules.cold_chain_profiles.ordered's rule).
        first: dict[datetime, tuple[Reading, ReadingIn]] = {}
        for reading, given in zip(readings, body.readings, strict=True):
            first.setdefault(reading.at, (reading, given))
        rows = [
            {
                "logger_id": logger_id,
                "at": r.at,
                "trip_id": live.trip_id,
                "celsius": r.celsius,
                "humidity": r.humidity,
                "latitude": given.latitude,
                "longitude": given.longitude,
            }
            for r, given in first.values()
        ]
        statement = (
            insert(READINGS)
            .on_conflict_do_nothing(index_elements=["logger_id", "at"])
            .returning(TemperatureReading.at)
        )
        new = set(session.execute(statement, rows).scalars())
        if len(new) < len(first):  # some were stored before: the same values, or refused whole
            check_stored(session, logger_id, readings, [at for at in first if at not in new])
    fresh = sorted((r for r, _ in first.values() if r.at in new), key=lambda r: r.at)
    stored = ReadingsStored(
        trip_id=live.trip_id, stored=len(fresh), duplicates=len(readings) - len(fresh)
    )
    return stored, summary(logger_id, fresh, live.zone) if fresh else None


def _logger_on_trip(logger_id: str) -> Any:
    """The logger, and its live assignment and trip if it has one (a decided trip frees it)."""
    on_trip = LoggerAssignment.__table__.join(
        ColdTrip.__table__,
        and_(ColdTrip.id == LoggerAssignment.trip_id, ColdTrip.status != TripStatus.DECIDED),
    )
    return (
        select(
            ColdLogger.secret_sha256,
            ColdLogger.retired_at,
            LoggerAssignment.trip_id,
            LoggerAssignment.zone,
            ColdTrip.status,
            ColdTrip.started_at,
            ColdTrip.arrived_at,
            ColdTrip.plan,
        )
        .select_from(
            ColdLogger.__table__.outerjoin(
                on_trip,
                and_(
                    LoggerAssignment.logger_id == ColdLogger.id,
                    LoggerAssignment.released_at.is_(None),
                ),
            )
        )
        .where(ColdLogger.id == logger_id)
        .order_by(LoggerAssignment.assigned_at.desc())
        .limit(1)
    )


def _live(found: Any) -> _Live:
    if found.trip_id is None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="the logger is not assigned to a trip")
    if found.status not in UNDER_WAY or found.started_at is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"trip {found.trip_id} is {found.status}: readings are taken from pickup",
        )
    zone = next(z for z in found.plan["zones"] if z["zone"] == found.zone)
    return _Live(
        trip_id=found.trip_id,
        status=found.status,
        started_at=found.started_at,
        arrived_at=found.arrived_at,
        zone=ZoneProfile.model_validate(zone),
    )


def _credential(authorization: str | None) -> tuple[str, str]:
    scheme, _, credential = (authorization or "").partition(" ")
    logger_id, colon, secret = credential.strip().partition(":")
    if scheme.lower() != "logger" or not colon or not logger_id or not secret:
        raise _unauthorised("expected Authorization: Logger <logger_id>:<secret>")
    return logger_id, secret


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Logger"}
    )


async def _signal(platform: Platform, trip_id: str, batch: ReadingsBatch) -> None:
    """Tell the trip's workflow; the readings are stored whatever happens here, and the
    workflow reads them from the database when it next assesses."""
    handle = platform.temporal.get_workflow_handle(cold_chain_workflow_id(trip_id))
    try:
        await handle.signal("readings", batch)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            log.warning("readings stored but not signalled", extra={"trip_id": trip_id})
