"""Helpers for driving workflows in tests."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from contracts.accreditation import (
    AccreditationOutcome,
    AccreditationView,
    AccreditationWorkflowInput,
    ApplyInput,
    accreditation_workflow_id,
)
from contracts.common import Actor
from contracts.tasks import DecideTaskInput, TaskAnswer
from workflows.accreditation import AccreditationWorkflow

T = TypeVar("T")


async def skip_time(env: WorkflowEnvironment, duration: timedelta) -> None:
    """``env.sleep`` on the time-skipping server, with room for a loaded machine: the server
    moves its clock only while no activity runs, so activities made slow by load (a PDF, a
    ranking) hold its answer past the client's default RPC timeout, which then fails the test."""
    request = SleepRequest()
    request.duration.FromTimedelta(duration)
    await env.client.test_service.unlock_time_skipping_with_sleep(
        request, timeout=timedelta(minutes=5)
    )


def new_task_queue() -> str:
    """A task queue of the test's own, so workers of other tests never pick up its tasks."""
    return f"tq-{uuid.uuid4().hex[:12]}"


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    what: str = "",
    attempts: int = 200,
    interval: float = 0.05,
) -> T:
    """Poll ``probe`` until it returns something other than None.

    A probe says what it sees by failing an ``assert`` with it (``assert row.status == "x",
    row.status``): that counts as "not yet", and the last one seen is what the failure reports,
    so a condition never reached says why. Other exceptions end the wait at once, as before.
    ``what`` names the condition in the failure; it defaults to the probe's name.
    """
    started = time.monotonic()
    seen: AssertionError | None = None
    for _ in range(attempts):
        try:
            result = await probe()
        except AssertionError as not_yet:
            seen = not_yet
        else:
            if result is not None:
                return result
            seen = None
        await asyncio.sleep(interval)
    waited = time.monotonic() - started
    last = f"the probe failed with: {seen}" if seen else "the probe returned None"
    raise AssertionError(
        f"{what or getattr(probe, '__qualname__', 'condition')} not reached after "
        f"{attempts} attempts in {waited:.1f} s; last time {last}"
    ) from seen


async def open_review_task(handle: WorkflowHandle[Any, Any]) -> str:
    """The id of the accreditation's review task once the workflow holds it open."""

    async def opened() -> str | None:
        try:
            view: AccreditationView = await handle.query(
                "get_status", result_type=AccreditationView, rpc_timeout=timedelta(seconds=5)
            )
        except RPCError as error:
            # A query goes to the worker that last ran the workflow. When that worker was
            # killed, the server keeps routing there until it notices the poller is gone, and
            # the query times out meanwhile; the next one reaches the live worker.
            if error.status not in (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED):
                raise
            raise AssertionError(f"the status query failed: {error}") from error
        review = next((t for t in view.open_task_ids if t.endswith(":review")), None)
        assert review, f"status {view.status.value}, open tasks {list(view.open_task_ids)}"
        return review

    return await eventually(
        opened, what=f"the review task of {handle.id}", attempts=600, interval=0.1
    )


def refusal(error: pytest.ExceptionInfo[WorkflowUpdateFailedError]) -> tuple[str, str]:
    """The type and message a workflow's validator or handler refused an update with."""
    cause = error.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.type or "", cause.message


async def approve(handle: WorkflowHandle[Any, Any], task_id: str, actor: Actor) -> TaskAnswer:
    answer: TaskAnswer = await handle.execute_update(
        "decide_task",
        DecideTaskInput(task_id=task_id, outcome="approve", actor=actor),
        result_type=TaskAnswer,
    )
    return answer


async def start_accreditation(
    client: Client, app: ApplyInput, *, task_queue: str
) -> WorkflowHandle[AccreditationWorkflow, AccreditationOutcome]:
    """Start an application's workflow the way the API does: id from the business key."""
    return await client.start_workflow(
        AccreditationWorkflow.run,
        AccreditationWorkflowInput(application=app),
        id=accreditation_workflow_id(app.supplier_org_id),
        task_queue=task_queue,
    )


async def terminate_all(client: Client, workflow_ids: Iterable[str]) -> None:
    """End whatever still runs under these ids, by id: the latest run, so a chain that continued
    as new ends too. The time-skipping server skips time only when no workflow task or activity
    is in flight, and it never releases that hold for a workflow terminated meanwhile: the clock
    stays locked for good and the next ``skip_time`` on that server waits until it times out.
    So each is first given up to 20 s to settle."""
    for workflow_id in workflow_ids:
        handle = client.get_workflow_handle(workflow_id)
        with contextlib.suppress(RPCError):
            for _ in range(200):
                if await in_flight(handle) is None:
                    break
                await asyncio.sleep(0.1)
            await handle.terminate("test finished")


async def in_flight(handle: WorkflowHandle[Any, Any]) -> str | None:
    """What a running workflow has in flight (activities, a workflow task), None when it is idle
    or has ended. The workflow task is counted from the history: the time-skipping server's
    ``describe`` leaves ``pending_workflow_task`` unset even while one waits for a worker."""
    description = await handle.describe()
    if description.status != WorkflowExecutionStatus.RUNNING:
        return None
    activities = description.raw_description.pending_activities
    if activities:
        return "activities " + ", ".join(a.activity_type.name for a in activities)
    open_tasks = 0
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
            open_tasks += 1
        elif event.event_type in WORKFLOW_TASK_CLOSED:
            open_tasks -= 1
    return "a workflow task" if open_tasks > 0 else None


WORKFLOW_TASK_CLOSED = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
    }
)
