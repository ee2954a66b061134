"""The predicted breach and budget exhaustion from the recent trend, on hand-computed lines.

Source: issue 10 ("a predicted breach time from the recent trend ... at this rate the budget is
gone in 40 minutes"); the least-squares line and its rules: rules/cold_chain_forecast.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from rules.cold_chain_forecast import TrendSettings, forecast
from rules.cold_chain_profiles import CHILLED, FROZEN, Reading

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
BUDGET = timedelta(hours=2)


def line(start: str, step: str, count: int, every: int = 5) -> list[Reading]:
    """``count`` readings ``every`` minutes from T0, rising by ``step`` °C each."""
    return [Reading(T0 + i * every * MIN, Decimal(start) + i * Decimal(step)) for i in range(count)]


def test_rising_toward_the_maximum_predicts_the_breach_and_the_budget() -> None:
    # 2.00, 2.25 ... 3.50 °C every 5 min over 30 min: +0.05 °C/min = 3 °C/h, level 3.50 at 08:30.
    # 4 °C is reached after (4 - 3.5) / 0.05 = 10 min: 08:40; with 20 min of budget left it is gone
    # at 09:00 ("at this rate the budget is gone in 30 minutes").
    series = line("2", "0.25", 7)
    result = forecast(series, CHILLED, remaining=20 * MIN)
    assert result is not None
    assert (result.as_of, result.side, result.slope_per_hour) == (
        T0 + 30 * MIN,
        "above",
        Decimal("3.00"),
    )
    assert result.breach_at == T0 + 40 * MIN
    assert result.budget_gone_at == T0 + 60 * MIN


def test_falling_toward_the_minimum_predicts_a_breach_below() -> None:
    # 3.5 down to 2.0 °C over 30 min: -3 °C/h from 2.0 °C reaches 0 °C in 40 min.
    result = forecast(line("3.5", "-0.25", 7), CHILLED, remaining=BUDGET)
    assert result is not None
    assert (result.side, result.breach_at, result.slope_per_hour) == (
        "below",
        T0 + 70 * MIN,
        Decimal("-3.00"),
    )
    assert result.budget_gone_at == T0 + 70 * MIN + BUDGET


def test_heading_back_inside_before_the_budget_is_gone_gives_none() -> None:
    # Outside at 6.0 -> 5.0 °C, falling 3 °C/h: back at 4 °C in 20 min, with 2 h of budget left.
    assert forecast(line("6", "-0.25", 5), CHILLED, remaining=BUDGET) is None


def test_heading_back_too_slowly_still_spends_the_budget() -> None:
    # Same line with 10 min of budget left: it is back only in 20 min, so gone at as_of + 10 min.
    result = forecast(line("6", "-0.25", 5), CHILLED, remaining=10 * MIN)
    assert result is not None
    assert (result.side, result.breach_at, result.budget_gone_at) == (
        "above",
        T0 + 20 * MIN,
        T0 + 30 * MIN,
    )


def test_outside_and_rising_drains_the_budget_from_now() -> None:
    result = forecast(line("4.5", "0.1", 4), CHILLED, remaining=40 * MIN)
    assert result is not None
    assert (result.breach_at, result.budget_gone_at) == (T0 + 15 * MIN, T0 + 55 * MIN)


def test_moving_away_flat_or_toward_an_open_end_gives_none() -> None:
    # Cooling a frozen load heads for no bound (frozen has no minimum); a flat series for none.
    assert forecast(line("-20", "-0.25", 7), FROZEN, remaining=BUDGET) is None
    assert forecast(line("3", "0", 7), CHILLED, remaining=BUDGET) is None


def test_too_few_readings_in_the_window_or_a_breach_beyond_the_horizon_give_none() -> None:
    # Two readings in the last 30 min make no trend; a 1 °C/day drift crosses beyond 24 h.
    assert forecast(line("2", "0.5", 2), CHILLED, remaining=BUDGET) is None
    sparse = line("2", "0.5", 7, every=10)  # 60 min of readings, only 4 in the last 30 min
    assert forecast(sparse, CHILLED, remaining=BUDGET, trend=TrendSettings(min_readings=5)) is None
    slow = line("0.5", str(Decimal(1) / 288), 7)  # 1 °C a day from 0.5 °C: 4 °C in ~3.5 days
    assert forecast(slow, CHILLED, remaining=BUDGET) is None
    far = forecast(slow, CHILLED, remaining=BUDGET, trend=TrendSettings(horizon=timedelta(days=5)))
    assert far is not None and far.side == "above"


def test_the_window_reads_only_recent_readings() -> None:
    # A long cold spell then the last 30 min rising as in the first test: same forecast.
    early = [Reading(T0 - (60 - i) * MIN, Decimal("1")) for i in range(0, 30, 5)]
    result = forecast(early + line("2", "0.25", 7), CHILLED, remaining=20 * MIN)
    assert result is not None and result.breach_at == T0 + 40 * MIN


def test_the_forecast_uses_the_profile_bounds() -> None:
    wider = replace(CHILLED, max_celsius=Decimal(5))
    result = forecast(line("2", "0.25", 7), wider, remaining=BUDGET)
    assert result is not None and result.breach_at == T0 + 60 * MIN
