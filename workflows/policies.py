"""Activity timeouts and retry policies shared by every workflow, and the typed way to call one.

Every step has the same heartbeat timeout (``contracts.liveness``): the worker beats for it, so a
killed worker's attempt is retried within seconds rather than after the step's timeout.

Every activity call goes through ``call`` or ``run``, so this is where a step that failed for
good (``contracts.attention``: the worker classified its error as one retrying cannot cure) turns
into a question for ops instead of a silent failure: the running workflow opens its attention
task and, when ops answer retry, runs the step again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.attention import ATTENTION_PATCH, NEEDS_ATTENTION, AttentionOutcome
    from contracts.liveness import HEARTBEAT_TIMEOUT
    from contracts.queues import QUEUES_PATCH, activity_queue

T = TypeVar("T")


@dataclass(frozen=True)
class ActivityPolicy:
    retry: RetryPolicy
    timeout: timedelta


# Our own database: retry without limit, so an outage of any length only delays the process.
DATABASE = ActivityPolicy(
    RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=1),
        non_retryable_error_types=["InvalidRecord"],
    ),
    timedelta(seconds=30),
)

# Systems we do not own: back off to a few minutes and keep trying across long outages;
# their explicit rejections (4xx) are final.
EXTERNAL = ActivityPolicy(
    RetryPolicy(
        initial_interval=timedelta(seconds=2),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=5),
        non_retryable_error_types=["ExternalSystemRejected", "InvalidRecord"],
    ),
    timedelta(seconds=30),
)

# Pure validation: a wrong input stays wrong, so validation failures are never retried.
VALIDATION = ActivityPolicy(
    RetryPolicy(
        maximum_attempts=5, non_retryable_error_types=["ValidationFailed", "InvalidRecord"]
    ),
    timedelta(seconds=20),
)

DOCUMENT = ActivityPolicy(
    RetryPolicy(
        initial_interval=timedelta(seconds=2),
        maximum_interval=timedelta(minutes=2),
        non_retryable_error_types=["InvalidRecord"],
    ),
    timedelta(minutes=2),
)


class Attended(Protocol):
    """A workflow that can ask ops what to do about a step that failed for good."""

    async def attend(self, *, activity: str, error: str, skippable: bool) -> AttentionOutcome:
        """Open the attention task and wait for ops; raises to end the process."""
        ...


async def call(name: str, arg: object, result: type[T], *, policy: ActivityPolicy) -> T:
    """Run an activity by its registered name and return its typed result."""
    while True:
        try:
            value: T = await workflow.execute_activity(
                name,
                arg,
                result_type=result,
                task_queue=queue_for(name),
                start_to_close_timeout=policy.timeout,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=policy.retry,
            )
        except ActivityError as failure:
            await _attention(name, failure, skippable=False)
            continue
        return value


async def run(name: str, arg: object, *, policy: ActivityPolicy = DATABASE) -> None:
    """Run an activity that returns nothing; ops may skip it when it fails for good."""
    while True:
        try:
            await workflow.execute_activity(
                name,
                arg,
                task_queue=queue_for(name),
                start_to_close_timeout=policy.timeout,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=policy.retry,
            )
        except ActivityError as failure:
            if await _attention(name, failure, skippable=True) is AttentionOutcome.SKIP:
                return
            continue
        return


def queue_for(activity: str) -> str | None:
    """The I/O or render queue beside the workflow's own (``contracts.queues``); None (the
    workflow's own queue) in histories from before the split, which keep replaying as run."""
    if not workflow.patched(QUEUES_PATCH):
        return None
    return activity_queue(workflow.info().task_queue, activity)


async def _attention(name: str, failure: ActivityError, *, skippable: bool) -> AttentionOutcome:
    """Ops' answer to a step that failed for good; re-raises any failure ops cannot help with
    (business outcomes the workflow handles itself), and in histories from before the
    attention task existed."""
    cause = failure.cause
    if not (isinstance(cause, ApplicationError) and cause.type in NEEDS_ATTENTION):
        raise failure
    instance = workflow.instance()
    attend = getattr(instance, "attend", None)
    if attend is None or not workflow.patched(ATTENTION_PATCH):
        raise failure
    attended: Attended = instance
    return await attended.attend(
        activity=name, error=f"{cause.type}: {cause.message}", skippable=skippable
    )
