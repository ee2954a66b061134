"""Orders straight from the catalogue on the time-skipping server, with real activities: the
stock held once, the purchase recorded as an RFQ whose quote is the offer's terms, the contract
an award would draft run through signatures into an order; a declined contract gives the stock
back, but a contract whose process failed after executing it keeps it and the purchase ends
ordered; stock no longer covering the order ends it refused, holding nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.catalogue_orders import CatalogueOrderRecords
from contracts.attention import ATTENTION_TASK_KIND
from contracts.catalogue_orders import (
    CatalogueOrderInput,
    CatalogueOrderOutcome,
    PurchaseStatus,
    SettlePurchaseInput,
    catalogue_order_workflow_id,
    purchase_contract_id,
)
from contracts.common import Role
from contracts.fulfilment import order_id_for, order_workflow_id
from contracts.sourcing import contract_workflow_id
from db.catalogue_purchases import CataloguePurchase
from db.models import Contract, HumanTask, Notification, QuoteRecord, Rfq
from db.session import transaction
from gateways.certification_registry import CertificationRegistryClient
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness import builders as b
from tests.harness import catalogue_offers as c
from tests.harness import sourcing as s
from tests.harness.histories import record_history
from tests.harness.postgres import rows
from tests.harness.temporal import eventually, new_task_queue, terminate_all
from tests.workflows.test_order import time_skipping_env
from tests.workflows.test_sourcing import decide
from worker import build_worker
from workflows.catalogue_order import CatalogueOrderWorkflow

__all__ = ["time_skipping_env"]  # the fixture: a server for this module alone

PurchaseHandle = WorkflowHandle[CatalogueOrderWorkflow, CatalogueOrderOutcome]


@dataclass
class Harness:
    env: WorkflowEnvironment
    client: Client
    task_queue: str
    sessions: sessionmaker[Session]
    store: ObjectStore
    started: list[str] = field(default_factory=list)

    async def start(self, purchase: CatalogueOrderInput) -> PurchaseHandle:
        handle = await self.client.start_workflow(
            CatalogueOrderWorkflow.run,
            purchase,
            id=catalogue_order_workflow_id(purchase.purchase_id),
            task_queue=self.task_queue,
        )
        contract_id = purchase_contract_id(purchase.purchase_id)
        self.started += [
            order_workflow_id(order_id_for(contract_id)),
            contract_workflow_id(contract_id),
            handle.id,
        ]
        return handle

    async def ended(self, handle: PurchaseHandle) -> CatalogueOrderOutcome:
        """The outcome once the process has ended, read without time skipping (as
        tests/workflows/test_sourcing.py reads an RFQ's)."""

        async def over() -> bool | None:
            described = await handle.describe()
            return True if described.status != WorkflowExecutionStatus.RUNNING else None

        await eventually(over, what=f"the end of {handle.id}", attempts=1200)
        with self.env.auto_time_skipping_disabled():
            return await handle.result()

    async def contract_reaches(self, contract_id: str, status: str) -> Contract:
        async def probe() -> Contract | None:
            found = self.rows(Contract, id=contract_id)
            return found[0] if found and found[0].status == status else None

        return await eventually(probe, attempts=600)

    def rows(self, model: type[Any], **where: Any) -> list[Any]:
        return rows(self.sessions, model, **where)

    async def task(self, contract_id: str, org_id: str) -> HumanTask:
        async def opened() -> HumanTask | None:
            found = self.rows(HumanTask, subject_id=contract_id, org_id=org_id, status="open")
            return found[0] if found else None

        return await eventually(opened, attempts=600)

    async def sign(self, contract_id: str, *signers: s.Member) -> None:
        for party in signers:
            task = await self.task(contract_id, party.org.id)
            await decide(
                self.client,
                contract_workflow_id(contract_id),
                task.id,
                party.actor,
                "sign",
                choices={"document_sha256": task.details["document_sha256"]},
            )

    def parties(self, stock: str = "500") -> tuple[s.Member, s.Member, str]:
        """A buyer, a supplier and its offer of acetone (UN1090, PG II): from 100 L 10.80."""
        buyer = s.member(self.sessions, s.buyer_org(self.sessions), Role.BUYER)
        org = s.accredited_supplier(self.sessions, self.store)
        supplier = s.member(self.sessions, org, Role.SUPPLIER)
        offer = c.terms([("1", "12.50"), ("100", "10.80")], stock=stock, logistics="20")
        written = c.list_offer(
            self.sessions,
            org.id,
            offer,
            category_id=c.category(self.sessions),
            model=uuid.uuid4().hex[:8],
            un_number="UN1090",
            packing_group="II",
        )
        return buyer, supplier, written.offer_id

    async def awaiting_signatures(self, litres: int) -> Started:
        """A purchase of ``litres`` of a fresh offer (500 L in stock), its contract drafted and
        awaiting both signatures."""
        buyer, supplier, offer_id = self.parties()
        purchase = c.purchase_of(
            self.sessions, buyer, {offer_id: Decimal(litres)}, at=datetime.now(UTC)
        )
        handle = await self.start(purchase)
        contract_id = purchase_contract_id(purchase.purchase_id)
        await self.contract_reaches(contract_id, "awaiting_signatures")
        return Started(buyer, supplier, offer_id, purchase, handle, contract_id)


@dataclass(frozen=True)
class Started:
    buyer: s.Member
    supplier: s.Member
    offer_id: str
    purchase: CatalogueOrderInput
    handle: PurchaseHandle
    contract_id: str


@pytest.fixture
async def harness(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
) -> AsyncIterator[Harness]:
    task_queue = new_task_queue()
    client = time_skipping_env.client
    async with build_worker(
        client,
        settings=settings,
        sessions=sessions,
        store=store,
        registry=registry,
        task_queue=task_queue,
    ):
        harness = Harness(time_skipping_env, client, task_queue, sessions, store)
        yield harness
        await terminate_all(client, harness.started)


async def test_an_order_from_the_catalogue_is_signed_and_its_order_starts(
    harness: Harness,
) -> None:
    buyer, supplier, offer_id = harness.parties()
    purchase = c.purchase_of(
        harness.sessions, buyer, {offer_id: Decimal(300)}, at=datetime.now(UTC)
    )
    handle = await harness.start(purchase)
    contract_id = purchase_contract_id(purchase.purchase_id)
    contract = await harness.contract_reaches(contract_id, "awaiting_signatures")

    # The offer's terms, as an award of them drafts the contract: 300 L from the 100 L break.
    terms = contract.terms
    (line,) = terms["lines"]
    assert (line["unit_price"], line["amount"], line["un_number"]) == ("10.80", "3240.00", "UN1090")
    assert (terms["logistics"]["amount"], terms["tax"]["amount"]) == ("20.00", "423.80")
    assert terms["total"] == {"amount": "3683.80", "currency": "CNY"}
    assert c.stock_of(harness.sessions, offer_id) == (Decimal(200), "200.000")
    (rfq,) = harness.rows(Rfq, id=purchase.purchase_id)
    assert (rfq.origin, rfq.status) == ("catalogue", "awarding")
    (quote,) = harness.rows(QuoteRecord, rfq_id=purchase.purchase_id)
    assert quote.id == terms["quote_id"] and quote.status == "active"
    (row,) = harness.rows(CataloguePurchase, id=purchase.purchase_id)
    assert row.status == "reserved"

    await harness.sign(contract_id, buyer, supplier)
    outcome = await harness.ended(handle)
    order_id = order_id_for(contract_id)
    assert (outcome.status, outcome.order_id) == (PurchaseStatus.ORDERED, order_id)
    order = await harness.client.get_workflow_handle(order_workflow_id(order_id)).describe()
    assert order.status == WorkflowExecutionStatus.RUNNING
    (rfq,) = harness.rows(Rfq, id=purchase.purchase_id)
    assert (rfq.status, rfq.status_reason) == ("completed", f"order {order_id} has started")
    (row,) = harness.rows(CataloguePurchase, id=purchase.purchase_id)
    assert row.status == "ordered"
    assert c.stock_of(harness.sessions, offer_id)[0] == Decimal(200)
    await record_history(handle, "catalogue_order_ordered")


async def test_a_declined_contract_gives_the_stock_back(harness: Harness) -> None:
    started = await harness.awaiting_signatures(120)
    buyer, offer_id, purchase = started.buyer, started.offer_id, started.purchase
    handle, contract_id = started.handle, started.contract_id
    assert c.stock_of(harness.sessions, offer_id)[0] == Decimal(380)
    task = await harness.task(contract_id, buyer.org.id)
    await decide(
        harness.client,
        contract_workflow_id(contract_id),
        task.id,
        buyer.actor,
        "decline",
        comment="ordered by mistake",
    )
    outcome = await harness.ended(handle)
    assert outcome.status == PurchaseStatus.FAILED and "declined" in outcome.reason
    assert c.stock_of(harness.sessions, offer_id) == (Decimal(500), "500.000")
    (rfq,) = harness.rows(Rfq, id=purchase.purchase_id)
    assert rfq.status == "lapsed"
    notices = harness.rows(Notification, subject_id=purchase.purchase_id, org_id=buyer.org.id)
    assert [n.kind for n in notices] == ["catalogue_order_failed"]


async def test_stock_no_longer_covering_the_order_refuses_it_holding_nothing(
    harness: Harness,
) -> None:
    buyer, _, offer_id = harness.parties(stock="50")
    purchase = c.purchase_of(harness.sessions, buyer, {offer_id: Decimal(80)}, at=datetime.now(UTC))
    outcome = await harness.ended(await harness.start(purchase))
    assert outcome.status == PurchaseStatus.REFUSED
    assert outcome.reason.endswith("has 50.000 L in stock, not 80")
    (row,) = harness.rows(CataloguePurchase, id=purchase.purchase_id)
    assert (row.status, row.rfq_id) == ("refused", None)
    assert harness.rows(Rfq, id=purchase.purchase_id) == []
    assert c.stock_of(harness.sessions, offer_id)[0] == Decimal(50)


async def test_a_retried_reservation_holds_the_stock_once(harness: Harness) -> None:
    buyer, _, offer_id = harness.parties()
    purchase = c.purchase_of(
        harness.sessions, buyer, {offer_id: Decimal(100)}, at=datetime.now(UTC)
    )
    records = CatalogueOrderRecords(harness.sessions)
    env = ActivityEnvironment()
    first = env.run(records.record_catalogue_purchase, purchase)
    again = env.run(records.record_catalogue_purchase, purchase)
    assert first.reserved and again.reserved
    assert c.stock_of(harness.sessions, offer_id)[0] == Decimal(400)


async def test_a_purchase_whose_contract_was_executed_keeps_its_stock_however_it_ended(
    harness: Harness,
) -> None:
    """The contract's process can fail after its order started (ops ending a later step of it,
    a termination), and the purchase hears its child failed: the stock is the running order's,
    so the purchase settled failed is ordered and gives nothing back (given back, it was sold
    twice)."""
    started = await harness.awaiting_signatures(100)
    offer_id, purchase, contract_id = started.offer_id, started.purchase, started.contract_id
    await started.handle.terminate(reason="the test settles the purchase itself")
    with transaction(harness.sessions) as session:
        contract = session.get(Contract, contract_id)
        assert contract is not None
        contract.status = "executed"  # as the contract's process records it, then the order
    failed = SettlePurchaseInput(
        purchase_id=purchase.purchase_id,
        status=PurchaseStatus.FAILED,
        reason=f"contract {contract_id} ended: terminated",
    )
    ActivityEnvironment().run(
        CatalogueOrderRecords(harness.sessions).settle_catalogue_purchase, failed
    )
    assert c.stock_of(harness.sessions, offer_id)[0] == Decimal(400)
    (row,) = harness.rows(CataloguePurchase, id=purchase.purchase_id)
    assert row.status == "ordered"
    assert row.status_reason.startswith(f"order {order_id_for(contract_id)} has started")


REFUSE_NOTICE = (
    "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " RAISE EXCEPTION 'refused by the test' USING ERRCODE = 'check_violation'; END $$"
)


async def test_a_contract_ended_by_ops_after_its_order_started_ends_the_purchase_ordered(
    harness: Harness,
) -> None:
    """The contract is executed and its order started; then its notice fails for good (a row
    the database refuses) and ops end the contract's process. The purchase hears its child
    failed, asks whether the contract was executed, and ends ordered: the order runs with the
    stock, the RFQ completed, the buyer not told it failed."""
    started = await harness.awaiting_signatures(100)
    buyer, supplier, offer_id = started.buyer, started.supplier, started.offer_id
    purchase, handle, contract_id = started.purchase, started.handle, started.contract_id
    refuse = f"refuse_{uuid.uuid4().hex[:8]}"  # the function's and the trigger's name
    with harness.sessions.begin() as session:
        session.execute(text(REFUSE_NOTICE.format(name=refuse)))
        session.execute(
            text(
                f"CREATE TRIGGER {refuse} BEFORE INSERT ON notifications FOR EACH ROW"
                f" WHEN (NEW.kind = 'contract_executed' AND NEW.subject_id = '{contract_id}')"
                f" EXECUTE FUNCTION {refuse}()"
            )
        )
    try:
        await harness.sign(contract_id, buyer, supplier)
        workflow_id = contract_workflow_id(contract_id)

        async def attention() -> HumanTask | None:
            found = harness.rows(
                HumanTask, subject_id=workflow_id, kind=ATTENTION_TASK_KIND, status="open"
            )
            return found[0] if found else None

        task = await eventually(attention, attempts=600)
        await decide(
            harness.client, workflow_id, task.id, b.supervisor_actor(), "end",
            comment="notice refused: tell the parties by phone",
        )  # fmt: skip
        outcome = await harness.ended(handle)
    finally:
        with harness.sessions.begin() as session:
            session.execute(text(f"DROP TRIGGER IF EXISTS {refuse} ON notifications"))
            session.execute(text(f"DROP FUNCTION IF EXISTS {refuse}"))
    order_id = order_id_for(contract_id)
    assert (outcome.status, outcome.order_id) == (PurchaseStatus.ORDERED, order_id)
    assert outcome.reason == f"order {order_id} has started"
    order = await harness.client.get_workflow_handle(order_workflow_id(order_id)).describe()
    assert order.status == WorkflowExecutionStatus.RUNNING
    (rfq,) = harness.rows(Rfq, id=purchase.purchase_id)
    assert rfq.status == "completed"
    (row,) = harness.rows(CataloguePurchase, id=purchase.purchase_id)
    assert row.status == "ordered"
    assert c.stock_of(harness.sessions, offer_id)[0] == Decimal(400)
    notices = harness.rows(Notification, subject_id=purchase.purchase_id, org_id=buyer.org.id)
    assert "catalogue_order_failed" not in [n.kind for n in notices]
    await record_history(handle, "catalogue_order_contract_ended_after_execution")
