"""Activity timeouts and retry policies shared by every workflow, and the typed way to call one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

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


async def call(name: str, arg: object, result: type[T], *, policy: ActivityPolicy) -> T:
    """Run an activity by its registered name and return its typed result."""
    value: T = await workflow.execute_activity(
        name,
        arg,
        result_type=result,
        start_to_close_timeout=policy.timeout,
        retry_policy=policy.retry,
    )
    return value


async def run(name: str, arg: object, *, policy: ActivityPolicy = DATABASE) -> None:
    """Run an activity that returns nothing."""
    await workflow.execute_activity(
        name, arg, start_to_close_timeout=policy.timeout, retry_policy=policy.retry
    )
