"""The order driver: many orders from executed contract to payment, a bounded number at a time.

On the platform each order is driven as its people drive it, over HTTP with their bearer tokens:
the supplier confirms through ``/tasks`` without a shipment plan, so the order ships whole as
shipment 1. For dangerous goods it names the carrier, an accredited carrier with its fleet
registered; the supplier's logistics declares the consignment list, the carrier's dispatcher
makes the e-waybill from it with its fleet's vehicle, driver and escort, and the supplier's
logistics records the loading check, which files it (《危险货物道路运输安全管理办法》
art. 24). Whoever carries the shipment (the carrier's dispatcher; the supplier's logistics for
ordinary goods, which name no carrier) reports its pickup, departure and arrival, uploads the
proof of delivery and reports the delivery; the buyer accepts; finance pays the invoice in full.
Between steps the driver waits for what a person would see: a task in the inbox, a status in the
order list, the "completed" notification (``bench.batches.Listing``). The people run in a
process of their own (``drive_platform``), as clients are never in the worker's process.

The baseline is ``bench.bare_orders``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial

import httpx
from temporalio.client import Client
from temporalio.service import RPCError

from bench.batches import (
    BatchResult,
    HonouringRetryAfter,
    Json,
    Listing,
    OrderTiming,
    Progress,
    RequestCount,
    expect_field,
    polling,
    post_json,
    run_batch,
)
from bench.order_data import SHIPMENT, People
from contracts.common import Actor
from contracts.fulfilment import OrderStatus, order_id_for
from contracts.sourcing import ContractTerms
from security.keys import keyring_from_settings
from security.tokens import issue_token
from security.totp import Authenticator
from settings import Settings
from stack.temporal import connect
from tests.harness import carrier_api as ca
from tests.harness import orders as o
from tests.harness import waybills as w
from tests.harness.builders import MINIMAL_PDF
from tests.harness.second_factor import STEP_UP

TOKEN_TTL = timedelta(hours=6)
# The API's largest page: at most this many orders in flight, so one page holds all awaited.
LISTING_LIMIT = 500
MAX_CONCURRENCY = LISTING_LIMIT // 2
LOCATION = "上海金山 Jinshan Chemical Park"


@dataclass(frozen=True)
class DriveJob:
    """Everything a driver process needs: it shares nothing with the benchmark's process."""

    settings: Settings
    task_queue: str
    api_url: str
    people: People
    contracts: tuple[ContractTerms, ...]
    concurrency: int
    poll_s: float
    timeout_s: float


@dataclass(frozen=True)
class DriveResult:
    batch: BatchResult
    requests: Counter[str]


def drive_platform(job: DriveJob) -> DriveResult:
    """Run in a process of its own: the orders of ``job`` through the API."""
    return asyncio.run(_drive(job))


async def _drive(job: DriveJob) -> DriveResult:
    client = await connect(job.settings, keyring_from_settings(job.settings))
    platform = PlatformOrders(
        client=client,
        task_queue=job.task_queue,
        api_url=job.api_url,
        jwt_secret=job.settings.jwt_secret,
        people=job.people,
        concurrency=job.concurrency,
        poll_s=job.poll_s,
    )
    async with platform.session():
        try:
            batch = await run_batch(
                platform.run,
                job.contracts,
                concurrency=job.concurrency,
                timeout_s=job.timeout_s,
                progress=platform.progress,
            )
        except BaseException:
            await platform.terminate_started()
            raise
    return DriveResult(batch, Counter(platform.requests.by_method))


