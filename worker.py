"""The worker process: the only place that wires workflows, activities, executor and client."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from activities.accreditation_checks import AccreditationChecks
from activities.accreditation_records import AccreditationRecords
from activities.carriage import CarriageRecords
from activities.cold_chain import ColdChainActivities
from activities.documents import DocumentActivities
from activities.e_contracts import ContractDocuments
from activities.failures import FailureInterceptor, RetryWatch
from activities.fulfilment_records import FulfilmentRecords
from activities.human_tasks import HumanTaskActivities
from activities.invoices import InvoiceActivities
from activities.loans import LoanActivities
from activities.notifications import NotificationActivities
from activities.sourcing_records import SourcingRecords
from activities.waybills import WaybillActivities
from contracts.finance import RECONCILIATION_WORKFLOW_ID
from db.session import make_engine, make_session_factory
from gateways.bank import BankClient
from gateways.certification_registry import CertificationRegistryClient
from gateways.mail import MailClient
from gateways.receivables_registry import ReceivablesRegistryClient
from gateways.regulator import RegulatorClient
from gateways.webhooks import WebhookClient
from security.columns import install_column_keyring
from security.keys import keyring_from_settings
from settings import Settings, get_settings
from stack.event_relay import relay_events
from stack.logs import configure_logging
from stack.temporal import connect, runtime_with_metrics
from storage.object_store import ObjectStore, object_store_from_settings
from workflows.accreditation import AccreditationWorkflow
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
]


def build_worker(
    client: Client,
    *,
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
) -> Worker:
    records = AccreditationRecords(sessions)
    checks = AccreditationChecks(sessions, registry)
    documents = DocumentActivities(sessions, store)
    tasks = HumanTaskActivities(sessions)
    sourcing = SourcingRecords(sessions)
    contract_documents = ContractDocuments(sessions, store)
    fulfilment = FulfilmentRecords(sessions)
    carriage = CarriageRecords(sessions)
    invoices = InvoiceActivities(sessions, store)
    cold_chain = ColdChainActivities(sessions, store)
    waybills = WaybillActivities(
        sessions, store, regulator or RegulatorClient.from_settings(settings)
    )
    loans = LoanActivities(
        sessions,
        bank or BankClient.from_settings(settings),
        receivables_registry or ReceivablesRegistryClient.from_settings(settings),
        platform_account=settings.bank_platform_account,
    )
    notifications = NotificationActivities(
        sessions,
        mail or MailClient.from_settings(settings),
        webhooks or WebhookClient.from_settings(settings),
        allow_loopback_webhooks=settings.webhook_allow_loopback,
    )
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=WORKFLOWS,
        activities=[
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
        ],
        # Database, S3 and weasyprint block: synchronous activities on threads.
        activity_executor=ThreadPoolExecutor(max_workers=16),
        max_concurrent_activities=16,
        max_cached_workflows=max_cached_workflows,
        interceptors=[FailureInterceptor(watch or RetryWatch(sessions))],
        graceful_shutdown_timeout=timedelta(seconds=10),
    )


async def start_reconciliation(client: Client, task_queue: str) -> None:
    """The daily bank reconciliation runs for as long as the platform does: started by every
    worker, it is the one already running whenever there is one."""
    await client.start_workflow(
        ReconciliationWorkflow.run,
        id=RECONCILIATION_WORKFLOW_ID,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )


async def main() -> None:
    settings = get_settings()
    configure_logging("worker")
    keyring = keyring_from_settings(settings)
    install_column_keyring(keyring)
    runtime = runtime_with_metrics(settings.metrics_port)
    client = await connect(settings, keyring, runtime=runtime)
    sessions = make_session_factory(make_engine(settings.database_url))
    watch = RetryWatch(sessions, runtime.metric_meter if runtime else None)
    worker = build_worker(
        client,
        settings=settings,
        sessions=sessions,
        store=object_store_from_settings(settings),
        registry=CertificationRegistryClient.from_settings(settings),
        regulator=RegulatorClient.from_settings(settings),
        watch=watch,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        await start_reconciliation(client, settings.task_queue)
        relay = asyncio.create_task(
            relay_events(
                client,
                sessions,
                task_queue=settings.task_queue,
                stop=stop,
                poll_s=settings.notification_relay_poll_s,
            )
        )
        logging.getLogger("tradeflow.worker").info(
            "worker running", extra={"task_queue": settings.task_queue}
        )
        # The oldest retry's age grows between failures: keep the gauge current.
        while not stop.is_set():
            watch.publish()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=15)
        await relay


if __name__ == "__main__":
    asyncio.run(main())
