"""Order fulfilment paths on the time-skipping server, with real activities and services."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from contracts.common import OPERATOR_ORG_ID, Actor, Money
from contracts.fulfilment import (
    CancelOrderInput,
    CarrierEventInput,
    CarrierEventKind,
    OrderOutcome,
    OrderStatus,
    PaymentInput,
)
from contracts.sourcing import ContractTerms
from contracts.tasks import DecideTaskInput, TaskAnswer
from db.models import (
    AuditEntry,
    CarrierEvent,
    Document,
    HumanTask,
    Invoice,
    Order,
    Payment,
    StockReservation,
)
from gateways.certification_registry import CertificationRegistryClient
from gateways.regulator import RegulatorClient
from security.keys import KeyRing
from security.payload_codec import data_converter
from settings import Settings
from stack.temporal import time_skipping_server_path
from storage.object_store import ObjectStore, get_verified
from tests.harness import builders as b
from tests.harness import orders as o
from tests.harness import sourcing as s
from tests.harness.histories import record_history
from tests.harness.orders import Parties
from tests.harness.postgres import rows
from tests.harness.temporal import eventually, new_task_queue, refusal, skip_time, terminate_all
from worker import build_worker
from workflows.order import OrderWorkflow

OrderHandle = WorkflowHandle[OrderWorkflow, OrderOutcome]


@dataclass
class Harness:
    env: WorkflowEnvironment
    client: Client
    task_queue: str
    sessions: sessionmaker[Session]
    store: ObjectStore
    started: list[OrderHandle] = field(default_factory=list)

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    def parties(self) -> Parties:
        return o.parties(self.sessions, self.store)

    async def executed_contract(self, who: Parties, *, dangerous: bool) -> ContractTerms:
        # Ambient goods: a temperature range gives a shipment its cold-chain trip, which needs
        # loggers and readings (tests/workflows/test_cold_chain_order.py).
        ambient = tuple(line.model_copy(update={"temperature": None}) for line in s.lines())
        lines = ambient if dangerous else ambient[1:]
        return o.executed_contract(self.sessions, who, now=await self.now(), lines=lines)

    async def start(self, terms: ContractTerms) -> OrderHandle:
        handle = await o.start_order(self.client, terms, task_queue=self.task_queue)
        self.started.append(handle)
        return handle

    async def close(self) -> None:
        await terminate_all(self.client, [handle.id for handle in self.started])

    async def task(self, order_id: str, kind: str) -> HumanTask:
        async def opened() -> HumanTask | None:
            with self.sessions() as session:
                return session.scalars(
                    select(HumanTask)
                    .where(HumanTask.subject_id == order_id)
                    .where(HumanTask.kind == kind)
                    .where(HumanTask.status == "open")
                ).first()

        return await eventually(opened, attempts=400)

    async def status(self, order_id: str, status: OrderStatus) -> Order:
        async def reached() -> Order | None:
            with self.sessions() as session:
                row = session.get(Order, order_id)
                return row if row is not None and row.status == status.value else None

        return await eventually(reached, attempts=400)

    def rows(self, model: type[Any], **where: Any) -> list[Any]:
        return rows(self.sessions, model, **where)


async def decide(
    handle: WorkflowHandle[Any, Any],
    task_id: str,
    actor: Actor,
    outcome: str,
    *,
    comment: str = "",
    choices: dict[str, str] | None = None,
) -> TaskAnswer:
    answer: TaskAnswer = await handle.execute_update(
        "decide_task",
        DecideTaskInput(
            task_id=task_id, outcome=outcome, comment=comment, choices=choices or {}, actor=actor
        ),
        result_type=TaskAnswer,
    )
    return answer


async def report(
    handle: OrderHandle,
    actor: Actor,
    kind: CarrierEventKind,
    at: datetime,
    *,
    proof: Any = None,
    shipment: int = 1,
) -> None:
    await handle.execute_update(
        OrderWorkflow.record_carrier_event,
        CarrierEventInput(
            shipment=shipment,
            kind=kind,
            at=at,
            location="上海金山 Jinshan",
            proof_of_delivery=proof,
            actor=actor,
        ),
    )


@pytest.fixture(scope="module")
async def time_skipping_env(keyring: KeyRing) -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of this module's own: an order left with an activity in flight
    when its test ends can keep a shared server from skipping time for the next module."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(time_skipping_server_path()),
        data_converter=data_converter(keyring),
    )
    yield env
    await env.shutdown()


@pytest.fixture
async def harness(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
    regulator: RegulatorClient,
) -> AsyncIterator[Harness]:
    task_queue = new_task_queue()
    client = time_skipping_env.client
    async with build_worker(
        client,
        settings=settings,
        sessions=sessions,
        store=store,
        registry=registry,
        regulator=regulator,
        task_queue=task_queue,
    ):
        harness = Harness(time_skipping_env, client, task_queue, sessions, store)
        yield harness
        await harness.close()


async def test_an_ordinary_order_runs_from_confirmation_to_payment_with_auto_acceptance(
    harness: Harness,
) -> None:
    parties = harness.parties()
    terms = await harness.executed_contract(parties, dangerous=False)
    handle = await harness.start(terms)
    order_id = handle.id.removeprefix("Order:")
    confirm = await harness.task(order_id, "order_confirmation")
    answer = await decide(handle, confirm.id, parties.supplier.actor, "confirm")
    assert answer.process_status == "confirmed"
    await harness.status(order_id, OrderStatus.READY_TO_DISPATCH)
    (reservation,) = harness.rows(StockReservation, order_id=order_id)
    assert (reservation.status, reservation.quantity) == ("reserved", Decimal(200))

    now = await harness.now()
    with pytest.raises(WorkflowUpdateFailedError) as out_of_order:
        await report(handle, parties.logistics.actor, CarrierEventKind.DEPARTED, now)
    assert refusal(out_of_order)[1] == "kind: picked_up must be reported first"
    for kind in (CarrierEventKind.PICKED_UP, CarrierEventKind.DEPARTED, CarrierEventKind.ARRIVED):
        await report(handle, parties.logistics.actor, kind, now)
    with pytest.raises(WorkflowUpdateFailedError) as no_proof:
        await report(handle, parties.logistics.actor, CarrierEventKind.DELIVERED, now)
    assert refusal(no_proof)[1] == "proof_of_delivery: a delivery needs its proof"
    proof = b.store_document(harness.sessions, harness.store, org_id=parties.supplier.org.id)
    await report(handle, parties.logistics.actor, CarrierEventKind.DELIVERED, now, proof=proof)
    await harness.task(order_id, "order_acceptance")

    # Nobody accepts or disputes: accepted automatically after 7 days, then invoiced.
    await skip_time(harness.env, timedelta(days=7, minutes=1))
    await harness.status(order_id, OrderStatus.INVOICED)
    (invoice,) = harness.rows(Invoice, order_id=order_id)
    assert invoice.amount == terms.total.amount
    (document,) = harness.rows(Document, id=invoice.document_id)
    printed = "".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(get_verified(harness.store, document.sha256))).pages
    )
    assert "reagent kit" in printed and terms.buyer.legal_name in printed
    (acceptance,) = harness.rows(HumanTask, subject_id=order_id, kind="order_acceptance")
    assert acceptance.status == "expired"

    half = (terms.total.amount / 2).quantize(Decimal("0.01"))
    payment = PaymentInput(
        amount=Money(amount=half, currency="CNY"),
        reference="BANK-REF-1",
        paid_on=now.date(),
        actor=parties.finance.actor,
    )
    with pytest.raises(WorkflowUpdateFailedError) as too_much:
        await handle.execute_update(
            OrderWorkflow.record_payment,
            payment.model_copy(
                update={"amount": Money(amount=terms.total.amount + 1, currency="CNY")}
            ),
        )
    assert refusal(too_much)[1].startswith("amount.amount: must be above 0 and at most")
    first = await handle.execute_update(OrderWorkflow.record_payment, payment)
    assert first.outstanding.amount == terms.total.amount - half
    rest = payment.model_copy(
        update={
            "amount": Money(amount=terms.total.amount - half, currency="CNY"),
            "reference": "BANK-REF-2",
        }
    )
    await handle.execute_update(OrderWorkflow.record_payment, rest)
    outcome = await handle.result()
    assert outcome.status == OrderStatus.COMPLETED
    assert len(harness.rows(Payment, order_id=order_id)) == 2
    assert len(harness.rows(CarrierEvent, order_id=order_id)) == 4
    (row,) = harness.rows(Order, id=order_id)
    assert row.paid_amount == terms.total.amount
    await record_history(handle, "order_ordinary_paid")


async def test_an_unconfirmed_order_escalates_to_ops_who_may_refuse_it(harness: Harness) -> None:
    parties = harness.parties()
    handle = await harness.start(await harness.executed_contract(parties, dangerous=False))
    order_id = handle.id.removeprefix("Order:")
    await harness.task(order_id, "order_confirmation")
    await skip_time(harness.env, timedelta(hours=49))

    async def escalated() -> HumanTask | None:
        rows = harness.rows(HumanTask, subject_id=order_id, kind="order_confirmation")
        return rows[0] if rows and rows[0].org_id == OPERATOR_ORG_ID else None

    task = await eventually(escalated, attempts=400)
    assert task.role == "ops_supervisor" and task.escalated_at is not None
    with pytest.raises(WorkflowUpdateFailedError) as supplier_too_late:
        await decide(handle, task.id, parties.supplier.actor, "confirm")
    assert refusal(supplier_too_late)[0] == "WrongRole"
    await decide(
        handle, task.id, b.supervisor_actor(), "reject", comment="supplier unreachable for 2 days"
    )
    outcome = await handle.result()
    assert outcome.status == OrderStatus.REFUSED
    assert harness.rows(StockReservation, order_id=order_id) == []


async def test_cancellation_before_pickup_releases_the_stock(harness: Harness) -> None:
    parties = harness.parties()
    handle = await harness.start(await harness.executed_contract(parties, dangerous=False))
    order_id = handle.id.removeprefix("Order:")
    confirm = await harness.task(order_id, "order_confirmation")
    await decide(handle, confirm.id, parties.supplier.actor, "confirm")
    await harness.status(order_id, OrderStatus.READY_TO_DISPATCH)
    cancel = CancelOrderInput(
        reason="buyer's plant shut for maintenance", actor=parties.buyer.actor
    )
    await handle.execute_update(OrderWorkflow.cancel_order, cancel)
    outcome = await handle.result()
    assert outcome.status == OrderStatus.CANCELLED
    (reservation,) = harness.rows(StockReservation, order_id=order_id)
    assert reservation.status == "released"
    released = harness.rows(AuditEntry, action="stock.released", target_id=order_id)
    assert len(released) == 1


async def test_a_dispute_goes_to_ops_and_no_cancellation_after_pickup(harness: Harness) -> None:
    parties = harness.parties()
    terms = await harness.executed_contract(parties, dangerous=False)
    handle = await harness.start(terms)
    order_id = handle.id.removeprefix("Order:")
    confirm = await harness.task(order_id, "order_confirmation")
    await decide(handle, confirm.id, parties.supplier.actor, "confirm")
    await harness.status(order_id, OrderStatus.READY_TO_DISPATCH)
    now = await harness.now()
    await report(handle, parties.logistics.actor, CarrierEventKind.PICKED_UP, now)
    with pytest.raises(WorkflowUpdateFailedError) as too_late:
        await handle.execute_update(
            OrderWorkflow.cancel_order,
            CancelOrderInput(reason="changed our mind", actor=parties.buyer.actor),
        )
    assert refusal(too_late)[0] == "NotReady"
    for kind in (CarrierEventKind.DEPARTED, CarrierEventKind.ARRIVED):
        await report(handle, parties.logistics.actor, kind, now)
    proof = b.store_document(harness.sessions, harness.store, org_id=parties.supplier.org.id)
    await report(handle, parties.logistics.actor, CarrierEventKind.DELIVERED, now, proof=proof)
    acceptance = await harness.task(order_id, "order_acceptance")
    answer = await decide(
        handle, acceptance.id, parties.buyer.actor, "dispute", comment="3 kits arrived warm"
    )
    assert answer.process_status == "disputed"
    dispute = await harness.task(order_id, "order_dispute")
    assert dispute.org_id == OPERATOR_ORG_ID and "3 kits arrived warm" in dispute.summary
    await decide(handle, dispute.id, b.supervisor_actor(), "accept", comment="credit note agreed")
    await harness.status(order_id, OrderStatus.INVOICED)
