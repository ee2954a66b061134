"""A worker's metrics endpoint shows each task queue's backlog (polled from the dev server) and
the SDK's schedule-to-start latency labelled by task queue: scraped over HTTP and parsed."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from gateways.certification_registry import CertificationRegistryClient
from security.keys import KeyRing
from settings import Settings
from stack.task_queue_metrics import publish_backlogs
from stack.temporal import connect, runtime_with_metrics
from storage.object_store import ObjectStore
from tests.harness import builders as b
from tests.harness.api_server import free_port
from tests.harness.temporal import (
    eventually,
    new_task_queue,
    open_review_task,
    start_accreditation,
    terminate_all,
)
from worker import build_worker


def scrape(url: str, name: str, task_queue: str) -> dict[str, float]:
    """One metric's samples for one task queue, by task type."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(httpx.get(url, timeout=10).text):
        for sample in family.samples:
            if sample.name == name and sample.labels.get("task_queue") == task_queue:
                found[sample.labels.get("task_type", "")] = sample.value
    return found


def by_queue(url: str, name: str) -> dict[str, float]:
    """One metric's samples by task queue."""
    return {
        sample.labels["task_queue"]: sample.value
        for family in text_string_to_metric_families(httpx.get(url, timeout=10).text)
        for sample in family.samples
        if sample.name == name and "task_queue" in sample.labels
    }


async def test_backlog_and_schedule_to_start_per_task_queue(
    settings: Settings,
    dev_env: WorkflowEnvironment,
    keyring: KeyRing,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
) -> None:
    port = free_port()
    runtime = runtime_with_metrics(port)
    assert runtime is not None
    queue = new_task_queue()
    worker_settings = settings.model_copy(
        update={
            "task_queue": queue,
            "temporal_address": dev_env.client.service_client.config.target_host,
        }
    )
    client = await connect(worker_settings, keyring, runtime=runtime)
    metrics = f"http://127.0.0.1:{port}/metrics"
    stop = asyncio.Event()
    polling = asyncio.create_task(
        publish_backlogs(client, runtime.metric_meter, task_queues=[queue], stop=stop, poll_s=0.2)
    )
    # No worker yet: the application's first workflow task waits on the queue.
    handle = await start_accreditation(
        client, b.one_certificate_application(sessions, store, registry), task_queue=queue
    )
    try:

        async def waiting() -> dict[str, float] | None:
            backlog = scrape(metrics, "tradeflow_task_queue_backlog", queue)
            assert backlog.get("workflow", 0) >= 1, backlog
            return backlog

        backlog = await eventually(waiting, what="a workflow task in the backlog", attempts=300)
        assert backlog.get("activity") == 0
        ages = scrape(metrics, "tradeflow_task_queue_backlog_age_seconds", queue)
        assert ages["workflow"] >= 0

        async with build_worker(
            client, settings=worker_settings, sessions=sessions, store=store, registry=registry
        ):
            await open_review_task(handle)  # its checks ran: activities were scheduled, taken
            workflow_tasks = by_queue(
                metrics, "temporal_workflow_task_schedule_to_start_latency_count"
            )
            assert workflow_tasks[queue] >= 1
            # Activities run on the workflow's queue or on one of its family (``<queue>-io``).
            activities = by_queue(metrics, "temporal_activity_schedule_to_start_latency_count")
            assert sum(n for q, n in activities.items() if q.startswith(queue)) >= 1, activities
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        await terminate_all(client, [handle.id])
