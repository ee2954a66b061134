"""A cold-chain trip's temperature chart as a self-contained SVG (no script, no external refs).

One chart serves the temperature report (inlined in its PDF) and the API (served as
``image/svg+xml`` for the excursion task), so it imports nothing heavier than the contracts:
the API must not pay for weasyprint.

What it draws: time (UTC) on x, °C on y; per logger the mean of each bucket as a polyline over a
light min-max band; each zone's range as dashed lines with its warning band (the margin inside
the range, rules.cold_chain_profiles.warning_side) lightly shaded and its critical limits
dotted; excursions shaded red across the plot over their time. A mean is plotted at the middle
of its bucket (the buckets' width is the smallest step between starts), since it stands for
the whole bucket. The output depends only on the arguments (fixed palette, loggers sorted,
coordinates to 0.1 px), so it can be hashed, compared and cached.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from contracts.cold_chain import RunView, SeriesBucket, ZoneProfile

# The report's CJK font first (documents.render.FONT_FAMILY; not imported, see above), then
# whatever a browser has.
FONT = "WenQuanYi Micro Hei, Noto Sans CJK SC, Microsoft YaHei, DejaVu Sans, sans-serif"
Y_LABEL = "温度 Temperature °C"
X_LABEL = "时间 Time (UTC)"
NO_DATA = "无读数 No readings"
# Colour-blind-safe (Okabe-Ito, without its red, which marks excursions).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#7F6000", "#000000")
EXCURSION_FILL = "#d62728"
# Steps a tick may take: °C, and seconds on the time axis.
_Y_STEPS = (0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 25.0, 50.0)
_X_STEPS = (60, 300, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)
_MAX_Y_TICKS = 8
_MAX_X_TICKS = 6
_LONE_SPAN = timedelta(minutes=30)  # either side of a lone bucket, so it has a time axis
_LEFT, _RIGHT, _BOTTOM = 56, 40, 42  # room for the last tick's label on the right
_LEGEND_ROW = 12  # px a row of the legend above the plot
_EXCURSION_KEY = 110  # px the excursion's key takes at the end of the legend's first row


@dataclass(frozen=True, slots=True)
class _Plot:
    """The plot area and the scales from data to pixels."""

    left: float
    top: float
    width: float
    height: float
    t0: datetime
    t1: datetime
    lo: float
    hi: float
    y_step: float

    def x(self, at: datetime) -> float:
        span = (self.t1 - self.t0).total_seconds()
        return self.left + self.width * (at - self.t0).total_seconds() / span

    def y(self, celsius: Decimal | float) -> float:
        return self.top + self.height * (self.hi - float(celsius)) / (self.hi - self.lo)

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height


def temperature_chart_svg(
    series: Mapping[str, Sequence[SeriesBucket]],
    zones: Sequence[ZoneProfile],
    zone_of: Mapping[str, str],
    runs: Sequence[RunView],
    *,
    width: int = 720,
    height: int = 260,
) -> str:
    """The chart as an SVG document (a string starting ``<svg``)."""
    loggers = sorted(logger for logger, buckets in series.items() if buckets)
    bucket = _bucket_width(series)
    starts = [b.start for logger in loggers for b in series[logger]]
    excursions = sorted((r for r in runs if r.is_excursion), key=lambda r: (r.start, r.logger_id))
    lo, hi, y_step = _y_domain(series, zones)
    rows = _legend_rows(loggers, zone_of, width)
    top = _LEGEND_ROW * len(rows) + 14
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="temperature-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family={quoteattr(FONT)} font-size="10">',
        f"<title>{escape(Y_LABEL)} / {escape(X_LABEL)}</title>",
    ]
    if starts:
        t0 = min([*starts, *(r.start for r in excursions)])
        t1 = max([*(s + bucket for s in starts), *(r.end for r in excursions)])
        if t1 <= t0:
            t0, t1 = t0 - _LONE_SPAN, t1 + _LONE_SPAN
    else:  # no time axis without readings; the frame still shows the zones' ranges
        t0 = t1 = datetime(1970, 1, 1, tzinfo=UTC)
    plot = _Plot(
        left=_LEFT,
        top=top,
        width=max(width - _LEFT - _RIGHT, 1),
        height=max(height - top - _BOTTOM, 1),
        t0=t0,
        t1=t1 if t1 > t0 else t0 + timedelta(hours=1),
        lo=lo,
        hi=hi,
        y_step=y_step,
    )
    parts.append(
        f'<rect class="frame" x="{plot.left:.1f}" y="{plot.top:.1f}" width="{plot.width:.1f}" '
        f'height="{plot.height:.1f}" fill="#ffffff" stroke="#8a9ba8" stroke-width="0.8"/>'
    )
    parts.extend(_zones(plot, zones))
    parts.extend(_y_axis(plot))
    if starts:
        parts.extend(_excursions(plot, excursions))
        parts.extend(_x_axis(plot))
        for index, logger in enumerate(loggers):
            colour = PALETTE[index % len(PALETTE)]
            parts.extend(_logger(plot, logger, series[logger], bucket, colour))
        parts.extend(_legend(plot, rows))
    else:
        middle, y = plot.left + plot.width / 2, plot.top + plot.height / 2
        # On a white card, so a zone's limit line does not strike the message through.
        parts.append(
            f'<rect x="{middle - 80:.1f}" y="{y - 15:.1f}" width="160" height="22" rx="3" '
            'fill="#ffffff" stroke="#c9d3da"/>'
        )
        parts.append(
            f'<text class="no-data" x="{middle:.1f}" y="{y:.1f}" text-anchor="middle" '
            f'font-size="13" fill="#555555">{escape(NO_DATA)}</text>'
        )
    parts.append(
        f'<text class="axis-label y" x="14" y="{plot.top + plot.height / 2:.1f}" '
        f'text-anchor="middle" transform="rotate(-90 14 {plot.top + plot.height / 2:.1f})" '
        f'fill="#333333">{escape(Y_LABEL)}</text>'
    )
    parts.append(
        f'<text class="axis-label x" x="{plot.left + plot.width / 2:.1f}" y="{height - 6}" '
        f'text-anchor="middle" fill="#333333">{escape(X_LABEL)}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _bucket_width(series: Mapping[str, Sequence[SeriesBucket]]) -> timedelta:
    """The smallest step between a logger's bucket starts; zero when no logger has two."""
    steps = [
        later.start - earlier.start
        for buckets in series.values()
        for earlier, later in zip(
            sorted(buckets, key=_start), sorted(buckets, key=_start)[1:], strict=False
        )
        if later.start > earlier.start
    ]
    return min(steps, default=timedelta(0))