class PlatformOrders:
    """Orders on the real worker, driven over the real API by the two parties' four people and
    the carrier's dispatcher."""

    def __init__(
        self,
        *,
        client: Client,
        task_queue: str,
        api_url: str,
        jwt_secret: str,
        people: People,
        concurrency: int,
        poll_s: float,
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._poll_s = poll_s
        self.requests = RequestCount()
        self.progress = Progress()
        self.started: list[str] = []

        def person(actor: Actor) -> httpx.AsyncClient:
            token = issue_token(
                secret=jwt_secret,
                user_id=actor.user_id,
                org_id=actor.org_id,
                roles=actor.roles,
                ttl=TOKEN_TTL,
                now=datetime.now(UTC),
            )
            return httpx.AsyncClient(
                base_url=api_url,
                headers={"Authorization": f"Bearer {token}"},
                timeout=120,
                # Room for every order in flight plus the role's pollers.
                transport=HonouringRetryAfter(self.requests, concurrency + 4),
                event_hooks={"request": [self.requests]},
            )

        self._carrier = people.carrier
        self._consignor_credit_code = people.consignor_credit_code
        self.supplier = person(people.supplier)
        self.logistics = person(people.logistics)
        self.buyer = person(people.buyer)
        self.finance = person(people.finance)
        self.step_up = StepUp(self.finance, people.finance.user_id)
        self.dispatcher = person(people.carrier.dispatcher)

        def tasks(http: httpx.AsyncClient, kind: str) -> Listing:
            return Listing(http, "/tasks", {"kind": kind, "limit": LISTING_LIMIT}, "subject_id")

        def orders(http: httpx.AsyncClient, status: OrderStatus) -> Listing:
            params: dict[str, str | int] = {"status": status.value, "limit": LISTING_LIMIT}
            return Listing(http, "/orders", params, "order_id")

        self.confirmations = tasks(self.supplier, "order_confirmation")
        self.consignment_tasks = tasks(self.logistics, "consignment_list")
        self.waybill_tasks = tasks(self.dispatcher, "waybill_submission")
        self.loading_tasks = tasks(self.logistics, "loading_check")
        self.acceptances = tasks(self.buyer, "order_acceptance")
        self.ready = orders(self.logistics, OrderStatus.READY_TO_DISPATCH)
        self.invoiced = orders(self.finance, OrderStatus.INVOICED)
        # Notices stay, newest first: between two polls fewer orders than are in flight can
        # complete, so twice that many newest notices hold every new completion.
        newest: dict[str, str | int] = {
            "kind": f"order_{OrderStatus.COMPLETED.value}",
            "limit": min(2 * concurrency, LISTING_LIMIT),
        }
        self.completed = Listing(self.buyer, "/notifications", newest, "subject_id")

    @asynccontextmanager
    async def session(self) -> AsyncIterator[None]:
        """The people's connections and their pollers."""
        listings = (
            self.confirmations,
            self.consignment_tasks,
            self.waybill_tasks,
            self.loading_tasks,
            self.acceptances,
            self.ready,
            self.invoiced,
            self.completed,
        )
        async with AsyncExitStack() as stack:
            for http in (
                self.supplier,
                self.logistics,
                self.buyer,
                self.finance,
                self.dispatcher,
            ):
                await stack.enter_async_context(http)
            pollers = [partial(listing.poll, self._poll_s) for listing in listings]
            await stack.enter_async_context(polling(pollers))
            await self.step_up.header()  # enrolled and granted before any order is timed
            yield

    async def run(self, terms: ContractTerms) -> OrderTiming:
        """One order from its executed contract to payment in full."""
        dangerous = any(line.un_number for line in terms.lines)
        order_id = order_id_for(terms.contract_id)
        path = f"/orders/{order_id}"
        shipment = f"{path}/shipments/{SHIPMENT}"
        step = self.progress.at
        began = time.perf_counter()
        step(order_id, "start")
        confirmation = self.confirmations.expect(order_id)
        handle = await o.start_order(self._client, terms, task_queue=self._task_queue)
        self.started.append(handle.id)

        step(order_id, "confirmation task")
        task, _ = await confirmation
        ready = self.ready.expect(order_id)
        if dangerous:
            await self._confirm_and_file(order_id, task)
        else:
            confirmed = await post_json(
                self.supplier, f"/tasks/{task['task_id']}/decision", json={"outcome": "confirm"}
            )
            expect_field(confirmed, "process_status", "confirmed", f"{order_id} confirm")
        # The carrier reports what it carries; an order without one, the supplier's logistics.
        reporter = self.dispatcher if dangerous else self.logistics

        step(order_id, OrderStatus.READY_TO_DISPATCH.value)
        await ready
        for kind in ("picked_up", "departed", "arrived"):
            step(order_id, kind)
            await post_json(reporter, f"{shipment}/events", json=_event(kind))
        step(order_id, "proof of delivery")
        proof = await post_json(
            reporter,
            f"{path}/documents",
            files={"file": ("签收单 POD.pdf", _proof_pdf(order_id), "application/pdf")},
        )
        step(order_id, "delivered")
        acceptance_task = self.acceptances.expect(order_id)
        sent = time.perf_counter()
        await post_json(
            reporter,
            f"{shipment}/events",
            json=_event("delivered", proof_of_delivery_document_id=proof["document_id"]),
        )
        step(order_id, "acceptance task")
        acceptance, seen = await acceptance_task
        invoiced = self.invoiced.expect(order_id)
        accepted = await post_json(
            self.buyer, f"/tasks/{acceptance['task_id']}/decision", json={"outcome": "accept"}
        )
        expect_field(accepted, "process_status", OrderStatus.INVOICED.value, f"{order_id} accept")

        step(order_id, OrderStatus.INVOICED.value)
        await invoiced
        total = terms.total
        payment = {
            "amount": {"amount": str(total.amount), "currency": total.currency},
            "reference": f"BANK-{order_id}",
            "paid_on": date.today().isoformat(),
        }
        completed = self.completed.expect(order_id)
        paid = await post_json(
            self.finance, f"{path}/payments", json=payment, headers=await self.step_up.header()
        )
        expect_field(paid, "status", OrderStatus.COMPLETED.value, f"{order_id} payment")
        step(order_id, OrderStatus.COMPLETED.value)
        await completed
        self.progress.done(order_id)
        return OrderTiming(dangerous, time.perf_counter() - began, seen - sent)

    async def _confirm_and_file(self, order_id: str, confirmation: Json) -> None:
        """Confirmed naming the carrier; the consignment list declared, the waybill made from it
        and the loading checked, which files it."""
        step = self.progress.at
        shipment = f"/orders/{order_id}/shipments/{SHIPMENT}"
        listing = self.consignment_tasks.expect(order_id)
        confirmed = await post_json(
            self.supplier,
            f"/tasks/{confirmation['task_id']}/decision",
            json={"outcome": "confirm", "choices": {"carrier": self._carrier.org_id}},
        )
        expect_field(confirmed, "process_status", "confirmed", f"{order_id} confirm")
        step(order_id, "consignment task")
        await listing
        making = self.waybill_tasks.expect(order_id)
        declared = await post_json(
            self.logistics,
            f"{shipment}/consignment",
            json=ca.consignment_body(self._consignor_credit_code),
        )
        expect_field(declared, "process_status", "awaiting_waybill", f"{order_id} consignment")
        step(order_id, "waybill task")
        await making
        loading = self.loading_tasks.expect(order_id)
        trip = w.trip(
            datetime.now(UTC) + timedelta(days=1),
            vehicle_id=self._carrier.vehicle_id,
            driver_id=self._carrier.driver_id,
            escort_id=self._carrier.escort_id,
            gross_mass_kg=Decimal(2000),
        )
        made = await post_json(
            self.dispatcher, f"{shipment}/waybill/make", json=trip.model_dump(mode="json")
        )
        expect_field(made, "process_status", "awaiting_loading_check", f"{order_id} waybill")
        step(order_id, "loading task")
        await loading
        checked = await post_json(
            self.logistics, f"{shipment}/loading-check", json=ca.loading_check_body()
        )
        expect_field(checked, "process_status", "filing", f"{order_id} loading check")

    async def terminate_started(self) -> None:
        """After a failed run: nothing of it keeps running into the next measure."""
        for workflow_id in self.started:
            try:
                await self._client.get_workflow_handle(workflow_id).terminate("benchmark failed")
            except RPCError:
                continue


# Finance's authenticators by user id: the driver process outlives one round, the enrolment too.
_authenticators: dict[str, Authenticator] = {}


class StepUp:
    """Finance's ``X-Step-Up`` grant for recording payments: enrolled once, a grant renewed
    while it has under a minute left (one code a renewal), shared by the orders in flight."""

    def __init__(self, http: httpx.AsyncClient, user_id: str) -> None:
        self._http = http
        self._user_id = user_id
        self._grant: tuple[str, datetime] | None = None
        self._lock = asyncio.Lock()

    async def header(self) -> dict[str, str]:
        async with self._lock:
            if self._grant is None or self._grant[1] - datetime.now(UTC) < timedelta(minutes=1):
                code = await self._code(await self._authenticator())
                granted = await post_json(self._http, "/auth/step-up", json={"code": code})
                expires = datetime.fromisoformat(granted["expires_at"])
                self._grant = (granted["step_up_token"], expires)
            return {STEP_UP: self._grant[0]}

    async def _authenticator(self) -> Authenticator:
        known = _authenticators.get(self._user_id)
        if known is not None:
            return known
        begun = await post_json(self._http, "/auth/second-factor/enrolment")
        device = Authenticator(begun["secret"])
        code = await self._code(device)
        await post_json(self._http, "/auth/second-factor/confirmation", json={"code": code})
        _authenticators[self._user_id] = device
        return device

    @staticmethod
    async def _code(device: Authenticator) -> str:
        # Two codes a 30-second period at most: the third waits for the next period.
        while (code := device.code(datetime.now(UTC))) is None:
            await asyncio.sleep(1)
        return code


def _event(kind: str, **extra: str) -> Json:
    return {"kind": kind, "at": datetime.now(UTC).isoformat(), "location": LOCATION, **extra}


def _proof_pdf(order_id: str) -> bytes:
    return MINIMAL_PDF + f"% signed for {order_id}\n".encode()
