"""The worker processes: where what a worker serves (``stack.worker_registry``) meets its
executors, interceptors and client.

Work is split by task queue so each part scales on its own (``contracts.queues``): workflow
tasks on ``TRADEFLOW_TASK_QUEUE``, I/O activities (database, object store, gateways) on
``<queue>-io`` in threads, and the activities that render PDFs on ``<queue>-render``, whose
weasyprint work runs in processes (``documents.render``) so it never holds the lock a workflow
activation needs. ``python worker.py --roles workflows,io,render,singletons`` starts any subset
(default all); run one process with ``singletons`` per cluster (the reconciliation's start, the
notification relay, the audit sealer and the catalogue price refresher) and as many of each
other role as the load needs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from activities.catalogue_checking import use_check_processes
from activities.failures import FailureInterceptor, RetryWatch
from activities.liveness import LivenessInterceptor
from contracts.finance import RECONCILIATION_WORKFLOW_ID
from contracts.queues import RENDER_ACTIVITIES, Role, io_queue, render_queue
from db.catalogue_prices import refresh_forever
from db.session import make_engine, make_session_factory
from documents.render import use_render_processes
from gateways.bank import BankClient
from gateways.certification_registry import CertificationRegistryClient
from gateways.mail import MailClient
from gateways.receivables_registry import ReceivablesRegistryClient
from gateways.regulator import RegulatorClient
from gateways.webhooks import WebhookClient
from security.audit_checkpoints import checkpoint_signer_from_settings
from security.columns import install_column_keyring
from security.keys import keyring_from_settings
from settings import Settings, get_settings
from stack.audit_divider import divide_forever
from stack.audit_sealer import CheckpointPolicy, seal_forever
from stack.event_relay import relay_events
from stack.logs import configure_logging
from stack.task_queue_metrics import publish_backlogs
from stack.temporal import connect, runtime_with_metrics
from stack.tracing import configure_tracing
from stack.worker_registry import WORKFLOWS, Systems, activity_name, all_activities
from stack.worker_roles import ALL_ROLES, Workers, parse_roles
from storage.object_store import ObjectStore, object_store_from_settings
from workflows.reconciliation import ReconciliationWorkflow

# Threads serving activities scheduled on the workflows' queue by workflows from before the split
# (``contracts.queues.QUEUES_PATCH``); drop with the patch once none of them runs.
LEGACY_CONCURRENCY = 4


def build_worker(
    client: Client,
    *,
    roles: frozenset[Role] = ALL_ROLES,
    settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
    regulator: RegulatorClient | None = None,
    bank: BankClient | None = None,
    receivables_registry: ReceivablesRegistryClient | None = None,
    mail: MailClient | None = None,
    webhooks: WebhookClient | None = None,
    task_queue: str | None = None,
    max_cached_workflows: int = 1000,
    watch: RetryWatch | None = None,
) -> Workers:
    """One Worker a queue the ``roles`` serve (tests and benchmarks: all in one process, PDFs
    rendered in place unless the caller gave it render processes). The I/O role also serves,
    on the workflows' queue, any activity a workflow from before the split schedules there."""
    queue = task_queue or settings.task_queue
    activities = all_activities(
        Systems(
            settings,
            sessions,
            store,
            registry,
            regulator or RegulatorClient.from_settings(settings),
            bank or BankClient.from_settings(settings),
            receivables_registry or ReceivablesRegistryClient.from_settings(settings),
            mail or MailClient.from_settings(settings),
            webhooks or WebhookClient.from_settings(settings),
        )
    )
    rendering = [a for a in activities if activity_name(a) in RENDER_ACTIVITIES]
    io = [a for a in activities if activity_name(a) not in RENDER_ACTIVITIES]
    # The beats outermost: the failure interceptor's own writes (an incident) are beaten for too.
    interceptors = [LivenessInterceptor(), FailureInterceptor(watch or RetryWatch(sessions))]

    def activity_worker(
        on: str, served: list[Callable[..., Any]], concurrency: int, **more: Any
    ) -> Worker:
        # Database, S3 and the wait for a render process block: synchronous activities on threads.
        return Worker(
            client,
            task_queue=on,
            activities=served,
            activity_executor=ThreadPoolExecutor(max_workers=concurrency),
            max_concurrent_activities=concurrency,
            interceptors=interceptors,
            graceful_shutdown_timeout=timedelta(seconds=10),
            **more,
        )

    workers: list[Worker] = []
    if Role.WORKFLOWS in roles:
        workflows: dict[str, Any] = dict(
            workflows=WORKFLOWS,
            max_cached_workflows=max_cached_workflows,
            max_concurrent_workflow_tasks=settings.workflow_concurrency,
        )
        if Role.IO in roles:  # one Worker on the workflows' queue serves both
            workers.append(activity_worker(queue, activities, LEGACY_CONCURRENCY, **workflows))
        else:
            workers.append(Worker(client, task_queue=queue, **workflows))
    elif Role.IO in roles:
        workers.append(activity_worker(queue, activities, LEGACY_CONCURRENCY))
    if Role.IO in roles:
        workers.append(activity_worker(io_queue(queue), io, settings.io_concurrency))
    if Role.RENDER in roles:
        workers.append(activity_worker(render_queue(queue), rendering, settings.render_concurrency))
    return Workers(workers, task_queue=queue)


