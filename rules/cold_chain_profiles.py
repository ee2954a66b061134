"""Cold chain: readings, temperature profiles, and putting a logger's series in order.

The pieces every other cold-chain rule (rules.cold_chain_excursions, rules.mkt, rules.cold_chain)
stands on. Sources: domain-rules.md §2 (cold chain) and the regulations it cites.

A reading is one logger's temperature at one aware instant (humidity optional, %RH). A series is
one logger's readings; it may arrive out of order and with duplicates, since loggers resend
batches. ``ordered`` sorts it by time and keeps, for each instant, the FIRST reading in the order
given: for stored readings that is the order they were recorded, and the edge is idempotent by
device and time (a repeated reading is not written again), so the rules see what the database
keeps. A repeat with a different value is not silently averaged: ``conflicts`` names it so the
edge can refuse it with a reason.

A profile is configuration, not constants (domain-rules.md §2: "configuration, not constants"):
- the range [min, max], inclusive, either end open (frozen has no minimum);
- a warning margin inside the range: a reading within ``warning_margin`` of a bound is a
  pre-alert while there is still time (issue 10, "act before the excursion");
- critical limits outside the range, optional: one reading beyond them is an excursion whatever
  its duration and quarantines the goods (domain-rules.md §2 "critical → automatic quarantine").
  Frozen food: the range ends at -18 °C and transport may rise briefly to -15 °C, no higher
  (Directive 89/108/EEC, art. 5), so -15 °C is the frozen profile's critical limit and
  a brief rise between -18 and -15 is an out-of-range run judged by the single tolerance;
- single tolerance: how long one contiguous run outside may last before it is an excursion;
- cumulative tolerance: the stability budget, the total time out of range across the trip;
- the longest logger silence, and the longest gap allowed at the start and the end of the trip;
- the activation energy ΔH for mean kinetic temperature (rules.mkt) and the MKT label maximum.

Defaults that are platform conventions, not regulation (each is a field, override per product):
single tolerance 30 min, stability budget 2 h, warning margin 0.5 °C (domain-rules.md §2 grades
warnings from 0.5 °C), silence and start/end gaps 15 min (three missed readings at China GSP's
5-minute transport logging interval).

Physically impossible values (``refusals``) are for the edge: a road logger reading below -100 °C
or above +100 °C, humidity outside 0-100 %RH, or a reading outside the trip is refused, named by
its position in the batch and the rule it breaks.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

# Directive 89/108/EEC art. 5: quick-frozen food at -18 °C or colder; in transport brief
# upward fluctuations of at most 3 °C, so never above -15 °C.
FROZEN_MAX = Decimal(-18)
FROZEN_TRANSPORT_LIMIT = Decimal(-15)
DELTA_H_J_PER_MOL = Decimal(83144)  # domain-rules.md §2: ΔH/R ≈ 10,000 K
SILENCE = timedelta(minutes=15)  # three missed readings at China GSP's 5-minute interval


@dataclass(frozen=True, slots=True)
class Reading:
    """One logger reading: an aware instant, °C, and relative humidity (%RH) when logged."""

    at: datetime
    celsius: Decimal
    humidity: Decimal | None = None

    def __post_init__(self) -> None:
        if self.at.utcoffset() is None:
            raise ValueError(f"a reading's time must be timezone-aware, got {self.at.isoformat()}")


@dataclass(frozen=True, slots=True)
class Profile:
    """A temperature profile: range, warning margin, tolerances, silences and MKT settings."""

    name: str
    min_celsius: Decimal | None
    max_celsius: Decimal | None
    warning_margin: Decimal = Decimal("0.5")
    critical_min_celsius: Decimal | None = None
    critical_max_celsius: Decimal | None = None
    single_tolerance: timedelta = timedelta(minutes=30)
    cumulative_tolerance: timedelta = timedelta(hours=2)  # the stability budget
    max_silence: timedelta = SILENCE
    max_start_gap: timedelta = SILENCE
    max_end_gap: timedelta = SILENCE
    delta_h_j_per_mol: Decimal = DELTA_H_J_PER_MOL
    mkt_label_max_celsius: Decimal | None = None

    def __post_init__(self) -> None:
        low, high = self.min_celsius, self.max_celsius
        if low is None and high is None:
            raise ValueError(f"profile {self.name}: a range needs at least one bound")
        if low is not None and high is not None and low > high:
            raise ValueError(f"profile {self.name}: minimum {low} °C above maximum {high} °C")
        if self.warning_margin < 0 or self.delta_h_j_per_mol <= 0:
            raise ValueError(f"profile {self.name}: negative warning margin or ΔH not positive")
        critical_low, critical_high = self.critical_min_celsius, self.critical_max_celsius
        if critical_low is not None and (low is None or critical_low > low):
            raise ValueError(f"profile {self.name}: critical minimum must be at or below minimum")
        if critical_high is not None and (high is None or critical_high < high):
            raise ValueError(f"profile {self.name}: critical maximum must be at or above maximum")
        durations = (self.single_tolerance, self.cumulative_tolerance, self.max_silence)
        if min(*durations, self.max_start_gap, self.max_end_gap) < timedelta(0):
            raise ValueError(f"profile {self.name}: tolerances and gaps must not be negative")


Side = Literal["above", "below"]


def side_of(profile: Profile, celsius: Decimal) -> Side | None:
    """Which side of the range a value is on, None inside (the bounds are inside)."""
    if profile.max_celsius is not None and celsius > profile.max_celsius:
        return "above"
    if profile.min_celsius is not None and celsius < profile.min_celsius:
        return "below"
    return None


def warning_side(profile: Profile, celsius: Decimal) -> Side | None:
    """Which bound an in-range value is within the warning margin of (strictly past the line)."""
    high, low, margin = profile.max_celsius, profile.min_celsius, profile.warning_margin
    if side_of(profile, celsius) is not None or margin == 0:
        return None
    if high is not None and celsius > high - margin:
        return "above"
    if low is not None and celsius < low + margin:
        return "below"
    return None


def is_critical(profile: Profile, celsius: Decimal) -> bool:
    """Beyond a critical limit: an excursion at once, whatever its duration."""
    high, low = profile.critical_max_celsius, profile.critical_min_celsius
    return (high is not None and celsius > high) or (low is not None and celsius < low)


# Built-in profiles (domain-rules.md §2); the MKT label maximum defaults to the range maximum.
FROZEN = Profile(
    "frozen",
    None,
    FROZEN_MAX,
    critical_max_celsius=FROZEN_TRANSPORT_LIMIT,  # Directive 89/108/EEC: never above -15 °C
    mkt_label_max_celsius=FROZEN_MAX,
)
CHILLED = Profile(  # Chinese chilled food 0-4 °C
    "chilled", Decimal(0), Decimal(4), mkt_label_max_celsius=Decimal(4)
)
REFRIGERATED = Profile(  # USP <1079>: 2-8 °C
    "refrigerated", Decimal(2), Decimal(8), mkt_label_max_celsius=Decimal(8)
)
CONTROLLED_ROOM = Profile(  # EU GDP / air cargo (IATA CRT) 15-25 °C; USP <659> MKT ≤ 25 °C
    "controlled_room", Decimal(15), Decimal(25), mkt_label_max_celsius=Decimal(25)
)
# USP <659>: 20-25 °C with excursions between 15 and 30 °C permitted; beyond them, critical.
USP_CONTROLLED_ROOM = Profile(
    "usp_controlled_room",
    Decimal(20),
    Decimal(25),
    critical_min_celsius=Decimal(15),
    critical_max_celsius=Decimal(30),
    mkt_label_max_celsius=Decimal(25),
)
PROFILES = {
    p.name: p for p in (FROZEN, CHILLED, REFRIGERATED, CONTROLLED_ROOM, USP_CONTROLLED_ROOM)
}


def ordered(readings: Iterable[Reading]) -> tuple[Reading, ...]:
    """The series by time, one reading an instant: the first given for each (module docstring)."""
    series = tuple(readings)
    if all(a.at < b.at for a, b in itertools.pairwise(series)):
        return series  # already in order with no repeats: the common case, in one pass
    first: dict[datetime, Reading] = {}
    for reading in series:
        first.setdefault(reading.at, reading)
    return tuple(sorted(first.values(), key=lambda r: r.at))


def conflicts(readings: Iterable[Reading]) -> tuple[tuple[Reading, Reading], ...]:
    """Repeats of an instant with another value: (the reading kept, the one that differs)."""
    first: dict[datetime, Reading] = {}
    found: list[tuple[Reading, Reading]] = []
    for reading in readings:
        kept = first.setdefault(reading.at, reading)
        if kept is not reading and (kept.celsius, kept.humidity) != (
            reading.celsius,
            reading.humidity,
        ):
            found.append((kept, reading))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class PhysicalLimits:
    """What a logger can physically report; a road logger by default (configurable per device)."""

    min_celsius: Decimal = Decimal(-100)
    max_celsius: Decimal = Decimal(100)
    min_humidity: Decimal = Decimal(0)
    max_humidity: Decimal = Decimal(100)


ROAD_LOGGER = PhysicalLimits()

Rule = Literal[
    "below_physical_minimum",
    "above_physical_maximum",
    "humidity_out_of_range",
    "before_trip",
    "after_trip",
]


@dataclass(frozen=True, slots=True)
class Refusal:
    """A reading the edge refuses: its position in the batch, its time, the rule and why."""

    index: int
    at: datetime
    rule: Rule
    detail: str


def refusals(
    readings: Sequence[Reading],
    *,
    trip_start: datetime,
    trip_end: datetime,
    limits: PhysicalLimits = ROAD_LOGGER,
) -> tuple[Refusal, ...]:
    """Physically impossible values and readings outside [trip_start, trip_end], each named.

    ``trip_end`` is the arrival, or the current time while the trip is under way (a reading from
    the future is refused as after the trip).
    """
    found: list[Refusal] = []
    for index, r in enumerate(readings):
        if r.celsius < limits.min_celsius:
            detail = f"{r.celsius} °C is below the logger's {limits.min_celsius} °C"
            found.append(Refusal(index, r.at, "below_physical_minimum", detail))
        if r.celsius > limits.max_celsius:
            detail = f"{r.celsius} °C is above the logger's {limits.max_celsius} °C"
            found.append(Refusal(index, r.at, "above_physical_maximum", detail))
        h = r.humidity
        if h is not None and not limits.min_humidity <= h <= limits.max_humidity:
            detail = f"{h} %RH is outside {limits.min_humidity}-{limits.max_humidity} %RH"
            found.append(Refusal(index, r.at, "humidity_out_of_range", detail))
        if r.at < trip_start:
            detail = f"{r.at.isoformat()} is before the trip's start {trip_start.isoformat()}"
            found.append(Refusal(index, r.at, "before_trip", detail))
        if r.at > trip_end:
            detail = f"{r.at.isoformat()} is after the trip's end {trip_end.isoformat()}"
            found.append(Refusal(index, r.at, "after_trip", detail))
    return tuple(found)
