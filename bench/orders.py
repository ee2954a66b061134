"""The order driver: many orders from executed contract to payment, a bounded number at a time.

On the platform each order is driven as its people drive it, over HTTP with their bearer tokens:
the supplier confirms through ``/tasks`` without a shipment plan, so the order ships whole as
shipment 1; for dangerous goods its logistics submits that shipment's clean e-waybill; logistics
reports its pickup, departure and arrival, uploads the proof of delivery and reports the
delivery; the buyer accepts; finance pays the invoice in full. Between steps the driver waits for
what a person would see: a task in the inbox, a status in the order list, the "completed"
notification. One listing request per role serves every order waiting on it, so the
polling load does not grow with the number of orders in flight. The people run in a process of
their own (``drive_platform``), as clients are never in the worker's process.

The baseline drives the bare process recorded from a real order of the same kind (same phases of
no-op activities, one update where the order takes one) through the Temporal client, and waits
for its in-memory marks at the same polling interval.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError

from bench.bare_workflow import BarePhase, BareProcessWorkflow, BareScript
from bench.opened import OpenedTasks
from contracts.common import Actor
from contracts.fulfilment import OrderStatus, order_id_for, waybill_number_for
from contracts.sourcing import ContractTerms, RfqLine
from db.models import Invoice, Order, OrderShipment, Waybill
from security.keys import keyring_from_settings
from security.tokens import issue_token
from settings import Settings
from stack.temporal import connect
from tests.harness import orders as o
from tests.harness import sourcing as s
from tests.harness import waybills as w
from tests.harness.builders import MINIMAL_PDF

T = TypeVar("T")
Json = dict[str, Any]

# Every third order carries dangerous goods (acetone); the others a chilled reagent kit.
DANGEROUS_EVERY = 3
# Activities whose completion the platform driver can see: an inbox row, an order's status.
VISIBLE_ACTIVITIES = frozenset({"open_task", "set_order_status"})
TOKEN_TTL = timedelta(hours=6)
# The API's largest page: at most this many orders in flight, so one page holds all awaited.
LISTING_LIMIT = 500
MAX_CONCURRENCY = LISTING_LIMIT // 2
LOCATION = "上海金山 Jinshan Chemical Park"
# The supplier confirms without a plan: every order ships whole, as shipment 1, so the figures
# stay comparable with runs from before orders could be split.
SHIPMENT = 1


def is_dangerous(number: int) -> bool:
    return number % DANGEROUS_EVERY == 0


def order_lines(number: int) -> tuple[RfqLine, ...]:
    acetone, chilled_kit = s.lines()
    return (acetone,) if is_dangerous(number) else (chilled_kit,)


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
class OrderTiming:
    dangerous: bool
    total_s: float
    delivered_to_acceptance_s: float


@dataclass(frozen=True)
class BatchResult:
    timings: tuple[OrderTiming, ...]
    wall_s: float


@dataclass
class Progress:
    """Where each order in flight is, to say where a run got stuck."""

    steps: dict[str, str] = field(default_factory=dict)

    def at(self, key: str, step: str) -> None:
        self.steps[key] = step

    def done(self, key: str) -> None:
        self.steps.pop(key, None)

    def summary(self) -> str:
        counts = Counter(self.steps.values())
        return ", ".join(f"{n} at {step}" for step, n in counts.most_common()) or "none"


async def run_batch(
    run: Callable[[T], Awaitable[OrderTiming]],
    plans: Sequence[T],
    *,
    concurrency: int,
    timeout_s: float,
    progress: Progress,
) -> BatchResult:
    """Every plan run to its end, at most ``concurrency`` at a time, first come first served."""
    slots = asyncio.Semaphore(concurrency)

    async def one(plan: T) -> OrderTiming:
        async with slots:
            return await run(plan)

    began = time.perf_counter()
    try:
        timings = await asyncio.wait_for(
            asyncio.gather(*(one(plan) for plan in plans)), timeout=timeout_s
        )
    except TimeoutError:
        raise RuntimeError(
            f"{len(plans)} orders not done within {timeout_s:.0f} s; in flight: "
            f"{progress.summary()}"
        ) from None
    return BatchResult(tuple(timings), time.perf_counter() - began)


# -- waiting for what the driver can see --------------------------------------------------


class Listing:
    """Orders waiting for their row in one listing: one GET a poll serves all of them."""

    def __init__(
        self, http: httpx.AsyncClient, path: str, params: dict[str, str | int], key: str
    ) -> None:
        self._http = http
        self._path = path
        self._params = params
        self._key = key
        self._waiting: dict[str, asyncio.Future[tuple[Json, float]]] = {}

    def expect(self, key: str) -> asyncio.Future[tuple[Json, float]]:
        """Resolves to the row once a poll shows it, with the ``perf_counter`` when that poll
        answered. Expected before the command that leads to it, so no poll is missed."""
        waiter: asyncio.Future[tuple[Json, float]] = asyncio.get_running_loop().create_future()
        self._waiting[key] = waiter
        return waiter

    async def poll(self, interval_s: float) -> None:
        try:
            while True:
                if self._waiting:
                    rows = await _get(self._http, self._path, self._params)
                    seen = time.perf_counter()
                    for row in rows:
                        waiter = self._waiting.pop(str(row[self._key]), None)
                        if waiter is not None and not waiter.done():
                            waiter.set_result((row, seen))
                await asyncio.sleep(interval_s)
        except Exception as failure:
            for waiter in self._waiting.values():
                if not waiter.done():
                    waiter.set_exception(failure)
            raise


class Marks:
    """Bare processes waiting for their next mark, polled at the platform's interval."""

    def __init__(self, opened: OpenedTasks) -> None:
        self._opened = opened
        self._waiting: dict[str, asyncio.Future[float]] = {}

    def expect(self, workflow_id: str) -> asyncio.Future[float]:
        """Resolves to the ``perf_counter`` of the poll that found the process's next mark."""
        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[workflow_id] = waiter
        return waiter

    async def poll(self, interval_s: float) -> None:
        while True:
            if self._waiting:
                ready = self._opened.taken(list(self._waiting))
                seen = time.perf_counter()
                for workflow_id in ready:
                    waiter = self._waiting.pop(workflow_id)
                    if not waiter.done():
                        waiter.set_result(seen)
            await asyncio.sleep(interval_s)


