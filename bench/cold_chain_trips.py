"""What the cold-chain benchmark's loggers send: a reading a minute over a simulated trip,
batched as a logger uploads them, with excursions in one trip of ten.

Deterministic (no random state): the platform run and both baselines send the very same
readings. A normal reading stays between 4 and 6 °C, well inside the refrigerated 2-8 °C range
and clear of its 0.5 °C warning bands. An excursion trip leaves the range once a simulated day:
40 readings at 9-10 °C, placed so the reading that makes the run last the profile's 30-minute
single tolerance (``rules.cold_chain_excursions``: "at least" the tolerance) is the last of a
batch; that batch is the excursion batch the latency is measured from.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from contracts.cold_chain import ReadingsBatch

MINUTES_A_DAY = 24 * 60
EXCURSION_EVERY = 10  # one trip in ten has excursions
EXCURSION_READINGS = 40  # minutes outside the range
TOLERANCE_MINUTES = 30  # the refrigerated profile's single tolerance
RANGE_MAX = Decimal(8)


@dataclass(frozen=True)
class Trip:
    """A cold shipment on the platform, picked up, with its one logger and its credential."""

    number: int
    order_id: str
    trip_id: str
    workflow_id: str
    logger_id: str
    secret: str


@dataclass(frozen=True)
class Shape:
    """The simulated trip every logger reports: when it began, how long, how it is batched."""

    start: datetime
    days: int
    batch_minutes: int

    @property
    def minutes(self) -> int:
        return self.days * MINUTES_A_DAY

    @property
    def batches(self) -> int:
        return math.ceil(self.minutes / self.batch_minutes)


def has_excursions(number: int) -> bool:
    return number % EXCURSION_EVERY == EXCURSION_EVERY // 2


def excursion_batches(number: int, shape: Shape) -> tuple[int, ...]:
    """The batches (by index) whose last reading turns a run into an excursion: one a day, at
    a spot that moves from trip to trip and day to day."""
    if not has_excursions(number):
        return ()
    found: list[int] = []
    size = shape.batch_minutes
    for day in range(shape.days):
        first = max(math.ceil((day * MINUTES_A_DAY + TOLERANCE_MINUTES) / size), 1)
        last = min((day + 1) * MINUTES_A_DAY // size, shape.batches) - 1
        # The run goes on EXCURSION_READINGS - TOLERANCE_MINUTES - 1 minutes past the batch.
        while last >= first and (last + 1) * size + EXCURSION_READINGS > shape.minutes:
            last -= 1
        if last >= first:
            found.append(first + (number * 7 + day * 13) % (last - first + 1))
    return tuple(found)


def _outside(number: int, shape: Shape) -> set[int]:
    """Minutes (from the trip start) at which the logger reads above the range."""
    minutes: set[int] = set()
    for batch in excursion_batches(number, shape):
        turning = (batch + 1) * shape.batch_minutes - 1  # the run's age reaches the tolerance
        first = turning - TOLERANCE_MINUTES
        minutes.update(range(first, first + EXCURSION_READINGS))
    return minutes


def _celsius(number: int, minute: int, outside: bool) -> Decimal:
    # A day's slow swing and a fast ripple, different in phase from logger to logger.
    swing = math.sin(2 * math.pi * (minute / MINUTES_A_DAY + number / 37))
    ripple = math.sin(minute * 0.7 + number)
    base = 9.5 if outside else 5.0
    return Decimal(f"{base + 0.6 * swing + 0.3 * ripple:.2f}")


@dataclass(frozen=True)
class Batch:
    """One POST of a logger: its body, what the workflow would hear of it, and whether it is
    the excursion batch latencies are measured from."""

    trip: int
    index: int
    body: bytes
    readings: int
    summary: ReadingsBatch
    excursion: bool


def trip_batches(trip: Trip, shape: Shape) -> list[Batch]:
    """Every batch of the trip's logger, in the order it sends them."""
    outside = _outside(trip.number, shape)
    turning = set(excursion_batches(trip.number, shape))
    found: list[Batch] = []
    for index in range(shape.batches):
        minutes = range(
            index * shape.batch_minutes, min((index + 1) * shape.batch_minutes, shape.minutes)
        )
        values = [(m, _celsius(trip.number, m, m in outside)) for m in minutes]
        readings = [
            {
                "at": (shape.start + timedelta(minutes=m)).isoformat(),
                "celsius": str(c),
                "humidity": f"{55 + (m + trip.number) % 20}.0",
            }
            for m, c in values
        ]
        body = json.dumps({"logger_id": trip.logger_id, "readings": readings}).encode()
        celsius = [c for _, c in values]
        summary = ReadingsBatch(
            logger_id=trip.logger_id,
            count=len(values),
            first_at=shape.start + timedelta(minutes=minutes[0]),
            last_at=shape.start + timedelta(minutes=minutes[-1]),
            min_celsius=min(celsius),
            max_celsius=max(celsius),
            alarm=index in turning,
        )
        found.append(Batch(trip.number, index, body, len(values), summary, index in turning))
    return found


def last_at(shape: Shape, batch: int) -> datetime:
    """The batch's last reading (what the bare workflow keys its task by)."""
    last = min((batch + 1) * shape.batch_minutes, shape.minutes) - 1
    return shape.start + timedelta(minutes=last)


def excursion_starts(trip: Trip, shape: Shape) -> dict[datetime, int]:
    """Each excursion's first reading (what the platform keys its alert by) -> its batch."""
    return {
        shape.start
        + timedelta(minutes=(batch + 1) * shape.batch_minutes - 1 - TOLERANCE_MINUTES): batch
        for batch in excursion_batches(trip.number, shape)
    }