def _start(bucket: SeriesBucket) -> datetime:
    return bucket.start


def _y_domain(
    series: Mapping[str, Sequence[SeriesBucket]], zones: Sequence[ZoneProfile]
) -> tuple[float, float, float]:
    """From the lowest to the highest of the readings and the zones' limits, on whole ticks;
    and the ticks' step."""
    values = [
        float(v)
        for buckets in series.values()
        for b in buckets
        for v in (b.min_celsius, b.max_celsius)
    ]
    for zone in zones:
        values.extend(float(v) for v in (zone.min_celsius, zone.max_celsius) if v is not None)
    if not values:
        values = [0.0, 10.0]
    lo, hi = min(values), max(values)
    if hi - lo < 1:  # a flat line or a lone limit: give it room
        lo, hi = lo - 1, hi + 1
    step = _y_step(lo, hi)
    # A step of margin above and below, so nothing sits on the frame.
    return math.floor(lo / step) * step - step, math.ceil(hi / step) * step + step, step


def _y_step(lo: float, hi: float) -> float:
    # Two ticks kept for the margin above and below.
    return next((s for s in _Y_STEPS if (hi - lo) / s <= _MAX_Y_TICKS - 2), _Y_STEPS[-1] * 2)


def _number(value: float) -> str:
    """'-18', '2.5': as short as exact."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _hline(plot: _Plot, celsius: Decimal, css: str, style: str, zone: str) -> str:
    y = plot.y(celsius)
    return (
        f'<line class="{css}" data-zone={quoteattr(zone)} x1="{plot.left:.1f}" y1="{y:.1f}" '
        f'x2="{plot.right:.1f}" y2="{y:.1f}" {style}/>'
    )


def _zones(plot: _Plot, zones: Sequence[ZoneProfile]) -> list[str]:
    """Each zone's warning bands, range limits (dashed, labelled) and critical limits (dotted)."""
    out = ['<g class="zones">']
    margin_fill = 'fill="#f5b041" fill-opacity="0.18" stroke="none"'
    for zone in zones:
        name = quoteattr(zone.zone)
        bands = []
        if zone.max_celsius is not None and zone.warning_margin > 0:
            bands.append((zone.max_celsius, zone.max_celsius - zone.warning_margin))
        if zone.min_celsius is not None and zone.warning_margin > 0:
            bands.append((zone.min_celsius + zone.warning_margin, zone.min_celsius))
        for upper, lower in bands:
            top, bottom = plot.y(upper), plot.y(lower)
            out.append(
                f'<rect class="warning-band" data-zone={name} x="{plot.left:.1f}" y="{top:.1f}" '
                f'width="{plot.width:.1f}" height="{bottom - top:.1f}" {margin_fill}/>'
            )
        dashed = 'stroke="#1f4e79" stroke-width="1" stroke-dasharray="6 4"'
        for kind, limit in (("max", zone.max_celsius), ("min", zone.min_celsius)):
            if limit is None:
                continue
            out.append(_hline(plot, limit, "zone-limit", dashed, zone.zone))
            out.append(
                f'<text class="zone-label" x="{plot.right - 4:.1f}" y="{plot.y(limit) - 3:.1f}" '
                f'text-anchor="end" font-size="8" fill="#1f4e79">'
                f"{escape(zone.zone)} {kind} {_number(float(limit))} °C</text>"
            )
        dotted = 'stroke="#8b0000" stroke-width="0.8" stroke-dasharray="2 3"'
        for limit in (zone.critical_max_celsius, zone.critical_min_celsius):
            if limit is not None and plot.lo <= float(limit) <= plot.hi:
                out.append(_hline(plot, limit, "critical-limit", dotted, zone.zone))
    out.append("</g>")
    return out


