"""The transport regulator's window: filed e-waybills and nothing else on the platform.

Members of a regulator organisation holding the regulator role search the filed waybills, export
them as CSV, read one record with its filings, download its PDF and check that the stored JSON
and PDF still hash to what was sealed at filing. Every read is written to the audit log.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.deps import CurrentActor, PlatformDep, SessionDep, not_found
from api.downloads import PDF_DOCUMENT
from api.errors import invalid
from api.platform import Platform
from api.routes.document_access import readable_document
from contracts.common import Actor, OrgKind, Role
from contracts.regulator import FilingStatus
from db.audit_log import append_audit
from db.models import Organisation, Waybill, WaybillFiling
from storage.object_store import ContentIntegrityError, ObjectNotFound, content_key, get_verified

router = APIRouter(prefix="/regulator", tags=["regulator"])

# Dates without a time are days in China Standard Time, where the waybills are filed.
CST = timezone(timedelta(hours=8))
_PLATE_SEPARATORS = "·• -"
CSV_COLUMNS = (
    "waybill_number",
    "status",
    "receipt_number",
    "filed_at",
    "dispatch_date",
    "consignor_name",
    "consignee_name",
    "carrier_name",
    "vehicle_plate",
    "un_numbers",
    "hazard_classes",
)


def _regulator(actor: CurrentActor, session: SessionDep) -> Actor:
    org = session.get(Organisation, actor.org_id)
    if not actor.has_any(Role.REGULATOR) or org is None or org.kind != OrgKind.REGULATOR:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail="requires the regulator role of a regulator"
        )
    return actor


RegulatorActor = Annotated[Actor, Depends(_regulator)]


class WaybillSummary(BaseModel):
    waybill_number: str
    status: FilingStatus
    receipt_number: str
    filed_at: datetime
    dispatch_date: date
    consignor_name: str
    consignee_name: str
    carrier_name: str
    vehicle_plate: str
    un_numbers: list[str]
    hazard_classes: list[str]


class FilingView(BaseModel):
    kind: FilingStatus
    receipt: str
    at: datetime


class WaybillRecord(WaybillSummary):
    """The filed e-waybill as sealed (``record``), its filings and the stored copies' hashes."""

    record: dict[str, Any]
    filings: list[FilingView]
    json_sha256: str
    pdf_sha256: str
    pdf_url: str
    integrity_url: str


class Integrity(BaseModel):
    json_intact: bool
    pdf_intact: bool
    record_matches_json: bool
    intact: bool


@dataclass(frozen=True)
class WaybillFilters:
    dispatched_from: date | None
    dispatched_to: date | None
    filed_from: str | None
    filed_to: str | None
    un_number: str | None
    hazard_class: str | None
    carrier: str | None
    vehicle_plate: str | None
    status: FilingStatus | None

    def audited(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items() if v is not None}


def _filters(
    dispatched_from: date | None = None,
    dispatched_to: date | None = None,
    filed_from: Annotated[
        str | None, Query(description="a date (its start, China time) or an aware date-time")
    ] = None,
    filed_to: Annotated[
        str | None, Query(description="a date (to its end, China time) or an aware date-time")
    ] = None,
    un_number: Annotated[str | None, Query(max_length=16, description="UN1789 or 1789")] = None,
    hazard_class: Annotated[
        str | None,
        Query(pattern=r"^[1-9](\.[1-6][A-HJKLNS]?)?$", description="a class (8) or division (2.1)"),
    ] = None,
    carrier: Annotated[str | None, Query(max_length=200, description="part of its name")] = None,
    vehicle_plate: Annotated[str | None, Query(max_length=16)] = None,
    status_filter: Annotated[FilingStatus | None, Query(alias="status")] = None,
) -> WaybillFilters:
    return WaybillFilters(
        dispatched_from,
        dispatched_to,
        filed_from,
        filed_to,
        un_number,
        hazard_class,
        carrier,
        vehicle_plate,
        status_filter,
    )


Filters = Annotated[WaybillFilters, Depends(_filters)]


