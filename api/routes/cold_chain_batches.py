"""Cold chain: judging a logger's batch of readings whole, before any of it is stored.

A batch is refused whole (422, nothing written) when any reading is physically impossible or
outside the trip (``rules.cold_chain_profiles.refusals``), or repeats an instant with another
value, in the batch or against what is already stored (``conflicts``: a resent reading must
say the same thing; the first kept is never silently replaced). The problem lists every refused
reading with its index, time, rule and why. A stored batch is summed up for the trip's workflow
in one ``ReadingsBatch``: its span, extremes, and whether any reading was in the warning band or
outside the range of the logger's zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import status
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import ProblemError
from contracts.cold_chain import ReadingIn, ReadingsBatch, ZoneProfile
from db.cold_chain import TemperatureReading
from rules.cold_chain_profiles import Reading, conflicts, refusals, side_of, warning_side
from rules.cold_chain_zones import profile_of

CENT = Decimal("0.01")  # the readings' columns keep two decimals: judge what is kept


def refused_readings(
    readings: list[Reading], *, trip_start: datetime, trip_end: datetime
) -> list[dict[str, Any]]:
    """Every refused reading of the batch: impossible, outside the trip, or a repeat of an
    instant with another value."""
    found = [
        _refused(r.index, r.at, r.rule, r.detail)
        for r in refusals(readings, trip_start=trip_start, trip_end=trip_end)
    ]
    return found + _repeats(readings, conflicts(readings), "conflicting_repeat", "in this batch")


def kept_reading(given: ReadingIn) -> Reading:
    """The reading as the database keeps it (to 0.01 °C and %RH, rounded half away from zero,
    as PostgreSQL rounds a numeric)."""
    humidity = given.humidity
    return Reading(
        at=given.at,
        celsius=given.celsius.quantize(CENT, ROUND_HALF_UP),
        humidity=None if humidity is None else humidity.quantize(CENT, ROUND_HALF_UP),
    )


def _refused(index: int, at: datetime, rule: str, detail: str) -> dict[str, Any]:
    return {"index": index, "at": at.isoformat(), "rule": rule, "detail": detail}


def _repeats(
    batch: list[Reading], pairs: Iterable[tuple[Reading, Reading]], rule: str, where: str
) -> list[dict[str, Any]]:
    """Each reading repeating an instant with another value than the one kept ``where``."""
    index = {id(r): i for i, r in enumerate(batch)}
    return [
        _refused(
            index[id(other)],
            other.at,
            rule,
            f"{other.celsius} °C at {other.at.isoformat()} repeats the instant {where} "
            f"with another value ({kept.celsius} °C)",
        )
        for kept, other in pairs
    ]


def check_stored(
    session: Session, logger_id: str, batch: list[Reading], repeated: list[datetime]
) -> None:
    """Readings stored before must come again with the same values, else the batch is refused
    (and the transaction takes back what it inserted)."""
    rows = session.execute(
        select(
            TemperatureReading.at, TemperatureReading.celsius, TemperatureReading.humidity
        ).where(TemperatureReading.logger_id == logger_id, TemperatureReading.at.in_(repeated))
    )
    kept = {
        at: Reading(at=at, celsius=celsius, humidity=humidity) for at, celsius, humidity in rows
    }
    differ = [
        (kept[r.at], r)
        for r in batch
        if r.at in kept and (kept[r.at].celsius, kept[r.at].humidity) != (r.celsius, r.humidity)
    ]
    if differ:
        raise refusal(_repeats(batch, differ, "conflicts_with_stored", "already stored"))


def refusal(refused: list[dict[str, Any]]) -> ProblemError:
    """422 listing every refused reading (``refused``) and naming each in ``errors``."""
    refused.sort(key=lambda r: (r["index"], r["rule"]))
    return ProblemError(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        f"{len(refused)} readings refused; nothing was stored: correct or drop them and resend",
        type="urn:tradeflow:problem:readings-refused",
        title="Readings refused",
        errors=[
            {"field": f"readings.{r['index']}", "rule": f"{r['rule']}: {r['detail']}"}
            for r in refused
        ],
        refused=refused,
    )


def summary(logger_id: str, fresh: list[Reading], zone: ZoneProfile) -> ReadingsBatch:
    """What the workflow hears of the newly stored readings (in time order): one message."""
    profile = profile_of(zone)
    values = [r.celsius for r in fresh]
    return ReadingsBatch(
        logger_id=logger_id,
        count=len(fresh),
        first_at=fresh[0].at,
        last_at=fresh[-1].at,
        min_celsius=min(values),
        max_celsius=max(values),
        alarm=any(
            side_of(profile, c) is not None or warning_side(profile, c) is not None
            for c in set(values)
        ),
    )
