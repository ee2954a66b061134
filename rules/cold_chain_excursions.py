"""Cold chain: runs out of range, pre-alerts, the stability budget and silent loggers.

Pure functions over one logger's series (rules.cold_chain_profiles: readings, profiles, order).
Sources: domain-rules.md §2 (cold chain); issue 10 (warning boundary, stability budget).

How a run is timed (sample and hold, as a logger reports it): a reading's value stands until the
next reading. A run outside the range starts at its first reading outside and ends at the first
reading that is not outside on the same side (back inside, or past the other bound, which starts
a run of its own); its duration is end - start. A run still outside at the last reading ends
there and is ``open`` (what came after is unknown: that is a silence, below). A single reading
outside between two inside therefore counts the whole interval after it. The crossing is not
interpolated: interpolation invents a moment no logger saw, and holding is what a recorded
trace shows and an auditor can re-add by hand. The bounds are inside the range (4.0 °C is in
0-4 °C).

- Excursion (domain-rules.md §2): a run outside lasting AT LEAST the profile's single tolerance
  (a run of exactly the tolerance is an excursion), or any run with a reading past a critical
  limit, whatever its length.
- Time out of range: the sum of the runs' durations.
- Stability budget (issue 10): the cumulative tolerance, shared by every leg of the trip; used =
  time out of range on earlier legs + on this series; remaining = allowed - used, never below
  zero; exhausted when used reaches the budget (the same "at least" as the single tolerance) and
  something was used (a zero budget is not spent by a trip that never left the range).
- Warning (pre-alert): a run inside the range but strictly past the warning boundary (within
  ``warning_margin`` of a bound), timed the same way; it ends at the first reading that leaves
  the warning band, whether back to the middle or on out of the range.
- Silent logger: consecutive readings further apart than ``max_silence``; the first reading later
  than the trip start + ``max_start_gap``; the last earlier than the trip end - ``max_end_gap``;
  while the trip is under way (no end yet), the last reading older than now - ``max_silence``.
  "Longer than allowed": a gap of exactly the allowance is not a silence.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from rules.cold_chain_profiles import (
    Profile,
    Reading,
    Side,
    is_critical,
    ordered,
    side_of,
    warning_side,
)

_NONE = timedelta(0)


@dataclass(frozen=True, slots=True)
class Run:
    """A contiguous run of readings on one side: outside the range, or in its warning band."""

    side: Side
    start: datetime
    end: datetime
    duration: timedelta
    extreme_celsius: Decimal  # the furthest reading toward ``side``
    readings: int
    open: bool  # the series ends inside the run
    exceeds_tolerance: bool = False  # outside runs: lasted at least the single tolerance
    critical: bool = False  # outside runs: a reading past a critical limit

    @property
    def is_excursion(self) -> bool:
        return self.exceeds_tolerance or self.critical


@dataclass(frozen=True, slots=True)
class OutOfRange:
    """Every run outside the range and the time out of range they add up to."""

    runs: tuple[Run, ...]
    time_out_of_range: timedelta

    @property
    def excursions(self) -> tuple[Run, ...]:
        return tuple(run for run in self.runs if run.is_excursion)


def _runs(series: Sequence[Reading], classify: Callable[[Decimal], Side | None]) -> list[Run]:
    runs: list[Run] = []
    begin = 0
    current: Side | None = None
    for i, reading in enumerate((*series, None)):
        side = None if reading is None else classify(reading.celsius)
        if side == current:
            continue
        if current is not None:
            closed = reading is not None
            end = reading.at if reading is not None else series[i - 1].at
            values = [r.celsius for r in series[begin:i]]
            extreme = max(values) if current == "above" else min(values)
            start = series[begin].at
            runs.append(Run(current, start, end, end - start, extreme, i - begin, not closed))
        begin, current = i, side
    return runs


def excursions(readings: Iterable[Reading], profile: Profile) -> OutOfRange:
    """Runs outside the range, each judged against the single tolerance and critical limits."""
    series = ordered(readings)
    runs = []
    for run in _runs(series, lambda c: side_of(profile, c)):
        critical = is_critical(profile, run.extreme_celsius)
        exceeds = run.duration >= profile.single_tolerance
        runs.append(replace(run, exceeds_tolerance=exceeds, critical=critical))
    return OutOfRange(tuple(runs), sum((run.duration for run in runs), _NONE))


def warnings(readings: Iterable[Reading], profile: Profile) -> tuple[Run, ...]:
    """Runs inside the range but past the warning boundary: pre-alerts while there is time."""
    return tuple(_runs(ordered(readings), lambda c: warning_side(profile, c)))


@dataclass(frozen=True, slots=True)
class Budget:
    """The stability budget: allowed cumulative time out of range, used and left."""

    allowed: timedelta
    used: timedelta
    remaining: timedelta
    exhausted: bool


def stability_budget(
    time_out_of_range: timedelta, profile: Profile, *, used_before: timedelta = _NONE
) -> Budget:
    """The budget after ``used_before`` (earlier legs) and this series' time out of range."""
    allowed, used = profile.cumulative_tolerance, used_before + time_out_of_range
    exhausted = used > _NONE and used >= allowed
    return Budget(allowed, used, max(allowed - used, _NONE), exhausted)


SilenceKind = Literal["start", "gap", "end", "ongoing"]


@dataclass(frozen=True, slots=True)
class Silence:
    """A stretch of the trip with no readings, longer than the profile allows for its kind."""

    kind: SilenceKind
    start: datetime
    end: datetime
    duration: timedelta


def _silence(kind: SilenceKind, start: datetime, end: datetime) -> Silence:
    return Silence(kind, start, end, end - start)


def silences(
    readings: Iterable[Reading],
    profile: Profile,
    *,
    trip_start: datetime,
    trip_end: datetime | None,
    now: datetime,
) -> tuple[Silence, ...]:
    """Gaps at the start, between readings, and at the end (or up to now while under way)."""
    series = ordered(readings)
    found: list[Silence] = []
    if not series:
        until = now if trip_end is None else trip_end
        if until - trip_start > profile.max_start_gap:
            found.append(_silence("start", trip_start, until))
        return tuple(found)
    if series[0].at - trip_start > profile.max_start_gap:
        found.append(_silence("start", trip_start, series[0].at))
    for before, after in itertools.pairwise(series):
        if after.at - before.at > profile.max_silence:
            found.append(_silence("gap", before.at, after.at))
    last = series[-1].at
    if trip_end is not None and trip_end - last > profile.max_end_gap:
        found.append(_silence("end", last, trip_end))
    if trip_end is None and now - last > profile.max_silence:
        found.append(_silence("ongoing", last, now))
    return tuple(found)
