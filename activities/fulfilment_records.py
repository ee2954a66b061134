"""Order rows in PostgreSQL: the order, its shipments, stock reservations, carrier events and
payments."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.common import SYSTEM_ACTOR, money_text
from contracts.fulfilment import (
    OrderInput,
    OrderStatus,
    OrderStatusInput,
    RecordEventInput,
    RecordPaymentInput,
    RecordShipmentsInput,
    ShipmentStatusInput,
    StockInput,
)
from db.audit_log import audit_once
from db.models import CarrierEvent, Contract, Order, OrderShipment, Payment, StockReservation
from db.notification_rules import record_event
from db.session import transaction

_FINAL = {OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.REFUSED}


class FulfilmentRecords:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @activity.defn(name="record_order")
    def record_order(self, order: OrderInput) -> None:
        """Insert the order and point the contract at it; a retry finds it there."""
        contract = order.contract
        dangerous = any(line.un_number for line in contract.lines)
        with transaction(self._sessions) as session:
            inserted = session.execute(
                insert(Order)
                .values(
                    id=order.order_id,
                    contract_id=contract.contract_id,
                    workflow_id=activity.info().workflow_id,
                    buyer_org_id=contract.buyer.org_id,
                    supplier_org_id=contract.supplier.org_id,
                    status=OrderStatus.AWAITING_CONFIRMATION.value,
                    status_reason="",
                    dangerous_goods=dangerous,
                    total_amount=contract.total.amount,
                    currency=contract.total.currency,
                    paid_amount=0,
                )
                .on_conflict_do_nothing(index_elements=[Order.id])
                .returning(Order.id)
            ).first()
            if inserted is None:
                return
            session.execute(
                update(Contract)
                .where(Contract.id == contract.contract_id)
                .values(fulfilment_status=OrderStatus.AWAITING_CONFIRMATION.value)
            )
            audit_once(session, SYSTEM_ACTOR, "order.created", order.order_id, {})

    @activity.defn(name="set_order_status")
    def set_order_status(self, change: OrderStatusInput) -> None:
        with transaction(self._sessions) as session:
            _move_order(session, change.order_id, change.status, change.reason)

    @activity.defn(name="record_shipments")
    def record_shipments(self, plan: RecordShipmentsInput) -> None:
        """The supplier's shipment plan, once; a retry finds its rows there."""
        with transaction(self._sessions) as session:
            for shipment in plan.shipments:
                session.execute(
                    insert(OrderShipment)
                    .values(
                        order_id=plan.order_id,
                        number=shipment.number,
                        status=OrderStatus.CONFIRMED.value,
                        quantities={x.line_id: str(x.quantity) for x in shipment.lines},
                        un_numbers=list(shipment.un_numbers),
                        waybill_number=shipment.waybill_number,
                    )
                    .on_conflict_do_nothing()
                )
            audit_once(
                session,
                SYSTEM_ACTOR,
                "order.shipments_planned",
                plan.order_id,
                {"shipments": len(plan.shipments)},
            )

    @activity.defn(name="set_shipment_status")
    def set_shipment_status(self, change: ShipmentStatusInput) -> None:
        with transaction(self._sessions) as session:
            session.execute(
                update(OrderShipment)
                .where(OrderShipment.order_id == change.order_id)
                .where(OrderShipment.number == change.shipment)
                .values(status=change.status.value)
            )
            if change.order_status is not None:
                _move_order(session, change.order_id, change.order_status, "")

    @activity.defn(name="reserve_stock")
    def reserve_stock(self, request: StockInput) -> None:
        """Reserve each line's quantity once; a retry or a replayed step changes nothing."""
        with transaction(self._sessions) as session:
            for line in request.contract.lines:
                session.execute(
                    insert(StockReservation)
                    .values(
                        order_id=request.order_id,
                        line_id=line.line_id,
                        supplier_org_id=request.contract.supplier.org_id,
                        quantity=line.quantity,
                        unit=line.unit,
                        status="reserved",
                    )
                    .on_conflict_do_nothing()
                )
            audit_once(session, SYSTEM_ACTOR, "stock.reserved", request.order_id, {})

    @activity.defn(name="release_stock")
    def release_stock(self, request: StockInput) -> None:
        """The compensation of ``reserve_stock``."""
        with transaction(self._sessions) as session:
            released = session.execute(
                update(StockReservation)
                .where(StockReservation.order_id == request.order_id)
                .where(StockReservation.status == "reserved")
                .values(
                    status="released", released_at=activity.info().current_attempt_scheduled_time
                )
                .returning(StockReservation.line_id)
            ).all()
            if released:
                audit_once(session, SYSTEM_ACTOR, "stock.released", request.order_id, {})

    @activity.defn(name="record_carrier_event")
    def record_carrier_event(self, record: RecordEventInput) -> None:
        event = record.event
        with transaction(self._sessions) as session:
            inserted = session.execute(
                insert(CarrierEvent)
                .values(
                    order_id=record.order_id,
                    shipment_number=event.shipment,
                    kind=event.kind.value,
                    at=event.at,
                    location=event.location,
                    note=event.note,
                    proof_document_id=event.proof_of_delivery.document_id
                    if event.proof_of_delivery
                    else None,
                    reported_by=event.actor.user_id,
                )
                .on_conflict_do_nothing()
                .returning(CarrierEvent.id)
            ).first()
            if inserted is not None:
                audit_once(
                    session,
                    event.actor,
                    f"shipment.{event.kind.value}",
                    f"{record.order_id}/{event.shipment}",
                    {"location": event.location},
                )

    @activity.defn(name="record_payment")
    def record_payment(self, record: RecordPaymentInput) -> None:
        payment = record.payment
        with transaction(self._sessions) as session:
            inserted = session.execute(
                insert(Payment)
                .values(
                    id=record.payment_id,
                    order_id=record.order_id,
                    amount=payment.amount.amount,
                    currency=payment.amount.currency,
                    reference=payment.reference,
                    paid_on=payment.paid_on,
                    recorded_by=payment.actor.user_id,
                )
                .on_conflict_do_nothing(index_elements=[Payment.id])
                .returning(Payment.id)
            ).first()
            if inserted is None:
                return
            session.execute(
                update(Order)
                .where(Order.id == record.order_id)
                .values(paid_amount=Order.paid_amount + payment.amount.amount)
            )
            audit_once(
                session,
                payment.actor,
                "payment.recorded",
                record.payment_id,
                {
                    "amount": str(payment.amount.amount),
                    "currency": payment.amount.currency,
                    "reference": payment.reference,
                },
            )


def _move_order(session: Session, order_id: str, status: OrderStatus, reason: str) -> None:
    """The order's status (and its contract's mirror of it), audited once; a final status
    stays."""
    row = session.get(Order, order_id, with_for_update=True)
    if row is None:
        raise ApplicationError(f"no order {order_id}", type="InvalidRecord")
    if OrderStatus(row.status) in _FINAL or row.status == status.value:
        return
    row.status = status.value
    row.status_reason = reason
    audit_once(session, SYSTEM_ACTOR, f"order.{status.value}", order_id, {"reason": reason})
    if status is OrderStatus.CONFIRMED:
        # No notification marks it, yet organisations' rules act on it (db.notification_rules).
        record_event(
            session,
            source=f"order:{order_id}:confirmed",
            event_type="order_confirmed",
            subject_type="order",
            subject_id=order_id,
            org_ids=[o for o in (row.buyer_org_id, row.supplier_org_id, row.carrier_org_id) if o],
            message=f"Order {order_id} confirmed: {money_text(row.total_amount, row.currency)}",
        )
    session.execute(
        update(Contract)
        .where(Contract.id == row.contract_id)
        .values(fulfilment_status=status.value)
    )
