"""Charts as inline SVG, drawn on the server: no chart library, no script, nothing from a CDN.

Pages embed the SVG the functions here return (already escaped, marked safe). A chart is a
picture with words: each has a title, labelled axes and a ``<title>`` on every mark, so a reader
(or a screen reader) hovering a point gets its value. Scales start at zero for bars, fit the data
with a margin for lines, and draw limits (a cold chain's 2–8 °C band) as shaded bands. Parts of
a whole stack (``stacked_bar_chart``); a single share is a ring (``gauge``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 40
PALETTE = ("#0b5cad", "#2f855a", "#b7791f", "#c0362c", "#6b46c1", "#2c7a7b")
Number = float | int | Decimal


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[str, Number]]  # (x label, value), in order


@dataclass(frozen=True)
class Band:
    """A shaded horizontal range: a limit the values should stay within."""

    low: Number
    high: Number
    label: str = ""


@dataclass(frozen=True)
class Chart:
    title: str
    series: Sequence[Series]
    unit: str = ""
    bands: Sequence[Band] = field(default_factory=tuple)


def _scale(low: float, high: float) -> tuple[float, float]:
    if high == low:
        return low - 1, high + 1
    margin = (high - low) * 0.08
    return low - margin, high + margin


def _frame(chart: Chart, low: float, high: float, labels: Sequence[str]) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(chart.title)}">',
        f'<text x="{LEFT}" y="16" style="font-size:13px;font-weight:600;fill:#1f2933">'
        f"{escape(chart.title)}</text>",
    ]
    for i in range(5):
        value = low + (high - low) * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_tick(value, high - low)}</text>"
        )
    step = max(1, len(labels) // 8)
    for i, label in enumerate(labels):
        if i % step == 0:
            x = _x(i, len(labels))
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    if chart.unit:
        parts.append(f'<text x="4" y="{TOP - 8}">{escape(chart.unit)}</text>')
    return parts


def _tick(value: float, span: float) -> str:
    """A gridline's value with as many decimals as its step needs, so no two read alike."""
    step = span / 4
    decimals = 0 if step >= 10 else 1 if step >= 1 else 2 if step >= 0.1 else 3
    return f"{value:,.{decimals}f}"


def _x(i: int, n: int) -> float:
    plot_w = WIDTH - LEFT - RIGHT
    return LEFT + (plot_w * (i + 0.5) / n if n else 0)


def _y(value: float, low: float, high: float) -> float:
    plot_h = HEIGHT - TOP - BOTTOM
    return TOP + plot_h - plot_h * (value - low) / (high - low)


def _labels(chart: Chart) -> list[str]:
    seen: dict[str, None] = {}
    for series in chart.series:
        for label, _ in series.points:
            seen.setdefault(label, None)
    return list(seen)


def _title(chart: Chart, series: Series, label: str, value: Number) -> str:
    """A mark's hover text: its series, its x label and its value with the unit."""
    return f"<title>{escape(series.name)} {escape(label)}: {value} {escape(chart.unit)}</title>"


def _text_width(text: str) -> int:
    """About how wide ``text`` is at the charts' 11 px: a Chinese character is twice a Latin one."""
    return sum(12 if ord(ch) > 0x2E80 else 7 for ch in text)


def _legend(chart: Chart) -> list[str]:
    if len(chart.series) < 2:
        return []
    parts, x = [], WIDTH - RIGHT
    for i, series in reversed(list(enumerate(chart.series))):
        x -= 20 + _text_width(series.name)
        parts.append(
            f'<rect x="{x}" y="8" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{x + 14}" y="17">{escape(series.name)}</text>'
        )
    return parts


