"""Cold chain: one logger's trip summed up, for the workflow's tasks and the temperature report.

``summary`` composes the other cold-chain rules (each states its own formula and source):
rules.cold_chain_profiles (readings, profiles, order), rules.cold_chain_excursions (runs out of
range, warnings, budget, silences), rules.mkt (mean kinetic temperature, time-weighted mean) and
rules.cold_chain_forecast (predicted breach). It reads the readings between the trip's start and
its end (``now`` while under way); readings outside that window are left out and counted
(``ignored``), since the edge refuses them and a logger started early in a warehouse says nothing
about the trip.

Figures: min and max as read; mean and MKT with trapezoid time weights, to 0.01 °C; time logged
= last reading - first; time out of range = the runs' durations (sample and hold); time in range
= logged - out; budget left after earlier legs (``used_before``).

Verdict (domain-rules.md §2, receiving; China GSP refuses goods not kept in range, EU GDP 9.2
asks for a report and a written investigation):
- QUARANTINE when there are no readings (no evidence), a reading passed a critical limit, the
  stability budget is exhausted, or the MKT is above the profile's label maximum;
- else RELEASE_WITH_DEVIATION when a run outside lasted at least the single tolerance (an
  excursion within budget and MKT ≤ label maximum), or the logger was silent longer than allowed
  (a gap in the record is a deviation to investigate, not proof of harm);
- else ACCEPT (short runs under the tolerance are within the profile).
``reasons`` names every rule that applied, worst first. While the trip is under way the verdict is
provisional (it says what arrival would decide now) and the forecast is filled in.

GS1 disposition suggested on arrival (GS1 CBV; domain-rules.md §2 lists the five the platform
uses): accept and release with deviation → ``sellable_accessible``; quarantine →
``non_sellable_other`` (not sellable until inspection clears it). ``damaged`` and ``destroyed``
follow the buyer's inspection and decision, never these rules; none while in transit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from rules.cold_chain_excursions import (
    Budget,
    Run,
    Silence,
    excursions,
    silences,
    stability_budget,
    warnings,
)
from rules.cold_chain_forecast import DEFAULT_TREND, Forecast, TrendSettings, forecast
from rules.cold_chain_profiles import Profile, Reading, ordered
from rules.mkt import mean_kinetic_temperature, time_weighted_mean


class Verdict(StrEnum):
    ACCEPT = "accept"
    RELEASE_WITH_DEVIATION = "release_with_deviation"
    QUARANTINE = "quarantine"


Disposition = Literal[
    "sellable_accessible", "sellable_not_accessible", "non_sellable_other", "damaged", "destroyed"
]
Reason = Literal[
    "no_readings", "critical", "budget_exhausted", "mkt_over_label", "excursion", "silence"
]
_QUARANTINE: tuple[Reason, ...] = ("no_readings", "critical", "budget_exhausted", "mkt_over_label")
_DISPOSITION: dict[Verdict, Disposition] = {
    Verdict.ACCEPT: "sellable_accessible",
    Verdict.RELEASE_WITH_DEVIATION: "sellable_accessible",
    Verdict.QUARANTINE: "non_sellable_other",
}


@dataclass(frozen=True, slots=True)
class Figures:
    """The trip's figures for the task and the report; temperatures None without readings."""

    readings: int
    min_celsius: Decimal | None
    max_celsius: Decimal | None
    mean_celsius: Decimal | None
    mkt_celsius: Decimal | None
    time_logged: timedelta
    time_in_range: timedelta
    time_out_of_range: timedelta
    budget_left: timedelta


@dataclass(frozen=True, slots=True)
class Summary:
    """One logger's trip as of ``as_of``: figures, runs, silences, forecast and the verdict."""

    profile: str
    as_of: datetime
    arrived: bool
    figures: Figures
    budget: Budget
    out_of_range: tuple[Run, ...]  # every run outside; ``Run.is_excursion`` marks excursions
    warnings: tuple[Run, ...]
    silences: tuple[Silence, ...]
    forecast: Forecast | None  # only while under way
    verdict: Verdict
    reasons: tuple[Reason, ...]
    disposition: Disposition | None  # only on arrival
    ignored: int  # readings outside the trip window, left out

    @property
    def excursions(self) -> tuple[Run, ...]:
        return tuple(run for run in self.out_of_range if run.is_excursion)


def verdict(reasons: Iterable[Reason]) -> Verdict:
    """Quarantine, release with a deviation record, or accept (module docstring)."""
    found = set(reasons)
    if found.intersection(_QUARANTINE):
        return Verdict.QUARANTINE
    return Verdict.RELEASE_WITH_DEVIATION if found else Verdict.ACCEPT


def summary(
    readings: Iterable[Reading],
    profile: Profile,
    *,
    trip_start: datetime,
    trip_end: datetime | None,
    now: datetime,
    used_before: timedelta = timedelta(0),
    trend: TrendSettings = DEFAULT_TREND,
) -> Summary:
    """The trip summed up; ``trip_end`` None while under way, ``used_before``: earlier legs."""
    until = now if trip_end is None else trip_end
    everything = ordered(readings)
    series = tuple(r for r in everything if trip_start <= r.at <= until)
    out = excursions(series, profile)
    budget = stability_budget(out.time_out_of_range, profile, used_before=used_before)
    gaps = silences(series, profile, trip_start=trip_start, trip_end=trip_end, now=now)
    mkt = mean_kinetic_temperature(series, delta_h_j_per_mol=profile.delta_h_j_per_mol)
    logged = series[-1].at - series[0].at if series else timedelta(0)
    figures = Figures(
        readings=len(series),
        min_celsius=min((r.celsius for r in series), default=None),
        max_celsius=max((r.celsius for r in series), default=None),
        mean_celsius=time_weighted_mean(series),
        mkt_celsius=mkt,
        time_logged=logged,
        time_in_range=logged - out.time_out_of_range,
        time_out_of_range=out.time_out_of_range,
        budget_left=budget.remaining,
    )
    label = profile.mkt_label_max_celsius
    applied: dict[Reason, bool] = {
        "no_readings": not series,
        "critical": any(run.critical for run in out.runs),
        "budget_exhausted": budget.exhausted,
        "mkt_over_label": mkt is not None and label is not None and mkt > label,
        "excursion": any(run.exceeds_tolerance for run in out.runs),
        "silence": bool(gaps),
    }
    reasons = tuple(reason for reason, holds in applied.items() if holds)
    decided = verdict(reasons)
    arrived = trip_end is not None
    return Summary(
        profile=profile.name,
        as_of=now,
        arrived=arrived,
        figures=figures,
        budget=budget,
        out_of_range=out.runs,
        warnings=warnings(series, profile),
        silences=gaps,
        forecast=None
        if arrived
        else forecast(series, profile, remaining=budget.remaining, trend=trend),
        verdict=decided,
        reasons=reasons,
        disposition=_DISPOSITION[decided] if arrived else None,
        ignored=len(everything) - len(series),
    )
