"""The order's invoice: rendered once, stored by SHA-256, recorded with its amount and due date."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from contracts.common import SYSTEM_ACTOR
from contracts.fulfilment import IssueInvoiceInput
from db.audit_log import audit_once
from db.models import Document, Invoice
from db.session import transaction
from documents.render import render_pdf
from storage.object_store import ObjectStore, put_content

PDF = "application/pdf"


def invoice_id_for(order_id: str) -> str:
    return f"INV-{order_id.removeprefix('ord-')}"


class InvoiceActivities:
    def __init__(self, sessions: sessionmaker[Session], store: ObjectStore) -> None:
        self._sessions = sessions
        self._store = store

    @activity.defn(name="issue_invoice")
    def issue_invoice(self, issue: IssueInvoiceInput) -> None:
        invoice_id = invoice_id_for(issue.order_id)
        with self._sessions() as session:
            if session.get(Invoice, invoice_id) is not None:
                return
        contract = issue.contract
        pdf = render_pdf(
            "invoice.html.j2",
            {
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
            },
        )
        stored = put_content(self._store, pdf, content_type=PDF)
        document_id = f"{invoice_id}:pdf"
        with transaction(self._sessions) as session:
            if session.get(Invoice, invoice_id) is not None:
                return
            if session.get(Document, document_id) is None:
                session.add(
                    Document(
                        id=document_id,
                        org_id=contract.buyer.org_id,
                        kind="invoice",
                        sha256=stored.sha256,
                        object_key=stored.key,
                        filename=f"invoice-{invoice_id}.pdf",
                        content_type=PDF,
                        size=stored.size,
                        created_by=SYSTEM_ACTOR.user_id,
                    )
                )
                session.flush()
            session.add(
                Invoice(
                    id=invoice_id,
                    order_id=issue.order_id,
                    document_id=document_id,
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
                {"sha256": stored.sha256, "amount": str(contract.total.amount)},
            )
