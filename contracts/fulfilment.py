"""Order fulfilment: the order an executed contract becomes, its shipment, carrier events,
acceptance, invoice and payment, and the e-waybill's filing with the regulator."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import Field

from contracts.common import Actor, DocumentRef, Frozen, Money
from contracts.sourcing import ContractTerms


def order_workflow_id(order_id: str) -> str:
    return f"Order:{order_id}"


def order_id_for(contract_id: str) -> str:
    """One order per executed contract."""
    return f"ord-{contract_id}"


class OrderStatus(StrEnum):
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    CONFIRMED = "confirmed"  # stock reserved; shipment being prepared
    AWAITING_WAYBILL = "awaiting_waybill"  # dangerous goods: the waybill must be (re)submitted
    AWAITING_SAFETY_APPROVAL = "awaiting_safety_approval"  # waybill warnings need logistics
    FILING = "filing"  # the waybill is being filed with the regulator
    READY_TO_DISPATCH = "ready_to_dispatch"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"  # awaiting the buyer's acceptance
    DISPUTED = "disputed"
    INVOICED = "invoiced"  # accepted, awaiting payment
    COMPLETED = "completed"  # paid in full
    CANCELLED = "cancelled"
    REFUSED = "refused"  # the supplier did not confirm


class CarrierEventKind(StrEnum):
    PICKED_UP = "picked_up"
    DEPARTED = "departed"
    ARRIVED = "arrived"
    DELIVERED = "delivered"


# Events in the order a shipment passes them; each may come once.
CARRIER_EVENT_ORDER = (
    CarrierEventKind.PICKED_UP,
    CarrierEventKind.DEPARTED,
    CarrierEventKind.ARRIVED,
    CarrierEventKind.DELIVERED,
)


class OrderInput(Frozen):
    order_id: str
    contract: ContractTerms
    confirm_within: timedelta = timedelta(hours=48)
    auto_accept_after: timedelta = timedelta(days=7)


class CarrierEventInput(Frozen):
    kind: CarrierEventKind
    at: datetime
    location: str = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=2000)
    proof_of_delivery: DocumentRef | None = None
    actor: Actor


class CarrierEventReceipt(Frozen):
    kind: CarrierEventKind
    status: OrderStatus


class CancelOrderInput(Frozen):
    reason: str = Field(min_length=1, max_length=2000)
    actor: Actor


class PaymentInput(Frozen):
    amount: Money
    reference: str = Field(min_length=1, max_length=100)
    paid_on: date
    actor: Actor


class PaymentReceipt(Frozen):
    paid: Money
    outstanding: Money
    status: OrderStatus


class OrderView(Frozen):
    order_id: str
    contract_id: str
    status: OrderStatus
    dangerous_goods: bool
    waybill_number: str | None
    receipt_number: str | None
    events: tuple[CarrierEventKind, ...]
    paid: Money
    open_task_ids: tuple[str, ...]


class OrderOutcome(Frozen):
    order_id: str
    status: OrderStatus
    reason: str = ""


# -- activity messages -------------------------------------------------------------------


class OrderStatusInput(Frozen):
    order_id: str
    status: OrderStatus
    at: datetime
    reason: str = ""


class StockInput(Frozen):
    order_id: str
    contract: ContractTerms


class RecordEventInput(Frozen):
    order_id: str
    event: CarrierEventInput


class IssueInvoiceInput(Frozen):
    order_id: str
    contract: ContractTerms
    accepted_at: datetime
    due_on: date


class RecordPaymentInput(Frozen):
    order_id: str
    payment_id: str
    payment: PaymentInput


# -- the e-waybill -----------------------------------------------------------------------


def waybill_number_for(order_id: str) -> str:
    """One e-waybill per order's shipment; the regulator's idempotency key."""
    return f"EW-{order_id.removeprefix('ord-')}"


class CheckWaybillInput(Frozen):
    """Check the draft stored as ``document_id`` for the order's waybill number."""

    order_id: str
    waybill_number: str
    document_id: str


class WaybillVerdict(Frozen):
    """The draft's rule check: blocking violations send it back, warnings need approval."""

    document_id: str
    blocking: tuple[str, ...]
    warnings: tuple[str, ...]
    unreadable: str = ""  # the stored draft is not a valid e-waybill


class FileWaybillInput(Frozen):
    order_id: str
    waybill_number: str
    document_id: str


class FilingResult(Frozen):
    """Filed: the regulator's receipt. Refused (4xx): its reasons, for the fix task."""

    accepted: bool
    receipt_number: str = ""
    accepted_at: datetime | None = None
    reasons: tuple[str, ...] = ()


class SealWaybillInput(Frozen):
    """Store the filed record immutably: its JSON and PDF by SHA-256, chained in the audit log."""

    order_id: str
    waybill_number: str
    document_id: str
    receipt_number: str
    filed_at: datetime


class FileStatusInput(Frozen):
    waybill_number: str
    status: str  # departed | delivered | voided
    at: datetime
    note: str = ""
