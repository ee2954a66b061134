"""The baseline of the order benchmark: bare processes of the phases recorded from a real order
of each kind (same phases of activities, no-ops except where the order renders a PDF, which the
bare process renders too; an update where the order takes one), driven through the Temporal
client from a process of its own (``drive_bare``), as the platform's people drive theirs.

Where the platform's driver waits for an inbox row or a status (written by an activity in the
worker, read over HTTP through the API from PostgreSQL), the bare driver waits for a mark: the
activity sets it in ``MarkBoard``, a small process of its own, and the driver asks that process
once a poll for every order waiting, at the platform's interval. Marks cross two process
boundaries as the platform's rows do, at a fraction of their cost: the waiting is the same kind,
the work behind it stays the platform's.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from multiprocessing.managers import BaseManager
from typing import Protocol

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory

from bench.bare_workflow import BarePhase, BareProcessWorkflow, BareScript
from bench.batches import BatchResult, OrderTiming, Progress, fail_waiting, polling, run_batch
from bench.opened import OpenedTasks
from bench.order_data import is_dangerous
from contracts.queues import RENDER_ACTIVITIES
from security.keys import keyring_from_settings
from settings import Settings
from stack.temporal import connect

# Activities whose completion the platform driver can see: an inbox row, an order's status.
VISIBLE_ACTIVITIES = frozenset({"open_task", "set_order_status"})


class MarkBoard(BaseManager):
    """The process that holds the marks (``OpenedTasks``): ``board.OpenedTasks()`` makes one
    and answers a proxy, which the worker's activities and the driver process both call."""

    @property
    def pid(self) -> int:
        """The board's process, once started (a benchmark names its CPU)."""
        process = getattr(self, "_process", None)  # BaseManager's own, set as it starts
        if process is None or process.pid is None:
            raise RuntimeError("the board has not started")
        pid: int = process.pid
        return pid


MarkBoard.register("OpenedTasks", OpenedTasks)


class MarkSource(Protocol):
    """Marks as the driver reads them: ``OpenedTasks`` or its proxy in another process."""

    def taken(self, workflow_ids: Collection[str]) -> dict[str, str]: ...


class Marks:
    """Bare processes waiting for their next mark, polled at the platform's interval."""

    def __init__(self, opened: MarkSource) -> None:
        self._opened = opened
        self._waiting: dict[str, asyncio.Future[float]] = {}
        self.polls = 0  # requests to the board: the baseline's waiting load

    def expect(self, workflow_id: str) -> asyncio.Future[float]:
        """Resolves to the ``perf_counter`` of the poll that found the process's next mark."""
        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[workflow_id] = waiter
        return waiter

    async def poll(self, interval_s: float) -> None:
        try:
            while True:
                if self._waiting:
                    # One request a poll for every order waiting, off the loop as an HTTP GET is.
                    ready = await asyncio.to_thread(self._opened.taken, list(self._waiting))
                    self.polls += 1
                    seen = time.perf_counter()
                    for workflow_id in ready:
                        waiter = self._waiting.pop(workflow_id)
                        if not waiter.done():
                            waiter.set_result(seen)
                await asyncio.sleep(interval_s)
        except Exception as failure:
            fail_waiting(self._waiting, failure)
            raise


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

    rendered_early = {n for a in answers for batch in a for n in batch} & RENDER_ACTIVITIES
    if rendered_early:
        raise RuntimeError(f"the bare process renders after an answer only: {rendered_early}")
    phases = tuple(
        BarePhase(
            answer=tuple(len(batch) for batch in answer),
            then=tuple(len(batch) for batch in then),
            ready_at=_last_visible([name for batch in then for name in batch]),
            renders=_renders([name for batch in then for name in batch]),
        )
        for answer, then in zip(answers, thens, strict=True)
    )
    events = [number for number, name in enumerate(names, 1) if name == "record_carrier_event"]
    if len(events) != 4:
        raise RuntimeError(f"expected 4 carrier events in the order's history, found {names}")
    return RecordedOrder(BareScript(phases=phases), events[-1], tuple(names))


def _renders(names: list[str]) -> tuple[tuple[int, str], ...]:
    return tuple((number, name) for number, name in enumerate(names) if name in RENDER_ACTIVITIES)


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
        opened: MarkSource,
        poll_s: float,
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._shapes = shapes
        self._marks = Marks(opened)
        self._poll_s = poll_s
        self.progress = Progress()

    @property
    def polls(self) -> int:
        return self._marks.polls

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


@dataclass(frozen=True)
class BareDriveJob:
    """Everything the bare driver's process needs; ``opened`` is the mark board's proxy."""

    settings: Settings
    task_queue: str
    shapes: dict[bool, RecordedOrder]
    opened: MarkSource
    orders: int
    concurrency: int
    poll_s: float
    timeout_s: float


@dataclass(frozen=True)
class BareDriveResult:
    batch: BatchResult
    polls: int


def drive_bare(job: BareDriveJob) -> BareDriveResult:
    """Run in a process of its own: ``job.orders`` bare orders, every third dangerous goods."""
    return asyncio.run(_drive(job))


async def _drive(job: BareDriveJob) -> BareDriveResult:
    bare = BareOrders(
        client=await connect(job.settings, keyring_from_settings(job.settings)),
        task_queue=job.task_queue,
        shapes=job.shapes,
        opened=job.opened,
        poll_s=job.poll_s,
    )
    kinds = [is_dangerous(number) for number in range(job.orders)]
    async with bare.session():
        batch = await run_batch(
            bare.run,
            kinds,
            concurrency=job.concurrency,
            timeout_s=job.timeout_s,
            progress=bare.progress,
        )
    return BareDriveResult(batch, bare.polls)
