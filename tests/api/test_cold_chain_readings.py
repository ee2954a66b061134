"""Cold-chain readings over the real API: a logger posts with its own credential, only for
itself and while its trip is under way; a bad batch is refused whole naming every reading and
nothing is written; resent and reordered batches store nothing twice; what is new reaches the
trip's workflow in one signal."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from contracts.cold_chain import ReadingsBatch, cold_chain_workflow_id
from db.cold_chain import TemperatureReading, TripStatus
from settings import Settings
from tests.harness import cold_orders as co
from tests.harness.api_server import TokenCaller
from tests.harness.temporal import eventually, new_task_queue

NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW - timedelta(hours=3)


@dataclass
class Logger:
    logger_id: str
    trip_id: str
    http: httpx.AsyncClient

    async def post(self, readings: list[dict[str, Any]], name: str = "") -> httpx.Response:
        body = {"logger_id": name or self.logger_id, "readings": readings}
        return await self.http.post("/cold-chain/readings", json=body)


def reading(at: datetime, celsius: str = "5", **more: str) -> dict[str, Any]:
    return {"at": at.isoformat(), "celsius": celsius, **more}


def minutes(first: int, last: int, celsius: str = "5") -> list[dict[str, Any]]:
    return [reading(START + timedelta(minutes=i), celsius) for i in range(first, last)]


def stored(sessions: sessionmaker[Session], logger_id: str) -> int:
    with sessions() as session:
        query = select(func.count()).where(TemperatureReading.logger_id == logger_id)
        return int(session.scalar(query) or 0)


def answered(answer: httpx.Response, code: int = 202) -> dict[str, Any]:
    assert answer.status_code == code, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def on_trip(api_url: str, settings: Settings, sessions: sessionmaker[Session]) -> Logger:
    """A logger registered and put on a chilled trip (2-8 °C) picked up three hours ago."""
    order = co.cold_order(sessions)
    trip_id = co.open_trip(sessions, order)
    assert order.dispatcher is not None
    dispatcher = TokenCaller(api_url, settings.jwt_secret, order.dispatcher)
    made = answered(
        await dispatcher.http.post(
            "/cold-chain/loggers", json={"logger_id": f"LG-{uuid.uuid4().hex[:10]}"}
        ),
        201,
    )
    path = f"/orders/{order.order_id}/shipments/1/loggers"
    answered(
        await dispatcher.http.post(path, json={"logger_id": made["logger_id"], "zone": "chilled"}),
        201,
    )
    co.set_trip(sessions, trip_id, status=TripStatus.IN_TRANSIT, started_at=START)
    credential = f"Logger {made['logger_id']}:{made['secret']}"
    http = httpx.AsyncClient(base_url=api_url, timeout=60, headers={"Authorization": credential})
    return Logger(made["logger_id"], trip_id, http)


async def test_batches_are_idempotent_whatever_their_order(
    api_url: str, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    logger = await on_trip(api_url, settings, sessions)
    first = answered(await logger.post(minutes(0, 60)))
    assert first == {"trip_id": logger.trip_id, "stored": 60, "duplicates": 0}
    assert answered(await logger.post(minutes(0, 60)))["stored"] == 0
    overlapping = list(reversed(minutes(30, 90)))  # resent and reordered, half of it new
    assert answered(await logger.post(overlapping)) | {"trip_id": ""} == {
        "trip_id": "",
        "stored": 30,
        "duplicates": 30,
    }
    # The same instant twice in one batch with the same value is one reading.
    twice = [reading(START + timedelta(minutes=95), "6.25")] * 2
    assert answered(await logger.post(twice))["stored"] == 1
    assert stored(sessions, logger.logger_id) == 91
    with sessions() as session:
        kept = session.get(TemperatureReading, (logger.logger_id, START + timedelta(minutes=95)))
        assert kept is not None and (kept.celsius, kept.trip_id) == (
            Decimal("6.25"),
            logger.trip_id,
        )


async def test_bad_telemetry_is_refused_whole_naming_every_reading(
    api_url: str, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    logger = await on_trip(api_url, settings, sessions)
    answered(await logger.post(minutes(0, 10)))
    batch = [
        reading(START + timedelta(minutes=20)),  # fine, but not written with the rest
        reading(START + timedelta(minutes=21), "150"),
        reading(START - timedelta(minutes=5)),
        reading(NOW + timedelta(hours=1)),
        reading(START + timedelta(minutes=22), "5", humidity="120"),
        reading(START + timedelta(minutes=20), "7"),  # the first's instant, another value
        reading(START + timedelta(minutes=3), "9"),  # stored before as 5 °C
    ]
    refused = await logger.post(batch)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert [(r["index"], r["rule"]) for r in problem["refused"]] == [
        (1, "above_physical_maximum"),
        (2, "before_trip"),
        (3, "after_trip"),
        (4, "humidity_out_of_range"),
        (5, "conflicting_repeat"),
    ]
    assert [e["field"] for e in problem["errors"]] == [f"readings.{i}" for i in range(1, 6)]
    assert stored(sessions, logger.logger_id) == 10

    # Against what is stored: caught after the insert, which is then taken back whole.
    conflicting = [reading(START + timedelta(minutes=30)), batch[-1]]
    answer = await logger.post(conflicting)
    assert answer.status_code == 422, answer.text
    [(index, rule)] = [(r["index"], r["rule"]) for r in answer.json()["refused"]]
    assert (index, rule) == (1, "conflicts_with_stored")
    assert stored(sessions, logger.logger_id) == 10

    naive = await logger.post([{"at": "2026-03-02T08:00:00", "celsius": "5"}])
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "readings.0.at"
    assert (await logger.post([])).status_code == 422

    # After arrival, readings up to it are still taken; none after it.
    arrived = START + timedelta(hours=2)
    co.set_trip(sessions, logger.trip_id, status=TripStatus.ARRIVED, arrived_at=arrived)
    late = await logger.post(
        [reading(arrived - timedelta(minutes=1)), reading(arrived + timedelta(minutes=1))]
    )
    assert [r["rule"] for r in late.json()["refused"]] == ["after_trip"], late.text
    assert answered(await logger.post([reading(arrived)]))["stored"] == 1


async def test_a_logger_posts_only_as_itself_and_only_on_a_live_trip(
    api_url: str, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    logger = await on_trip(api_url, settings, sessions)
    other = await on_trip(api_url, settings, sessions)
    good = minutes(0, 5)
    # Another logger's readings: refused, even with a valid credential of its own.
    assert (await logger.post(good, name=other.logger_id)).status_code == 403
    for header in (
        f"Logger {logger.logger_id}:not-the-secret",
        f"Logger nobody-{uuid.uuid4().hex[:6]}:whatever",
        f"Bearer {logger.logger_id}",
        "",
    ):
        answer = await logger.http.post(
            "/cold-chain/readings",
            json={"logger_id": logger.logger_id, "readings": good},
            headers={"Authorization": header},
        )
        assert answer.status_code == 401, (header, answer.text)
    assert stored(sessions, logger.logger_id) == stored(sessions, other.logger_id) == 0

    co.set_trip(sessions, logger.trip_id, status=TripStatus.PLANNED)
    planned = await logger.post(good)
    assert planned.status_code == 409 and "planned" in planned.json()["detail"]
    co.set_trip(sessions, logger.trip_id, status=TripStatus.DECIDED)
    decided = await logger.post(good)
    assert decided.status_code == 409 and "not assigned to a trip" in decided.json()["detail"]


@workflow.defn(name="ReadingsProbe", sandboxed=False)
class ReadingsProbe:
    """Stands in for the trip's workflow: keeps the batches it is signalled."""

    def __init__(self) -> None:
        self.batches: list[ReadingsBatch] = []

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: len(self.batches) >= 2)

    @workflow.signal(name="readings")
    def readings(self, batch: ReadingsBatch) -> None:
        self.batches.append(batch)

    @workflow.query(name="batches")
    def got(self) -> list[ReadingsBatch]:
        return self.batches


