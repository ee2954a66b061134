"""The PDFs the bare order renders: the same documents a warm-up order rendered, its invoice and
its e-waybill, from the same templates and data (not stored: storing is the platform's work)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from activities.invoices import invoice_context
from contracts.fulfilment import IssueInvoiceInput, order_id_for
from contracts.regulator import FilingStatus
from contracts.sourcing import ContractTerms
from contracts.waybill import EWaybill
from db.models import Waybill
from documents.e_waybill import render_waybill_pdf
from documents.render import render_pdf
from rules.rulebooks import rulebook as rulebook_for


def bare_renders(
    sessions: sessionmaker[Session], dangerous: ContractTerms
) -> dict[str, Callable[[], bytes]]:
    """By the order activity that renders it: a render of the warm dangerous order's document."""
    order_id = order_id_for(dangerous.contract_id)
    now = datetime.now(UTC)
    issue = IssueInvoiceInput(
        order_id=order_id, contract=dangerous, accepted_at=now, due_on=(now + timedelta(30)).date()
    )
    with sessions() as session:
        filed = session.scalars(select(Waybill).where(Waybill.order_id == order_id)).one()
        waybill = EWaybill.model_validate(filed.record)
        receipt, filed_at, made_by = filed.receipt_number, filed.filed_at, filed.made_by
    return {
        "issue_invoice": partial(render_pdf, "invoice.html.j2", invoice_context(issue)),
        "seal_waybill": partial(
            render_waybill_pdf,
            waybill,
            receipt_number=receipt,
            filed_at=filed_at,
            status=FilingStatus.FILED.value,
            made_by=f"{waybill.carrier.name} · {made_by}" if made_by else "",
            rulebook=rulebook_for(waybill).label,
        ),
    }
