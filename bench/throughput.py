"""Accreditations end to end on the dev server against the bare baseline of the same shape.

Each application is started, decided by a compliance update as soon as its review task opens and
timed until the update answers ``accredited`` (the certificate PDF is rendered and stored by
then). The baseline replays the activity batches of a recorded accreditation with no-op
activities on a worker built with the same settings.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Protocol

from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory, WorkflowUpdateFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from bench.bare_workers import bare_workers
from bench.bare_workflow import DONE, BareActivities, BareInput, BareWorkflow
from bench.opened import OpenedTasks
from bench.services import Services
from contracts.accreditation import (
    AccreditationWorkflowInput,
    ApplyInput,
    accreditation_workflow_id,
)
from contracts.tasks import DecideTaskInput, TaskAnswer, TaskStatus
from db.models import Document, HumanTask
from stack.temporal import ORG_ID, SUBJECT_ID
from tests.harness import builders as b
from worker import build_worker
from workflows.accreditation import AccreditationWorkflow

# How often the driver looks for opened tasks, the same for the platform and the baseline.
POLL_INTERVAL_S = 0.01
WARMUP_APPLICATIONS = 2
Starter = Callable[[], Awaitable[str]]


class Case(Protocol):
    def prepare(self, count: int) -> list[Starter]:
        """Everything a run needs that is not timed; one starter per process."""
        ...

    def opened(self, workflow_ids: Collection[str]) -> dict[str, str]:
        """Of these workflows, those whose review task is open, mapped to the task id."""
        ...

    async def decide(self, workflow_id: str, task_id: str) -> str:
        """Approve the task; the process's status once the workflow has acted on it."""
        ...


@dataclass(frozen=True)
class BatchResult:
    latencies_s: tuple[float, ...]
    wall_s: float
    stale_retries: int


@dataclass(frozen=True)
class ThroughputFigures:
    shape: BareInput
    platform: BatchResult
    baseline: BatchResult


def _stale(failure: WorkflowUpdateFailedError) -> bool:
    cause = failure.cause
    return isinstance(cause, ApplicationError) and cause.type == "StaleTask"


async def run_batch(case: Case, count: int, *, timeout_s: float) -> BatchResult:
    """Start ``count`` processes at once and decide each as soon as its task opens."""
    starters = await asyncio.to_thread(case.prepare, count)
    loop = asyncio.get_running_loop()
    waiting: dict[str, asyncio.Future[str]] = {}
    stop = asyncio.Event()
    retries = 0

    async def poll() -> None:
        while not stop.is_set():
            if waiting:
                ready = await asyncio.to_thread(case.opened, list(waiting))
                for workflow_id, task_id in ready.items():
                    waiter = waiting.pop(workflow_id, None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(task_id)
            await asyncio.sleep(POLL_INTERVAL_S)

    async def one(start: Starter) -> float:
        nonlocal retries
        began = time.perf_counter()
        workflow_id = await start()
        waiter: asyncio.Future[str] = loop.create_future()
        waiting[workflow_id] = waiter
        task_id = await waiter
        while True:
            try:
                status = await case.decide(workflow_id, task_id)
                break
            except WorkflowUpdateFailedError as failure:
                # The inbox row is committed a moment before the workflow holds the task open.
                if not _stale(failure):
                    raise
                retries += 1
                await asyncio.sleep(POLL_INTERVAL_S)
        if status != DONE:
            raise RuntimeError(f"{workflow_id} ended {status}, not {DONE}")
        return time.perf_counter() - began

    poller = asyncio.create_task(poll())
    began = time.perf_counter()
    try:
        latencies = await asyncio.wait_for(
            asyncio.gather(*(one(start) for start in starters)), timeout=timeout_s
        )
    finally:
        stop.set()
        await poller
    return BatchResult(tuple(latencies), time.perf_counter() - began, retries)


class PlatformCase:
    """Real accreditations: organisations, registry certificates and a stored licence each."""

    def __init__(self, services: Services, task_queue: str) -> None:
        self._services = services
        self._client = services.env.client
        self._task_queue = task_queue
        self.started: list[str] = []
        self.orgs: list[str] = []

    def prepare(self, count: int) -> list[Starter]:
        services = self._services
        today = date.today()
        starters: list[Starter] = []
        for _ in range(count):
            org = b.make_org(services.sessions)
            certificates = tuple(
                b.register_certificate(
                    services.registry,
                    holder=org.legal_name,
                    standard=standard,
                    issued=today - timedelta(days=200),
                    expires=today + timedelta(days=700),
                )
                for standard in ("ISO 9001", "ISO 14001")
            )
            licence = b.store_document(services.sessions, services.store, org_id=org.id)
            app = b.application(
                org=org,
                licence=licence,
                certificates=certificates,
                financials=b.healthy_years(today.year - 1),
            )
            self.orgs.append(org.id)
            starters.append(partial(self._start, app))
        return starters

    async def _start(self, app: ApplyInput) -> str:
        # As the API starts it: id from the business key, the same policies and attributes.
        handle = await self._client.start_workflow(
            AccreditationWorkflow.run,
            AccreditationWorkflowInput(application=app),
            id=accreditation_workflow_id(app.supplier_org_id),
            task_queue=self._task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(ORG_ID, app.supplier_org_id),
                    SearchAttributePair(SUBJECT_ID, app.application_id),
                ]
            ),
        )
        self.started.append(handle.id)
        return handle.id

    def opened(self, workflow_ids: Collection[str]) -> dict[str, str]:
        query = (
            select(HumanTask.workflow_id, HumanTask.id)
            .where(HumanTask.workflow_id.in_(workflow_ids))
            .where(HumanTask.status == TaskStatus.OPEN.value)
            .where(HumanTask.kind == "accreditation_review")
        )
        with self._services.sessions() as session:
            return {workflow_id: task_id for workflow_id, task_id in session.execute(query)}

    async def decide(self, workflow_id: str, task_id: str) -> str:
        answer: TaskAnswer = await self._client.get_workflow_handle(workflow_id).execute_update(
            "decide_task",
            DecideTaskInput(task_id=task_id, outcome="approve", actor=b.compliance_actor()),
            result_type=TaskAnswer,
        )
        return answer.process_status

    def certificates_issued(self) -> int:
        query = (
            select(func.count())
            .select_from(Document)
            .where(Document.org_id.in_(self.orgs))
            .where(Document.kind == "accreditation_certificate")
        )
        with self._services.sessions() as session:
            return session.scalar(query) or 0

    async def terminate_started(self) -> None:
        """Accredited processes stay alive watching their certificates; the run is over."""
        for workflow_id in self.started:
            try:
                await self._client.get_workflow_handle(workflow_id).terminate("benchmark done")
            except RPCError:
                continue
        self.started.clear()


