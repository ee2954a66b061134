"""Who may read a stored document: one rule, whichever path asks for it.

``/documents/{id}``, ``/orders/{id}/documents/{doc}``, ``/orders/{id}/invoice``,
``/contracts/{id}/document`` and ``/regulator/waybills/{number}/pdf`` all ask
``readable_document``, which decides from what the document belongs to. It may be read by
its owner organisation, by platform staff, and by whoever something links it to:

- a document an order holds (an upload to it, a delivery proof, the invoice, a consignment
  list, a filed e-waybill's JSON and PDF): the order's two parties, as they see the order; its
  carrier only the carriage documents (consignment lists, filed e-waybills, delivery proofs);
- a contract's PDF: the contract's parties with a buyer, finance or supplier role;
- a document a task shows: those the task is for (its organisation, with its role);
- a filed e-waybill's JSON and PDF: regulators as well;
- a quote's attachment: the RFQ's buyer, once the RFQ shows its quotes (not while sealed);
- a supplier's accreditation certificate: buyers, who see the standing that names it;
- a catalogue product's image or datasheet: anyone signed in, as the product itself.

Anyone else gets 404, as for a document that does not exist, so existence does not leak.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from api.deps import is_operator, not_found
from api.routes.order_access import carried_document, carries, document_orders, sees_order
from contracts.common import Actor, OrgKind, Role
from contracts.sourcing import RfqStatus
from db.catalogue import Product
from db.models import (
    Contract,
    Document,
    HumanTask,
    Organisation,
    QuoteRecord,
    Rfq,
    SupplierAccreditation,
    Waybill,
)

# As GET /contracts/{id} admits a contract's parties (api.routes.e_contracts).
CONTRACT_PARTY_ROLES = (Role.BUYER, Role.FINANCE, Role.SUPPLIER)

Link = Callable[[Session, Actor, str], bool]


def readable_document(session: Session, actor: Actor, document_id: str) -> Document:
    """The document, if the caller may read it; else 404 as for a missing one."""
    row = session.get(Document, document_id)
    if row is None or not may_read_document(session, actor, row):
        raise not_found("document")
    return row


def may_read_document(session: Session, actor: Actor, document: Document) -> bool:
    if document.org_id == actor.org_id or is_operator(actor):
        return True
    return any(link(session, actor, document.id) for link in _LINKS)


def _order(session: Session, actor: Actor, document_id: str) -> bool:
    for row in document_orders(session, document_id):
        if carries(actor, row):
            if carried_document(session, row, document_id):
                return True
        elif sees_order(actor, row):
            return True
    return False


def _contract(session: Session, actor: Actor, document_id: str) -> bool:
    if not actor.has_any(*CONTRACT_PARTY_ROLES):
        return False
    query = select(Contract.id).where(
        Contract.document_id == document_id,
        or_(Contract.buyer_org_id == actor.org_id, Contract.supplier_org_id == actor.org_id),
    )
    return session.scalars(query.limit(1)).first() is not None


def _task(session: Session, actor: Actor, document_id: str) -> bool:
    query = select(HumanTask.id).where(
        HumanTask.org_id == actor.org_id,
        HumanTask.role.in_([r.value for r in actor.roles]),
        HumanTask.document_ids.contains([document_id]),
    )
    return session.scalars(query.limit(1)).first() is not None


def _filed_waybill(session: Session, actor: Actor, document_id: str) -> bool:
    if not actor.has_any(Role.REGULATOR):
        return False
    org = session.get(Organisation, actor.org_id)
    if org is None or org.kind != OrgKind.REGULATOR:
        return False
    query = select(Waybill.waybill_number).where(
        or_(Waybill.json_document_id == document_id, Waybill.pdf_document_id == document_id)
    )
    return session.scalars(query.limit(1)).first() is not None


def _quote_attachment(session: Session, actor: Actor, document_id: str) -> bool:
    if not actor.has_any(Role.BUYER):
        return False
    attachments = type_coerce(QuoteRecord.terms, JSONB)["attachments"]
    rfqs = session.scalars(
        select(Rfq)
        .join(QuoteRecord, QuoteRecord.rfq_id == Rfq.id)
        .where(Rfq.buyer_org_id == actor.org_id)
        .where(attachments.contains([{"document_id": document_id}]))
    )
    return any(not (r.sealed and r.status == RfqStatus.OPEN.value) for r in rfqs)


def _accreditation_certificate(session: Session, actor: Actor, document_id: str) -> bool:
    if not actor.has_any(Role.BUYER):
        return False
    query = select(SupplierAccreditation.supplier_org_id).where(
        SupplierAccreditation.certificate_document_id == document_id
    )
    return session.scalars(query.limit(1)).first() is not None


def _catalogue_media(session: Session, actor: Actor, document_id: str) -> bool:
    query = select(Product.id).where(Product.media.contains([{"document_id": document_id}]))
    return session.scalars(query.limit(1)).first() is not None


_LINKS: tuple[Link, ...] = (
    _order,
    _contract,
    _task,
    _filed_waybill,
    _quote_attachment,
    _accreditation_certificate,
    _catalogue_media,
)
