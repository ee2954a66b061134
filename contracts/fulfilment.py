"""Order fulfilment: the order an executed contract becomes, its shipments, carrier events,
acceptance, invoice and payment, and each e-waybill's filing with the regulator."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from contracts.common import Actor, DocumentRef, Frozen, Line, Money, Text
from contracts.sourcing import ContractTerms


def order_workflow_id(order_id: str) -> str:
    return f"Order:{order_id}"


def order_id_for(contract_id: str) -> str:
    """One order per executed contract."""
    return f"ord-{contract_id}"


class OrderStatus(StrEnum):
    """An order's status, and (from ``CONFIRMED`` to ``DELIVERED``, or ``CANCELLED``) each
    shipment's. While it ships, the order shows its least advanced shipment's status."""

    AWAITING_CONFIRMATION = "awaiting_confirmation"
    CONFIRMED = "confirmed"  # stock reserved; shipments being prepared
    # Dangerous goods: the consignor declares the consignment list, the carrier makes the
    # waybill from it (or, on orders from before carriers made them, the supplier submits it).
    AWAITING_CONSIGNMENT = "awaiting_consignment"
    AWAITING_WAYBILL = "awaiting_waybill"
    AWAITING_SAFETY_APPROVAL = "awaiting_safety_approval"  # waybill warnings need logistics
    AWAITING_LOADING_CHECK = "awaiting_loading_check"  # the loader's five checks (五必查)
    FILING = "filing"  # the waybill is being filed with the regulator
    READY_TO_DISPATCH = "ready_to_dispatch"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"  # awaiting the buyer's acceptance
    DISPUTED = "disputed"
    INVOICED = "invoiced"  # accepted, awaiting payment
    COMPLETED = "completed"  # paid in full
    CANCELLED = "cancelled"
    REFUSED = "refused"  # the supplier did not confirm


# A shipment's statuses from the first to the last; the order shows the least advanced.
SHIPMENT_PROGRESS = (
    OrderStatus.CONFIRMED,
    OrderStatus.AWAITING_CONSIGNMENT,
    OrderStatus.AWAITING_WAYBILL,
    OrderStatus.AWAITING_SAFETY_APPROVAL,
    OrderStatus.AWAITING_LOADING_CHECK,
    OrderStatus.FILING,
    OrderStatus.READY_TO_DISPATCH,
    OrderStatus.IN_TRANSIT,
    OrderStatus.DELIVERED,
)
MAX_SHIPMENTS = 20
MAX_VEHICLE_ZONES = 4  # a multi-temperature reefer has up to four compartments


class ShipmentLine(Frozen):
    """How much of a contract line travels in a shipment (in the line's unit)."""

    line_id: Text
    quantity: Decimal


class Shipment(Frozen):
    """One consignment on one vehicle; it needs its own e-waybill when it carries dangerous
    goods (``un_numbers`` lists them)."""

    number: int
    lines: tuple[ShipmentLine, ...]
    un_numbers: tuple[Text, ...]
    waybill_number: Text | None
    # Temperature zones of its vehicle: lines in different zones need as many (rules.shipments).
    zones: int = Field(default=1, ge=1, le=MAX_VEHICLE_ZONES)


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
    order_id: Text
    contract: ContractTerms
    confirm_within: timedelta = timedelta(hours=48)
    auto_accept_after: timedelta = timedelta(days=7)


class CarrierEventInput(Frozen):
    shipment: int = Field(ge=1, le=MAX_SHIPMENTS)
    kind: CarrierEventKind
    at: datetime
    location: Line = Field(min_length=1, max_length=200)
    note: Text = Field(default="", max_length=2000)
    proof_of_delivery: DocumentRef | None = None
    actor: Actor


class CarrierEventReceipt(Frozen):
    shipment: int
    kind: CarrierEventKind
    shipment_status: OrderStatus
    status: OrderStatus


class CancelOrderInput(Frozen):
    reason: Text = Field(min_length=1, max_length=2000)
    actor: Actor


class PaymentInput(Frozen):
    amount: Money
    reference: Line = Field(min_length=1, max_length=100)
    paid_on: date
    actor: Actor


class PaymentReceipt(Frozen):
    paid: Money
    outstanding: Money
    status: OrderStatus


class ColdChainResult(Frozen):
    """A cold shipment's trip as decided on arrival (``contracts.cold_chain.ColdChainOutcome``)."""

    trip_id: Text
    disposition: Text
    lost: tuple[ShipmentLine, ...]
    claim: Money | None
    liable_org_id: Text | None
    credit_note_id: Text | None
    report_document_id: Text


class ShipmentView(Frozen):
    shipment: Shipment
    status: OrderStatus
    receipt_number: Text | None
    events: tuple[CarrierEventKind, ...]
    cold_chain: ColdChainResult | None = None  # a cold shipment's disposition, once decided


class OrderView(Frozen):
    order_id: Text
    contract_id: Text
    status: OrderStatus
    dangerous_goods: bool
    shipments: tuple[ShipmentView, ...]  # empty until the supplier confirms with its plan
    paid: Money
    open_task_ids: tuple[Text, ...]
    credited: Money | None = None  # credit notes off the invoice (cold-chain claims)


class OrderOutcome(Frozen):
    order_id: Text
    status: OrderStatus
    reason: Text = ""


# -- activity messages -------------------------------------------------------------------


class OrderStatusInput(Frozen):
    order_id: Text
    status: OrderStatus
    reason: Text = ""


class RecordShipmentsInput(Frozen):
    order_id: Text
    shipments: tuple[Shipment, ...]


class ShipmentStatusInput(Frozen):
    """A shipment's new status, and the order's when the shipment moves it (in one write)."""

    order_id: Text
    shipment: int
    status: OrderStatus
    order_status: OrderStatus | None = None


class StockInput(Frozen):
    order_id: Text
    contract: ContractTerms


class RecordEventInput(Frozen):
    """The event's shipment is in ``event.shipment``."""

    order_id: Text
    event: CarrierEventInput


class IssueInvoiceInput(Frozen):
    order_id: Text
    contract: ContractTerms
    accepted_at: datetime
    due_on: date


class RecordPaymentInput(Frozen):
    order_id: Text
    payment_id: Text
    payment: PaymentInput


# -- the e-waybill -----------------------------------------------------------------------


def shipment_id_for(order_id: str, shipment: int) -> str:
    """The shipment's id, as its e-waybill states it."""
    return f"{order_id}-S{shipment}"


def waybill_number_for(order_id: str, shipment: int) -> str:
    """One e-waybill per shipment with dangerous goods; the regulator's idempotency key."""
    return f"EW-{order_id.removeprefix('ord-')}-{shipment}"


class CheckWaybillInput(Frozen):
    """Check the draft stored as ``document_id`` for the shipment's ids; its items must be the
    shipment's dangerous goods (``un_numbers``)."""

    order_id: Text
    shipment_id: Text
    waybill_number: Text
    document_id: Text
    un_numbers: tuple[Text, ...]
    # When the carrier made the draft: the consignor must be this supplier and the carrier this
    # carrier, and what the consignor declared is told apart from what the carrier chose.
    supplier_org_id: Text | None = None
    carrier_org_id: Text | None = None


class WaybillVerdict(Frozen):
    """The draft's rule check: blocking violations send it back, warnings need approval.

    ``consignment`` holds the blocking problems in what the consignor declared (parties, goods,
    places, emergency contact), for a draft the carrier made: they go back to the consignor.
    """

    document_id: Text
    blocking: tuple[Text, ...]
    warnings: tuple[Text, ...]
    unreadable: Text = ""  # the stored draft is not a valid e-waybill
    consignment: tuple[Text, ...] = ()
    rulebook: Text = ""
    small_load: Text = ""  # ADR 1.1.3.6 as assessed, for information; empty under 49 CFR


class FileWaybillInput(Frozen):
    order_id: Text
    waybill_number: Text
    document_id: Text


class FilingResult(Frozen):
    """Filed: the regulator's receipt. Refused (4xx): its reasons, for the fix task."""

    accepted: bool
    receipt_number: Text = ""
    accepted_at: datetime | None = None
    reasons: tuple[Text, ...] = ()


class SealWaybillInput(Frozen):
    """Store the filed record immutably: its JSON and PDF by SHA-256, chained in the audit log."""

    order_id: Text
    waybill_number: Text
    document_id: Text
    receipt_number: Text
    filed_at: datetime
    made_by_org_id: Text | None = None  # the carrier that made it; None before carriers did


class FileStatusInput(Frozen):
    waybill_number: Text
    status: Text  # departed | delivered | voided
    at: datetime
    note: Text = ""