@pytest.fixture
async def probe_queue(dev_env: WorkflowEnvironment) -> AsyncIterator[str]:
    queue = new_task_queue()
    async with Worker(
        dev_env.client,
        task_queue=queue,
        workflows=[ReadingsProbe],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        yield queue


async def test_what_is_new_reaches_the_trips_workflow_in_one_signal(
    api_url: str,
    settings: Settings,
    sessions: sessionmaker[Session],
    dev_env: WorkflowEnvironment,
    probe_queue: str,
) -> None:
    logger = await on_trip(api_url, settings, sessions)
    answered(await logger.post(minutes(0, 10)))  # before the workflow runs: stored all the same
    handle = await dev_env.client.start_workflow(
        ReadingsProbe.run, id=cold_chain_workflow_id(logger.trip_id), task_queue=probe_queue
    )
    answered(await logger.post(minutes(0, 10)))  # nothing new: no signal
    calm = minutes(10, 20, "5")
    warm = minutes(20, 25, "7.8")  # within 0.5 °C of the 8 °C maximum: a warning
    answered(await logger.post(calm))
    answered(await logger.post(list(reversed(warm)) + calm))

    async def two() -> list[ReadingsBatch] | None:
        got: list[ReadingsBatch] = await handle.query("batches", result_type=list[ReadingsBatch])
        assert len(got) == 2, got
        return got

    first, second = await eventually(two)
    assert (first.logger_id, first.count, first.alarm) == (logger.logger_id, 10, False)
    assert (first.first_at, first.last_at) == (
        START + timedelta(minutes=10),
        START + timedelta(minutes=19),
    )
    assert (second.count, second.min_celsius, second.max_celsius, second.alarm) == (
        5,
        Decimal("7.8"),
        Decimal("7.8"),
        True,
    )
    assert second.first_at == START + timedelta(minutes=20)
