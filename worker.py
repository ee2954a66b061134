"""The worker processes: the only place that wires workflows, activities, executors and client.

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
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from activities.accreditation_checks import AccreditationChecks
from activities.accreditation_records import AccreditationRecords
from activities.carriage import CarriageRecords
from activities.catalogue_checking import use_check_processes
from activities.catalogue_import import CatalogueImports
from activities.catalogue_orders import CatalogueOrderRecords
from activities.cold_chain import ColdChainActivities
from activities.documents import DocumentActivities
from activities.e_contracts import ContractDocuments
from activities.failures import FailureInterceptor, RetryWatch
from activities.fulfilment_records import FulfilmentRecords
from activities.human_tasks import HumanTaskActivities
from activities.invoices import InvoiceActivities
from activities.liveness import LivenessInterceptor
from activities.loans import LoanActivities
from activities.notifications import NotificationActivities
from activities.sourcing_records import SourcingRecords
from activities.waybills import WaybillActivities
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
from stack.worker_roles import ALL_ROLES, Workers, parse_roles
from storage.object_store import ObjectStore, object_store_from_settings
from workflows.accreditation import AccreditationWorkflow
from workflows.catalogue_import import CatalogueImportWorkflow
from workflows.catalogue_order import CatalogueOrderWorkflow
from workflows.cold_chain import ColdChainWorkflow
from workflows.contract import ContractWorkflow
from workflows.loan import LoanWorkflow
from workflows.notification import NotificationWorkflow
from workflows.order import OrderWorkflow
from workflows.reconciliation import ReconciliationWorkflow
from workflows.rfq import RfqWorkflow

WORKFLOWS = [
    AccreditationWorkflow,
    RfqWorkflow,
    ContractWorkflow,
    OrderWorkflow,
    ColdChainWorkflow,
    LoanWorkflow,
    ReconciliationWorkflow,
    NotificationWorkflow,
    CatalogueImportWorkflow,
    CatalogueOrderWorkflow,
]


# Threads serving activities scheduled on the workflows' queue by workflows from before the split
# (``contracts.queues.QUEUES_PATCH``); drop with the patch once none of them runs.
LEGACY_CONCURRENCY = 4


def activity_name(function: Callable[..., Any]) -> str:
    """The name an activity is registered (and scheduled) under."""
    name = activity._Definition.must_from_callable(function).name
    if name is None:  # a dynamic activity: none is registered here
        raise ValueError(f"{function!r} has no activity name")
    return name


@dataclass(frozen=True)
class Systems:
    """What the activities reach: the database, the object store and the outside systems."""

    settings: Settings
    sessions: sessionmaker[Session]
    store: ObjectStore
    registry: CertificationRegistryClient
    regulator: RegulatorClient
    bank: BankClient
    receivables_registry: ReceivablesRegistryClient
    mail: MailClient
    webhooks: WebhookClient


def all_activities(systems: Systems) -> list[Callable[..., Any]]:
    """Every activity, bound to its clients; ``RENDER_ACTIVITIES`` among them render PDFs."""
    settings, sessions, store = systems.settings, systems.sessions, systems.store
    records = AccreditationRecords(sessions)
    checks = AccreditationChecks(sessions, systems.registry)
    documents = DocumentActivities(sessions, store)
    tasks = HumanTaskActivities(sessions)
    sourcing = SourcingRecords(sessions)
    catalogue_orders = CatalogueOrderRecords(sessions)
    contract_documents = ContractDocuments(sessions, store)
    fulfilment = FulfilmentRecords(sessions)
    carriage = CarriageRecords(sessions)
    invoices = InvoiceActivities(sessions, store)
    cold_chain = ColdChainActivities(sessions, store)
    catalogue_imports = CatalogueImports(sessions, store)
    waybills = WaybillActivities(sessions, store, systems.regulator)
    loans = LoanActivities(
        sessions,
        systems.bank,
        systems.receivables_registry,
        platform_account=settings.bank_platform_account,
    )
    notifications = NotificationActivities(
        sessions,
        systems.mail,
        systems.webhooks,
        allow_loopback_webhooks=settings.webhook_allow_loopback,
    )
    return [
        records.record_application,
        records.record_check_report,
        records.set_application_status,
        records.record_accreditation,
        checks.check_credit_code,
        checks.verify_certificate,
        checks.verify_transport_licence,
        checks.analyse_financials,
        documents.issue_accreditation_certificate,
        tasks.open_task,
        tasks.escalate_task,
        tasks.close_task,
        tasks.notify,
        sourcing.record_rfq,
        sourcing.set_rfq_status,
        sourcing.record_quote,
        sourcing.record_decline,
        sourcing.load_standings,
        sourcing.rank_quotes,
        sourcing.load_approval_policy,
        sourcing.record_contract,
        catalogue_orders.record_catalogue_purchase,
        catalogue_orders.settle_catalogue_purchase,
        catalogue_orders.catalogue_contract_executed,
        contract_documents.render_contract,
        contract_documents.sign_contract,
        fulfilment.record_order,
        fulfilment.set_order_status,
        fulfilment.record_shipments,
        fulfilment.set_shipment_status,
        fulfilment.reserve_stock,
        fulfilment.release_stock,
        fulfilment.record_carrier_event,
        fulfilment.record_payment,
        carriage.assign_carrier,
        carriage.record_consignment,
        carriage.record_loading_check,
        invoices.issue_invoice,
        cold_chain.open_cold_trip,
        cold_chain.begin_cold_trip,
        cold_chain.assess_cold_trip,
        cold_chain.arrive_cold_trip,
        cold_chain.record_cold_decision,
        waybills.check_waybill,
        waybills.file_waybill,
        waybills.seal_waybill,
        waybills.file_waybill_status,
        loans.record_loan,
        loans.check_loan,
        loans.set_loan_status,
        loans.assess_loan,
        loans.register_receivable,
        loans.disburse_loan,
        loans.apply_repayment,
        loans.remit_to_supplier,
        loans.release_registration,
        loans.write_off_loan,
        loans.loan_for_order,
        loans.reconcile_bank,
        notifications.plan_deliveries,
        notifications.deliver,
        notifications.fail_delivery,
        catalogue_imports.check_catalogue_import,
        catalogue_imports.write_catalogue_batch,
        catalogue_imports.finish_catalogue_import,
    ]


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
    interceptors = [FailureInterceptor(watch or RetryWatch(sessions)), LivenessInterceptor()]

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