class BareCase:
    def __init__(
        self, client: Client, task_queue: str, shape: BareInput, opened: OpenedTasks
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._shape = shape
        self._opened = opened

    def prepare(self, count: int) -> list[Starter]:
        return [self._start for _ in range(count)]

    async def _start(self) -> str:
        subject = uuid.uuid4().hex
        handle = await self._client.start_workflow(
            BareWorkflow.run,
            self._shape,
            id=f"BenchBare:{subject}",
            task_queue=self._task_queue,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(ORG_ID, "org_bench"),
                    SearchAttributePair(SUBJECT_ID, subject),
                ]
            ),
        )
        return handle.id

    def opened(self, workflow_ids: Collection[str]) -> dict[str, str]:
        return self._opened.taken(workflow_ids)

    async def decide(self, workflow_id: str, task_id: str) -> str:
        handle = self._client.get_workflow_handle(workflow_id)
        status: str = await handle.execute_update(BareWorkflow.decide_task, task_id)
        return status


def recorded_shape(history: WorkflowHistory) -> BareInput:
    """The batches of activities one workflow task scheduled, before and after the decision."""
    phases: tuple[list[int], list[int]] = ([], [])
    phase = 0
    batch = 0
    for event in history.events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            batch += 1
            continue
        if kind in (
            EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
        ):
            if batch:
                phases[phase].append(batch)
            batch = 0
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            phase = 1
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            break
    return BareInput(before=tuple(phases[0]), after=tuple(phases[1]))


async def measure_throughput(services: Services, *, applications: int) -> ThroughputFigures:
    client = services.env.client
    platform_worker = build_worker(
        client,
        settings=services.settings,
        sessions=services.sessions,
        store=services.store,
        registry=services.registry,
        task_queue=f"bench-platform-{uuid.uuid4().hex[:8]}",
    )
    opened = OpenedTasks()
    bare_activities = BareActivities(opened)
    # The baseline worker is the real one's configuration with other workflows and activities.
    bare_worker = bare_workers(
        platform_worker,
        name="accreditation",
        workflows=[BareWorkflow],
        activities=[bare_activities.noop, bare_activities.open_task],
    )
    timeout_s = 120.0 + 2.0 * applications
    platform = PlatformCase(services, platform_worker.task_queue)
    async with platform_worker, bare_worker:
        await run_batch(platform, WARMUP_APPLICATIONS, timeout_s=timeout_s)
        recorded = client.get_workflow_handle(platform.started[0])
        shape = recorded_shape(await recorded.fetch_history())
        await platform.terminate_started()
        bare = BareCase(client, bare_worker.task_queue, shape, opened)
        await run_batch(bare, WARMUP_APPLICATIONS, timeout_s=timeout_s)

        baseline = await run_batch(bare, applications, timeout_s=timeout_s)
        measured = await run_batch(platform, applications, timeout_s=timeout_s)
        await platform.terminate_started()
    issued = platform.certificates_issued()
    expected = WARMUP_APPLICATIONS + applications
    if issued != expected:
        raise RuntimeError(f"{issued} certificate PDFs stored for {expected} accreditations")
    return ThroughputFigures(shape=shape, platform=measured, baseline=baseline)
