"""What the order benchmark's runs are made of: the two parties' executed contracts (every
third for dangerous goods), the carrier of the dangerous goods with its fleet, the five people
who drive an order, and the check that a run did the work it timed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import Actor, Role
from contracts.fulfilment import OrderStatus
from contracts.sourcing import ContractTerms, RfqLine
from db.models import Invoice, Order, OrderShipment, Waybill
from tests.harness import carriers as c
from tests.harness import orders as o
from tests.harness import sourcing as s

# Every third order carries dangerous goods (acetone); the others a reagent kit, shipped ambient
# so the figures stay comparable with runs from before cold chain (bench.cold_chain measures it).
DANGEROUS_EVERY = 3
# The supplier confirms without a plan: every order ships whole, as shipment 1, so the figures
# stay comparable with runs from before orders could be split.
SHIPMENT = 1


def is_dangerous(number: int) -> bool:
    return number % DANGEROUS_EVERY == 0


def order_lines(number: int) -> tuple[RfqLine, ...]:
    acetone, kit = s.lines()
    return (acetone,) if is_dangerous(number) else (kit.model_copy(update={"temperature": None}),)


def executed_contracts(
    sessions: sessionmaker[Session], who: o.Parties, count: int
) -> list[ContractTerms]:
    """Executed contracts between the same two parties; every third for dangerous goods."""
    now = datetime.now(UTC)
    return [
        o.executed_contract(sessions, who, now=now, lines=order_lines(number))
        for number in range(count)
    ]


@dataclass(frozen=True)
class Carrier:
    """The carrier of the dangerous goods: its dispatcher and the fleet the waybills name."""

    dispatcher: Actor
    vehicle_id: str
    driver_id: str
    escort_id: str

    @property
    def org_id(self) -> str:
        return self.dispatcher.org_id


def accredited_carrier(sessions: sessionmaker[Session]) -> Carrier:
    """An accredited carrier licensed for class 3 with one vehicle, driver and escort."""
    org = c.accredited_carrier(sessions, classes=("3",))
    return Carrier(
        dispatcher=s.member(sessions, org, Role.LOGISTICS).actor,
        vehicle_id=c.add_vehicle(sessions, org.id, classes=("3",)).id,
        driver_id=c.add_crew(sessions, org.id, role="driver").id,
        escort_id=c.add_crew(sessions, org.id, role="escort", name="李押运").id,
    )


@dataclass(frozen=True)
class People:
    """The five people who drive an order: the supplier's two, the buyer's two, and the
    carrier's dispatcher with its fleet."""

    supplier: Actor
    logistics: Actor
    buyer: Actor
    finance: Actor
    carrier: Carrier
    consignor_credit_code: str

    @classmethod
    def of(cls, who: o.Parties, carrier: Carrier) -> People:
        return cls(
            supplier=who.supplier.actor,
            logistics=who.logistics.actor,
            buyer=who.buyer.actor,
            finance=who.finance.actor,
            carrier=carrier,
            consignor_credit_code=who.supplier.org.credit_code,
        )


def check_completed(
    sessions: sessionmaker[Session], order_ids: Sequence[str], dangerous_ids: Sequence[str]
) -> None:
    """The run did the work it timed: every order completed and invoiced in one delivered
    shipment, every e-waybill filed."""
    with sessions() as session:
        completed = session.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.id.in_(order_ids))
            .where(Order.status == OrderStatus.COMPLETED.value)
        )
        shipments = session.execute(
            select(OrderShipment.number, OrderShipment.status).where(
                OrderShipment.order_id.in_(order_ids)
            )
        ).all()
        invoices = session.scalar(
            select(func.count()).select_from(Invoice).where(Invoice.order_id.in_(order_ids))
        )
        filed = session.scalar(
            select(func.count())
            .select_from(Waybill)
            .where(Waybill.order_id.in_(dangerous_ids))
            .where(Waybill.receipt_number.is_not(None))
        )
    delivered = sum(
        1 for number, status in shipments if (number, status) == (SHIPMENT, OrderStatus.DELIVERED)
    )
    found = (completed, invoices, len(shipments), delivered, filed)
    expected = (len(order_ids), len(order_ids), len(order_ids), len(order_ids), len(dangerous_ids))
    if found != expected:
        raise RuntimeError(
            f"completed, invoiced, shipments, delivered as shipment {SHIPMENT}, filed: {found},"
            f" expected {expected}"
        )
