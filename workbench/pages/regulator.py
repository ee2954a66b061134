"""The regulator's read-only pages of the filed e-waybills: the search and one waybill.

Built on the API's regulator window (``api.routes.regulator``): the same search
(``waybill_search.Filters`` and ``search``, latest filed first), the same record
(``waybill_record``: goods, parties, vehicle and crew as filed, each filing with its receipt),
and every read written to the audit log as the API writes it. The regulator role of a regulator
organisation reads them, and platform staff (who read every order's waybills through the API);
anyone else gets 403, as the API answers them. No forms: the PDF is linked through the
workbench's document route when the API's document rule lets the caller read it.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from api.deps import SessionDep
from api.pagination import Keyset, on
from api.routes.document_access import may_read_document
from api.routes.order_access import is_staff
from api.routes.regulator import (
    LATEST_FILED_FIRST,
    WaybillNumber,
    audit,
    is_regulator,
    read_of,
    waybill_record,
)
from api.routes.regulator_views import summaries
from api.routes.waybill_search import Filters, search
from contracts.common import Actor
from db.models import Document, Order, Waybill
from workbench.pages.common import PREFIX, PageActor, render
from workbench.pages.paging import Cursor, page_rows
from workbench.pages.registers import SHOWN, Search, tone
from workbench.pages.registers_live import waybill_matches

router = APIRouter(prefix=PREFIX, include_in_schema=False)
FILED_ORDER = Keyset("regulator-waybills", on("Waybill", *LATEST_FILED_FIRST.keys))


def _reads_waybills(session: Session, actor: Actor) -> None:
    if not (is_regulator(session, actor) or is_staff(actor)):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="requires the regulator role of a regulator, or platform staff",
        )


@router.get("/waybills", response_class=HTMLResponse)
def waybills(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    filters: Filters,
    q: Search = "",
    cursor: Cursor = None,
) -> HTMLResponse:
    """Filed e-waybills by number, consignor, carrier, UN number or plate; latest filed first."""
    _reads_waybills(session, actor)
    query = search(filters)
    if q:
        query = query.where(waybill_matches(q))
    shown = page_rows(request, session, FILED_ORDER, query, cursor, size=SHOWN)
    found = summaries(session, [row.Waybill for row in shown.rows])
    # What the read disclosed, as the API's list read names it, the page's search with it.
    read = read_of(filters, shown.page, found)
    read["filters"] |= {"q": q} if q else {}
    audit(session, actor, "listed", "waybills", **read)
    return render(
        request,
        "regulator/waybills.html",
        {
            "heading": "reg_regulator_waybills",
            "rows": found,
            "next_url": shown.next_url,
            "first_url": shown.first_url,
            "q": q,
            "filters": filters,
            "tone": tone,
        },
    )


@router.get("/waybills/{number}", response_class=HTMLResponse)
def waybill(
    request: Request, number: WaybillNumber, actor: PageActor, session: SessionDep
) -> HTMLResponse:
    """One filed e-waybill, read only: goods, route, vehicle and crew, receipt and history."""
    _reads_waybills(session, actor)
    record = waybill_record(session, number)
    row = session.get(Waybill, number)
    document = session.get(Document, row.pdf_document_id) if row is not None else None
    pdf = document.id if document and may_read_document(session, actor, document) else None
    # Staff follow the waybill to its order's process; a regulator sees the waybill alone.
    order = session.get(Order, row.order_id) if row is not None and is_staff(actor) else None
    audit(session, actor, "read", number)
    return render(
        request,
        "regulator/waybill.html",
        {
            "w": record,
            "r": record.record,
            "pdf_document_id": pdf,
            "process_id": order.workflow_id if order is not None else None,
            "tone": tone,
        },
    )
