"""Ordering straight from the catalogue (``POST /catalogue/orders``) and watching the order.

For in-stock offers of one supplier on their standard terms: the request is checked here (the
offers visible and delivering to the buyer's province, the stock covering and the MOQ met, one
supplier, currency and VAT rate, a rate to the buyer's approval currency), then the purchase's
process (``workflows.catalogue_order``) reserves the stock, records the purchase as an RFQ with
the offers' terms as its quote, and runs the contract an award would draft through the same
contract and fulfilment processes. 202 with the purchase's URL; ``GET`` it to watch the
reservation, the contract and the order.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.catalogue_selection import Province, buyer_organisation, check_delivery
from api.deps import PlatformDep, SessionDep, not_found
from api.errors import invalid
from api.idempotency import keyed_digest
from api.params import MAX_INT4, IdPath
from api.platform import Platform
from api.routes.rfq_access import BuyerActor, SourcingActor
from api.routes.rfq_opening import check_currency
from contracts.catalogue_orders import (
    CatalogueOrderInput,
    PurchaseLine,
    PurchaseStatus,
    catalogue_order_workflow_id,
    purchase_contract_id,
)
from contracts.common import Actor, Line, Role
from contracts.fulfilment import order_id_for
from contracts.sourcing import InvitedSupplier, Quantity, Text200
from db.catalogue_purchases import CataloguePurchase
from db.catalogue_selection import OfferSeen, offers_seen, selected_products
from db.models import Contract, Order, new_id
from db.sourcing import current_standings
from rules.catalogue_comparison import Ordered, earliest_arrival, purchase
from rules.waybill_parties import CHINA_STANDARD_TIME

router = APIRouter(prefix="/catalogue", tags=["catalogue"])

MAX_ORDER_LINES = 50
OfferId = Annotated[Line, Field(min_length=1, max_length=40)]


class OrderLine(BaseModel):
    """An offer and how many; ``revision`` the offer's as the buyer compared it, to be refused
    (409) rather than ordered at terms changed since. Fields it does not know are refused:
    a ``unit_price`` sent was ignored, and the order made at another price than the one seen."""

    model_config = ConfigDict(extra="forbid")

    offer_id: OfferId
    quantity: Quantity
    revision: Annotated[int, Field(ge=1, le=MAX_INT4)] | None = None


class CatalogueOrderRequest(BaseModel):
    """Offers of one supplier, each at most once; ``needed_by`` refuses offers that cannot
    arrive by then (left out, the contract's delivery date is the longest lead time's)."""

    model_config = ConfigDict(extra="forbid")

    lines: list[OrderLine] = Field(min_length=1, max_length=MAX_ORDER_LINES)
    delivery_region: Province  # ISO 3166-2:CN, e.g. CN-SH
    delivery_place: Text200
    needed_by: date | None = None


class OrderAccepted(BaseModel):
    purchase_id: str
    workflow_id: str
    status: str
    url: str


class PurchaseView(BaseModel):
    purchase_id: str
    status: PurchaseStatus
    status_reason: str
    buyer_org_id: str
    supplier_org_id: str
    lines: list[PurchaseLine]
    delivery_region: str
    currency: str
    rfq_id: str | None  # the RFQ the purchase is recorded as (None when refused)
    contract_id: str | None
    contract_status: str | None
    order_id: str | None
    order_status: str | None
    created_at: datetime
    url: str


@router.post("/orders", status_code=status.HTTP_202_ACCEPTED)
async def order_from_catalogue(
    body: CatalogueOrderRequest, actor: BuyerActor, platform: PlatformDep, request: Request
) -> OrderAccepted:
    """Order in-stock offers of one supplier on their standard terms; answers 202 and the
    purchase's URL while its process reserves the stock and drafts the contract."""
    return await place_order(body, actor, platform, request.headers.get("idempotency-key"))


async def place_order(
    body: CatalogueOrderRequest, actor: Actor, platform: Platform, key: str | None
) -> OrderAccepted:
    """The order checked and its process started (the route, and the workbench's button);
    ``key`` is the caller's idempotency key."""
    # A retried request (its first answer lost) finds the process it started.
    purchase_id = "cat_" + keyed_digest(actor.user_id, key)[:32] if key else new_id("cat")
    purchase = await run_in_threadpool(
        _prepare, platform, body, actor, purchase_id, datetime.now(UTC)
    )
    workflow_id = catalogue_order_workflow_id(purchase_id)
    await platform.start_process(
        "CatalogueOrderWorkflow",
        purchase,
        workflow_id=workflow_id,
        org_id=actor.org_id,
        subject_id=purchase_id,
        retry_key=key,
    )
    return OrderAccepted(
        purchase_id=purchase_id,
        workflow_id=workflow_id,
        status=PurchaseStatus.RECORDING.value,
        url=f"/catalogue/orders/{purchase_id}",
    )


