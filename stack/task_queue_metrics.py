"""Backlog of each task queue, polled from Temporal, as gauges on a worker's metrics endpoint.

The SDK's own metrics say how long a task waited once a worker took it (schedule-to-start);
they cannot say how much still waits. The server can: DescribeTaskQueue reports an approximate
backlog count and the age of its oldest task per queue and task type, which is what decides
whether a queue needs more replicas. Every worker may poll (the figures are the server's, so
replicas agree); Prometheus takes any one, e.g. ``max by (task_queue, task_type)``.

Gauges, labelled ``task_queue`` and ``task_type`` (``workflow`` or ``activity``):
- ``tradeflow_task_queue_backlog``: tasks waiting for a worker (approximate);
- ``tradeflow_task_queue_backlog_age_seconds``: how long the oldest of them has waited.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.common import MetricMeter
from temporalio.service import RPCError

log = logging.getLogger("tradeflow.task_queues")

TASK_TYPES = {
    "workflow": TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    "activity": TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
}


@dataclass(frozen=True)
class Backlog:
    """What waits on one task queue for one task type."""

    task_queue: str
    task_type: str
    count: int
    oldest_age_s: float


async def describe_backlogs(client: Client, task_queues: Iterable[str]) -> list[Backlog]:
    """The server's approximate backlog of each queue, workflow and activity tasks apart."""
    backlogs: list[Backlog] = []
    for name in task_queues:
        for task_type, kind in TASK_TYPES.items():
            answer = await client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=client.namespace,
                    task_queue=TaskQueue(name=name),
                    task_queue_type=kind,
                    report_stats=True,
                ),
                timeout=timedelta(seconds=5),
            )
            stats = answer.stats
            backlogs.append(
                Backlog(
                    task_queue=name,
                    task_type=task_type,
                    count=stats.approximate_backlog_count,
                    oldest_age_s=stats.approximate_backlog_age.ToTimedelta().total_seconds(),
                )
            )
    return backlogs


async def publish_backlogs(
    client: Client,
    meter: MetricMeter,
    *,
    task_queues: Iterable[str],
    stop: asyncio.Event,
    poll_s: float = 15.0,
) -> None:
    """Set the backlog gauges every ``poll_s`` seconds until ``stop`` is set; a failed poll is
    logged and the gauges keep their last figures until the next one."""
    queues = sorted(set(task_queues))
    count = meter.create_gauge(
        "tradeflow_task_queue_backlog", "tasks waiting for a worker on the task queue"
    )
    age = meter.create_gauge_float(
        "tradeflow_task_queue_backlog_age_seconds",
        "how long the oldest task waiting on the task queue has waited",
        "s",
    )
    while not stop.is_set():
        try:
            for backlog in await describe_backlogs(client, queues):
                labels = {"task_queue": backlog.task_queue, "task_type": backlog.task_type}
                count.set(backlog.count, labels)
                age.set(backlog.oldest_age_s, labels)
        except RPCError as error:
            log.warning("task queue backlog not available", extra={"error": str(error)})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=poll_s)
