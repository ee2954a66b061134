"""The temperature chart's SVG parsed as XML and its structure checked: a mean line and a band
for each logger, the zones' limits and warning bands, excursions shaded, and the edge cases (no
readings, a lone bucket, a range with only a maximum). The trip is test_temperature_report's.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from contracts.cold_chain import SeriesBucket
from documents.temperature_chart import NO_DATA, X_LABEL, Y_LABEL, temperature_chart_svg
from tests.documents.test_temperature_report import (
    ASSESSMENT,
    CHILLED,
    FROZEN,
    SERIES,
    START,
    ZONE_OF,
    hourly,
)

SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def by_class(root: ET.Element, tag: str, css: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}{tag}") if e.get("class") == css]


def texts(root: ET.Element) -> list[str]:
    return [e.text or "" for e in root.iter(f"{SVG}text")]


def test_chart_has_a_mean_line_and_band_per_logger_and_the_excursion() -> None:
    root = parsed(temperature_chart_svg(SERIES, (CHILLED,), ZONE_OF, ASSESSMENT.runs))
    means = by_class(root, "polyline", "mean")
    assert len(means) == 2
    assert [len(m.get("points", "").split()) for m in means] == [24, 24]
    assert len(by_class(root, "polygon", "band")) == 2
    loggers = [g.get("data-logger") for g in by_class(root, "g", "logger")]
    assert loggers == ["LOG-FRONT", "LOG-REAR"]
    # The excursion only; the short run under the tolerance is not shaded.
    excursions = by_class(root, "rect", "excursion")
    assert [e.get("data-logger") for e in excursions] == ["LOG-REAR"]
    assert float(excursions[0].get("width", "0")) > 0
    # The range's two limits, dashed, and a warning band inside each.
    limits = by_class(root, "line", "zone-limit")
    assert len(limits) == 2 and all(e.get("stroke-dasharray") for e in limits)
    assert len(by_class(root, "rect", "warning-band")) == 2
    assert len(by_class(root, "line", "critical-limit")) == 1
    assert Y_LABEL in texts(root) and X_LABEL in texts(root)
    assert "04-10 12:00" in texts(root)


def test_chart_is_deterministic_and_self_contained() -> None:
    svg = temperature_chart_svg(SERIES, (CHILLED,), ZONE_OF, ASSESSMENT.runs)
    assert svg == temperature_chart_svg(
        dict(reversed(SERIES.items())), (CHILLED,), ZONE_OF, ASSESSMENT.runs
    )
    for forbidden in ("<script", "href", "url(", "http://www.w3.org/1999/xlink"):
        assert forbidden not in svg


def test_chart_without_readings_says_so() -> None:
    root = parsed(temperature_chart_svg({}, (CHILLED,), {}, ()))
    assert NO_DATA in texts(root)
    assert not list(root.iter(f"{SVG}polyline"))
    assert len(by_class(root, "line", "zone-limit")) == 2
    # A logger with no buckets yet is no data either.
    assert NO_DATA in texts(parsed(temperature_chart_svg({"LOG-FRONT": []}, (), ZONE_OF, ())))


def test_chart_of_a_single_bucket_and_a_frozen_range() -> None:
    bucket = SeriesBucket(
        start=START,
        readings=3,
        min_celsius=Decimal("-19.5"),
        max_celsius=Decimal("-18.6"),
        mean_celsius=Decimal("-19.1"),
    )
    root = parsed(temperature_chart_svg({"LOG-F": [bucket]}, (FROZEN,), {"LOG-F": "frozen"}, ()))
    assert len(by_class(root, "polyline", "mean")) == 1
    assert len(by_class(root, "circle", "point")) == 1
    # Only a maximum: one limit and one warning band below it.
    limits = by_class(root, "line", "zone-limit")
    assert len(limits) == 1
    assert len(by_class(root, "rect", "warning-band")) == 1
    assert "frozen max -18 °C" in texts(root)
    assert not by_class(root, "rect", "excursion")


def test_chart_escapes_names_and_keeps_a_line_for_each_of_many_loggers() -> None:
    series = {f'L<&"{n}>': hourly(str(n)) for n in range(9)}
    root = parsed(temperature_chart_svg(series, (CHILLED,), dict.fromkeys(series, "chilled"), ()))
    assert len(by_class(root, "polyline", "mean")) == 9
    assert {g.get("data-logger") for g in by_class(root, "g", "logger")} == set(series)
    assert len([e for e in root.iter(f"{SVG}text") if e.get("class") == "legend-item"]) == 10
