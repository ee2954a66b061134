"""An order's state, and the records that keep its rows in step with it: the one base of the
order workflow's parts (``workflows.order`` and its ``order_*`` modules), so each part reads and
writes the same state through the same methods."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.common import Role
    from contracts.fulfilment import (
        SHIPMENT_PROGRESS,
        CancelOrderInput,
        CarrierEventInput,
        CarrierEventKind,
        ColdChainResult,
        OrderInput,
        OrderStatus,
        OrderStatusInput,
        Shipment,
        ShipmentStatusInput,
        ShipmentView,
    )
    from contracts.tasks import NotifyInput
    from workflows import policies
    from workflows.human_tasks import HumanTaskWorkflow, process_key


def refused(message: str, kind: str) -> ApplicationError:
    """An update's refusal: the caller's to fix, never retried."""
    return ApplicationError(message, type=kind, non_retryable=True)


@dataclass
class Shipping:
    """A shipment as it goes: its status, carrier events and filing."""

    plan: Shipment
    status: OrderStatus = OrderStatus.CONFIRMED
    events: dict[CarrierEventKind, CarrierEventInput] = field(default_factory=dict)
    receipt: str | None = None  # the regulator's, once it accepted the e-waybill
    cold_chain: ColdChainResult | None = None  # the trip's disposition, for cold shipments

    def view(self) -> ShipmentView:
        return ShipmentView(
            shipment=self.plan,
            status=self.status,
            receipt_number=self.receipt,
            events=tuple(self.events),
            cold_chain=self.cold_chain,
        )


class OrderState(HumanTaskWorkflow):
    """The order's state and its records."""

    def __init__(self, order: OrderInput) -> None:
        super().__init__()
        self._order = order
        self._contract = order.contract
        self._status = OrderStatus.AWAITING_CONFIRMATION
        self._dangerous = any(line.un_number for line in order.contract.lines)
        self._shipping: dict[int, Shipping] = {}
        self._paid = Decimal(0)
        self._payments = 0
        self._cancellation: CancelOrderInput | None = None
        self._stock_reserved = False
        self._carrier_org_id: str | None = None
        self._carriers_make_waybills = False
        self._cold_chain = False  # cold shipments have a trip workflow (workflows.cold_chain)
        self._credited = Decimal(0)  # credit notes of cold-chain claims, off the invoice
        # Shipments move concurrently; their status writes take turns, so the order's status
        # row always ends as the least advanced shipment's.
        self._status_lock = asyncio.Lock()

    def _due(self) -> Decimal:
        """What the buyer owes: the invoice less the credit notes of cold-chain claims."""
        return self._contract.total.amount - self._credited

    async def _set_shipment_status(self, shipping: Shipping, status: OrderStatus) -> None:
        """The shipment's status, and the order's (its least advanced shipment's), in one write."""
        async with self._status_lock:
            shipping.status = status
            least = min((s.status for s in self._shipping.values()), key=SHIPMENT_PROGRESS.index)
            moved = least if least != self._status else None
            self._status = least
            await self._record_shipment_status(shipping, order_status=moved)

    async def _record_shipment_status(
        self, shipping: Shipping, *, order_status: OrderStatus | None = None
    ) -> None:
        await policies.run(
            "set_shipment_status",
            ShipmentStatusInput(
                order_id=self._order.order_id,
                shipment=shipping.plan.number,
                status=shipping.status,
                order_status=order_status,
            ),
        )

    async def _set_status(self, status: OrderStatus, *, reason: str = "") -> None:
        self._status = status
        await policies.run(
            "set_order_status",
            OrderStatusInput(order_id=self._order.order_id, status=status, reason=reason),
        )

    async def _notify(
        self, org_id: str, role: Role | None, kind: str, message: str, *, key: str | None = None
    ) -> None:
        await self.notify(
            NotifyInput(
                notification_id=process_key(f"{key or kind}:{org_id}"),
                org_id=org_id,
                role=role,
                kind=kind,
                subject_type="order",
                subject_id=self._order.order_id,
                message=f"Order {self._order.order_id}: {message}",
            )
        )
