"""Cold trips for tests and benchmarks: a chilled line, loggers on a trip, readings stored the way
the API stores them (one statement, idempotent by logger and time) and the batch it signals."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from contracts.cold_chain import ReadingsBatch
from contracts.sourcing import RfqLine, TemperatureRange
from db.cold_chain import ColdLogger, LoggerAssignment, TemperatureReading
from db.session import transaction

# Chilled food by Chinese practice: 0-4 °C (domain-rules.md §2); the logger sends hourly, so it
# may be silent 90 minutes.
CHILLED_LETTUCE = RfqLine(
    line_id="L9",
    description="冷藏生菜 Chilled lettuce",
    quantity=Decimal(400),
    unit="case",
    target_unit_price=Decimal("80.00"),
    temperature=TemperatureRange(
        min_celsius=Decimal(0), max_celsius=Decimal(4), max_silence_minutes=90
    ),
)


def logger_on_trip(
    sessions: sessionmaker[Session], *, org_id: str, trip_id: str, logger_id: str, zone: str
) -> None:
    """Register a logger of ``org_id`` and assign it to the trip's zone."""
    now = datetime.now(UTC)
    with transaction(sessions) as session:
        session.add(
            ColdLogger(
                id=logger_id,
                owner_org_id=org_id,
                model="test logger",
                secret_sha256=hashlib.sha256(logger_id.encode()).hexdigest(),
                registered_by="test",
                registered_at=now,
            )
        )
        session.flush()
        session.add(
            LoggerAssignment(
                trip_id=trip_id, logger_id=logger_id, zone=zone, assigned_by="test", assigned_at=now
            )
        )


def every(
    start: datetime, end: datetime, step: timedelta, celsius: Decimal | str
) -> list[tuple[datetime, Decimal]]:
    """Readings from ``start`` to ``end`` inclusive, every ``step``, all at one temperature."""
    found = []
    at = start
    while at <= end:
        found.append((at, Decimal(celsius)))
        at += step
    return found


def store(
    sessions: sessionmaker[Session],
    trip_id: str,
    logger_id: str,
    readings: Sequence[tuple[datetime, Decimal]],
    *,
    low: Decimal | None = None,
    high: Decimal | None = None,
    margin: Decimal = Decimal("0.5"),
) -> ReadingsBatch:
    """Store the readings as the API does and return the batch it would signal; ``alarm`` when
    a reading is within ``margin`` of a bound or past it."""
    rows = [
        {"logger_id": logger_id, "at": at, "trip_id": trip_id, "celsius": celsius}
        for at, celsius in readings
    ]
    with transaction(sessions) as session:
        for start in range(0, len(rows), 5000):
            session.execute(
                insert(TemperatureReading).on_conflict_do_nothing(), rows[start : start + 5000]
            )
    values = [celsius for _, celsius in readings]
    alarm = any(
        (high is not None and v > high - margin) or (low is not None and v < low + margin)
        for v in values
    )
    return ReadingsBatch(
        logger_id=logger_id,
        count=len(readings),
        first_at=min(at for at, _ in readings),
        last_at=max(at for at, _ in readings),
        min_celsius=min(values),
        max_celsius=max(values),
        alarm=alarm,
    )
