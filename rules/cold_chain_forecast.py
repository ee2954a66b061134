"""Cold chain: when the range will be left and the stability budget gone, from the recent trend.

Issue 10 asks to act before the excursion, as real-time monitoring services do: "at this rate the
budget is gone in 40 minutes". The trend is the ordinary least-squares line through the readings
of the last ``TrendSettings.window`` (30 min by default) before the latest reading, the moment the
forecast is made ``as_of`` (readings only: no clock, so the forecast is deterministic):

    slope = Σ (xᵢ - x̄)(yᵢ - ȳ) / Σ (xᵢ - x̄)²      xᵢ seconds, yᵢ °C
    level = ȳ + slope · (0 - x̄)                      the line's value at ``as_of`` (x = 0)

- Inside the range, heading for a bound (rising toward a maximum, falling toward a minimum): the
  breach is when the line reaches that bound, ``as_of + (bound - level) / slope`` (``as_of``
  itself when the line is already past it); from then on the trip spends budget in real time, so
  the budget is gone at ``breach + remaining``.
- Outside the range: the breach has happened (``breach_at = as_of``) and the budget drains now,
  gone at ``as_of + remaining``, unless the line comes back inside before that.
- No forecast (None) when the trend moves away from every bound, is flat, ends at an open end of
  the range (frozen has no minimum), brings the series back inside before the budget is gone, or
  reaches the bound only beyond ``TrendSettings.horizon``; nor with fewer than
  ``min_readings`` readings in the window (two points make a line through any noise).

Floats run the fit (the window holds a few dozen readings); the breach is rounded to the whole
second and the slope reported as a Decimal in °C an hour, rounded half-up to 0.01.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from rules.cold_chain_profiles import Profile, Reading, Side, ordered, side_of


@dataclass(frozen=True, slots=True)
class TrendSettings:
    """How much recent history the trend reads and how far ahead it looks (conventions)."""

    window: timedelta = timedelta(minutes=30)
    min_readings: int = 3
    horizon: timedelta = timedelta(hours=24)


DEFAULT_TREND = TrendSettings()


@dataclass(frozen=True, slots=True)
class Forecast:
    """Where the trend leads: the bound it crosses, when, and when the budget runs out."""

    as_of: datetime  # the latest reading's time
    slope_per_hour: Decimal  # °C an hour, 0.01
    side: Side  # the bound the trend crosses (or has crossed)
    breach_at: datetime  # ``as_of`` when already outside
    budget_gone_at: datetime


def _fit(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """Least-squares (slope, level at x = 0), None when every x is the same."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return slope, mean_y - slope * mean_x


def _seconds_to(bound: Decimal, level: float, slope: float) -> float:
    return max((float(bound) - level) / slope, 0.0)


def forecast(
    readings: Iterable[Reading],
    profile: Profile,
    *,
    remaining: timedelta,
    trend: TrendSettings = DEFAULT_TREND,
) -> Forecast | None:
    """The predicted breach and budget exhaustion; ``remaining``: budget left as of the series."""
    series = ordered(readings)
    if not series:
        return None
    as_of = series[-1].at
    recent: list[tuple[float, float]] = []
    for reading in reversed(series):
        if as_of - reading.at > trend.window:
            break
        recent.append(((reading.at - as_of).total_seconds(), float(reading.celsius)))
    fit = _fit(recent) if len(recent) >= trend.min_readings else None
    if fit is None or fit[0] == 0:
        return None
    slope, level = fit
    per_hour = Decimal(slope * 3600).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    outside = side_of(profile, series[-1].celsius)
    if outside is not None:
        returning = (outside == "above") == (slope < 0)
        bound = profile.max_celsius if outside == "above" else profile.min_celsius
        if bound is None:  # unreachable: a side is only outside when it has a bound
            return None
        if returning and _seconds_to(bound, level, slope) < remaining.total_seconds():
            return None
        return Forecast(as_of, per_hour, outside, as_of, as_of + remaining)
    side: Side = "above" if slope > 0 else "below"
    bound = profile.max_celsius if side == "above" else profile.min_celsius
    if bound is None:
        return None
    seconds = _seconds_to(bound, level, slope)
    if seconds > trend.horizon.total_seconds():
        return None
    # Whole seconds: float noise in the fit must not move a forecast by microseconds.
    breach_at = as_of + timedelta(seconds=round(seconds))
    return Forecast(as_of, per_hour, side, breach_at, breach_at + remaining)
