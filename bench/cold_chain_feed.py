"""The cold-chain benchmark's loggers: every trip's batches sent concurrently from a client
process of its own, to the platform's API, to the bare endpoint, or as bare signals.

Batches go out as loggers send them, each logger's in time order: the first batch of every
logger, then the second of every logger, and so on, taken by ``concurrency`` client tasks. Each
excursion batch's answer is timed against the moment a poll (every ``poll_s``, straight from
PostgreSQL) first sees its alert task row open: the platform's ``cold_chain_alert`` inbox row
whose key names the excursion's first reading, or the bare workflow's task row. A run may be
offered at a given rate (readings/s) instead of as fast as the answers come.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import httpx
from sqlalchemy import Engine, text
from temporalio.client import Client, WorkflowHandle

from bench.batches import HonouringRetryAfter, RequestCount
from bench.cold_chain_bare import BARE_TASKS
from bench.cold_chain_bare_workflow import BareTripWorkflow
from bench.cold_chain_trips import (
    Batch,
    Shape,
    Trip,
    excursion_starts,
    last_at,
    trip_batches,
)
from db.session import make_engine
from security.keys import keyring_from_settings
from settings import Settings
from stack.temporal import connect

RESENDS = 2
Key = tuple[str, datetime]  # a task's workflow and the instant it is keyed by


class Target(StrEnum):
    PLATFORM = "platform"  # POST /cold-chain/readings on the real API
    BARE_API = "bare_api"  # POST /readings on the bare endpoint
    BARE_SIGNALS = "bare_signals"  # a signal a batch to a bare workflow a trip


@dataclass(frozen=True)
class FeedJob:
    settings: Settings
    target: Target
    url: str  # the API's or the bare endpoint's base URL; unused for signals
    task_queue: str  # the bare worker's, for signals
    trips: tuple[Trip, ...]
    shape: Shape
    concurrency: int
    poll_s: float
    timeout_s: float
    rate: float | None = None  # readings/s offered; None: as fast as answers come
    tag: str = ""  # tells one run's bare workflows from another's


@dataclass(frozen=True)
class FeedResult:
    readings: int
    batches: int
    wall_s: float
    send_ms: tuple[float, ...]  # each batch's POST (or signal) until it answered
    excursion_ms: tuple[float, ...]  # an excursion batch answered -> its task row seen open
    resent: int  # batches sent again after a broken connection


def feed(job: FeedJob) -> FeedResult:
    """Run in a process of its own."""
    return asyncio.run(_feed(job))


def _bare_id(trip: Trip, tag: str) -> str:
    return f"BenchBareTrip{tag}:{trip.trip_id}"


def _in_sending_order(per_trip: list[list[Batch]]) -> Iterator[Batch]:
    for index in range(max(len(batches) for batches in per_trip)):
        for batches in per_trip:
            if index < len(batches):
                yield batches[index]


def _expected(job: FeedJob) -> dict[Key, tuple[int, int]]:
    """The task rows the run waits for, each mapped to its (trip, batch)."""
    shape = job.shape
    found: dict[Key, tuple[int, int]] = {}
    for trip in job.trips:
        for start, batch in excursion_starts(trip, shape).items():
            if job.target is Target.PLATFORM:
                found[(trip.workflow_id, start)] = (trip.number, batch)
            elif job.target is Target.BARE_SIGNALS:
                found[(_bare_id(trip, job.tag), last_at(shape, batch))] = (trip.number, batch)
    return found


def _opened(engine: Engine, target: Target) -> list[Key]:
    if target is Target.PLATFORM:
        query = (
            "SELECT workflow_id, details->>'alert' FROM human_tasks "
            "WHERE kind = 'cold_chain_alert' AND status = 'open' "
            "AND details->>'alert' LIKE 'excursion:%'"
        )
        with engine.connect() as connection:
            rows = connection.execute(text(query)).all()
        return [(w, datetime.fromisoformat(key.split(":", 2)[2])) for w, key in rows]
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT workflow_id, key FROM {BARE_TASKS}")).all()
    return [(w, datetime.fromisoformat(key)) for w, key in rows]


async def _feed(job: FeedJob) -> FeedResult:
    per_trip = await asyncio.to_thread(lambda: [trip_batches(t, job.shape) for t in job.trips])
    trips = {trip.number: trip for trip in job.trips}
    expected = _expected(job)
    answered: dict[tuple[int, int], float] = {}
    seen: dict[Key, float] = {}
    send_ms: list[float] = []
    engine = make_engine(job.settings.database_url, pool_size=1)
    resent: list[Batch] = []
    send, close = await _sender(job, trips, resent)
    pending = _in_sending_order(per_trip)
    done_sending = asyncio.Event()

    offered = 0  # readings handed out so far: at a given rate, when the next may go

    async def worker() -> None:
        nonlocal offered
        for batch in pending:
            if job.rate is not None:
                due = began + offered / job.rate
                offered += batch.readings
                await asyncio.sleep(due - time.perf_counter())
            sent = time.perf_counter()
            await send(batch)
            ended = time.perf_counter()
            send_ms.append((ended - sent) * 1000)
            if batch.excursion:
                answered[(batch.trip, batch.index)] = ended

    async def poll() -> None:
        while len(seen) < len(expected):
            opened = await asyncio.to_thread(_opened, engine, job.target)
            now = time.perf_counter()
            for key in opened:
                if key in expected and key not in seen:
                    seen[key] = now
            if done_sending.is_set() and len(seen) >= len(expected):
                return
            await asyncio.sleep(job.poll_s)

    poller = asyncio.create_task(poll())
    began = time.perf_counter()
    try:
        await asyncio.wait_for(
            asyncio.gather(*(worker() for _ in range(job.concurrency))), timeout=job.timeout_s
        )
        await close()
        wall_s = time.perf_counter() - began
        done_sending.set()
        try:
            await asyncio.wait_for(poller, timeout=120)
        except TimeoutError:
            raise RuntimeError(
                f"{job.target}: {len(seen)} of {len(expected)} excursion tasks opened"
            ) from None
    finally:
        poller.cancel()
        engine.dispose()
    latencies = [(seen[key] - answered[expected[key]]) * 1000 for key in expected]
    return FeedResult(
        readings=sum(b.readings for batches in per_trip for b in batches),
        batches=len(send_ms),
        wall_s=wall_s,
        send_ms=tuple(send_ms),
        excursion_ms=tuple(latencies),
        resent=len(resent),
    )


Send = Callable[[Batch], Awaitable[None]]
Close = Callable[[], Awaitable[None]]


async def _sender(job: FeedJob, trips: dict[int, Trip], resent: list[Batch]) -> tuple[Send, Close]:
    """How a batch is sent to the job's target, and what ends the run (the bare workflows
    counting their last readings)."""
    if job.target is Target.BARE_SIGNALS:
        return await _signaller(job, trips)
    http = httpx.AsyncClient(
        base_url=job.url,
        timeout=120,
        # A batch the API sheds goes again after its Retry-After, as a logger's gateway does.
        transport=HonouringRetryAfter(RequestCount(), job.concurrency),
        headers={"Content-Type": "application/json"},
    )
    platform = job.target is Target.PLATFORM
    path = "/cold-chain/readings" if platform else "/readings"
    credentials = {
        n: {"Authorization": f"Logger {t.logger_id}:{t.secret}"}
        if platform
        else {"X-Trip": t.trip_id}
        for n, t in trips.items()
    }

    async def send(batch: Batch) -> None:
        # A batch is idempotent: a logger whose connection broke sends it again, and then
        # finds some or all of it stored already.
        for attempt in range(RESENDS + 1):
            try:
                answer = await http.post(path, content=batch.body, headers=credentials[batch.trip])
                break
            except httpx.TransportError:
                if attempt == RESENDS:
                    raise
                resent.append(batch)
        whole = answer.status_code == 202 and answer.json()["stored"] == batch.readings
        if not whole and not (answer.status_code == 202 and attempt):
            raise RuntimeError(f"{path} answered {answer.status_code}: {answer.text[:500]}")

    return send, http.aclose


async def _signaller(job: FeedJob, trips: dict[int, Trip]) -> tuple[Send, Close]:
    client: Client = await connect(job.settings, keyring_from_settings(job.settings))
    handles: dict[int, WorkflowHandle[BareTripWorkflow, int]] = {}
    for number, trip in trips.items():
        handles[number] = await client.start_workflow(
            BareTripWorkflow.run,
            job.shape.minutes,
            id=_bare_id(trip, job.tag),
            task_queue=job.task_queue,
        )

    async def send(batch: Batch) -> None:
        await handles[batch.trip].signal(BareTripWorkflow.readings, batch.summary)

    async def close() -> None:
        counted = await asyncio.gather(*(handle.result() for handle in handles.values()))
        if any(n != job.shape.minutes for n in counted):
            raise RuntimeError(f"bare workflows counted {set(counted)} readings")

    return send, close
