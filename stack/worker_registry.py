"""What a worker serves: every workflow type, and every activity bound to the systems it reaches.

``worker.build_worker`` hands these to a Worker a queue (``contracts.queues``); the replay tests
replay every committed history against ``WORKFLOWS``. A new process adds its workflow here and
its activities to ``all_activities``, in one place, so no worker role can miss them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from activities.accreditation_checks import AccreditationChecks
from activities.accreditation_records import AccreditationRecords
from activities.carriage import CarriageRecords
from activities.catalogue_import import CatalogueImports
from activities.catalogue_orders import CatalogueOrderRecords
from activities.cold_chain import ColdChainActivities
from activities.documents import DocumentActivities
from activities.e_contracts import ContractDocuments
from activities.fulfilment_records import FulfilmentRecords
from activities.human_tasks import HumanTaskActivities
from activities.invoices import InvoiceActivities
from activities.loans import LoanActivities
from activities.notifications import NotificationActivities
from activities.sourcing_records import SourcingRecords
from activities.waybills import WaybillActivities
from gateways.bank import BankClient
from gateways.certification_registry import CertificationRegistryClient
from gateways.mail import MailClient
from gateways.receivables_registry import ReceivablesRegistryClient
from gateways.regulator import RegulatorClient
from gateways.webhooks import WebhookClient
from settings import Settings
from storage.object_store import ObjectStore
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