async def start_reconciliation(client: Client, task_queue: str) -> None:
    """The daily bank reconciliation runs for as long as the platform does: started by the
    singletons' process, it is the one already running whenever there is one."""
    await client.start_workflow(
        ReconciliationWorkflow.run,
        id=RECONCILIATION_WORKFLOW_ID,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


def parse_arguments(argv: Sequence[str] | None = None) -> frozenset[Role]:
    parser = argparse.ArgumentParser(description="Run Tradeflow's workers.")
    parser.add_argument(
        "--roles",
        default="all",
        help="comma-separated: workflows, io, render, singletons (once per cluster); default all",
    )
    arguments = parser.parse_args(argv)
    try:
        return parse_roles(arguments.roles)
    except ValueError as refused:
        parser.error(str(refused))


async def main(roles: frozenset[Role]) -> None:
    settings = get_settings()
    configure_logging("worker")
    keyring = keyring_from_settings(settings)
    install_column_keyring(keyring)
    if Role.RENDER in roles:
        use_render_processes(settings.render_processes)
    if Role.IO in roles:
        use_check_processes(settings.catalogue_check_processes)
    configure_tracing(settings, service="worker-" + "-".join(sorted(r.value for r in roles)))
    runtime = runtime_with_metrics(settings.metrics_port, settings.metrics_host)
    client = await connect(settings, keyring, runtime=runtime)
    sessions = make_session_factory(make_engine(settings.database_url))
    watch = RetryWatch(sessions, runtime.metric_meter if runtime else None)
    store = object_store_from_settings(settings)
    workers = build_worker(
        client,
        roles=roles,
        settings=settings,
        sessions=sessions,
        store=store,
        registry=CertificationRegistryClient.from_settings(settings),
        regulator=RegulatorClient.from_settings(settings),
        watch=watch,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    duties: list[asyncio.Task[None]] = []
    async with workers:
        if Role.SINGLETONS in roles:
            await start_reconciliation(client, settings.task_queue)
            duties.append(
                asyncio.create_task(
                    relay_events(
                        client,
                        sessions,
                        task_queue=settings.task_queue,
                        stop=stop,
                        poll_s=settings.notification_relay_poll_s,
                    )
                )
            )
            duties.append(
                asyncio.create_task(
                    seal_forever(
                        sessions,
                        store,
                        checkpoint_signer_from_settings(settings),
                        stop,
                        settings.audit_seal_poll_s,
                        policy=CheckpointPolicy(
                            settings.audit_checkpoint_every, settings.audit_checkpoint_s
                        ),
                    )
                )
            )
            duties.append(
                asyncio.create_task(
                    divide_forever(
                        sessions,
                        store,
                        checkpoint_signer_from_settings(settings),
                        stop,
                        settings.audit_checkpoint_s,
                        every=settings.audit_checkpoint_every,
                    )
                )
            )
            duties.append(
                asyncio.create_task(
                    refresh_forever(sessions, stop, settings.catalogue_prices_poll_s)
                )
            )
            if runtime:
                queue = settings.task_queue
                duties.append(
                    asyncio.create_task(
                        publish_backlogs(
                            client,
                            runtime.metric_meter,
                            task_queues=[queue, io_queue(queue), render_queue(queue)],
                            stop=stop,
                        )
                    )
                )
        logging.getLogger("tradeflow.worker").info(
            "worker running",
            extra={
                "task_queue": settings.task_queue,
                "roles": ",".join(sorted(role.value for role in roles)),
            },
        )
        # The oldest retry's age grows between failures: keep the gauge current.
        while not stop.is_set():
            watch.publish()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=15)
        await asyncio.gather(*duties)


if __name__ == "__main__":
    asyncio.run(main(parse_arguments()))
