"""Orders: list and read them, each shipment with its carrier events, e-waybill and cold chain.

Orders are created by the workflow an executed contract starts (``ord-<contract_id>``); reads
come from the rows its activities record, plus the live open tasks from its ``get_status``
query. A cold shipment shows its trip, and claims' credit notes come off what the buyer owes
(``api.routes.order_cold_chain``). Commands are in ``api.routes.order_commands``, documents and
the invoice in ``api.routes.order_documents``; the supplier's confirmation, the buyer's
acceptance or dispute and the safety review go through ``POST /tasks/{task_id}/decision``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from api.deps import CurrentActor, PlatformDep, SessionDep, read_then_release
from api.pagination import (
    NEXT_PAGE_HEADERS,
    Keyset,
    Listing,
    Page,
    ascending,
    descending,
    loaded,
    paged,
)
from api.params import IdPath
from api.routes.order_access import carries, visible_order, visible_sides
from api.routes.order_cold_chain import (
    NOTHING,
    ShipmentColdChain,
    credited_by_order,
    order_cold_chain,
)
from contracts.common import Actor, Money
from contracts.fulfilment import CarrierEventKind, OrderStatus, OrderView
from db.models import CarrierEvent, Invoice, Order, OrderShipment, Waybill

router = APIRouter(prefix="/orders", tags=["orders"])

NEWEST_FIRST = Keyset("orders", (descending(Order.created_at), ascending(Order.id)))


class OrderSummary(BaseModel):
    """An order; its carrier sees it without its money (``total``, ``paid`` and ``credited``
    null). ``credited``: the credit notes of cold-chain claims, off what the buyer owes."""

    order_id: str
    contract_id: str
    status: OrderStatus
    dangerous_goods: bool
    buyer_org_id: str
    supplier_org_id: str
    carrier_org_id: str | None
    total: Money | None
    paid: Money | None
    credited: Money | None
    created_at: datetime
    url: str


SUMMARIES = Listing(OrderSummary)


class EventView(BaseModel):
    kind: CarrierEventKind
    at: datetime
    location: str
    note: str
    proof_document_id: str | None


class ShipmentDetail(BaseModel):
    """A consignment: what it carries (line id to quantity, in the line's unit), its e-waybill
    when it carries dangerous goods, its carrier events, and its cold chain when its lines
    carry a temperature range."""

    shipment: int
    status: OrderStatus
    quantities: dict[str, Decimal]
    un_numbers: list[str]
    waybill_number: str | None
    receipt_number: str | None
    # The consignment list and, once filed, the e-waybill's PDF: read them at
    # /orders/{order_id}/documents/{document_id}.
    consignment_document_id: str | None
    waybill_pdf_document_id: str | None
    events: list[EventView]
    cold_chain: ShipmentColdChain | None


class InvoiceView(BaseModel):
    invoice_id: str
    document_id: str
    amount: Decimal
    currency: str
    due_on: date
    url: str


class OrderDetail(OrderSummary):
    """``shipments`` is empty until the supplier confirms with its plan; ``outstanding`` is the
    total less the credit notes and the payments. ``open_task_ids`` comes from the running
    process and is left out when it cannot answer."""

    status_reason: str
    outstanding: Money | None
    shipments: list[ShipmentDetail]
    invoice: InvoiceView | None
    open_task_ids: list[str] | None = None


def _summary(row: Order, actor: Actor, credited: Decimal) -> dict[str, Any]:
    """An order's summary fields, for ``OrderSummary`` or ``OrderDetail`` to validate."""
    # The contract's value is the parties' business, not the carrier's.
    priced = not carries(actor, row)
    values = loaded(row)
    currency = values["currency"]

    def money(amount: Decimal) -> dict[str, Any] | None:
        return {"amount": amount, "currency": currency} if priced else None

    # The summary's other fields are the row's columns by name (it ignores the rest).
    return {
        **values,
        "order_id": values["id"],
        "total": money(values["total_amount"]),
        "paid": money(values["paid_amount"]),
        "credited": money(credited),
        "url": f"/orders/{values['id']}",
    }


def visible_orders(actor: Actor, status: OrderStatus | None) -> Select[tuple[Order]]:
    """The caller's orders (``visible_sides``), of one status or all: the list's query, which
    migration 0017's indexes serve (each side's and staff's status then ``created_at``)."""
    query = select(Order)
    sides = visible_sides(actor)
    if sides is not None:
        query = query.where(or_(*sides))
    if status is not None:
        query = query.where(Order.status == status.value)
    return query


@router.get("", response_model=SUMMARIES.response_model, responses=NEXT_PAGE_HEADERS)
def list_orders(
    actor: CurrentActor,
    session: SessionDep,
    page: Annotated[Page, paged(NEWEST_FIRST)],
    status_filter: Annotated[OrderStatus | None, Query(alias="status")] = None,
) -> Response:
    """Your organisation's orders as buyer (buyer, finance), supplier (supplier, logistics) or
    carrier (carrier, logistics: the orders assigned to it, without money); platform staff see
    all. Newest first, a page at a time (the ``Link`` header's next)."""
    rows = page.rows(session, visible_orders(actor, status_filter))
    credited = credited_by_order(session, [row.id for row in rows])
    items = [_summary(row, actor, credited.get(row.id, NOTHING)) for row in rows]
    return SUMMARIES.answer(page, items, session=session)


@router.get("/{order_id}", response_model_exclude_unset=True)
async def get_order(
    order_id: IdPath, actor: CurrentActor, session: SessionDep, platform: PlatformDep
) -> OrderDetail:
    """Status, amounts, each shipment with its carrier events, e-waybill receipt and cold
    chain, and the invoice; parties and carrier (without money) only."""
    read = partial(_detail, actor=actor, order_id=order_id)
    detail, workflow_id = await read_then_release(session, read)
    live = await platform.live_status(workflow_id, OrderView)
    if live is not None:
        detail.open_task_ids = list(live.open_task_ids)
    return detail


def _detail(session: Session, *, actor: Actor, order_id: str) -> tuple[OrderDetail, str]:
    row = visible_order(session, actor, order_id)
    priced = not carries(actor, row)
    invoice = session.scalar(select(Invoice).where(Invoice.order_id == row.id))
    invoice = invoice if priced else None
    cold = order_cold_chain(session, actor, row)
    credited = NOTHING if cold.credited is None else cold.credited
    outstanding = max(Decimal(0), row.total_amount - credited - row.paid_amount)
    detail = OrderDetail.model_validate(
        {
            **_summary(row, actor, credited),  # with status_reason, a column too
            "outstanding": Money(amount=outstanding, currency=row.currency) if priced else None,
            "shipments": _shipments(session, row.id, cold.shipments),
            "invoice": InvoiceView(
                invoice_id=invoice.id,
                document_id=invoice.document_id,
                amount=invoice.amount,
                currency=invoice.currency,
                due_on=invoice.due_on,
                url=f"/orders/{row.id}/invoice",
            )
            if invoice
            else None,
        }
    )
    return detail, row.workflow_id


def _shipments(
    session: Session, order_id: str, cold: dict[int, ShipmentColdChain]
) -> list[ShipmentDetail]:
    events: dict[int, list[EventView]] = {}
    for e in session.scalars(
        select(CarrierEvent).where(CarrierEvent.order_id == order_id).order_by(CarrierEvent.id)
    ):
        events.setdefault(e.shipment_number, []).append(
            EventView(
                kind=CarrierEventKind(e.kind),
                at=e.at,
                location=e.location,
                note=e.note,
                proof_document_id=e.proof_document_id,
            )
        )
    filed = session.execute(
        select(OrderShipment, Waybill.receipt_number, Waybill.pdf_document_id)
        .outerjoin(Waybill, Waybill.waybill_number == OrderShipment.waybill_number)
        .where(OrderShipment.order_id == order_id)
        .order_by(OrderShipment.number)
    )
    return [
        ShipmentDetail(
            shipment=shipment.number,
            status=OrderStatus(shipment.status),
            quantities={line: Decimal(q) for line, q in shipment.quantities.items()},
            un_numbers=shipment.un_numbers,
            waybill_number=shipment.waybill_number,
            receipt_number=receipt,
            consignment_document_id=shipment.consignment_document_id,
            waybill_pdf_document_id=pdf,
            events=events.get(shipment.number, []),
            cold_chain=cold.get(shipment.number),
        )
        for shipment, receipt, pdf in filed
    ]
