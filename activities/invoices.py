"""The order's invoice: rendered once, stored by SHA-256, recorded with its amount and due date."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from activities.documents import issue_pdf
from contracts.common import SYSTEM_ACTOR
from contracts.fulfilment import IssueInvoiceInput
from db.audit_log import audit_once
from db.models import Invoice
from db.session import transaction
from documents.render import render_pdf
from storage.object_store import ObjectStore

PDF = "application/pdf"


def invoice_id_for(order_id: str) -> str:
    return f"INV-{order_id.removeprefix('ord-')}"


class InvoiceActivities:
    def __init__(self, sessions: sessionmaker[Session], store: ObjectStore) -> None:
        self._sessions = sessions
        self._store = store

    @activity.defn(name="issue_invoice")
    def issue_invoice(self, issue: IssueInvoiceInput) -> None:
        """Render and store the invoice once, then record it with its amount and due date."""
        invoice_id = invoice_id_for(issue.order_id)
        contract = issue.contract
        document = issue_pdf(
            self._sessions,
            self._store,
            document_id=f"{invoice_id}:pdf",
            org_id=contract.buyer.org_id,
            kind="invoice",
            filename=f"invoice-{invoice_id}.pdf",
            render=lambda: render_pdf("invoice.html.j2", invoice_context(issue)),
        )
        with transaction(self._sessions) as session:
            if session.get(Invoice, invoice_id) is not None:
                return
            session.add(
                Invoice(
                    id=invoice_id,
                    order_id=issue.order_id,
                    document_id=document.document_id,
                    amount=contract.total.amount,
                    currency=contract.total.currency,
                    due_on=issue.due_on,
                    issued_at=issue.accepted_at,
                )
            )
            audit_once(
                session,
                SYSTEM_ACTOR,
                "invoice.issued",
                invoice_id,
                {"sha256": document.sha256, "amount": str(contract.total.amount)},
            )


def invoice_context(issue: IssueInvoiceInput) -> dict[str, object]:
    """What the invoice template prints, from the accepted order's contract."""
    invoice_id = invoice_id_for(issue.order_id)
    contract = issue.contract
    return {
        "document_id": invoice_id,
        "invoice_id": invoice_id,
        "order_id": issue.order_id,
        "contract_id": contract.contract_id,
        "issued_on": issue.accepted_at.date(),
        "accepted_on": issue.accepted_at.date(),
        "due_on": issue.due_on,
        "buyer": contract.buyer,
        "supplier": contract.supplier,
        "lines": contract.lines,
        "currency": contract.total.currency,
        "goods_total": contract.goods_total,
        "logistics": contract.logistics,
        "freight": contract.freight,
        "tax": contract.tax,
        "total": contract.total,
        "payment_terms": contract.payment_terms,
    }
