"""Cold-chain reads over the real API: the trip, its series (downsampled figures checked by
hand), chart and report for the order's parties, carrier and platform staff only; loss rates
by carrier and route, each caller over the trips it sees."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import OPERATOR_ORG_ID, OrgKind, Role
from db.cold_chain import ColdLogger, LoggerAssignment, TemperatureReading, TripStatus
from db.session import transaction
from storage.object_store import ObjectStore
from tests.harness import builders as b
from tests.harness import cold_orders as co
from tests.harness import sourcing as s
from tests.harness.sourcing import Member

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
Caller = co.Caller
caller = co.caller


def logger_with(
    sessions: sessionmaker[Session],
    order: co.ColdOrder,
    trip_id: str,
    readings: list[tuple[int, str]],
) -> str:
    """A logger of the order's carrier on the trip, with readings at minutes from START."""
    logger_id = f"LG-{uuid.uuid4().hex[:10]}"
    with transaction(sessions) as session:
        assert order.carrier_org_id is not None
        session.add(
            ColdLogger(
                id=logger_id,
                owner_org_id=order.carrier_org_id,
                model="",
                secret_sha256="0" * 64,
                registered_by="usr_test",
                registered_at=START,
            )
        )
        session.flush()
        session.add(
            LoggerAssignment(
                trip_id=trip_id,
                logger_id=logger_id,
                zone="chilled",
                assigned_by="usr_test",
                assigned_at=START,
            )
        )
        session.execute(
            insert(TemperatureReading),
            [
                {
                    "logger_id": logger_id,
                    "at": START + timedelta(minutes=m),
                    "trip_id": trip_id,
                    "celsius": Decimal(c),
                }
                for m, c in readings
            ],
        )
    return logger_id


