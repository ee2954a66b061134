"""Cold-chain loggers over the real API: who registers them (the secret shown once, only its
hash kept), who puts them on a trip and when, and the rules of an assignment; audited."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.cold_chain import ColdLogger, TripStatus, loggers_assigned
from db.models import AuditEntry
from tests.harness import cold_orders as co
from tests.harness.api_server import TokenCaller

Caller = co.Caller
caller = co.caller


def logger_id() -> str:
    return f"TT4-{uuid.uuid4().hex[:10]}"


async def register(who: TokenCaller, name: str | None = None) -> httpx.Response:
    return await who.http.post(
        "/cold-chain/loggers", json={"logger_id": name or logger_id(), "model": "Testo 184 T3"}
    )


async def assign(
    who: TokenCaller, order_id: str, name: str, zone: str = "chilled", shipment: int = 1
) -> httpx.Response:
    return await who.http.post(
        f"/orders/{order_id}/shipments/{shipment}/loggers", json={"logger_id": name, "zone": zone}
    )


def field_of(answer: httpx.Response) -> tuple[int, str, str]:
    [error] = answer.json()["errors"]
    return answer.status_code, error["field"], error["rule"]


async def test_fleet_keepers_register_loggers_shown_their_secret_once(
    caller: Caller, sessions: sessionmaker[Session]
) -> None:
    order = co.cold_order(sessions)
    manager, dispatcher = caller(order.manager), caller(order.dispatcher)
    made = await register(manager)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["owner_org_id"] == order.carrier_org_id and len(body["secret"]) >= 40
    with sessions() as session:
        row = session.get(ColdLogger, body["logger_id"])
        assert row is not None
        assert row.secret_sha256 == hashlib.sha256(body["secret"].encode()).hexdigest()
    again = await register(dispatcher, body["logger_id"])
    status, field, rule = field_of(again)
    assert (status, field) == (409, "logger_id") and body["logger_id"] in rule

    own = await register(caller(order.who.logistics))  # a supplier shipping on its own
    assert own.status_code == 201, own.text
    for stranger in (order.who.buyer, order.who.finance):
        refused = await register(caller(stranger))
        assert refused.status_code == 403, refused.text

    listed = await dispatcher.http.get("/cold-chain/loggers")
    assert listed.status_code == 200, listed.text
    assert [x["logger_id"] for x in listed.json()] == [body["logger_id"]]
    assert "secret" not in listed.json()[0]
    assert (await caller(order.who.buyer).http.get("/cold-chain/loggers")).status_code == 403


async def test_the_orders_carrier_puts_its_own_loggers_on_a_planned_trip(
    caller: Caller, sessions: sessionmaker[Session]
) -> None:
    order = co.cold_order(sessions)
    first = co.open_trip(sessions, order)
    second = co.open_trip(sessions, order, shipment=2)
    dispatcher = caller(order.dispatcher)
    mine = (await register(dispatcher)).json()["logger_id"]
    supplier_logger = (await register(caller(order.who.logistics))).json()["logger_id"]
    rival = co.cold_order(sessions)

    # The order's carrier assigns; the supplier does not on a carrier's order; others see nothing.
    refused = await assign(caller(order.who.logistics), order.order_id, mine)
    assert refused.status_code == 403, refused.text
    assert (await assign(caller(rival.dispatcher), order.order_id, mine)).status_code == 404
    assert (await assign(dispatcher, order.order_id, mine, shipment=3)).status_code == 404

    assert field_of(await assign(dispatcher, order.order_id, mine, zone="frozen"))[:2] == (
        422,
        "zone",
    )
    assert field_of(await assign(dispatcher, order.order_id, supplier_logger))[:2] == (
        422,
        "logger_id",
    )
    made = await assign(dispatcher, order.order_id, mine)
    assert made.status_code == 201, made.text
    assert made.json() | {"assigned_at": None} == {
        "trip_id": first,
        "logger_id": mine,
        "zone": "chilled",
        "assigned_by": order.dispatcher.actor.user_id if order.dispatcher else "",
        "assigned_at": None,
    }
    assert (await assign(dispatcher, order.order_id, mine)).status_code == 201  # the same again
    status, field, rule = field_of(await assign(dispatcher, order.order_id, mine, shipment=2))
    assert (status, field) == (409, "logger_id") and mine in rule and first in rule

    removed = await dispatcher.http.delete(f"/orders/{order.order_id}/shipments/1/loggers/{mine}")
    assert removed.status_code == 204, removed.text
    assert (await assign(dispatcher, order.order_id, mine, shipment=2)).status_code == 201
    with sessions() as session:
        assert (loggers_assigned(session, first), loggers_assigned(session, second)) == (0, 1)
        actions = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_id.in_([first, second]))
            .order_by(AuditEntry.id)
        ).all()
    assert actions == [
        "cold_chain.logger_assigned",
        "cold_chain.logger_removed",
        "cold_chain.logger_assigned",
    ]

    # Once picked up, the trip's loggers stay.
    co.set_trip(sessions, second, status=TripStatus.IN_TRANSIT, started_at=datetime.now(UTC))
    late = await dispatcher.http.delete(f"/orders/{order.order_id}/shipments/2/loggers/{mine}")
    assert late.status_code == 409, late.text
    other = (await register(dispatcher)).json()["logger_id"]
    assert (await assign(dispatcher, order.order_id, other, shipment=2)).status_code == 409


async def test_without_a_carrier_the_suppliers_logistics_assigns(
    caller: Caller, sessions: sessionmaker[Session]
) -> None:
    order = co.cold_order(sessions, carrier=False)
    trip = co.open_trip(sessions, order)
    logistics = caller(order.who.logistics)
    mine = (await register(logistics)).json()["logger_id"]
    assert (await assign(caller(order.who.supplier), order.order_id, mine)).status_code == 403
    made = await assign(logistics, order.order_id, mine)
    assert made.status_code == 201 and made.json()["trip_id"] == trip, made.text
