"""Catalogue purchases in PostgreSQL: the stock an order holds, and the RFQ it is recorded as.

``record_catalogue_purchase`` reserves the offers' stock and records the purchase (its row, the
RFQ with its one invitation, and the offers' terms as the supplier's quote) in one transaction,
so a purchase either holds its stock and is an RFQ whose quote a contract can be drafted from,
or holds nothing. ``settle_catalogue_purchase`` ends it, and gives a failed purchase's stock back
unless its contract was executed; ``catalogue_contract_executed`` tells the process so first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.attention import INVALID_RECORD
from contracts.catalogue_orders import (
    CATALOGUE_PURCHASE,
    CatalogueOrderInput,
    PurchaseLine,
    PurchaseRecorded,
    PurchaseStatus,
    SettlePurchaseInput,
    purchase_contract_id,
)
from contracts.common import SYSTEM_ACTOR
from contracts.fulfilment import order_id_for
from contracts.sourcing import ContractStatus, RfqStatus
from db.audit_log import audit_once
from db.catalogue import CatalogueOffer, visible_offer
from db.catalogue_purchases import CataloguePurchase
from db.models import Contract, QuoteRecord, RfqInvitation
from db.session import transaction
from db.sourcing import quote_values, rfq_row
from rules.catalogue_comparison import delivers_to
from rules.waybill_parties import china_today


class CatalogueOrderRecords:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @activity.defn(name="record_catalogue_purchase")
    def record_catalogue_purchase(self, purchase: CatalogueOrderInput) -> PurchaseRecorded:
        """Hold the offers' stock and record the purchase as an RFQ with its quote, or record it
        refused holding nothing. The purchase row is inserted first: a retry (or a second
        attempt racing the first) finds it and answers as it was recorded, never holding the
        stock twice."""
        rfq = purchase.rfq
        with transaction(self._sessions) as session:
            inserted = session.execute(
                insert(CataloguePurchase)
                .values(
                    id=purchase.purchase_id,
                    buyer_org_id=rfq.buyer_org_id,
                    supplier_org_id=purchase.supplier.org_id,
                    workflow_id=activity.info().workflow_id,
                    status=PurchaseStatus.RECORDING.value,
                    status_reason="",
                    lines=[line.model_dump(mode="json") for line in purchase.lines],
                    delivery_region=purchase.delivery_region,
                    currency=rfq.currency,
                    created_by=rfq.created_by.user_id,
                    created_at=rfq.created_at,
                )
                .on_conflict_do_nothing(index_elements=[CataloguePurchase.id])
                .returning(CataloguePurchase.id)
            ).first()
            row = session.get_one(CataloguePurchase, purchase.purchase_id)
            if inserted is None:
                return PurchaseRecorded(
                    reserved=row.status != PurchaseStatus.REFUSED, reason=row.status_reason
                )
            problem = _reserve(session, purchase.lines, purchase.delivery_region)
            if problem is not None:
                row.status, row.status_reason = PurchaseStatus.REFUSED.value, problem
                audit_once(
                    session, rfq.created_by, "catalogue_order.refused", row.id, {"reason": problem}
                )
                return PurchaseRecorded(reserved=False, reason=problem)
            _record_rfq(session, purchase)
            row.status, row.rfq_id = PurchaseStatus.RESERVED.value, rfq.rfq_id
            audit_once(
                session,
                rfq.created_by,
                "catalogue_order.reserved",
                row.id,
                {"offers": {line.offer_id: str(line.quantity) for line in purchase.lines}},
            )
            return PurchaseRecorded(reserved=True)

    @activity.defn(name="catalogue_contract_executed")
    def catalogue_contract_executed(self, contract_id: str) -> bool:
        """Whether the contract was executed (its process starts the order next): asked when
        the contract's process failed, which it may do after its order started. Stopped between
        the two, it has no order: the purchase then holds its stock, which ops see ordered with
        no order, rather than give back stock a running order may hold."""
        with self._sessions() as session:
            return _executed(session, contract_id)

    @activity.defn(name="settle_catalogue_purchase")
    def settle_catalogue_purchase(self, settle: SettlePurchaseInput) -> None:
        """End a reserved purchase; a failed one gives its stock back, unless its contract was
        executed: its order started then, and runs whatever became of the contract's process
        after (ops ending a later step of it, or a termination, fails the child the purchase
        waits on), so the stock is the order's and giving it back would sell it twice. Only a
        reserved purchase changes, so a retry finds it settled and does nothing."""
        with transaction(self._sessions) as session:
            row = session.get(CataloguePurchase, settle.purchase_id, with_for_update=True)
            if row is None:
                raise ApplicationError(
                    f"no catalogue purchase {settle.purchase_id}", type=INVALID_RECORD
                )
            if row.status != PurchaseStatus.RESERVED.value:
                return
            status, reason = settle.status, settle.reason
            if status is PurchaseStatus.FAILED:
                contract_id = purchase_contract_id(row.id)
                if _executed(session, contract_id):
                    status = PurchaseStatus.ORDERED
                    reason = f"order {order_id_for(contract_id)} has started ({reason})"
                else:
                    lines = [PurchaseLine.model_validate(line) for line in row.lines]
                    _release(session, lines)
            row.status, row.status_reason = status.value, reason
            audit_once(
                session,
                SYSTEM_ACTOR,
                f"catalogue_order.{status.value}",
                row.id,
                {"reason": reason},
            )


def _executed(session: Session, contract_id: str) -> bool:
    contract = session.get(Contract, contract_id)
    return contract is not None and contract.status == ContractStatus.EXECUTED.value


def _held(lines: Sequence[PurchaseLine]) -> dict[str, Decimal]:
    held: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        held[line.offer_id] += line.quantity
    return held


def _locked(session: Session, offer_ids: Sequence[str]) -> dict[str, CatalogueOffer]:
    """The offers, locked in id order (two purchases of the same offers never deadlock)."""
    rows = session.scalars(
        select(CatalogueOffer)
        .where(CatalogueOffer.id.in_(sorted(offer_ids)))
        .order_by(CatalogueOffer.id)
        .with_for_update()
    )
    return {row.id: row for row in rows}


def _set_stock(row: CatalogueOffer, stock: Decimal) -> None:
    # The listing's terms state the stock too (GET /catalogue/offers shows them): both move.
    row.stock = stock
    row.terms = {**row.terms, "stock": str(stock)}


def _reserve(session: Session, lines: Sequence[PurchaseLine], region: str) -> str | None:
    """Take the lines' quantities from their offers' stock; else why not, taking nothing."""
    held = _held(lines)
    offers = _locked(session, list(held))
    visible = set(
        session.scalars(
            select(CatalogueOffer.id).where(
                CatalogueOffer.id.in_(list(held)),
                visible_offer(china_today()),
            )
        )
    )
    for line in lines:
        row = offers.get(line.offer_id)
        if row is None:
            return f"offer {line.sku} was withdrawn"
        if row.revision != line.offer_revision:
            return f"offer {line.sku} changed since it was compared (revision {row.revision})"
        if row.id not in visible:
            return f"offer {line.sku} is no longer offered (its validity or supplier's standing)"
        if not delivers_to(row.delivery_regions, region):
            return f"offer {line.sku} no longer delivers to {region}"
        if row.stock < held[row.id]:
            return f"offer {line.sku} has {row.stock} {row.unit} in stock, not {held[row.id]}"
    for offer_id, quantity in held.items():
        row = offers[offer_id]
        _set_stock(row, row.stock - quantity)
    return None


def _release(session: Session, lines: Sequence[PurchaseLine]) -> None:
    """Give the held stock back to offers still at the revision it was taken from: an offer
    listed again since states the supplier's stock afresh, which nothing must add to."""
    held = _held(lines)
    revisions = {line.offer_id: line.offer_revision for line in lines}
    for offer_id, row in _locked(session, list(held)).items():
        if row.revision == revisions[offer_id]:
            _set_stock(row, row.stock + held[offer_id])


def _record_rfq(session: Session, purchase: CatalogueOrderInput) -> None:
    """The purchase as an RFQ closed at once and awarding, its supplier's one invitation
    answered by the quote the offers' terms make (as the RFQ process records them)."""
    rfq, quote = purchase.rfq, purchase.quote
    workflow_id = activity.info().workflow_id
    session.add(rfq_row(rfq, workflow_id, status=RfqStatus.AWARDING, origin=CATALOGUE_PURCHASE))
    session.flush()
    session.add(
        RfqInvitation(
            rfq_id=rfq.rfq_id,
            supplier_org_id=quote.supplier_org_id,
            status="quoted",
            decline_reason="",
            answered_at=quote.submitted_at,
        )
    )
    session.add(QuoteRecord(**quote_values(quote, rfq)))
    audit_once(
        session,
        rfq.created_by,
        "rfq.created",
        rfq.rfq_id,
        {"suppliers": [quote.supplier_org_id], "origin": CATALOGUE_PURCHASE},
    )
