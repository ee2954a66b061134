"""A cold-chain task's facts: the trip's temperatures as a chart, its excursions and figures.

The trip is read under the API's rule (``readable_trip``: whoever sees the order: its parties,
its carrier, platform staff); the series are the ones the API's chart and the report draw
(``db.cold_chain.chart_series``): each logger's mean a bucket, over the trip so far. The zone's
range is the chart's band, so every reading outside it is marked; the runs outside (the
excursions) are listed with their start, length and peak, the one the task is about first.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.routes.cold_chain_reads import readable_trip, window
from contracts.cold_chain import Assessment, RunView, SeriesBucket, ZoneProfile
from contracts.common import Actor
from db.cold_chain import ColdTrip, chart_series
from db.models import HumanTask
from workbench.charts import Band, Chart, Series, line_chart
from workbench.i18n import china_time


def cold_chain_facts(session: Session, actor: Actor, task: HumanTask) -> dict[str, Any]:
    stored = session.get(ColdTrip, str(task.details.get("trip_id", "")))
    if stored is None:
        stored = _trip_of_order(session, task.subject_id)
    if stored is None:
        return {"template": "facts/details.html", "details": task.details}
    _, trip = readable_trip(session, actor, stored.order_id, stored.shipment)
    start, end = window(trip)
    zone_of, series = chart_series(session, trip.id, start, end)
    zones = {z.zone: z for z in (ZoneProfile.model_validate(z) for z in trip.plan.get("zones", []))}
    figures = Assessment.model_validate(trip.figures) if trip.figures else None
    about = str(task.details.get("alert", ""))
    runs = sorted(figures.runs if figures else (), key=lambda r: (not _is(about, r), r.start))
    charts = [
        _chart(logger, zones.get(zone), series.get(logger, []), span=end - start)
        for logger, zone in sorted(zone_of.items())
    ]
    return {
        "template": "facts/cold_chain.html",
        "trip": trip,
        "charts": charts,
        "figures": figures,
        "runs": runs,
        "about": about,
        "zones": list(zones.values()),
    }


def _trip_of_order(session: Session, order_id: str) -> ColdTrip | None:
    query = select(ColdTrip).where(ColdTrip.order_id == order_id).order_by(ColdTrip.shipment)
    return session.scalars(query.limit(1)).first()


def _is(about: str, run: RunView) -> bool:
    """Whether the alert key (``kind:logger:start``) names this run."""
    return about.endswith(f":{run.logger_id}:{run.start.isoformat()}")


def _chart(
    logger: str, zone: ZoneProfile | None, buckets: list[SeriesBucket], *, span: timedelta
) -> Markup:
    # Labels in China time: the hour and minute, with the day once the trip spans days.
    cut = 5 if span >= timedelta(days=1) else 11
    points = [(china_time(b.start)[cut:], b.mean_celsius) for b in buckets]
    bands = []
    if zone is not None and (zone.min_celsius is not None or zone.max_celsius is not None):
        values = [b.mean_celsius for b in buckets]
        low = zone.min_celsius if zone.min_celsius is not None else min(values, default=0) - 5
        high = zone.max_celsius if zone.max_celsius is not None else max(values, default=0) + 5
        bands.append(Band(low, high, zone.label))
    title = f"{logger} · {zone.label if zone else ''}"
    return line_chart(Chart(title=title, series=[Series(logger, points)], unit="°C", bands=bands))
