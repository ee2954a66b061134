"""The transport regulator's window: filed e-waybills and nothing else on the platform.

Members of a regulator organisation holding the regulator role search the filed waybills, export
them as CSV, read one record with its filings, download its PDF and check that the stored JSON
and PDF still hash to what was sealed at filing. Every read is written to the audit log. The rows'
shapes, who made each waybill with them, are in ``regulator_views``; the search in
``waybill_search``.
"""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, status
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import CurrentActor, PlatformDep, SessionDep, not_found
from api.downloads import PDF_DOCUMENT
from api.json_input import json_or_none
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Page, ascending, descending, paged
from api.platform import Platform
from api.routes.document_access import readable_document
from api.routes.regulator_views import (
    CSV_COLUMNS,
    SUMMARIES,
    FilingView,
    Integrity,
    WaybillRecord,
    WaybillSummary,
    csv_row,
    summaries,
)
from api.routes.waybill_search import Filters, WaybillFilters, search
from contracts.common import Actor, Line, OrgKind, Role
from contracts.regulator import FilingStatus
from db.audit_log import append_audit
from db.models import Organisation, Waybill, WaybillFiling
from storage.object_store import ContentIntegrityError, ObjectNotFound, content_key, get_verified

router = APIRouter(prefix="/regulator", tags=["regulator"])

LATEST_FILED_FIRST = Keyset(
    "waybills", (descending(Waybill.filed_at), ascending(Waybill.waybill_number))
)
WaybillNumber = Annotated[Line, Path(min_length=1, max_length=80)]
_CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        **NEXT_PAGE_HEADERS[200],
    }
}


def is_regulator(session: Session, actor: Actor) -> bool:
    """A member of a regulator organisation holding the regulator role."""
    org = session.get(Organisation, actor.org_id)
    return actor.has_any(Role.REGULATOR) and org is not None and org.kind == OrgKind.REGULATOR


def _regulator(actor: CurrentActor, session: SessionDep) -> Actor:
    if not is_regulator(session, actor):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail="requires the regulator role of a regulator"
        )
    return actor


RegulatorActor = Annotated[Actor, Depends(_regulator)]


def audit(session: Session, actor: Actor, action: str, target: str, **detail: Any) -> None:
    append_audit(
        session,
        actor=actor,
        action=f"regulator.{action}",
        target_type="waybills" if target == "waybills" else "waybill",
        target_id=target,
        detail=detail,
    )
    session.commit()


def read_of(filters: WaybillFilters, page: Page, found: list[WaybillSummary]) -> dict[str, Any]:
    """What one list read disclosed, as its audit entry names it: the query (filters, the page's
    cursor and limit) and the page's first and last waybill. An auditor asking who saw a waybill
    finds it between those two in the query's order, so one entry a read (of constant size,
    whatever the page's length) answers what one entry a row would, without writing hundreds of
    entries for every page a regulator turns."""
    return {
        "filters": filters.audited(),
        "cursor": page.request.query_params.get("cursor"),
        "limit": page.limit,
        "results": len(found),
        "first": found[0].waybill_number if found else None,
        "last": found[-1].waybill_number if found else None,
    }


@router.get("/waybills", response_model=SUMMARIES.response_model, responses=NEXT_PAGE_HEADERS)
def list_waybills(
    actor: RegulatorActor,
    session: SessionDep,
    filters: Filters,
    page: Annotated[Page, paged(LATEST_FILED_FIRST)],
) -> Response:
    """Filed e-waybills, latest filed first, by dispatch or filing dates, UN number, class,
    carrier, its maker, vehicle plate and status; a page at a time (the ``Link`` header's next)."""
    found = summaries(session, page.rows(session, search(filters)))
    audit(session, actor, "listed", "waybills", **read_of(filters, page, found))
    return SUMMARIES.answer(page, found)  # the audit's commit ended the session's transaction