async def test_the_trip_is_read_by_the_orders_parties_its_carrier_and_staff_only(
    caller: Caller, sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    order = co.cold_order(sessions)
    trip_id = co.open_trip(sessions, order)
    logger_id = logger_with(sessions, order, trip_id, [(0, "5"), (1, "9.5")])
    path = f"/orders/{order.order_id}/shipments/1/temperature"
    staff = s.member(sessions, s.org_row(sessions, OPERATOR_ORG_ID), Role.OPS_SUPERVISOR)
    stranger = co.cold_order(sessions)
    regulator = s.member(sessions, b.make_org(sessions, kind=OrgKind.REGULATOR), Role.REGULATOR)
    for member in (stranger.who.buyer, stranger.dispatcher, stranger.who.supplier):
        for tail in ("", "/series?logger_id=" + logger_id, "/chart.svg", "/report"):
            answer = await caller(member).http.get(path + tail)
            assert answer.status_code == 404, (tail, answer.text)
    assert (await caller(regulator).http.get(path)).status_code in (403, 404)

    co.set_trip(
        sessions,
        trip_id,
        status=TripStatus.ARRIVED,
        started_at=START,
        arrived_at=START + timedelta(minutes=2),
    )
    report = b.store_document(sessions, store, org_id=order.buyer_org_id, name="温度记录报告.pdf")
    co.set_trip(
        sessions,
        trip_id,
        status=TripStatus.DECIDED,
        disposition="accept_with_claim",
        shipped={"L1": "100"},
        lost={"L1": "20"},
        loss_value=Decimal("282.50"),
        currency="CNY",
        liable="supplier",
        liable_org_id=order.supplier_org_id,
        report_document_id=report.document_id,
        decided_at=START + timedelta(hours=3),
    )
    for member, priced in (
        (order.who.buyer, True),
        (order.who.logistics, True),
        (order.dispatcher, False),
        (order.manager, False),
        (staff, True),
    ):
        answer = await caller(member).http.get(path)
        assert answer.status_code == 200, answer.text
        trip = answer.json()
        assert (trip["trip_id"], trip["status"], trip["disposition"]) == (
            trip_id,
            "decided",
            "accept_with_claim",
        )
        assert [x["logger_id"] for x in trip["loggers"]] == [logger_id]
        assert [z["zone"] for z in trip["zones"]] == ["chilled"]
        assert (trip["lost"], trip["report_document_id"]) == ({"L1": "20"}, report.document_id)
        assert (trip["loss_value"] is not None) == priced, trip["loss_value"]

        chart = await caller(member).http.get(path + "/chart.svg")
        assert chart.status_code == 200 and chart.headers["content-type"] == "image/svg+xml"
        assert ElementTree.fromstring(chart.text).tag.endswith("svg")
        pdf = await caller(member).http.get(path + "/report")
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["x-content-sha256"] == report.sha256


async def test_a_series_is_downsampled_by_bucket_or_paged_raw(
    caller: Caller, sessions: sessionmaker[Session]
) -> None:
    order = co.cold_order(sessions)
    trip_id = co.open_trip(sessions, order)
    co.set_trip(sessions, trip_id, status=TripStatus.IN_TRANSIT, started_at=START)
    logger_id = logger_with(
        sessions,
        order,
        trip_id,
        [(0, "4"), (1, "5"), (2, "6"), (3, "5"), (4, "5"), (5, "3"), (6, "3.5"), (12, "7.25")],
    )
    buyer = caller(order.who.buyer)
    path = f"/orders/{order.order_id}/shipments/1/temperature/series"
    window = {
        "logger_id": logger_id,
        "start": START.isoformat(),
        "end": (START + timedelta(minutes=15)).isoformat(),
    }
    answer = await buyer.http.get(path, params=window | {"bucket": "300"})
    assert answer.status_code == 200, answer.text
    series: dict[str, Any] = answer.json()
    assert (series["zone"], series["bucket_seconds"], series["readings"]) == ("chilled", 300, [])
    figures = [
        (b["start"], b["readings"], b["min_celsius"], b["max_celsius"], b["mean_celsius"])
        for b in series["buckets"]
    ]
    assert figures == [
        ("2026-03-02T08:00:00Z", 5, "4.00", "6.00", "5.000"),
        ("2026-03-02T08:05:00Z", 2, "3.00", "3.50", "3.250"),
        ("2026-03-02T08:10:00Z", 1, "7.25", "7.25", "7.250"),
    ]

    first = await buyer.http.get(path, params=window | {"limit": "5"})
    assert first.status_code == 200, first.text
    assert [r["celsius"] for r in first.json()["readings"]] == [
        "4.00",
        "5.00",
        "6.00",
        "5.00",
        "5.00",
    ]
    rest = await buyer.http.get(
        path, params=window | {"limit": "5", "cursor": first.headers["x-next-cursor"]}
    )
    assert [r["celsius"] for r in rest.json()["readings"]] == ["3.00", "3.50", "7.25"]
    assert "x-next-cursor" not in rest.headers

    for params, field in (
        (window | {"bucket": "59"}, "bucket"),
        (window | {"bucket": "60", "start": "2020-01-01T00:00:00+00:00"}, "bucket"),
        (window | {"start": (START + timedelta(hours=1)).isoformat()}, "start"),
    ):
        refused = await buyer.http.get(path, params=params)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field
    unknown = await buyer.http.get(path, params=window | {"logger_id": "LG-nobody"})
    assert unknown.status_code == 404, unknown.text


async def test_loss_rates_by_carrier_and_route_over_the_trips_each_caller_sees(
    caller: Caller, sessions: sessionmaker[Session]
) -> None:
    route = f"Wuxi - Shanghai {uuid.uuid4().hex[:6]}"
    orders = [co.cold_order(sessions) for _ in range(2)]
    for order, lost, value in zip(orders, ("20", "0"), ("282.50", None), strict=True):
        trip_id = co.open_trip(sessions, order)
        co.set_trip(
            sessions,
            trip_id,
            status=TripStatus.DECIDED,
            route=route,
            shipped={"L1": "100"},
            lost={"L1": lost},
            loss_value=Decimal(value) if value else None,
            currency="CNY",
        )
    staff = s.member(sessions, s.org_row(sessions, OPERATOR_ORG_ID), Role.LOGISTICS)

    async def rates(member: Member | None, by: str) -> list[dict[str, Any]]:
        answer = await caller(member).http.get("/cold-chain/loss-rates", params={"by": by})
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()
        return found

    [mine] = await rates(orders[0].dispatcher, "carrier")
    assert mine == {
        "by": "carrier",
        "key": orders[0].carrier_org_id,
        "trips": 1,
        "shipped": "100",
        "lost": "20",
        "loss_rate": "0.2000",
        "loss_value": [{"amount": "282.50", "currency": "CNY"}],
    }
    [theirs] = await rates(orders[1].who.buyer, "route")
    assert (theirs["key"], theirs["trips"], theirs["loss_rate"], theirs["loss_value"]) == (
        route,
        1,
        "0.0000",
        [],
    )
    [both] = [r for r in await rates(staff, "route") if r["key"] == route]
    assert (both["trips"], both["shipped"], both["lost"], both["loss_rate"]) == (
        2,
        "200",
        "20",
        "0.1000",
    )
    refused = await caller(orders[0].who.buyer).http.get(
        "/cold-chain/loss-rates", params={"by": "x"}
    )
    assert refused.status_code == 422
