"""A trip summed up: figures, verdict and GS1 disposition on hand-computed series.

Sources: domain-rules.md §2 (receiving rule: no excursion -> accept; excursion within budget and
MKT <= label maximum -> release with a deviation record; otherwise quarantine; GS1 dispositions),
issue 10 (out-of-order and duplicate readings give the same figures; a month of readings a minute).
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from rules.cold_chain import Verdict, summary, verdict
from rules.cold_chain_profiles import (
    CHILLED,
    FROZEN,
    REFRIGERATED,
    Profile,
    Reading,
    conflicts,
    ordered,
    refusals,
)

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
END = T0 + 120 * MIN


def every_5_min(celsius_at: dict[int, str], default: str = "2") -> list[Reading]:
    """Readings 08:00-10:00 every 5 min at ``default`` °C, overridden by minute."""
    return [Reading(T0 + m * MIN, Decimal(celsius_at.get(m, default))) for m in range(0, 121, 5)]


# 5 °C from 08:30 to 09:00 (7 readings), back to 2 °C at 09:05: out of range 35 min.
WITH_EXCURSION = every_5_min({m: "5" for m in range(30, 61, 5)})


def test_excursion_within_budget_is_released_with_a_deviation() -> None:
    result = summary(WITH_EXCURSION, CHILLED, trip_start=T0, trip_end=END, now=END)
    figures = result.figures
    assert (figures.readings, figures.min_celsius, figures.max_celsius) == (
        25,
        Decimal(2),
        Decimal(5),
    )
    # Trapezoid weights: 35 min at 5 °C, 85 min at 2 °C. Mean (85 x 2 + 35 x 5) / 120 = 2.875.
    # MKT: exp(-dH/RT) = 1.64513e-16 (2 °C), 2.43466e-16 (5 °C); weighted mean 1.87540e-16;
    # -ln = 36.2123; 9999.9253 / 36.2123 = 276.1454 K = 2.9954 °C -> 3.00 (label maximum 4).
    assert (figures.mean_celsius, figures.mkt_celsius) == (Decimal("2.88"), Decimal("3.00"))
    assert figures.time_logged == 120 * MIN and figures.time_out_of_range == 35 * MIN
    assert figures.time_in_range == 85 * MIN and figures.budget_left == 85 * MIN
    (run,) = result.excursions
    assert (run.start, run.duration, run.extreme_celsius) == (T0 + 30 * MIN, 35 * MIN, Decimal(5))
    assert result.verdict is Verdict.RELEASE_WITH_DEVIATION and result.reasons == ("excursion",)
    assert result.arrived and result.disposition == "sellable_accessible"
    assert result.forecast is None and result.silences == () and result.ignored == 0


def test_out_of_order_and_duplicate_readings_give_the_same_summary() -> None:
    shuffled = WITH_EXCURSION + WITH_EXCURSION[3:9]
    random.Random(10).shuffle(shuffled)
    assert summary(shuffled, CHILLED, trip_start=T0, trip_end=END, now=END) == summary(
        WITH_EXCURSION, CHILLED, trip_start=T0, trip_end=END, now=END
    )


def test_a_repeated_instant_with_another_value_keeps_the_first_and_is_named() -> None:
    first, second = Reading(T0, Decimal("2")), Reading(T0, Decimal("9"))
    assert ordered([first, second]) == (first,) and ordered([second, first]) == (second,)
    assert conflicts([first, Reading(T0, Decimal("2.0")), second]) == ((first, second),)


def test_no_excursion_is_accepted() -> None:
    # A 20-minute run at 4.5 °C is under the 30-minute tolerance: within the profile.
    series = every_5_min({m: "4.5" for m in range(30, 46, 5)})
    result = summary(series, CHILLED, trip_start=T0, trip_end=END, now=END)
    assert result.figures.time_out_of_range == 20 * MIN and result.excursions == ()
    assert result.verdict is Verdict.ACCEPT and result.reasons == ()
    assert result.disposition == "sellable_accessible"


def test_short_runs_that_together_exhaust_the_budget_are_quarantined() -> None:
    profile = replace(CHILLED, cumulative_tolerance=40 * MIN)
    series = every_5_min({**dict.fromkeys(range(10, 35, 5), "4.6"), 60: "-0.5", 65: "-0.5"})
    result = summary(series, profile, trip_start=T0, trip_end=END, now=END)
    assert [r.duration for r in result.out_of_range] == [25 * MIN, 10 * MIN]
    assert result.figures.time_out_of_range == 35 * MIN and not result.budget.exhausted
    longer = every_5_min(
        {**dict.fromkeys(range(10, 35, 5), "4.6"), **dict.fromkeys(range(60, 80, 5), "-0.5")}
    )
    result = summary(longer, profile, trip_start=T0, trip_end=END, now=END)
    # 25 + 20 = 45 min >= 40: no single excursion, but the budget is gone.
    assert result.excursions == () and result.budget.exhausted
    assert result.verdict is Verdict.QUARANTINE and result.reasons == ("budget_exhausted",)
    assert result.disposition == "non_sellable_other" and result.figures.budget_left == timedelta(0)


def test_mkt_over_the_label_maximum_is_quarantined() -> None:
    profile = replace(CHILLED, mkt_label_max_celsius=Decimal(3))
    result = summary(every_5_min({}, "3.9"), profile, trip_start=T0, trip_end=END, now=END)
    assert result.figures.mkt_celsius == Decimal("3.90") and result.reasons == ("mkt_over_label",)
    assert result.verdict is Verdict.QUARANTINE and len(result.warnings) == 1


def test_frozen_above_the_transport_limit_is_quarantined() -> None:
    series = every_5_min({60: "-14"}, "-20")
    result = summary(series, FROZEN, trip_start=T0, trip_end=END, now=END)
    assert result.reasons == ("critical",) and result.verdict is Verdict.QUARANTINE


def test_no_readings_is_quarantined_and_a_silence() -> None:
    result = summary([], CHILLED, trip_start=T0, trip_end=END, now=END)
    assert result.reasons == ("no_readings", "silence") and result.verdict is Verdict.QUARANTINE
    assert result.figures.mkt_celsius is None and result.figures.time_logged == timedelta(0)


def test_a_silence_alone_is_a_deviation() -> None:
    series = [r for r in every_5_min({}) if not 40 <= (r.at - T0) / MIN <= 55]
    result = summary(series, CHILLED, trip_start=T0, trip_end=END, now=END)
    assert [(s.kind, s.duration) for s in result.silences] == [("gap", 25 * MIN)]
    assert result.verdict is Verdict.RELEASE_WITH_DEVIATION and result.reasons == ("silence",)


def test_under_way_the_summary_forecasts_and_suggests_no_disposition() -> None:
    # 2.00 -> 3.50 °C from 08:00 to 08:30 at 3 °C/h: 4 °C at 08:40, 2 h of budget after that.
    series = [Reading(T0 + 5 * i * MIN, Decimal("2") + Decimal("0.25") * i) for i in range(7)]
    warehouse = Reading(T0 - 30 * MIN, Decimal(20))  # logged before loading: left out
    result = summary([*series, warehouse], CHILLED, trip_start=T0, trip_end=None, now=T0 + 32 * MIN)
    assert not result.arrived and result.disposition is None and result.ignored == 1
    assert result.forecast is not None and result.forecast.breach_at == T0 + 40 * MIN
    assert result.forecast.budget_gone_at == T0 + 160 * MIN
    assert result.verdict is Verdict.ACCEPT and result.figures.max_celsius == Decimal("3.5")


def test_verdict_ranks_quarantine_over_deviation() -> None:
    assert verdict(["excursion", "budget_exhausted"]) is Verdict.QUARANTINE
    assert verdict(["silence"]) is Verdict.RELEASE_WITH_DEVIATION
    assert verdict([]) is Verdict.ACCEPT


def test_a_month_of_readings_a_minute() -> None:
    # Issue 10: 43,200 readings (one a minute for 30 days). Refrigerated 2-8 °C at 5 °C, with
    # 60 readings at 9 °C from day 10: one 60-min excursion within the 2 h budget.
    spike = range(14_400, 14_460)
    series = [
        Reading(T0 + m * MIN, Decimal(9) if m in spike else Decimal(5)) for m in range(43_200)
    ]
    end = T0 + 43_199 * MIN
    result = summary(reversed(series), REFRIGERATED, trip_start=T0, trip_end=end, now=end)
    figures = result.figures
    assert figures.readings == 43_200 and figures.time_out_of_range == 60 * MIN
    assert figures.budget_left == 60 * MIN and len(result.excursions) == 1
    # Trapezoid weights: 60 min at 9 °C, 43,139 min at 5 °C.
    assert figures.mean_celsius == Decimal("5.01")  # 216,235 / 43,199 = 5.0056
    k = 83_144 / 8.3144621
    terms = 43_139 * math.exp(-k / 278.15) + 60 * math.exp(-k / 282.15)
    mkt = k / -math.log(terms / 43_199) - 273.15
    assert figures.mkt_celsius == Decimal(f"{mkt:.2f}") == Decimal("5.01")
    assert result.verdict is Verdict.RELEASE_WITH_DEVIATION


def test_edge_refusals_name_the_reading_and_the_rule() -> None:
    batch = [
        Reading(T0 + MIN, Decimal(-120)),
        Reading(T0 + 2 * MIN, Decimal(3), humidity=Decimal(120)),
        Reading(T0 - MIN, Decimal(3)),
        Reading(END + MIN, Decimal(101)),
        Reading(T0 + 3 * MIN, Decimal(3), humidity=Decimal(55)),
    ]
    found = refusals(batch, trip_start=T0, trip_end=END)
    assert [(r.index, r.rule) for r in found] == [
        (0, "below_physical_minimum"),
        (1, "humidity_out_of_range"),
        (2, "before_trip"),
        (3, "above_physical_maximum"),
        (3, "after_trip"),
    ]
    assert "-120 °C" in found[0].detail


def test_readings_need_aware_times_and_profiles_a_consistent_range() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Reading(datetime(2025, 3, 3, 8, 0), Decimal(3))  # naive: the point
    with pytest.raises(ValueError, match="above maximum"):
        Profile("upside_down", Decimal(8), Decimal(2))
    with pytest.raises(ValueError, match="at least one bound"):
        Profile("open", None, None)
    with pytest.raises(ValueError, match="critical maximum"):
        Profile("bad", Decimal(2), Decimal(8), critical_max_celsius=Decimal(7))
