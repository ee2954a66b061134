"""Cold orders for the API's tests: an order with a chilled shipment and its trip, written
straight to PostgreSQL as the order's and the trip's workflows leave them, so the cold-chain
routes are tested without those workflows running."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from contracts.cold_chain import ColdLine, OpenTripInput, ZoneProfile, trip_id_for
from contracts.common import OrgKind, Role
from contracts.fulfilment import OrderStatus, order_id_for, order_workflow_id
from db.cold_chain import ColdTrip, TripStatus
from db.models import Order
from db.session import transaction
from settings import Settings
from tests.harness import carriers as c
from tests.harness import orders as o
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller
from tests.harness.builders import make_org

CHILLED = ZoneProfile(
    zone="chilled", label="chilled 2-8 °C", min_celsius=Decimal(2), max_celsius=Decimal(8)
)
FROZEN = ZoneProfile(
    zone="frozen",
    label="frozen ≤ -18 °C",
    min_celsius=None,
    max_celsius=Decimal(-18),
    critical_max_celsius=Decimal(-15),
)


@dataclass(frozen=True)
class ColdOrder:
    """An order with a cold first shipment: its parties and, when it has one, its carrier with
    a CARRIER user (``manager``) and a LOGISTICS user (``dispatcher``)."""

    order_id: str
    who: o.Parties
    carrier_org_id: str | None
    dispatcher: s.Member | None
    manager: s.Member | None

    @property
    def buyer_org_id(self) -> str:
        return self.who.buyer.org.id

    @property
    def supplier_org_id(self) -> str:
        return self.who.supplier.org.id

    @property
    def trip_id(self) -> str:
        return trip_id_for(self.order_id, 1)


def cold_order(
    sessions: sessionmaker[Session],
    *,
    carrier: bool = True,
    status: OrderStatus = OrderStatus.READY_TO_DISPATCH,
) -> ColdOrder:
    """New buyer and supplier (and carrier, unless not wanted), an executed contract for the
    chilled line, and its order row as the order's workflow records it."""
    buyer, supplier = s.buyer_org(sessions), make_org(sessions, kind=OrgKind.SUPPLIER)
    who = o.Parties(
        buyer=s.member(sessions, buyer, Role.BUYER),
        finance=s.member(sessions, buyer, Role.FINANCE),
        supplier=s.member(sessions, supplier, Role.SUPPLIER),
        logistics=s.member(sessions, supplier, Role.LOGISTICS),
    )
    terms = o.executed_contract(sessions, who, now=datetime.now(UTC), lines=(s.lines()[1],))
    carrier_org = c.accredited_carrier(sessions) if carrier else None
    order_id = order_id_for(terms.contract_id)
    with transaction(sessions) as session:
        session.add(
            Order(
                id=order_id,
                contract_id=terms.contract_id,
                workflow_id=order_workflow_id(order_id),
                buyer_org_id=buyer.id,
                supplier_org_id=supplier.id,
                status=status.value,
                dangerous_goods=False,
                total_amount=Decimal("9000.00"),
                currency="CNY",
                carrier_org_id=carrier_org.id if carrier_org else None,
            )
        )
    return ColdOrder(
        order_id=order_id,
        who=who,
        carrier_org_id=carrier_org.id if carrier_org else None,
        dispatcher=s.member(sessions, carrier_org, Role.LOGISTICS) if carrier_org else None,
        manager=s.member(sessions, carrier_org, Role.CARRIER) if carrier_org else None,
    )


def cold_line(zone: str = CHILLED.zone, quantity: Decimal = Decimal(100)) -> ColdLine:
    return ColdLine(
        line_id="L1",
        description="冷藏试剂 Chilled reagent kit",
        quantity=quantity,
        unit="kit",
        unit_price=Decimal("14.125"),
        zone=zone,
    )


def open_input(
    order: ColdOrder, *, zones: tuple[ZoneProfile, ...] = (CHILLED,), shipment: int = 1
) -> OpenTripInput:
    """The trip of the order's shipment as its workflow opens it when the shipment is planned."""
    return OpenTripInput(
        trip_id=trip_id_for(order.order_id, shipment),
        order_id=order.order_id,
        shipment=shipment,
        zones=zones,
        lines=(cold_line(zones[0].zone),),
    )


def open_trip(sessions: sessionmaker[Session], order: ColdOrder, **options: Any) -> str:
    """The trip's row, planned, as ``open_cold_trip`` records it (``open_input``'s options)."""
    opening = open_input(order, **options)
    plan = {
        "zones": [z.model_dump(mode="json") for z in opening.zones],
        "lines": [line.model_dump(mode="json") for line in opening.lines],
    }
    with transaction(sessions) as session:
        session.add(
            ColdTrip(
                id=opening.trip_id,
                order_id=order.order_id,
                shipment=opening.shipment,
                status=TripStatus.PLANNED,
                plan=plan,
                carrier_org_id=order.carrier_org_id,
                route="",
            )
        )
    return opening.trip_id


def set_trip(sessions: sessionmaker[Session], trip_id: str, **values: Any) -> None:
    """Move the trip on as its workflow would (status, started_at, arrived_at, the decision)."""
    with transaction(sessions) as session:
        session.execute(update(ColdTrip).where(ColdTrip.id == trip_id).values(**values))


Caller = Callable[[s.Member | None], TokenCaller]


@pytest.fixture(scope="module")
def caller(api_url: str, settings: Settings) -> Caller:
    """Calls the API as a member (one an order may lack, such as its carrier's)."""

    def make(member: s.Member | None) -> TokenCaller:
        assert member is not None
        return TokenCaller(api_url, settings.jwt_secret, member)

    return make
