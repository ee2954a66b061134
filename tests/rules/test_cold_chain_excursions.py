"""Runs out of range, warnings, the stability budget and silences against hand-timed series.

Sources: domain-rules.md §2 (cold chain: excursion "lasting at least the tolerance", cumulative
budget, Directive 89/108/EEC for frozen), issue 10 (warning boundary, stability budget, silent
logger, gaps at the start and end); timing by sample and hold (rules/cold_chain_excursions.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from rules.cold_chain_excursions import excursions, silences, stability_budget, warnings
from rules.cold_chain_profiles import CHILLED, FROZEN, Profile, Reading

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def at(minutes: float, celsius: str) -> Reading:
    return Reading(T0 + minutes * MIN, Decimal(celsius))


def test_run_of_exactly_the_single_tolerance_is_an_excursion() -> None:
    # domain-rules.md §2: "a contiguous run outside [min, max] lasting at least the tolerance".
    # Chilled 0-4 °C, tolerance 30 min: outside from the 5 °C reading at 10 min to the first
    # reading back inside at 40 min = 30 min.
    out = excursions([at(0, "3"), at(10, "5"), at(25, "5.5"), at(40, "3.9")], CHILLED)
    (run,) = out.runs
    assert (run.side, run.start, run.end) == ("above", T0 + 10 * MIN, T0 + 40 * MIN)
    assert run.duration == 30 * MIN and run.extreme_celsius == Decimal("5.5")
    assert run.readings == 2 and not run.open
    assert run.exceeds_tolerance and run.is_excursion
    assert out.excursions == (run,) and out.time_out_of_range == 30 * MIN


def test_run_a_minute_under_the_tolerance_is_not_an_excursion() -> None:
    out = excursions([at(0, "3"), at(10, "5"), at(39, "3.9")], CHILLED)
    (run,) = out.runs
    assert run.duration == 29 * MIN and not run.is_excursion
    assert out.excursions == () and out.time_out_of_range == 29 * MIN


def test_the_bounds_are_inside_the_range() -> None:
    out = excursions([at(0, "0"), at(10, "4.0"), at(20, "4"), at(30, "0.0")], CHILLED)
    assert out.runs == () and out.time_out_of_range == timedelta(0)


def test_two_short_runs_under_the_single_tolerance_exhaust_the_budget_together() -> None:
    # Budget 40 min: runs of 25 min (above) and 20 min (below) are each under 30 min, but
    # 25 + 20 = 45 min out of range >= 40 min.
    profile = replace(CHILLED, cumulative_tolerance=40 * MIN)
    series = [at(0, "3"), at(10, "4.6"), at(35, "3"), at(60, "-0.4"), at(70, "-0.8"), at(80, "1")]
    out = excursions(series, profile)
    assert [(r.side, r.duration, r.extreme_celsius) for r in out.runs] == [
        ("above", 25 * MIN, Decimal("4.6")),
        ("below", 20 * MIN, Decimal("-0.8")),
    ]
    assert out.excursions == ()
    budget = stability_budget(out.time_out_of_range, profile)
    assert (budget.allowed, budget.used, budget.remaining) == (40 * MIN, 45 * MIN, timedelta(0))
    assert budget.exhausted


def test_budget_counts_earlier_legs_and_what_is_left() -> None:
    # Issue 10: one budget across every leg. 50 min used before + 25 min now of 2 h: 45 min left.
    budget = stability_budget(25 * MIN, CHILLED, used_before=50 * MIN)
    assert (budget.used, budget.remaining, budget.exhausted) == (75 * MIN, 45 * MIN, False)
    assert not stability_budget(
        timedelta(0), replace(CHILLED, cumulative_tolerance=timedelta(0))
    ).exhausted


def test_a_jump_across_the_range_is_two_runs_and_an_open_run_ends_at_the_last_reading() -> None:
    series = [at(0, "5"), at(10, "-1"), at(20, "-2")]
    above, below = excursions(series, CHILLED).runs
    assert (above.side, above.duration, above.open) == ("above", 10 * MIN, False)
    assert (below.side, below.start, below.end, below.open) == (
        "below",
        T0 + 10 * MIN,
        T0 + 20 * MIN,
        True,
    )
    assert below.extreme_celsius == Decimal(-2)


def test_frozen_has_no_minimum_and_a_brief_rise_to_minus_16_is_tolerated() -> None:
    # Directive 89/108/EEC: <= -18 °C, brief rises in transport to -15 °C at most.
    series = [at(0, "-40"), at(10, "-16"), at(20, "-18"), at(30, "-25")]
    (run,) = excursions(series, FROZEN).runs
    assert run.duration == 10 * MIN and not run.critical and not run.is_excursion


def test_frozen_above_minus_15_is_critical_however_brief() -> None:
    (run,) = excursions([at(0, "-20"), at(5, "-14.5"), at(6, "-19")], FROZEN).runs
    assert run.duration == MIN and run.critical and run.is_excursion and not run.exceeds_tolerance


def test_warnings_are_runs_past_the_warning_boundary_inside_the_range() -> None:
    # Chilled 0-4 °C, margin 0.5: above 3.5 °C (or below 0.5 °C) is a pre-alert; 3.5 itself is not.
    series = [
        at(0, "2"),
        at(5, "3.5"),
        at(10, "3.6"),
        at(15, "3.9"),
        at(20, "4.5"),  # leaves the warning band for the range's outside
        at(25, "3.7"),
        at(30, "2"),
        at(35, "0.4"),
    ]
    first, second, third = warnings(series, CHILLED)
    assert (first.side, first.start, first.end, first.extreme_celsius) == (
        "above",
        T0 + 10 * MIN,
        T0 + 20 * MIN,
        Decimal("3.9"),
    )
    assert (second.start, second.duration, second.readings) == (T0 + 25 * MIN, 5 * MIN, 1)
    assert (third.side, third.open, third.duration) == ("below", True, timedelta(0))
    assert warnings(series, replace(CHILLED, warning_margin=Decimal(0))) == ()


def test_frozen_warns_just_below_minus_18() -> None:
    (run,) = warnings([at(0, "-25"), at(5, "-18.2"), at(10, "-19")], FROZEN)
    assert (run.side, run.duration) == ("above", 5 * MIN)


def test_silent_logger_mid_trip_and_gap_at_the_start() -> None:
    # Issue 10: silent longer than allowed (15 min), gaps at the start and the end of the trip.
    series = [at(20, "3"), at(25, "3"), at(45, "3"), at(60, "3")]
    found = silences(series, CHILLED, trip_start=T0, trip_end=T0 + 90 * MIN, now=T0 + 95 * MIN)
    assert [(s.kind, s.start, s.end, s.duration) for s in found] == [
        ("start", T0, T0 + 20 * MIN, 20 * MIN),
        ("gap", T0 + 25 * MIN, T0 + 45 * MIN, 20 * MIN),
        ("end", T0 + 60 * MIN, T0 + 90 * MIN, 30 * MIN),
    ]


def test_a_gap_of_exactly_the_allowance_is_not_a_silence() -> None:
    series = [at(15, "3"), at(30, "3"), at(45, "3")]
    assert silences(series, CHILLED, trip_start=T0, trip_end=T0 + 60 * MIN, now=T0 + 60 * MIN) == ()


def test_under_way_the_logger_is_silent_when_its_last_reading_is_too_old() -> None:
    series = [at(0, "3"), at(5, "3")]
    quiet = silences(series, CHILLED, trip_start=T0, trip_end=None, now=T0 + 21 * MIN)
    assert [(s.kind, s.start, s.end) for s in quiet] == [("ongoing", T0 + 5 * MIN, T0 + 21 * MIN)]
    assert silences(series, CHILLED, trip_start=T0, trip_end=None, now=T0 + 20 * MIN) == ()


def test_no_readings_at_all_is_one_silence_from_the_start() -> None:
    (gap,) = silences([], CHILLED, trip_start=T0, trip_end=None, now=T0 + 16 * MIN)
    assert (gap.kind, gap.duration) == ("start", 16 * MIN)


def test_custom_profile_with_only_a_minimum() -> None:
    # Tropical fruit style: at least 10 °C, no upper bound here.
    profile = Profile("above_10", Decimal(10), None, single_tolerance=timedelta(0))
    (run,) = excursions([at(0, "30"), at(5, "9.9"), at(10, "40")], profile).runs
    assert (run.side, run.duration, run.is_excursion) == ("below", 5 * MIN, True)