@asynccontextmanager
async def polling(
    pollers: Sequence[Callable[[], Coroutine[Any, Any, None]]],
) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(poll()) for poll in pollers]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# -- HTTP ---------------------------------------------------------------------------------


class RequestCount:
    """Requests sent, by method: the load the driver put on the API."""

    def __init__(self) -> None:
        self.by_method: Counter[str] = Counter()

    async def __call__(self, request: httpx.Request) -> None:
        self.by_method[request.method] += 1


def _failed(response: httpx.Response) -> RuntimeError:
    request = response.request
    return RuntimeError(
        f"{request.method} {request.url.path} answered {response.status_code}: {response.text}"
    )


async def _get(http: httpx.AsyncClient, path: str, params: dict[str, str | int]) -> list[Json]:
    response = await http.get(path, params=params)
    if response.status_code != 200:
        raise _failed(response)
    rows: list[Json] = response.json()
    return rows


async def _post(http: httpx.AsyncClient, path: str, **request: Any) -> Json:
    response = await http.post(path, **request)
    if response.status_code not in (200, 201):
        raise _failed(response)
    answer: Json = response.json()
    return answer


def _expect(answer: Json, field_name: str, value: str, what: str) -> None:
    if answer.get(field_name) != value:
        raise RuntimeError(f"{what}: expected {field_name} {value}, got {answer}")


# -- the platform -------------------------------------------------------------------------


