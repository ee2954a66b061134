"""Who may see and act on an order, and which stored documents belong to it.

An order is visible to its two parties by role (the buyer's buyer and finance, the supplier's
supplier and logistics), to the carrier assigned to it (its carrier and logistics roles: only
orders assigned to it, and without their money) and to platform staff; anyone else, regulators
included, gets 404 as for a missing order. Staff read but do not act: commands need the party
and the role.
"""

from __future__ import annotations

from typing import Literal

from fastapi import HTTPException, status
from sqlalchemy import ColumnElement, Select, Subquery, select, type_coerce, union_all
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from api.deps import is_operator, not_found
from contracts.common import OPERATOR_ORG_ID, Actor, DocumentRef, Role
from contracts.fulfilment import OrderStatus
from db.audit_log import append_audit
from db.cold_chain import ColdTrip, CreditNote
from db.models import AuditEntry, CarrierEvent, Document, Invoice, Order, OrderShipment, Waybill

BUYER_SIDE = (Role.BUYER, Role.FINANCE)
SUPPLIER_SIDE = (Role.SUPPLIER, Role.LOGISTICS)
CARRIER_SIDE = (Role.CARRIER, Role.LOGISTICS)
FINAL = {OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.REFUSED}
DOCUMENT_ADDED = "order.document_added"
Side = Literal["buyer", "supplier", "either", "carrier"]


def is_staff(actor: Actor) -> bool:
    """Operator staff, including the platform's logistics-safety reviewers of e-waybills."""
    return is_operator(actor) or (actor.org_id == OPERATOR_ORG_ID and actor.has_any(Role.LOGISTICS))


def visible_sides(actor: Actor) -> list[ColumnElement[bool]] | None:
    """The order conditions the caller sees; None means every order (staff)."""
    if is_staff(actor):
        return None
    sides: list[ColumnElement[bool]] = []
    if actor.has_any(*BUYER_SIDE):
        sides.append(Order.buyer_org_id == actor.org_id)
    if actor.has_any(*SUPPLIER_SIDE):
        sides.append(Order.supplier_org_id == actor.org_id)
    if actor.has_any(*CARRIER_SIDE):
        sides.append(Order.carrier_org_id == actor.org_id)
    if not sides:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="requires the buyer, finance, supplier, carrier or logistics role",
        )
    return sides


def visible_order(session: Session, actor: Actor, order_id: str) -> Order:
    row = session.get(Order, order_id)
    if row is None or not sees_order(actor, row):
        raise not_found("order")
    return row


def sees_order(actor: Actor, row: Order) -> bool:
    """Staff, the order's two parties by role, and its carrier."""
    return is_staff(actor) or _party(row, actor) or carries(actor, row)


def carries(actor: Actor, row: Order) -> bool:
    """Whether the caller is the order's carrier, by role (it sees the order as a carrier)."""
    return row.carrier_org_id == actor.org_id and actor.has_any(*CARRIER_SIDE)


def _party(row: Order, actor: Actor) -> bool:
    return (row.buyer_org_id == actor.org_id and actor.has_any(*BUYER_SIDE)) or (
        row.supplier_org_id == actor.org_id and actor.has_any(*SUPPLIER_SIDE)
    )


def acting_order(
    session: Session, actor: Actor, order_id: str, *, org_of: Side, roles: tuple[Role, ...]
) -> Order:
    """The order, if the caller belongs to the ``org_of`` party with one of ``roles`` and the
    order still runs; platform staff read orders but do not act on them."""
    row = visible_order(session, actor, order_id)
    sides: dict[str, set[str | None]] = {
        "buyer": {row.buyer_org_id},
        "supplier": {row.supplier_org_id},
        "carrier": {row.carrier_org_id},
    }
    orgs = sides.get(org_of, {row.buyer_org_id, row.supplier_org_id})
    if actor.org_id not in orgs or not actor.has_any(*roles):
        party = "either party's" if org_of == "either" else f"the {org_of}'s"
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"requires {party} {' or '.join(r.value for r in roles)} role",
        )
    if OrderStatus(row.status) in FINAL:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"the order is {row.status}")
    return row


def party_document(session: Session, row: Order, document_id: str) -> DocumentRef | None:
    """A stored document of one of the order's parties or its carrier, as a reference; else
    None."""
    document = session.get(Document, document_id)
    parties = (row.buyer_org_id, row.supplier_org_id, row.carrier_org_id)
    if document is None or document.org_id not in parties:
        return None
    return DocumentRef(
        document_id=document.id,
        sha256=document.sha256,
        filename=document.filename,
        content_type=document.content_type,
    )


def record_upload(session: Session, actor: Actor, order_id: str, ref: DocumentRef) -> None:
    """Link an upload to the order in the audit log, which nobody can rewrite."""
    append_audit(
        session,
        actor=actor,
        action=DOCUMENT_ADDED,
        target_type="order",
        target_id=order_id,
        detail={"document_id": ref.document_id, "sha256": ref.sha256, "filename": ref.filename},
        dedup_key=f"{DOCUMENT_ADDED}:{ref.document_id}",
    )


def order_documents() -> Subquery:
    """Every (order_id, document_id) an order holds: uploads to it (linked in the audit log),
    the invoice, and its carriage documents (``_transport_documents``)."""
    uploads = select(
        AuditEntry.target_id.label("order_id"),
        type_coerce(AuditEntry.detail, JSONB)["document_id"].astext.label("document_id"),
    ).where(AuditEntry.action == DOCUMENT_ADDED)
    return union_all(
        uploads,
        select(Invoice.order_id, Invoice.document_id),
        select(CreditNote.order_id, CreditNote.document_id),
        *_transport_documents(),
    ).subquery("order_documents")


def _transport_documents() -> tuple[Select[tuple[str, str | None]], ...]:
    """The documents of an order's carriage, which its carrier reads too: consignment lists,
    the filed e-waybills (JSON and PDF), delivery proofs and cold shipments' temperature
    reports (credit notes carry money, so they are the parties' alone)."""
    return (
        select(
            OrderShipment.order_id.label("order_id"),
            OrderShipment.consignment_document_id.label("document_id"),
        ).where(OrderShipment.consignment_document_id.is_not(None)),
        select(CarrierEvent.order_id, CarrierEvent.proof_document_id).where(
            CarrierEvent.proof_document_id.is_not(None)
        ),
        select(Waybill.order_id, Waybill.json_document_id),
        select(Waybill.order_id, Waybill.pdf_document_id),
        select(ColdTrip.order_id, ColdTrip.report_document_id).where(
            ColdTrip.report_document_id.is_not(None)
        ),
    )


def carried_document(session: Session, row: Order, document_id: str) -> bool:
    """Whether the document is one of the order's carriage documents (``_transport_documents``)."""
    held = union_all(*_transport_documents()).subquery("transport_documents")
    query = select(held.c.order_id).where(
        held.c.order_id == row.id, held.c.document_id == document_id
    )
    return session.scalars(query.limit(1)).first() is not None


def order_document_ids(session: Session, row: Order) -> set[str]:
    """The documents belonging to the order (``order_documents``)."""
    held = order_documents()
    return set(session.scalars(select(held.c.document_id).where(held.c.order_id == row.id)))


def document_orders(session: Session, document_id: str) -> list[Order]:
    """The orders holding the document (``order_documents``), usually one."""
    held = order_documents()
    ids = select(held.c.order_id).where(held.c.document_id == document_id)
    return list(session.scalars(select(Order).where(Order.id.in_(ids))))