def line_chart(chart: Chart) -> Markup:
    """Values over an ordered x axis (days, readings), one line a series, bands shaded."""
    labels = _labels(chart)
    values = [float(v) for s in chart.series for _, v in s.points]
    values += [float(b.low) for b in chart.bands] + [float(b.high) for b in chart.bands]
    if not values:
        return empty(chart.title)
    low, high = _scale(min(values), max(values))
    parts = _frame(chart, low, high, labels)
    for band in chart.bands:
        top, bottom = _y(float(band.high), low, high), _y(float(band.low), low, high)
        parts.append(
            f'<rect x="{LEFT}" y="{top:.1f}" width="{WIDTH - LEFT - RIGHT}" '
            f'height="{bottom - top:.1f}" fill="#2f855a" fill-opacity="0.10">'
            f"<title>{escape(band.label)}</title></rect>"
        )
    index = {label: i for i, label in enumerate(labels)}
    for i, series in enumerate(chart.series):
        colour = PALETTE[i % len(PALETTE)]
        coords = [
            (_x(index[label], len(labels)), _y(float(v), low, high), label, v)
            for label, v in series.points
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y, label, v in coords:
            outside = any(not (b.low <= v <= b.high) for b in chart.bands)
            dot = "#c0362c" if outside else colour
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{3.5 if outside else 2.5}" fill="{dot}">'
                f"{_title(chart, series, label, v)}</circle>"
            )
    parts += _legend(chart)
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(chart: Chart) -> Markup:
    """Amounts per category or period, bars from zero, series side by side."""
    labels = _labels(chart)
    values = [float(v) for s in chart.series for _, v in s.points]
    if not values:
        return empty(chart.title)
    low, high = min(0.0, min(values)), max(values) or 1.0
    high *= 1.08
    parts = _frame(chart, low, high, labels)
    n = len(labels)
    slot = (WIDTH - LEFT - RIGHT) / max(n, 1)
    width = slot * 0.7 / max(len(chart.series), 1)
    index = {label: i for i, label in enumerate(labels)}
    zero = _y(0, low, high)
    for s, series in enumerate(chart.series):
        colour = PALETTE[s % len(PALETTE)]
        for label, v in series.points:
            x = LEFT + slot * index[label] + slot * 0.15 + width * s
            y = _y(float(v), low, high)
            parts.append(
                f'<rect x="{x:.1f}" y="{min(y, zero):.1f}" width="{width:.1f}" '
                f'height="{abs(zero - y):.1f}" fill="{colour}">'
                f"{_title(chart, series, label, v)}</rect>"
            )
    parts += _legend(chart)
    parts.append("</svg>")
    return Markup("".join(parts))


def empty(title: str) -> Markup:
    """A chart with nothing to show says so instead of drawing empty axes."""
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} 80" role="img" '
        f'aria-label="{escape(title)}"><text x="{LEFT}" y="16" '
        f'style="font-size:13px;font-weight:600;fill:#1f2933">{escape(title)}</text>'
        f'<text x="{LEFT}" y="50">—</text></svg>'
    )


def stacked_bar_chart(chart: Chart) -> Markup:
    """Parts of a whole per category or period (filed and refused, say), stacked from zero in
    the order of the series; every value must be zero or more."""
    labels = _labels(chart)
    totals = dict.fromkeys(labels, 0.0)
    for series in chart.series:
        for label, v in series.points:
            if v < 0:
                raise ValueError(f"a stacked bar cannot show a negative part: {label} {v}")
            totals[label] += float(v)
    if not totals:
        return empty(chart.title)
    high = (max(totals.values()) or 1.0) * 1.08
    parts = _frame(chart, 0.0, high, labels)
    slot = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    index = {label: i for i, label in enumerate(labels)}
    base = dict.fromkeys(labels, 0.0)
    for s, series in enumerate(chart.series):
        colour = PALETTE[s % len(PALETTE)]
        for label, v in series.points:
            bottom, top = base[label], base[label] + float(v)
            base[label] = top
            y_top, y_bottom = _y(top, 0.0, high), _y(bottom, 0.0, high)
            parts.append(
                f'<rect x="{LEFT + slot * index[label] + slot * 0.15:.1f}" y="{y_top:.1f}" '
                f'width="{slot * 0.7:.1f}" height="{y_bottom - y_top:.1f}" fill="{colour}">'
                f"{_title(chart, series, label, v)}</rect>"
            )
    parts += _legend(chart)
    parts.append("</svg>")
    return Markup("".join(parts))


GAUGE = 150  # a gauge's square side; it sits beside a headline, not under it


def gauge(title: str, fraction: Number | None, caption: str = "") -> Markup:
    """A share of a whole as a ring (on-time rate, filing success, bad-debt rate): the filled
    arc is ``fraction`` (0..1, clipped), the figure in the middle. None draws an empty ring."""
    radius, stroke, centre = 54.0, 14.0, GAUGE / 2
    circumference = 2 * math.pi * radius
    shown = "—" if fraction is None else f"{float(fraction) * 100:.1f}%"
    filled = 0.0 if fraction is None else min(max(float(fraction), 0.0), 1.0) * circumference
    ring = (
        f'<circle cx="{centre}" cy="{centre}" r="{radius}" fill="none" stroke="#e2e8f0" '
        f'stroke-width="{stroke}"/>'
    )
    if filled:
        ring += (
            f'<circle cx="{centre}" cy="{centre}" r="{radius}" fill="none" stroke="{PALETTE[0]}" '
            f'stroke-width="{stroke}" stroke-dasharray="{filled:.2f} {circumference:.2f}" '
            f'transform="rotate(-90 {centre} {centre})"><title>{escape(title)}: {shown}'
            "</title></circle>"
        )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {GAUGE} {GAUGE + 18}" '
        f'class="gauge" role="img" aria-label="{escape(title)}: {shown}">{ring}'
        f'<text x="{centre}" y="{centre + 6}" text-anchor="middle" '
        f'style="font-size:20px;font-weight:600;fill:#1f2933">{shown}</text>'
        f'<text x="{centre}" y="{GAUGE + 12}" text-anchor="middle">{escape(caption or title)}'
        "</text></svg>"
    )