@dataclass(frozen=True)
class People:
    """The four people who drive an order: the supplier's two, the buyer's two."""

    supplier: Actor
    logistics: Actor
    buyer: Actor
    finance: Actor

    @classmethod
    def of(cls, who: o.Parties) -> People:
        return cls(
            supplier=who.supplier.actor,
            logistics=who.logistics.actor,
            buyer=who.buyer.actor,
            finance=who.finance.actor,
        )


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
    """Orders on the real worker, driven over the real API by the two parties' four people."""

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
        # Room for every order in flight plus the role's pollers, on kept-alive connections.
        limits = httpx.Limits(
            max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4
        )

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
                limits=limits,
                event_hooks={"request": [self.requests]},
            )

        self.supplier = person(people.supplier)
        self.logistics = person(people.logistics)
        self.buyer = person(people.buyer)
        self.finance = person(people.finance)

        def tasks(http: httpx.AsyncClient, kind: str) -> Listing:
            return Listing(http, "/tasks", {"kind": kind, "limit": LISTING_LIMIT}, "subject_id")

        def orders(http: httpx.AsyncClient, status: OrderStatus) -> Listing:
            params: dict[str, str | int] = {"status": status.value, "limit": LISTING_LIMIT}
            return Listing(http, "/orders", params, "order_id")

        self.confirmations = tasks(self.supplier, "order_confirmation")
        self.waybill_tasks = tasks(self.logistics, "waybill_submission")
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
            self.waybill_tasks,
            self.acceptances,
            self.ready,
            self.invoiced,
            self.completed,
        )
        async with AsyncExitStack() as stack:
            for http in (self.supplier, self.logistics, self.buyer, self.finance):
                await stack.enter_async_context(http)
            pollers = [partial(listing.poll, self._poll_s) for listing in listings]
            await stack.enter_async_context(polling(pollers))
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
        submission = self.waybill_tasks.expect(order_id) if dangerous else None
        ready = self.ready.expect(order_id)
        confirmed = await _post(
            self.supplier, f"/tasks/{task['task_id']}/decision", json={"outcome": "confirm"}
        )
        _expect(confirmed, "process_status", OrderStatus.CONFIRMED.value, f"{order_id} confirm")
        if submission is not None:
            step(order_id, "waybill task")
            await submission
            draft = w.waybill(
                waybill_number_for(order_id, SHIPMENT),
                order_id,
                loading_at=datetime.now(UTC) + timedelta(days=1),
                shipment=SHIPMENT,
            )
            filing = await _post(
                self.logistics, f"{shipment}/waybill", json=draft.model_dump(mode="json")
            )
            _expect(filing, "process_status", OrderStatus.FILING.value, f"{order_id} waybill")

        step(order_id, OrderStatus.READY_TO_DISPATCH.value)
        await ready
        for kind in ("picked_up", "departed", "arrived"):
            step(order_id, kind)
            await _post(self.logistics, f"{shipment}/events", json=_event(kind))
        step(order_id, "proof of delivery")
        proof = await _post(
            self.logistics,
            f"{path}/documents",
            files={"file": ("签收单 POD.pdf", _proof_pdf(order_id), "application/pdf")},
        )
        step(order_id, "delivered")
        acceptance_task = self.acceptances.expect(order_id)
        sent = time.perf_counter()
        await _post(
            self.logistics,
            f"{shipment}/events",
            json=_event("delivered", proof_of_delivery_document_id=proof["document_id"]),
        )
        step(order_id, "acceptance task")
        acceptance, seen = await acceptance_task
        invoiced = self.invoiced.expect(order_id)
        accepted = await _post(
            self.buyer, f"/tasks/{acceptance['task_id']}/decision", json={"outcome": "accept"}
        )
        _expect(accepted, "process_status", OrderStatus.INVOICED.value, f"{order_id} accept")

        step(order_id, OrderStatus.INVOICED.value)
        await invoiced
        total = terms.total
        payment = {
            "amount": {"amount": str(total.amount), "currency": total.currency},
            "reference": f"BANK-{order_id}",
            "paid_on": date.today().isoformat(),
        }
        completed = self.completed.expect(order_id)
        paid = await _post(self.finance, f"{path}/payments", json=payment)
        _expect(paid, "status", OrderStatus.COMPLETED.value, f"{order_id} payment")
        step(order_id, OrderStatus.COMPLETED.value)
        await completed
        self.progress.done(order_id)
        return OrderTiming(dangerous, time.perf_counter() - began, seen - sent)

    async def terminate_started(self) -> None:
        """After a failed run: nothing of it keeps running into the next measure."""
        for workflow_id in self.started:
            try:
                await self._client.get_workflow_handle(workflow_id).terminate("benchmark failed")
            except RPCError:
                continue