def _ticks(lo: float, hi: float, step: float) -> list[float]:
    first = math.ceil(lo / step - 1e-9)
    return [n * step for n in range(first, math.floor(hi / step + 1e-9) + 1)]


def _y_axis(plot: _Plot) -> list[str]:
    out = ['<g class="axis y">']
    for value in _ticks(plot.lo, plot.hi, plot.y_step):
        y = plot.y(value)
        out.append(
            f'<line class="grid" x1="{plot.left:.1f}" y1="{y:.1f}" x2="{plot.right:.1f}" '
            f'y2="{y:.1f}" stroke="#e3e9ee" stroke-width="0.6"/>'
        )
        out.append(
            f'<text class="tick" x="{plot.left - 4:.1f}" y="{y + 3:.1f}" text-anchor="end" '
            f'fill="#333333">{_number(value)}</text>'
        )
    out.append("</g>")
    return out


def _x_axis(plot: _Plot) -> list[str]:
    """Ticks on whole steps of UTC time; the date once a day or more a step."""
    span = (plot.t1 - plot.t0).total_seconds()
    step = next((s for s in _X_STEPS if span / s <= _MAX_X_TICKS), _X_STEPS[-1])
    label: Callable[[datetime], str] = (
        (lambda at: at.strftime("%m-%d"))
        if step >= 86400
        else (lambda at: at.strftime("%m-%d %H:%M"))
    )
    out = ['<g class="axis x">']
    for seconds in _ticks(plot.t0.timestamp(), plot.t1.timestamp(), step):
        at = datetime.fromtimestamp(seconds, UTC)
        x = plot.x(at)
        out.append(
            f'<line class="tick" x1="{x:.1f}" y1="{plot.bottom:.1f}" x2="{x:.1f}" '
            f'y2="{plot.bottom + 4:.1f}" stroke="#8a9ba8" stroke-width="0.8"/>'
        )
        out.append(
            f'<text class="tick" x="{x:.1f}" y="{plot.bottom + 14:.1f}" text-anchor="middle" '
            f'fill="#333333">{label(at)}</text>'
        )
    out.append("</g>")
    return out


def _excursions(plot: _Plot, excursions: Sequence[RunView]) -> list[str]:
    """Each excursion shaded across the plot over its time (darker when critical)."""
    out = ['<g class="excursions">']
    for run in excursions:
        x0 = max(plot.x(run.start), plot.left)
        x1 = min(plot.x(run.end), plot.right)
        opacity = "0.30" if run.critical else "0.16"
        out.append(
            f'<rect class="excursion" data-logger={quoteattr(run.logger_id)} '
            f'data-side={quoteattr(run.side)} x="{x0:.1f}" y="{plot.top:.1f}" '
            f'width="{max(x1 - x0, 1.0):.1f}" height="{plot.height:.1f}" '
            f'fill="{EXCURSION_FILL}" fill-opacity="{opacity}" stroke="none"/>'
        )
    out.append("</g>")
    return out


