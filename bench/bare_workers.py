"""The baselines' workers: the platform's worker configuration with bare workflows and activities,
on the platform's queue layout (workflow tasks on one queue, activities on the I/O queue beside
it, where ``workflows.policies`` sends them), in the benchmark's process as the platform's are."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from temporalio.worker import Worker

from contracts.queues import io_queue
from stack.worker_roles import Workers


def bare_workers(
    platform: Workers,
    *,
    name: str,
    workflows: Sequence[type],
    activities: Sequence[Callable[..., Any]],
) -> Workers:
    queue = f"bench-bare-{name}-{uuid.uuid4().hex[:8]}"
    orchestrating = platform.config()
    orchestrating["task_queue"] = queue
    orchestrating["workflows"] = list(workflows)
    orchestrating["activities"] = []
    serving = platform.config()
    serving["task_queue"] = io_queue(queue)
    serving["workflows"] = []
    serving["activities"] = list(activities)
    return Workers([Worker(**orchestrating), Worker(**serving)], task_queue=queue)
