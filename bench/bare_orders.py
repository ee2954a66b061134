"""The baseline of the order benchmark: bare processes of the phases recorded from a real order
of each kind (same phases of activities, no-ops except where the order renders a PDF, which the
bare process renders too; an update where the order takes one), driven through the Temporal
client, their in-memory marks polled at the platform's interval."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory

from bench.bare_workflow import BarePhase, BareProcessWorkflow, BareScript
from bench.batches import OrderTiming, Progress, polling
from bench.opened import OpenedTasks
from contracts.queues import RENDER_ACTIVITIES

# Activities whose completion the platform driver can see: an inbox row, an order's status.
VISIBLE_ACTIVITIES = frozenset({"open_task", "set_order_status"})


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
