"""What the regulator's window shows of a filed e-waybill: the list row, the record, the CSV row.

Each row names who made the waybill (制单): the carrier organisation that made it, joined by
``waybills.made_by_org_id``, and its dispatcher. Waybills a supplier submitted before carriers
made them have no maker, and say so with ``made_by: null`` (an empty CSV cell).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.pagination import Listing, loaded
from contracts.regulator import FilingStatus
from db.models import Organisation, Waybill

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
    "made_by",  # last, so exports read by column position keep working
)


class MadeBy(BaseModel):
    """The carrier organisation that made the waybill and its dispatcher."""

    org_id: str
    name: str = Field(description="the organisation's legal name")
    dispatcher: str = Field(description="the dispatcher as the waybill was sealed; may be empty")

    def text(self) -> str:
        """'江苏安达危险品运输有限公司 · 调度员 李强': one cell of the CSV."""
        return " · ".join(part for part in (self.name, self.dispatcher) if part)


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
    made_by: MadeBy | None = Field(
        description="who made the waybill (制单); null on waybills made before carriers did"
    )


SUMMARIES = Listing(WaybillSummary)
"""The list's rows validated and answered as one list (``api.pagination``)."""


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


def summaries(session: Session, rows: Sequence[Waybill]) -> list[WaybillSummary]:
    """The rows as the regulator sees them, their makers' names read in one query."""
    org_ids = {row.made_by_org_id for row in rows if row.made_by_org_id is not None}
    names: dict[str, str] = {}
    if org_ids:
        found = session.execute(
            select(Organisation.id, Organisation.legal_name).where(Organisation.id.in_(org_ids))
        )
        names = {org_id: name for org_id, name in found.tuples()}
    return SUMMARIES.models([_summary(row, names) for row in rows])


def _summary(row: Waybill, names: dict[str, str]) -> dict[str, Any]:
    values = loaded(row)
    maker = values["made_by_org_id"]
    made_by = None
    # The foreign key keeps the organisation; a missing name would be a broken row, shown bare.
    if maker is not None:
        made_by = {"org_id": maker, "name": names.get(maker, ""), "dispatcher": values["made_by"]}
    # The summary's other fields are the row's columns by name (it ignores the rest).
    return {**values, "made_by": made_by}


def csv_row(summary: WaybillSummary) -> list[str]:
    """The summary's cells in ``CSV_COLUMNS`` order."""
    values = summary.model_dump(mode="json")
    values["made_by"] = summary.made_by.text() if summary.made_by is not None else ""
    return [_cell(values[column]) for column in CSV_COLUMNS]


def _cell(value: Any) -> str:
    """Lists joined by spaces; text a spreadsheet would run as a formula is quoted with '."""
    text = " ".join(value) if isinstance(value, list) else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
