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
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
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
    as new ends too. The shared time-skipping server skips time only when every workflow on it
    is idle, and a workflow terminated with an activity in flight keeps it locked, so each is
    given a moment to finish its activities first."""
    for workflow_id in workflow_ids:
        handle = client.get_workflow_handle(workflow_id)
        with contextlib.suppress(RPCError):
            for _ in range(50):
                description = await handle.describe()
                if not description.raw_description.pending_activities:
                    break
                await asyncio.sleep(0.1)
            await handle.terminate("test finished")
