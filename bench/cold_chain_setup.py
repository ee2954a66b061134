"""The cold-chain benchmark's trips, put on the road through the real API (not timed).

From a driver process of its own, as the supplier's people do it over HTTP with their bearer
tokens: each executed contract (one refrigerated line, no carrier) starts its order as the
contract workflow does; the supplier confirms through ``/tasks``; once the order is ready to
dispatch (its trip is planned), the supplier's logistics registers a logger
(``POST /cold-chain/loggers``, keeping the secret it answers), puts it on the shipment's trip
and reports the pickup backdated to the simulated trip's start, which starts the trip's
``ColdChainWorkflow`` on the real worker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from bench.batches import (
    HonouringRetryAfter,
    Listing,
    OrderTiming,
    Progress,
    RequestCount,
    expect_field,
    polling,
    post_json,
    run_batch,
)
from bench.cold_chain_trips import Trip
from bench.orders import LISTING_LIMIT, LOCATION
from contracts.cold_chain import cold_chain_workflow_id, trip_id_for
from contracts.common import Actor
from contracts.fulfilment import OrderStatus, order_id_for
from contracts.sourcing import ContractTerms
from security.keys import keyring_from_settings
from security.tokens import issue_token
from settings import Settings
from stack.temporal import connect
from tests.harness import orders as o

SHIPMENT = 1
TOKEN_TTL = timedelta(hours=6)


@dataclass(frozen=True)
class SetupJob:
    settings: Settings
    task_queue: str
    api_url: str
    supplier: Actor
    logistics: Actor
    contracts: tuple[ContractTerms, ...]
    zone: str
    trip_start: datetime
    concurrency: int
    poll_s: float
    timeout_s: float


def open_trips(job: SetupJob) -> list[Trip]:
    """Run in a process of its own: every contract's order confirmed and its trip picked up."""
    return asyncio.run(_open_trips(job))


def _person(job: SetupJob, actor: Actor) -> httpx.AsyncClient:
    token = issue_token(
        secret=job.settings.jwt_secret,
        user_id=actor.user_id,
        org_id=actor.org_id,
        roles=actor.roles,
        ttl=TOKEN_TTL,
        now=datetime.now(UTC),
    )
    return httpx.AsyncClient(
        base_url=job.api_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
        transport=HonouringRetryAfter(RequestCount(), job.concurrency + 2),
    )


@asynccontextmanager
async def _people(job: SetupJob) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    async with AsyncExitStack() as stack:
        supplier = await stack.enter_async_context(_person(job, job.supplier))
        logistics = await stack.enter_async_context(_person(job, job.logistics))
        yield supplier, logistics


async def _open_trips(job: SetupJob) -> list[Trip]:
    client = await connect(job.settings, keyring_from_settings(job.settings))
    numbers = {terms.contract_id: n for n, terms in enumerate(job.contracts)}
    trips: dict[int, Trip] = {}
    progress = Progress()
    async with _people(job) as (supplier, logistics):
        confirmations = Listing(
            supplier, "/tasks", {"kind": "order_confirmation", "limit": LISTING_LIMIT}, "subject_id"
        )
        ready = Listing(
            logistics,
            "/orders",
            {"status": OrderStatus.READY_TO_DISPATCH.value, "limit": LISTING_LIMIT},
            "order_id",
        )

        async def one(terms: ContractTerms) -> OrderTiming:
            began = time.perf_counter()
            number = numbers[terms.contract_id]
            order_id = order_id_for(terms.contract_id)
            progress.at(order_id, "confirmation task")
            confirmation = confirmations.expect(order_id)
            await o.start_order(client, terms, task_queue=job.task_queue)
            task, _ = await confirmation
            dispatchable = ready.expect(order_id)
            confirmed = await post_json(
                supplier, f"/tasks/{task['task_id']}/decision", json={"outcome": "confirm"}
            )
            expect_field(confirmed, "process_status", "confirmed", f"{order_id} confirm")
            progress.at(order_id, OrderStatus.READY_TO_DISPATCH.value)
            await dispatchable
            progress.at(order_id, "logger")
            trips[number] = await _picked_up(job, logistics, number, order_id)
            progress.done(order_id)
            return OrderTiming(False, time.perf_counter() - began, 0.0)

        pollers = [lambda: confirmations.poll(job.poll_s), lambda: ready.poll(job.poll_s)]
        async with polling(pollers):
            await run_batch(
                one,
                job.contracts,
                concurrency=job.concurrency,
                timeout_s=job.timeout_s,
                progress=progress,
            )
    return [trips[n] for n in sorted(trips)]


async def _picked_up(
    job: SetupJob, logistics: httpx.AsyncClient, number: int, order_id: str
) -> Trip:
    """A logger registered, put on the trip, and the pickup reported at the trip's start."""
    logger_id = f"BENCH-{number:05d}"
    registered = await post_json(
        logistics, "/cold-chain/loggers", json={"logger_id": logger_id, "model": "bench logger"}
    )
    shipment = f"/orders/{order_id}/shipments/{SHIPMENT}"
    await post_json(
        logistics, f"{shipment}/loggers", json={"logger_id": logger_id, "zone": job.zone}
    )
    event = {"kind": "picked_up", "at": job.trip_start.isoformat(), "location": LOCATION}
    picked = await post_json(logistics, f"{shipment}/events", json=event)
    expect_field(picked, "kind", "picked_up", f"{order_id} pickup")
    trip_id = trip_id_for(order_id, SHIPMENT)
    return Trip(
        number=number,
        order_id=order_id,
        trip_id=trip_id,
        workflow_id=cold_chain_workflow_id(trip_id),
        logger_id=logger_id,
        secret=str(registered["secret"]),
    )
