"""Cold chain's tables: loggers, their assignments to trips, trips, readings and credit notes.

The tables live on ``db.models.Base`` (``db.models`` imports this module at its end). Readings
are the volume: a reading a minute for a 30-day trip is 43,200 rows per logger. They are keyed
by (logger, time), which makes a repeated or reordered batch idempotent and is the index every
series is read by (a logger is on one trip at a time, so its window is the trip's); a BRIN index
on the time serves scans across loggers (retention, the benchmark's size figure) at a fraction
of a B-tree's size, since rows arrive roughly in time order.

A logger's credential is a random secret shown once when it is registered; only its SHA-256 is
stored (a 256-bit random secret needs no slow hash).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from contracts.cold_chain import SeriesBucket
from db.models import Base, JsonDict
from rules.cold_chain_profiles import Reading


class TripStatus:
    PLANNED = "planned"  # loggers may be assigned; readings are refused until pickup
    IN_TRANSIT = "in_transit"
    ARRIVED = "arrived"  # readings up to the arrival are still taken until the decision
    DECIDED = "decided"


class ColdLogger(Base):
    """A temperature logger, registered by the carrier (or the supplier's logistics)."""

    __tablename__ = "cold_loggers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the device's serial
    owner_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    model: Mapped[str] = mapped_column(String(100), default="")
    secret_sha256: Mapped[str] = mapped_column(String(64))
    registered_by: Mapped[str] = mapped_column(String(40))
    registered_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class ColdTrip(Base):
    """A temperature-controlled shipment's trip, from planning to the buyer's decision."""

    __tablename__ = "cold_trips"
    __table_args__ = (Index("ix_cold_trips_order", "order_id", "shipment"),)

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    shipment: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    # contracts.cold_chain.ZoneProfile and ColdLine, as JSON: {"zones": [...], "lines": [...]}
    plan: Mapped[JsonDict]
    started_at: Mapped[datetime | None]  # the pickup
    arrived_at: Mapped[datetime | None]
    figures: Mapped[JsonDict | None]  # the latest contracts.cold_chain.Assessment
    figures_at: Mapped[datetime | None]
    carrier_org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    route: Mapped[str] = mapped_column(String(400), default="")
    disposition: Mapped[str | None] = mapped_column(String(30))
    lost: Mapped[JsonDict | None]  # line id -> quantity lost (decimal text)
    shipped: Mapped[JsonDict | None]  # line id -> quantity shipped (decimal text)
    loss_value: Mapped[Decimal | None] = mapped_column(Numeric(20, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    liable: Mapped[str | None] = mapped_column(String(10))  # carrier | supplier
    liable_org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    credit_note_id: Mapped[str | None] = mapped_column(String(100))
    report_document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime | None]


class LoggerAssignment(Base):
    """A logger on a trip, in one of its zones; assigned before pickup."""

    __tablename__ = "cold_logger_assignments"

    trip_id: Mapped[str] = mapped_column(ForeignKey("cold_trips.id"), primary_key=True)
    logger_id: Mapped[str] = mapped_column(ForeignKey("cold_loggers.id"), primary_key=True)
    zone: Mapped[str] = mapped_column(String(40))
    assigned_by: Mapped[str] = mapped_column(String(40))
    assigned_at: Mapped[datetime]
    released_at: Mapped[datetime | None]  # set when the trip is decided: the logger is free


class TemperatureReading(Base):
    """One reading of one logger; the key makes a repeated batch a no-op."""

    __tablename__ = "temperature_readings"
    __table_args__ = (Index("brin_temperature_readings_at", "at", postgresql_using="brin"),)

    logger_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(primary_key=True)
    trip_id: Mapped[str] = mapped_column(String(100))
    celsius: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    humidity: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(10, 6))


class CreditNote(Base):
    """A credit against an order's invoice: the value of goods lost in a cold-chain claim."""

    __tablename__ = "credit_notes"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    trip_id: Mapped[str] = mapped_column(ForeignKey("cold_trips.id"), unique=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(Text)
    liable_org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    issued_at: Mapped[datetime]


def readings_for(session: Session, logger_id: str, start: datetime, end: datetime) -> list[Reading]:
    """A logger's readings in [start, end], in time order (the primary key's order).

    Every assessment reads a logger's whole trip (43,200 rows for a month of minutes), so the
    rows come straight from the driver's cursor (timestamptz and numeric already arrive as aware
    datetimes and Decimals): SQLAlchemy's row processing more than doubled the read's time.
    """
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(
            "SELECT at, celsius, humidity FROM temperature_readings"
            " WHERE logger_id = %s AND at >= %s AND at <= %s ORDER BY at",
            (logger_id, start, end),
        )
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return [Reading(at=at, celsius=celsius, humidity=humidity) for at, celsius, humidity in rows]


def trip_loggers(session: Session, trip_id: str) -> list[tuple[str, str]]:
    """The trip's loggers and their zones, in the order they were assigned."""
    rows = session.execute(
        select(LoggerAssignment.logger_id, LoggerAssignment.zone)
        .where(LoggerAssignment.trip_id == trip_id)
        .order_by(LoggerAssignment.assigned_at, LoggerAssignment.logger_id)
    )
    return [(logger_id, zone) for logger_id, zone in rows]


def loggers_assigned(session: Session, trip_id: str) -> int:
    """How many loggers the trip has (a cold shipment's pickup needs at least one)."""
    count = session.scalar(
        select(func.count())
        .select_from(LoggerAssignment)
        .where(LoggerAssignment.trip_id == trip_id, LoggerAssignment.released_at.is_(None))
    )
    return int(count or 0)


def buckets(
    session: Session, logger_id: str, start: datetime, end: datetime, width: timedelta
) -> list[SeriesBucket]:
    """A logger's readings in [start, end] downsampled to ``width`` buckets counted from
    ``start`` (``date_bin``): readings, min, max and mean (to 0.001 °C) of each non-empty one."""
    bucket = func.date_bin(width, TemperatureReading.at, start).label("bucket")
    rows = session.execute(
        select(
            bucket,
            func.count(),
            func.min(TemperatureReading.celsius),
            func.max(TemperatureReading.celsius),
            func.round(func.avg(TemperatureReading.celsius), 3),
        )
        .where(
            TemperatureReading.logger_id == logger_id,
            TemperatureReading.at >= start,
            TemperatureReading.at <= end,
        )
        .group_by(bucket)
        .order_by(bucket)
    )
    return [
        SeriesBucket(start=at, readings=n, min_celsius=low, max_celsius=high, mean_celsius=mean)
        for at, n, low, high, mean in rows
    ]


CHART_BUCKETS = 300  # a chart's, at most: finer than the eye can tell on 720 pixels
# Widths a chart's reader can count in; the narrowest that keeps a trip within CHART_BUCKETS.
_WIDTHS = tuple(timedelta(minutes=m) for m in (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440))


def bucket_width(span: timedelta) -> timedelta:
    """The narrowest readable width giving at most CHART_BUCKETS buckets over ``span``."""
    for width in _WIDTHS:
        if span <= width * CHART_BUCKETS:
            return width
    days = -(-span // (timedelta(days=1) * CHART_BUCKETS))  # ceiling, in whole days
    return timedelta(days=days)


def chart_series(
    session: Session, trip_id: str, start: datetime, end: datetime
) -> tuple[dict[str, str], dict[str, list[SeriesBucket]]]:
    """What a trip's chart draws (the API's and the report's alike): each logger's zone, and
    its series in [start, end] at ``bucket_width``."""
    width = bucket_width(max(end - start, timedelta(0)))
    zone_of = dict(trip_loggers(session, trip_id))
    return zone_of, {logger: buckets(session, logger, start, end, width) for logger in zone_of}