def _prepare(
    platform: Platform, body: CatalogueOrderRequest, actor: Actor, purchase_id: str, now: datetime
) -> CatalogueOrderInput:
    """Check the order against the offers as buyers see them now, and build the process's
    input (``rules.catalogue_comparison.purchase``)."""
    # Offers valid today in China time, as buyers saw them; arrivals from the platform's day,
    # as a contract's delivery date is drafted.
    today = now.date()
    with platform.sessions() as session:
        buyer = buyer_organisation(session, actor)
        check_delivery(body.delivery_region, body.needed_by, today=today)
        offers = _offers(session, body, now.astimezone(CHINA_STANDARD_TIME).date())
        first = offers[0]
        # The order has no currency of its own: its offers' is named by the first one's line.
        check_currency(session, actor.org_id, first.currency, field="lines.0.offer_id")
        products = selected_products(session, {o.product_id for o in offers})
        (standing,) = current_standings(session, [first.facts.supplier_org_id]).suppliers
    ordered = [
        Ordered(products[o.product_id].facts, o.facts, o.sku, line.quantity)
        for o, line in zip(offers, body.lines, strict=True)
    ]
    arrival = earliest_arrival(ordered, today=today)
    if body.needed_by is not None and arrival > body.needed_by:
        raise invalid("needed_by", f"the offers arrive on {arrival.isoformat()} at the earliest")
    return purchase(
        purchase_id=purchase_id,
        buyer=actor,
        buyer_legal_name=buyer.legal_name,
        buyer_credit_code=buyer.credit_code,
        supplier=InvitedSupplier(
            org_id=first.facts.supplier_org_id,
            legal_name=first.supplier_name,
            credit_code=first.supplier_credit_code,
            score=standing.score,
        ),
        ordered=ordered,
        delivery_place=body.delivery_place,
        delivery_region=body.delivery_region,
        needed_by=body.needed_by,
        at=now,
    )


def _offers(session: Session, body: CatalogueOrderRequest, today: date) -> list[OfferSeen]:
    """The ordered offers in the request's order; 422 naming the first line that cannot be
    ordered as it stands."""
    ids = [line.offer_id for line in body.lines]
    region = body.delivery_region
    found = {
        o.facts.offer_id: o for o in offers_seen(session, today=today, offer_ids=ids, region=region)
    }
    offers: list[OfferSeen] = []
    for i, line in enumerate(body.lines):
        field = f"lines.{i}"
        offer = found.get(line.offer_id)
        if offer is None:
            raise invalid(
                f"{field}.offer_id", f"no offer {line.offer_id} is offered to buyers in {region}"
            )
        if line.offer_id in ids[:i]:
            raise invalid(f"{field}.offer_id", f"{line.offer_id} is ordered twice")
        if line.revision is not None and line.revision != offer.facts.revision:
            raise invalid(
                f"{field}.revision",
                f"the offer changed since revision {line.revision} (now {offer.facts.revision}): "
                "compare again",
                code=status.HTTP_409_CONFLICT,
            )
        terms, first = offer.facts.terms, (offers[0] if offers else offer)
        if offer.facts.supplier_org_id != first.facts.supplier_org_id:
            raise invalid(
                f"{field}.offer_id",
                "an order is placed with one supplier: order the other supplier's offers apart",
            )
        if (terms.currency, terms.tax_rate) != (first.currency, first.facts.terms.tax_rate):
            raise invalid(
                f"{field}.offer_id",
                "offers in another currency or at another VAT rate are ordered apart",
            )
        if line.quantity < terms.min_order_quantity:
            raise invalid(
                f"{field}.quantity",
                f"below the offer's minimum order quantity {terms.min_order_quantity} {offer.unit}",
            )
        if line.quantity > offer.facts.stock:
            raise invalid(
                f"{field}.quantity",
                f"only {offer.facts.stock} {offer.unit} in stock: ask for quotes instead "
                "(POST /catalogue/rfqs)",
            )
        offers.append(offer)
    return offers


def visible_purchase(session: Session, actor: Actor, purchase_id: str) -> CataloguePurchase:
    """The purchase, to its buyer's buyers and its supplier's suppliers (the workbench's process
    page asks the same); 404 to anyone else, as for a missing one."""
    row = session.get(CataloguePurchase, purchase_id)
    mine = row is not None and (
        (row.buyer_org_id == actor.org_id and actor.has_any(Role.BUYER))
        or (row.supplier_org_id == actor.org_id and actor.has_any(Role.SUPPLIER))
    )
    if row is None or not mine:
        raise not_found("catalogue order")
    return row


@router.get("/orders/{purchase_id}")
def get_catalogue_order(
    purchase_id: IdPath, actor: SourcingActor, session: SessionDep
) -> PurchaseView:
    """A catalogue order, to its buyer's organisation or its supplier: the reservation, the
    contract and the order. 404 until the process has recorded it (moments after the 202)."""
    row = visible_purchase(session, actor, purchase_id)
    # A recorded purchase has one contract, named before its process records it.
    contract_id = purchase_contract_id(row.id) if row.rfq_id is not None else None
    contract = session.get(Contract, contract_id) if contract_id else None
    order = session.get(Order, order_id_for(contract_id)) if contract_id else None
    return PurchaseView(
        purchase_id=row.id,
        status=PurchaseStatus(row.status),
        status_reason=row.status_reason,
        buyer_org_id=row.buyer_org_id,
        supplier_org_id=row.supplier_org_id,
        lines=[PurchaseLine.model_validate(line) for line in row.lines],
        delivery_region=row.delivery_region,
        currency=row.currency,
        rfq_id=row.rfq_id,
        contract_id=contract_id,
        contract_status=contract.status if contract else None,
        order_id=order.id if order else None,
        order_status=order.status if order else None,
        created_at=row.created_at,
        url=f"/catalogue/orders/{row.id}",
    )
