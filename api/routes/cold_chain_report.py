"""Cold chain: a shipment's trip as a chart (SVG, for the excursion task and the console) and
its temperature report (the PDF issued with the decision), for whoever reads the trip
(``api.routes.cold_chain_reads.readable_trip``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import CurrentActor, PlatformDep, SessionDep, not_found
from api.downloads import PDF_DOCUMENT, audited_download
from api.params import IdPath
from api.routes.cold_chain_assignments import ShipmentPath
from api.routes.cold_chain_reads import TRIP_PATH, readable_trip, window
from contracts.cold_chain import RunView, ZoneProfile
from db.cold_chain import chart_series
from db.models import Document
from documents.temperature_chart import temperature_chart_svg

router = APIRouter(prefix="/orders", tags=["cold chain"])
SVG: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}}
}


@router.get(f"{TRIP_PATH}/chart.svg", response_class=Response, responses=SVG)
def get_chart(
    order_id: IdPath, shipment: ShipmentPath, actor: CurrentActor, session: SessionDep
) -> Response:
    """The trip's temperatures as an SVG chart: each logger's mean and range, the zones'
    ranges and warning bands, the runs outside shaded."""
    _, trip = readable_trip(session, actor, order_id, shipment)
    start, end = window(trip)
    zone_of, series = chart_series(session, trip.id, start, end)
    runs = [RunView.model_validate(r) for r in (trip.figures or {}).get("runs", [])]
    zones = [ZoneProfile.model_validate(z) for z in trip.plan.get("zones", [])]
    svg = temperature_chart_svg(series, zones, zone_of, runs)
    return Response(svg, media_type="image/svg+xml")


@router.get(f"{TRIP_PATH}/report", response_class=Response, responses=PDF_DOCUMENT)
def get_report(
    order_id: IdPath,
    shipment: ShipmentPath,
    actor: CurrentActor,
    platform: PlatformDep,
    session: SessionDep,
) -> Response:
    """The trip's temperature report (PDF), once decided; hash re-verified, audited."""
    _, trip = readable_trip(session, actor, order_id, shipment)
    document = session.get(Document, trip.report_document_id) if trip.report_document_id else None
    if document is None:
        raise not_found("temperature report")
    detail = {"order_id": order_id, "trip_id": trip.id}
    return audited_download(platform.store, session, actor, document, detail=detail)
