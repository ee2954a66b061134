"""The worker beats for its activities: a step outlasting its heartbeat timeout still completes in
its first attempt, a step's own progress survives the beats into its next attempts, and a step its
workflow cancels learns so from a beat and ends cancelled, not failed for good, and no longer
counted as retrying.

Real dev server, activities on threads as in the platform's workers. The heartbeat timeout here
is two seconds so the steps outlast it quickly; the platform's is ``contracts.liveness``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.workflow import ActivityCancellationType

from activities.failures import FailureInterceptor, RetryWatch
from activities.liveness import LivenessInterceptor
from tests.harness.temporal import new_task_queue

TIMEOUT = timedelta(seconds=2)


@activity.defn(name="outlasts_its_heartbeat_timeout")
def outlasts_its_heartbeat_timeout() -> int:
    time.sleep(TIMEOUT.total_seconds() * 2.5)  # the step's work, silent as a database write is
    return activity.info().attempt


@activity.defn(name="records_progress_then_fails")
def records_progress_then_fails() -> list[Any]:
    """Records progress in its first attempt only; its third reads what reached the server."""
    info = activity.info()
    if info.attempt == 1:
        activity.heartbeat(7)
    if info.attempt < 3:
        time.sleep(TIMEOUT.total_seconds() * 1.5)  # the worker beats meanwhile
        raise ConnectionError("lost its connection")  # transient: retried
    return list(info.heartbeat_details)


@activity.defn(name="works_until_cancelled")
def works_until_cancelled() -> None:
    if activity.info().attempt == 1:
        raise ConnectionError("lost its connection")  # transient: retried, so watched
    while True:  # cancellation is raised in this thread once a beat brings it back
        time.sleep(0.05)


@workflow.defn(name="CancellingProbe", sandboxed=False)
class CancellingProbe:
    @workflow.run
    async def run(self) -> str:
        step = workflow.start_activity(
            "works_until_cancelled",
            start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=TIMEOUT,
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100)),
        )
        await workflow.sleep(TIMEOUT)
        step.cancel()
        try:
            await step
        except ActivityError as ended:
            return type(ended.cause).__name__
        return "completed"


@workflow.defn(name="LivenessProbe", sandboxed=False)
class LivenessProbe:
    @workflow.run
    async def run(self, name: str) -> Any:
        return await workflow.execute_activity(
            name,
            start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=TIMEOUT,
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=100), maximum_attempts=3
            ),
        )


@pytest.fixture
def watch(sessions: sessionmaker[Session]) -> RetryWatch:
    return RetryWatch(sessions)


@pytest.fixture
async def queue(dev_env: WorkflowEnvironment, watch: RetryWatch) -> AsyncIterator[str]:
    queue = new_task_queue()
    async with Worker(
        dev_env.client,
        task_queue=queue,
        workflows=[LivenessProbe, CancellingProbe],
        activities=[
            outlasts_its_heartbeat_timeout,
            records_progress_then_fails,
            works_until_cancelled,
        ],
        activity_executor=ThreadPoolExecutor(max_workers=2),
        # As the platform's workers have them: the beats around the failures' classification.
        interceptors=[LivenessInterceptor(), FailureInterceptor(watch)],
    ):
        yield queue


async def _probe(env: WorkflowEnvironment, queue: str, activity_name: str) -> Any:
    return await env.client.execute_workflow(
        LivenessProbe.run,
        activity_name,
        id=f"liveness-{queue}-{activity_name}",
        task_queue=queue,
    )


async def test_a_step_longer_than_its_heartbeat_timeout_completes_in_its_first_attempt(
    dev_env: WorkflowEnvironment, queue: str
) -> None:
    assert await _probe(dev_env, queue, "outlasts_its_heartbeat_timeout") == 1


async def test_the_beats_repeat_the_steps_own_progress_for_its_next_attempts(
    dev_env: WorkflowEnvironment, queue: str
) -> None:
    assert await _probe(dev_env, queue, "records_progress_then_fails") == [7]


async def test_a_step_its_workflow_cancels_ends_cancelled_not_failed_for_good(
    dev_env: WorkflowEnvironment, queue: str, watch: RetryWatch
) -> None:
    ended = await dev_env.client.execute_workflow(
        CancellingProbe.run, id=f"liveness-{queue}-cancelled", task_queue=queue
    )
    assert ended == "CancelledError"
    assert watch.retrying() == {}  # it failed once, and will not be retried now
