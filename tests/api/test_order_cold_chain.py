"""The order's view of its cold chain over the real API: each cold shipment's trip on the order
(an ambient one has none), the claims' credit notes off what the buyer owes, and the money a
carrier sees only when it is the party liable for the claim. The rows are written as the
workflows leave them (``tests.harness.cold_orders``); the whole story runs in
``tests.e2e.test_cold_chain_api``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from contracts.fulfilment import OrderStatus
from db.cold_chain import CreditNote, TripStatus
from db.models import Order, OrderShipment
from db.session import transaction
from storage.object_store import ObjectStore
from tests.harness import builders as b
from tests.harness import cold_chain as c
from tests.harness import cold_orders as co
from tests.harness.sourcing import Member

Caller = co.Caller
caller = co.caller
CLAIM = Decimal("282.50")


def shipped_in_two(sessions: sessionmaker[Session], order: co.ColdOrder) -> None:
    """The order's plan: shipment 1 cold (its trip), shipment 2 ambient; 1,000.00 paid."""
    with transaction(sessions) as session:
        for number, quantities in ((1, {"L1": "100"}), (2, {"L2": "50"})):
            session.add(
                OrderShipment(
                    order_id=order.order_id,
                    number=number,
                    status=OrderStatus.DELIVERED.value,
                    quantities=quantities,
                    un_numbers=[],
                )
            )
        session.execute(
            update(Order).where(Order.id == order.order_id).values(paid_amount=Decimal(1000))
        )


def claimed(
    sessions: sessionmaker[Session], store: ObjectStore, order: co.ColdOrder, trip_id: str
) -> str:
    """The trip decided with 20 of 100 lost, the supplier liable, and its credit note."""
    note = b.store_document(sessions, store, org_id=order.buyer_org_id, name="贷项通知单.pdf")
    report = b.store_document(sessions, store, org_id=order.buyer_org_id, name="温度记录报告.pdf")
    credit_note_id = f"CN-{uuid.uuid4().hex[:10]}"
    co.set_trip(
        sessions,
        trip_id,
        status=TripStatus.DECIDED,
        disposition="accept_with_claim",
        shipped={"L1": "100"},
        lost={"L1": "20"},
        loss_value=CLAIM,
        currency="CNY",
        liable="supplier",
        liable_org_id=order.supplier_org_id,
        credit_note_id=credit_note_id,
        report_document_id=report.document_id,
    )
    with transaction(sessions) as session:
        session.add(
            CreditNote(
                id=credit_note_id,
                order_id=order.order_id,
                trip_id=trip_id,
                amount=CLAIM,
                currency="CNY",
                reason="20 kits warm",
                liable_org_id=order.supplier_org_id,
                document_id=note.document_id,
                issued_at=datetime.now(UTC),
            )
        )
    return report.document_id


async def test_an_order_shows_its_cold_shipment_and_its_credit_notes_money_to_whom_it_concerns(
    caller: Caller, sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    order = co.cold_order(sessions, status=OrderStatus.INVOICED)
    trip_id = co.open_trip(sessions, order)
    shipped_in_two(sessions, order)
    assert order.carrier_org_id is not None
    c.logger_on_trip(
        sessions,
        org_id=order.carrier_org_id,
        trip_id=trip_id,
        logger_id=f"LG-{uuid.uuid4().hex[:10]}",
        zone="chilled",
    )
    report_id = claimed(sessions, store, order, trip_id)

    async def seen(member: Member | None) -> dict[str, Any]:
        answer = await caller(member).http.get(f"/orders/{order.order_id}")
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    buyer = await seen(order.who.buyer)
    cold, ambient = buyer["shipments"]
    assert ambient["cold_chain"] is None
    assert cold["cold_chain"] == {
        "trip_id": trip_id,
        "status": "decided",
        "zones": ["chilled 2-8 °C"],
        "loggers": 1,
        "disposition": "accept_with_claim",
        "lost": {"L1": "20"},
        "loss_rate": "0.2000",
        "report_document_id": report_id,
        "claim": {"amount": "282.50", "currency": "CNY"},
        "credit_note_id": cold["cold_chain"]["credit_note_id"],
    }
    assert cold["cold_chain"]["credit_note_id"].startswith("CN-")
    assert buyer["credited"] == {"amount": "282.50", "currency": "CNY"}
    # 9,000.00 less the credit note and the 1,000.00 paid.
    assert buyer["outstanding"] == {"amount": "7717.50", "currency": "CNY"}

    # The carrier is not liable: it sees the trip's losses, not the claim nor the order's money.
    carried = await seen(order.dispatcher)
    assert carried["total"] is carried["credited"] is carried["outstanding"] is None
    carrier_view = carried["shipments"][0]["cold_chain"]
    assert (carrier_view["claim"], carrier_view["credit_note_id"]) == (None, None)
    assert (carrier_view["lost"], carrier_view["loss_rate"]) == ({"L1": "20"}, "0.2000")
    assert carrier_view["report_document_id"] == report_id
    # Named liable, it sees its claim and credit note; the order's money stays the parties'.
    co.set_trip(sessions, trip_id, liable="carrier", liable_org_id=order.carrier_org_id)
    liable = await seen(order.manager)
    assert liable["shipments"][0]["cold_chain"]["claim"] == cold["cold_chain"]["claim"]
    assert liable["shipments"][0]["cold_chain"]["credit_note_id"] is not None
    assert liable["credited"] is None

    # The list carries the credit too, for the parties alone.
    for member, credited in (
        (order.who.finance, {"amount": "282.50", "currency": "CNY"}),
        (order.dispatcher, None),
    ):
        answer = await caller(member).http.get("/orders", params={"status": "invoiced"})
        assert answer.status_code == 200, answer.text
        (row,) = [r for r in answer.json() if r["order_id"] == order.order_id]
        assert row["credited"] == credited
    plain = co.cold_order(sessions)
    answer = await caller(plain.who.buyer).http.get(f"/orders/{plain.order_id}")
    assert answer.json()["credited"] == {"amount": "0.00", "currency": "CNY"}