def _event(kind: str, **extra: str) -> Json:
    return {"kind": kind, "at": datetime.now(UTC).isoformat(), "location": LOCATION, **extra}


def _proof_pdf(order_id: str) -> bytes:
    return MINIMAL_PDF + f"% signed for {order_id}\n".encode()


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


# -- the recorded shape and the baseline --------------------------------------------------


@dataclass(frozen=True)
class RecordedOrder:
    """An order's phases as a bare script, and the phase its delivery report begins."""

    script: BareScript
    delivered_phase: int
    update_names: tuple[str, ...]


def recorded_order(history: WorkflowHistory) -> RecordedOrder:
    """The phases of one order's history: its start and each update begin one.

    Activities scheduled in one workflow task form a concurrent batch. Those scheduled after an
    update was accepted and before it completed are the phase's ``answer``; those in the task
    that completed it or later are its ``then``, up to the next update.
    """
    names: list[str] = []
    answers: list[list[list[str]]] = [[]]
    thens: list[list[list[str]]] = [[]]
    section = thens
    pending: list[str] = []

    def flush() -> None:
        if pending:
            section[-1].append(list(pending))
            pending.clear()

    for event in history.events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            pending.append(event.activity_task_scheduled_event_attributes.activity_type.name)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            flush()
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            flush()
            accepted = event.workflow_execution_update_accepted_event_attributes
            names.append(accepted.accepted_request.input.name)
            answers.append([])
            thens.append([])
            section = answers
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            # What this workflow task scheduled runs while the answer travels back.
            section = thens
    flush()

    phases = tuple(
        BarePhase(
            answer=tuple(len(batch) for batch in answer),
            then=tuple(len(batch) for batch in then),
            ready_at=_last_visible([name for batch in then for name in batch]),
        )
        for answer, then in zip(answers, thens, strict=True)
    )
    events = [number for number, name in enumerate(names, 1) if name == "record_carrier_event"]
    if len(events) != 4:
        raise RuntimeError(f"expected 4 carrier events in the order's history, found {names}")
    return RecordedOrder(BareScript(phases=phases), events[-1], tuple(names))


def _last_visible(names: list[str]) -> int | None:
    visible = [number for number, name in enumerate(names) if name in VISIBLE_ACTIVITIES]
    return visible[-1] if visible else None


class BareOrders:
    """Bare processes of the recorded shapes, driven through the Temporal client."""

    def __init__(
        self,
        *,
        client: Client,
        task_queue: str,
        shapes: dict[bool, RecordedOrder],
        opened: OpenedTasks,
        poll_s: float,
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._shapes = shapes
        self._marks = Marks(opened)
        self._poll_s = poll_s
        self.progress = Progress()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[None]:
        async with polling([partial(self._marks.poll, self._poll_s)]):
            yield

    async def run(self, dangerous: bool) -> OrderTiming:
        shape = self._shapes[dangerous]
        phases = shape.script.phases
        began = time.perf_counter()
        handle = await self._client.start_workflow(
            BareProcessWorkflow.run,
            shape.script,
            id=f"BenchBareOrder:{uuid.uuid4().hex}",
            task_queue=self._task_queue,
        )
        self.progress.at(handle.id, "phase 0")
        if phases[0].ready_at is not None:
            await self._marks.expect(handle.id)
        latency = 0.0
        for number in range(1, len(phases)):
            self.progress.at(handle.id, f"phase {number}")
            mark = self._marks.expect(handle.id) if phases[number].ready_at is not None else None
            sent = time.perf_counter()
            await handle.execute_update(BareProcessWorkflow.advance, number)
            seen = time.perf_counter() if mark is None else await mark
            if number == shape.delivered_phase:
                latency = seen - sent
        if phases[-1].ready_at is None:
            await handle.result()
        self.progress.done(handle.id)
        return OrderTiming(dangerous, time.perf_counter() - began, latency)