def _logger(
    plot: _Plot, logger: str, buckets: Sequence[SeriesBucket], width: timedelta, colour: str
) -> list[str]:
    """A logger's min-max band and mean line; a lone bucket is a bar and a dot."""
    ordered = sorted(buckets, key=_start)
    mid = width / 2
    xs = [plot.x(b.start + mid) for b in ordered]
    tops = [f"{x:.1f},{plot.y(b.max_celsius):.1f}" for x, b in zip(xs, ordered, strict=True)]
    bottoms = [f"{x:.1f},{plot.y(b.min_celsius):.1f}" for x, b in zip(xs, ordered, strict=True)]
    means = [f"{x:.1f},{plot.y(b.mean_celsius):.1f}" for x, b in zip(xs, ordered, strict=True)]
    out = [f'<g class="logger" data-logger={quoteattr(logger)}>']
    if len(ordered) > 1:
        band = " ".join([*tops, *reversed(bottoms)])
        out.append(
            f'<polygon class="band" points="{band}" fill="{colour}" fill-opacity="0.15" '
            'stroke="none"/>'
        )
    else:
        x, top, bottom = xs[0], plot.y(ordered[0].max_celsius), plot.y(ordered[0].min_celsius)
        out.append(
            f'<rect class="band" x="{x - 3:.1f}" y="{top:.1f}" width="6" '
            f'height="{max(bottom - top, 0.5):.1f}" fill="{colour}" fill-opacity="0.15"/>'
        )
        out.append(
            f'<circle class="point" cx="{x:.1f}" cy="{plot.y(ordered[0].mean_celsius):.1f}" '
            f'r="2.5" fill="{colour}"/>'
        )
    out.append(
        f'<polyline class="mean" points="{" ".join(means)}" fill="none" stroke="{colour}" '
        'stroke-width="1.4" stroke-linejoin="round"/>'
    )
    out.append("</g>")
    return out


def _legend_rows(
    loggers: Sequence[str], zone_of: Mapping[str, str], width: int
) -> list[list[tuple[float, int, str]]]:
    """Where each logger's key goes: (x, palette index, text) by row, wrapping at the right
    edge; the first row keeps room at its end for the excursion key."""
    rows: list[list[tuple[float, int, str]]] = [[]]
    x, limit = float(_LEFT), width - _RIGHT - _EXCURSION_KEY
    for index, logger in enumerate(loggers):
        zone = zone_of.get(logger, "")
        text = f"{logger} ({zone})" if zone else logger
        needed = 30 + 6 * len(text)  # a 14 px line, a gap, about 6 px a character
        if rows[-1] and x + needed > limit:
            rows.append([])
            x, limit = float(_LEFT), width - _RIGHT
        rows[-1].append((x, index, text))
        x += needed
    return rows


def _legend(plot: _Plot, rows: Sequence[Sequence[tuple[float, int, str]]]) -> list[str]:
    """Loggers and their zones above the plot, in the colours of their lines."""
    out = ['<g class="legend">']
    for number, row in enumerate(rows):
        y = _LEGEND_ROW * (number + 1)
        for x, index, text in row:
            colour = PALETTE[index % len(PALETTE)]
            out.append(
                f'<line x1="{x:.1f}" y1="{y - 3:.1f}" x2="{x + 14:.1f}" y2="{y - 3:.1f}" '
                f'stroke="{colour}" stroke-width="2"/>'
            )
            out.append(
                f'<text class="legend-item" x="{x + 18:.1f}" y="{y:.1f}" '
                f'fill="#333333">{escape(text)}</text>'
            )
    key = plot.right - _EXCURSION_KEY + 10
    out.append(
        f'<rect x="{key:.1f}" y="{_LEGEND_ROW - 8}" width="12" height="8" '
        f'fill="{EXCURSION_FILL}" fill-opacity="0.3"/>'
    )
    out.append(
        f'<text class="legend-item" x="{key + 16:.1f}" y="{_LEGEND_ROW}" '
        'fill="#333333">偏离 Excursion</text>'
    )
    out.append("</g>")
    return out
