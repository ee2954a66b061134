"""The dashboard's arithmetic, without a database: weeks, rates, changes, panels.

The queries (``workbench.metrics_orders``, ``workbench.metrics_ops``) return plain rows; what
turns them into figures a person reads lives here so it can be tested on numbers worked out by
hand. Weeks start on Monday in China Standard Time, as people here count them. Rates and
changes are Decimal to four places, so the figure on the headline and in the table agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup

from workbench.i18n import CHINA

WEEKS = 12  # the window every weekly chart shows, this week included
RECENT = 4  # the headline compares the last RECENT weeks with the RECENT before them
PLACES = Decimal("0.0001")
MAIN_CURRENCY = "CNY"


@dataclass(frozen=True)
class WeekAmount:
    """One week's orders in one currency: how many, and their value."""

    week: date
    currency: str
    orders: int
    amount: Decimal


@dataclass(frozen=True)
class Panel:
    """One figure on the dashboard: the headline, the chart and the table of exact numbers.

    ``rows`` are already formatted for the reader (money with its currency, rates as percent).
    """

    key: str
    title: str
    headline: str
    chart: Markup
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    extra: Sequence[Markup] = field(default_factory=tuple)


def china_today(now: datetime) -> date:
    return now.astimezone(CHINA).date()


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def weeks_back(today: date, count: int = WEEKS) -> list[date]:
    """The Mondays of the last ``count`` weeks, oldest first, this week's last."""
    this_week = week_start(today)
    return [this_week - timedelta(weeks=count - 1 - i) for i in range(count)]


def since(day: date) -> datetime:
    """Midnight China time at the start of ``day``: where a window of China days begins."""
    return datetime.combine(day, time(0), tzinfo=CHINA)


def week_label(week: date) -> str:
    return week.strftime("%m-%d")


def rate(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """``part / whole`` to four places; None when there is nothing to divide by."""
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(PLACES, rounding=ROUND_HALF_UP)


def percent(value: Decimal | None) -> str:
    """A rate as a percentage with one decimal; a dash when there is no rate."""
    if value is None:
        return "—"
    return f"{(value * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def change(now: Decimal, before: Decimal) -> Decimal | None:
    """The relative change from ``before`` to ``now``; None when ``before`` is zero."""
    return rate(now - before, before) if before else None


def signed_percent(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return ("+" if value >= 0 else "") + percent(value)


def hours(value: float | None) -> str:
    """A duration given in hours, as people say it: minutes, hours or days."""
    if value is None:
        return "—"
    if value < 1:
        return f"{value * 60:.0f} min"
    if value < 48:
        return f"{value:.1f} h"
    return f"{value / 24:.1f} d"


def currencies(codes: Iterable[str]) -> list[str]:
    """The currencies present, the main one (CNY) first, the rest in alphabetical order."""
    return sorted(set(codes), key=lambda code: (code != MAIN_CURRENCY, code))


def weekly(
    rows: Iterable[WeekAmount], weeks: Sequence[date], currency: str
) -> list[tuple[date, int, Decimal]]:
    """One currency's (week, orders, amount) for every week of the window, empty weeks as 0."""
    found = {row.week: row for row in rows if row.currency == currency}
    return [
        (week, found[week].orders, found[week].amount)
        if week in found
        else (week, 0, Decimal("0.00"))
        for week in weeks
    ]


def recent_and_before(
    series: Sequence[tuple[date, int, Decimal]], recent: int = RECENT
) -> tuple[Decimal, Decimal]:
    """The amount of the last ``recent`` weeks and of the ``recent`` weeks before them."""
    amounts = [amount for _, _, amount in series]
    now = sum(amounts[-recent:], Decimal(0))
    before = sum(amounts[-2 * recent : -recent], Decimal(0))
    return now, before


def counted_rate(
    rows: Iterable[tuple[str, int, int]],
) -> list[tuple[str, int, int, Decimal | None]]:
    """(label, part, whole) rows with their rate, in the order given."""
    return [(label, part, whole, rate(part, whole)) for label, part, whole in rows]