@router.get("/waybills.csv", response_class=Response, responses=_CSV_RESPONSE)
def export_waybills(
    actor: RegulatorActor,
    session: SessionDep,
    filters: Filters,
    page: Annotated[Page, paged(LATEST_FILED_FIRST, default=10_000, maximum=100_000)],
) -> Response:
    """The same search as CSV: UTF-8 with a byte-order mark, so Excel shows the Chinese names;
    a page at a time like the list (the ``Link`` header's next)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    found = summaries(session, page.rows(session, search(filters)))
    writer.writerows(csv_row(summary) for summary in found)
    audit(session, actor, "exported", "waybills", **read_of(filters, page, found))
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="waybills.csv"', **page.headers()},
    )


def _filed(session: Session, number: str) -> Waybill:
    row = session.get(Waybill, number)
    if row is None:
        raise not_found("waybill")
    return row


@router.get("/waybills/{number}")
def read_waybill(
    number: WaybillNumber, actor: RegulatorActor, session: SessionDep
) -> WaybillRecord:
    """One filed e-waybill: the record as filed, each filing with its receipt, the hashes."""
    record = waybill_record(session, number)
    audit(session, actor, "read", number)
    return record


def waybill_record(session: Session, number: str) -> WaybillRecord:
    """The filed e-waybill as the regulator reads it (the workbench's page too); 404 if none."""
    row = _filed(session, number)
    filings = session.scalars(
        select(WaybillFiling)
        .where(WaybillFiling.waybill_number == number)
        .order_by(WaybillFiling.at, WaybillFiling.id)
    )
    return WaybillRecord(
        **summaries(session, [row])[0].model_dump(),
        record=row.record,
        filings=[
            FilingView(kind=FilingStatus(f.kind), receipt=f.receipt, at=f.at) for f in filings
        ],
        json_sha256=row.json_sha256,
        pdf_sha256=row.pdf_sha256,
        pdf_url=f"/regulator/waybills/{number}/pdf",
        integrity_url=f"/regulator/waybills/{number}/integrity",
    )


@router.get("/waybills/{number}/pdf", response_class=Response, responses=PDF_DOCUMENT)
def download_pdf(
    number: WaybillNumber, actor: RegulatorActor, platform: PlatformDep, session: SessionDep
) -> Response:
    """The e-waybill PDF with its receipt, after checking it still hashes to the sealed hash."""
    row = _filed(session, number)
    readable_document(session, actor, row.pdf_document_id)  # the rule every path asks
    try:
        data = get_verified(platform.store, row.pdf_sha256)
    except (ContentIntegrityError, ObjectNotFound):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail="the stored PDF is missing or no longer matches its sealed hash",
        ) from None
    audit(session, actor, "downloaded", number, sha256=row.pdf_sha256)
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="e-waybill-{number}.pdf"',
            "X-Content-SHA256": row.pdf_sha256,
        },
    )


@router.get("/waybills/{number}/integrity")
def check_integrity(
    number: WaybillNumber, actor: RegulatorActor, platform: PlatformDep, session: SessionDep
) -> Integrity:
    """Re-hash the stored JSON and PDF and compare the JSON with the sealed record."""
    row = _filed(session, number)
    json_data = _stored(platform, row.json_sha256)
    pdf_data = _stored(platform, row.pdf_sha256)
    json_intact = json_data is not None and _sha(json_data) == row.json_sha256
    pdf_intact = pdf_data is not None and _sha(pdf_data) == row.pdf_sha256
    matches = json_data is not None and json_or_none(json_data) == row.record
    result = Integrity(
        json_intact=json_intact,
        pdf_intact=pdf_intact,
        record_matches_json=matches,
        intact=json_intact and pdf_intact and matches,
    )
    audit(session, actor, "verified", number, **result.model_dump())
    return result


def _stored(platform: Platform, sha256: str) -> bytes | None:
    """Whatever bytes are stored under the hash's key now, unchecked; None when missing."""
    try:
        return platform.store.get(content_key(sha256))
    except ObjectNotFound:
        return None


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
