"""Helpers for driving workflows in tests."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

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


def new_task_queue() -> str:
    """A task queue of the test's own, so workers of other tests never pick up its tasks."""
    return f"tq-{uuid.uuid4().hex[:12]}"


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, attempts: int = 200, interval: float = 0.05
) -> T:
    """Poll ``probe`` until it returns something; fail loudly when it never does."""
    for _ in range(attempts):
        result = await probe()
        if result is not None:
            return result
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not reached after {attempts} attempts")


async def open_review_task(handle: WorkflowHandle[Any, Any]) -> str:
    """The id of the accreditation's review task once the workflow holds it open."""

    async def opened() -> str | None:
        try:
            view = await handle.query(
                "get_status", result_type=AccreditationView, rpc_timeout=timedelta(seconds=5)
            )
        except RPCError as error:
            # A query goes to the worker that last ran the workflow. When that worker was
            # killed, the server keeps routing there until it notices the poller is gone, and
            # the query times out meanwhile; the next one reaches the live worker.
            if error.status not in (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED):
                raise
            return None
        return next((t for t in view.open_task_ids if t.endswith(":review")), None)

    return await eventually(opened, attempts=600, interval=0.1)


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
