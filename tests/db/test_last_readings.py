"""The cold-chain register's latest reading of each trip (``workbench.pages.registers_live``):
the latest of any of its loggers, a logger moved on to a later trip counting only its readings
of this one, and none for a trip not yet picked up; read backwards along the readings' key."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from db.cold_chain import LoggerAssignment, TripStatus
from db.session import transaction
from tests.harness import cold_chain as c
from tests.harness import cold_orders as co
from workbench.pages.registers_live import last_readings, last_readings_query

HOUR = timedelta(hours=1)


def test_each_trip_shows_its_latest_reading_of_any_logger_and_only_its_own(
    sessions: sessionmaker[Session],
) -> None:
    order = co.cold_order(sessions)
    assert order.carrier_org_id is not None
    first, second = co.open_trip(sessions, order), co.open_trip(sessions, order, shipment=2)
    waiting = co.open_trip(sessions, order, shipment=3)  # not picked up: no readings
    start = datetime.now(UTC).replace(microsecond=0) - 10 * HOUR
    decided = start + 5.5 * HOUR
    co.set_trip(
        sessions,
        first,
        status=TripStatus.DECIDED,
        started_at=start,
        arrived_at=start + 5 * HOUR,
        decided_at=decided,
    )
    # The carrier reports times: the second pickup is told as before the first arrival.
    co.set_trip(sessions, second, status=TripStatus.IN_TRANSIT, started_at=start + 4 * HOUR)
    moved, stayed = (f"LG-{uuid.uuid4().hex[:8]}" for _ in range(2))
    for logger in (moved, stayed):
        c.logger_on_trip(
            sessions, org_id=order.carrier_org_id, trip_id=first, logger_id=logger, zone="chilled"
        )
    c.store(sessions, first, moved, c.every(start, start + 4 * HOUR, HOUR, "3.0"))
    # Taken after the arrival the carrier reported, before the decision: still the trip's.
    c.store(sessions, first, stayed, c.every(start, decided, HOUR / 2, "4.5"))
    # Released at the decision, the first logger goes on the second trip.
    with transaction(sessions) as session:
        session.execute(
            update(LoggerAssignment)
            .where(LoggerAssignment.trip_id == first)
            .values(released_at=decided)
        )
        session.add(
            LoggerAssignment(
                trip_id=second,
                logger_id=moved,
                zone="chilled",
                assigned_by="test",
                assigned_at=decided,
            )
        )
    second_readings = [(start + 4.5 * HOUR, Decimal("2.0"))]
    second_readings += c.every(start + 6 * HOUR, start + 9 * HOUR, HOUR, "2.5")
    c.store(sessions, second, moved, second_readings)
    with sessions() as session:
        each = {
            (r.trip_id, r.logger_id): r.at
            for r in session.scalars(last_readings_query([first, second, waiting]))
        }
        latest = last_readings(session, [first, second, waiting])
        assert last_readings(session, []) == {}
    # The first logger's last of the first trip, not the second trip's reading before it ended.
    assert each == {
        (first, moved): start + 4 * HOUR,
        (first, stayed): decided,
        (second, moved): start + 9 * HOUR,
    }
    assert {trip: (r.logger_id, r.at, r.celsius) for trip, r in latest.items()} == {
        first: (stayed, decided, Decimal("4.50")),
        second: (moved, start + 9 * HOUR, Decimal("2.50")),
    }


def test_the_latest_readings_are_read_backwards_along_the_readings_key(
    sessions: sessionmaker[Session],
) -> None:
    """Sequential scans and sorts priced out (a test database is a few rows): the plan must
    still walk the key back from each trip's arrival, not sort the trips' readings."""
    statement = last_readings_query(["trip-a", "trip-b"])
    compiled = statement.compile(
        dialect=sessions.kw["bind"].dialect, compile_kwargs={"render_postcompile": True}
    )
    with sessions() as session:
        session.execute(select(1))  # a transaction for SET LOCAL
        connection = session.connection()
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        connection.exec_driver_sql("SET LOCAL enable_sort = off")
        (document,) = connection.exec_driver_sql(
            f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params
        ).one()
    nodes, pending = [], [document[0]["Plan"]]
    while pending:
        node = pending.pop()
        nodes.append(node)
        pending.extend(node.get("Plans", []))
    readings = [n for n in nodes if n.get("Relation Name") == "temperature_readings"]
    assert readings and all(
        n["Node Type"] == "Index Scan" and n["Scan Direction"] == "Backward" for n in readings
    ), readings
    assert "Sort" not in {n["Node Type"] for n in nodes}, nodes