def _instant(value: str, field: str, *, end: bool) -> tuple[datetime, bool]:
    """The bound and whether it is inclusive: a date covers its whole day in China time."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        return datetime.combine(day + timedelta(days=1 if end else 0), time(), CST), not end
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(field, "must be a date (YYYY-MM-DD) or an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise invalid(field, "a date-time must give its UTC offset")
    return moment, True


def _plate(value: ColumnElement[str] | InstrumentedAttribute[str] | str) -> ColumnElement[str]:
    return func.upper(func.translate(value, _PLATE_SEPARATORS, ""))


def _conditions(f: WaybillFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.dispatched_from is not None:
        where.append(Waybill.dispatch_date >= f.dispatched_from)
    if f.dispatched_to is not None:
        where.append(Waybill.dispatch_date <= f.dispatched_to)
    if f.filed_from is not None:
        start, _ = _instant(f.filed_from, "filed_from", end=False)
        where.append(Waybill.filed_at >= start)
    if f.filed_to is not None:
        stop, inclusive = _instant(f.filed_to, "filed_to", end=True)
        where.append(Waybill.filed_at <= stop if inclusive else Waybill.filed_at < stop)
    if f.un_number:
        number = f.un_number.strip().upper()
        where.append(Waybill.un_numbers.contains([number if number[:2] == "UN" else "UN" + number]))
    if f.hazard_class:
        # A class covers its divisions ("2" finds 2.1) and compatibility groups ("1.4S").
        declared = func.array_to_string(Waybill.hazard_classes, ",")
        pattern = "(^|,)" + re.escape(f.hazard_class) + "([.A-Z][^,]*)?(,|$)"
        where.append(declared.regexp_match(pattern))
    if f.carrier:
        where.append(Waybill.carrier_name.icontains(f.carrier, autoescape=True))
    if f.vehicle_plate:
        where.append(_plate(Waybill.vehicle_plate) == _plate(f.vehicle_plate))
    if f.status is not None:
        where.append(Waybill.status == f.status.value)
    return where


def _search(f: WaybillFilters, limit: int, offset: int) -> Select[tuple[Waybill]]:
    return (
        select(Waybill)
        .where(*_conditions(f))
        .order_by(Waybill.filed_at.desc(), Waybill.waybill_number)
        .limit(limit)
        .offset(offset)
    )


def _summary(row: Waybill) -> WaybillSummary:
    return WaybillSummary.model_validate(row, from_attributes=True)


def _audit(session: Session, actor: Actor, action: str, target: str, **detail: Any) -> None:
    append_audit(
        session,
        actor=actor,
        action=f"regulator.{action}",
        target_type="waybills" if target == "waybills" else "waybill",
        target_id=target,
        detail=detail,
    )
    session.commit()


@router.get("/waybills")
def list_waybills(
    actor: RegulatorActor,
    session: SessionDep,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[WaybillSummary]:
    """Filed e-waybills, latest filed first, by dispatch or filing dates, UN number, class,
    carrier, vehicle plate and status."""
    found = [_summary(row) for row in session.scalars(_search(filters, limit, offset))]
    _audit(session, actor, "listed", "waybills", filters=filters.audited(), results=len(found))
    return found


@router.get("/waybills.csv")
def export_waybills(
    actor: RegulatorActor,
    session: SessionDep,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """The same search as CSV: UTF-8 with a byte-order mark, so Excel shows the Chinese names."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in session.scalars(_search(filters, limit, offset)):
        values = _summary(row).model_dump(mode="json")
        writer.writerow([_cell(values[column]) for column in CSV_COLUMNS])
        count += 1
    _audit(session, actor, "exported", "waybills", filters=filters.audited(), results=count)
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="waybills.csv"'},
    )


def _cell(value: Any) -> str:
    """Lists joined by spaces; text a spreadsheet would run as a formula is quoted with '."""
    text = " ".join(value) if isinstance(value, list) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _filed(session: Session, number: str) -> Waybill:
    row = session.get(Waybill, number)
    if row is None:
        raise not_found("waybill")
    return row


@router.get("/waybills/{number}")
def read_waybill(number: str, actor: RegulatorActor, session: SessionDep) -> WaybillRecord:
    """One filed e-waybill: the record as filed, each filing with its receipt, the hashes."""
    row = _filed(session, number)
    filings = session.scalars(
        select(WaybillFiling)
        .where(WaybillFiling.waybill_number == number)
        .order_by(WaybillFiling.at, WaybillFiling.id)
    )
    record = WaybillRecord(
        **_summary(row).model_dump(),
        record=row.record,
        filings=[
            FilingView(kind=FilingStatus(f.kind), receipt=f.receipt, at=f.at) for f in filings
        ],
        json_sha256=row.json_sha256,
        pdf_sha256=row.pdf_sha256,
        pdf_url=f"/regulator/waybills/{number}/pdf",
        integrity_url=f"/regulator/waybills/{number}/integrity",
    )
    _audit(session, actor, "read", number)
    return record


@router.get("/waybills/{number}/pdf", response_class=Response, responses=PDF_DOCUMENT)
def download_pdf(
    number: str, actor: RegulatorActor, platform: PlatformDep, session: SessionDep
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
    _audit(session, actor, "downloaded", number, sha256=row.pdf_sha256)
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
    number: str, actor: RegulatorActor, platform: PlatformDep, session: SessionDep
) -> Integrity:
    """Re-hash the stored JSON and PDF and compare the JSON with the sealed record."""
    row = _filed(session, number)
    json_data = _stored(platform, row.json_sha256)
    pdf_data = _stored(platform, row.pdf_sha256)
    json_intact = json_data is not None and _sha(json_data) == row.json_sha256
    pdf_intact = pdf_data is not None and _sha(pdf_data) == row.pdf_sha256
    matches = json_data is not None and _parsed(json_data) == row.record
    result = Integrity(
        json_intact=json_intact,
        pdf_intact=pdf_intact,
        record_matches_json=matches,
        intact=json_intact and pdf_intact and matches,
    )
    _audit(session, actor, "verified", number, **result.model_dump())
    return result


def _stored(platform: Platform, sha256: str) -> bytes | None:
    """Whatever bytes are stored under the hash's key now, unchecked; None when missing."""
    try:
        return platform.store.get(content_key(sha256))
    except ObjectNotFound:
        return None


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _parsed(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None
