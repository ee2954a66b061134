"""An order's shipments on the road: the carrier's events (picked up, departed, arrived,
delivered with its proof), each in its turn and only once the shipment may move; departure and
delivery are filed with the regulator for a shipment with an e-waybill. On an order with a
carrier only the carrier's users report; on one without (or from before carriers were parties)
the supplier's logistics. Part of ``workflows.order``."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.common import Role
    from contracts.fulfilment import (
        CARRIER_EVENT_ORDER,
        CarrierEventInput,
        CarrierEventKind,
        CarrierEventReceipt,
        FileStatusInput,
        OrderStatus,
        RecordEventInput,
    )
    from workflows import policies
    from workflows.order_state import OrderState, Shipping, refused


class Transport(OrderState):
    """The carrier-event update of the order workflow."""

    @workflow.update
    async def record_carrier_event(self, event: CarrierEventInput) -> CarrierEventReceipt:
        if self._cancellation is not None:  # accepted in the same activation, after validation
            raise refused("the order was cancelled", "NotReady")
        shipping = self._shipping[event.shipment]
        shipping.events[event.kind] = event
        await policies.run(
            "record_carrier_event", RecordEventInput(order_id=self._order.order_id, event=event)
        )
        if event.kind == CarrierEventKind.PICKED_UP:
            await self._set_shipment_status(shipping, OrderStatus.IN_TRANSIT)
        if event.kind in (CarrierEventKind.DEPARTED, CarrierEventKind.DELIVERED):
            await self._file_status(shipping, event.kind.value, event.at, event.note)
        if event.kind == CarrierEventKind.DELIVERED:
            await self._set_shipment_status(shipping, OrderStatus.DELIVERED)
        return CarrierEventReceipt(
            shipment=event.shipment,
            kind=event.kind,
            shipment_status=shipping.status,
            status=self._status,
        )

    @record_carrier_event.validator
    def validate_record_carrier_event(self, event: CarrierEventInput) -> None:
        if self._carrier_org_id is not None:
            reporter, roles, who = self._carrier_org_id, (Role.LOGISTICS, Role.CARRIER), "carrier's"
        else:
            reporter, roles, who = (
                self._contract.supplier.org_id,
                (Role.LOGISTICS, Role.SUPPLIER),
                ("supplier's"),
            )
        if event.actor.org_id != reporter or not event.actor.has_any(*roles):
            raise refused(f"only the {who} logistics may report carrier events", "WrongRole")
        shipping = self._shipping.get(event.shipment)
        if shipping is None:
            planned = f"1 to {len(self._shipping)}" if self._shipping else "none yet"
            raise refused(f"shipment: the order's shipments are {planned}", "Malformed")
        if event.kind in shipping.events:
            raise refused(f"kind: {event.kind.value} was already reported", "Malformed")
        if self._cancellation is not None or shipping.status not in (
            OrderStatus.READY_TO_DISPATCH,
            OrderStatus.IN_TRANSIT,
        ):
            raise refused(
                f"kind: shipment {event.shipment} is {shipping.status.value}, not ready to move",
                "NotReady",
            )
        position = CARRIER_EVENT_ORDER.index(event.kind)
        missing = [k.value for k in CARRIER_EVENT_ORDER[:position] if k not in shipping.events]
        if missing:
            raise refused(f"kind: {', '.join(missing)} must be reported first", "Malformed")
        if event.kind == CarrierEventKind.DELIVERED and event.proof_of_delivery is None:
            raise refused("proof_of_delivery: a delivery needs its proof", "Malformed")

    def _picked_up(self) -> bool:
        return any(CarrierEventKind.PICKED_UP in s.events for s in self._shipping.values())

    # -- the regulator ---------------------------------------------------------------

    async def _file_status(self, shipping: Shipping, status: str, at: datetime, note: str) -> None:
        number = shipping.plan.waybill_number
        if number is None:
            return
        await policies.run(
            "file_waybill_status",
            FileStatusInput(waybill_number=number, status=status, at=at, note=note),
            policy=policies.EXTERNAL,
        )
