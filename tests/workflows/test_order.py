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
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from contracts.common import OPERATOR_ORG_ID, Actor, Money, Role
from contracts.fulfilment import (
    CancelOrderInput,
    CarrierEventInput,
    CarrierEventKind,
    OrderOutcome,
    OrderStatus,
    PaymentInput,
    waybill_number_for,
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
    OrderShipment,
    Payment,
    StockReservation,
    Waybill,
    WaybillFiling,
)
from gateways.certification_registry import CertificationRegistryClient
from gateways.regulator import RegulatorClient
from sandboxes.regulator import RegulatorControl
from security.keys import KeyRing
from security.payload_codec import data_converter
from settings import Settings
from stack.temporal import time_skipping_server_path
from storage.object_store import ObjectStore, get_verified
from tests.harness import builders as b
from tests.harness import orders as o
from tests.harness import sourcing as s
from tests.harness import waybills as w
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
        lines = s.lines() if dangerous else (s.lines()[1],)
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
    handle: OrderHandle,
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
    # Chilled goods ship as ordinary goods until cold chain lands, the range on the papers.
    assert "Keep at 2\N{EN DASH}8 °C" in printed and terms.buyer.legal_name in printed
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


async def _confirmed_dangerous_order(harness: Harness) -> tuple[Parties, OrderHandle, str]:
    parties = harness.parties()
    handle = await harness.start(await harness.executed_contract(parties, dangerous=True))
    order_id = handle.id.removeprefix("Order:")
    confirm = await harness.task(order_id, "order_confirmation")
    await decide(handle, confirm.id, parties.supplier.actor, "confirm")
    return parties, handle, order_id


async def _submit(
    harness: Harness, handle: OrderHandle, parties: Parties, order_id: str, **draft: Any
) -> TaskAnswer:
    task = await harness.task(order_id, "waybill_submission")
    number = task.details["waybill_number"]
    loading = await harness.now() + timedelta(days=1)
    stored = w.store_draft(
        harness.sessions,
        harness.store,
        org_id=parties.supplier.org.id,
        draft=w.waybill(number, order_id, loading_at=loading, **draft),
    )
    return await decide(
        handle,
        task.id,
        parties.logistics.actor,
        "submit",
        choices={"document_id": stored.document_id},
    )


async def test_dangerous_goods_wait_for_a_compliant_filed_waybill_filed_exactly_once(
    harness: Harness, regulator_control: RegulatorControl
) -> None:
    parties, handle, order_id = await _confirmed_dangerous_order(harness)
    await harness.status(order_id, OrderStatus.AWAITING_WAYBILL)
    with pytest.raises(WorkflowUpdateFailedError) as early:  # no moving before the filing
        await report(
            handle, parties.logistics.actor, CarrierEventKind.PICKED_UP, await harness.now()
        )
    assert refusal(early)[0] == "NotReady"

    # 1. The driver's certificate expired before dispatch: blocking, back to fix.
    today = (await harness.now()).date()
    expired = await _submit(harness, handle, parties, order_id, driver_expiry=today)
    assert expired.process_status == "awaiting_waybill"
    assert "driver.certificate_expiry" in expired.message

    # 2. The escort's expires within 30 days: a warning, so platform logistics must approve;
    # the regulator accepts, then its answer is lost: the retry must get the same receipt.
    regulator_control.accept_then_fail(count=1, paths=["/waybills"])
    warned = await _submit(
        harness, handle, parties, order_id, escort_expiry=today + timedelta(days=10)
    )
    assert warned.process_status == "awaiting_safety_approval"
    review = await harness.task(order_id, "waybill_safety_review")
    assert (
        review.org_id == OPERATOR_ORG_ID
        and parties.logistics.actor.user_id in review.excluded_user_ids
    )
    safety = Actor(user_id="usr_test_safety", org_id=OPERATOR_ORG_ID, roles=(Role.LOGISTICS,))
    await decide(handle, review.id, safety, "approve")
    await harness.status(order_id, OrderStatus.READY_TO_DISPATCH)
    number = waybill_number_for(order_id, 1)
    tally = regulator_control.tally(number)
    assert (tally["accepted"], tally["replays"]) == (1, 1)

    (filed,) = harness.rows(Waybill, waybill_number=number)
    assert filed.receipt_number == tally["receipt_number"]
    assert filed.un_numbers == ["UN1090"] and filed.hazard_classes == ["3"]
    assert get_verified(harness.store, filed.pdf_sha256)[:5] == b"%PDF-"
    (sealed,) = harness.rows(AuditEntry, action="waybill.filed", target_id=number)
    assert sealed.detail["pdf_sha256"] == filed.pdf_sha256
    with harness.sessions() as session, pytest.raises(Exception, match="immutable"):
        session.execute(
            text("UPDATE waybills SET receipt_number = 'forged' WHERE waybill_number = :n"),
            {"n": number},
        )
        session.commit()

    # Departure and delivery are filed too.
    now = await harness.now()
    for kind in (CarrierEventKind.PICKED_UP, CarrierEventKind.DEPARTED, CarrierEventKind.ARRIVED):
        await report(handle, parties.logistics.actor, kind, now)
    proof = b.store_document(harness.sessions, harness.store, org_id=parties.supplier.org.id)
    await report(handle, parties.logistics.actor, CarrierEventKind.DELIVERED, now, proof=proof)
    filings = sorted(f.kind for f in harness.rows(WaybillFiling, waybill_number=number))
    assert filings == ["delivered", "departed", "filed"]
    assert regulator_control.tally(number)["status"] == "delivered"
    (filed,) = harness.rows(Waybill, waybill_number=number)
    assert filed.status == "delivered"
    await record_history(handle, "order_dangerous_goods_filed")


async def test_a_regulator_refusal_returns_to_the_fix_task_and_cancellation_voids_the_filing(
    harness: Harness, regulator_control: RegulatorControl
) -> None:
    parties, handle, order_id = await _confirmed_dangerous_order(harness)
    regulator_control.set_fault(mode="error", status=422, count=1, paths=["/waybills"])
    await _submit(harness, handle, parties, order_id)
    again = await harness.task(order_id, "waybill_submission")
    assert again.details["problems"].startswith("regulator: ")
    await _submit(harness, handle, parties, order_id)
    await harness.status(order_id, OrderStatus.READY_TO_DISPATCH)
    number = waybill_number_for(order_id, 1)

    await handle.execute_update(
        OrderWorkflow.cancel_order,
        CancelOrderInput(reason="the plant closed", actor=parties.supplier.actor),
    )
    outcome = await handle.result()
    assert outcome.status == OrderStatus.CANCELLED
    tally = regulator_control.tally(number)
    assert (tally["accepted"], tally["status"]) == (1, "voided")
    (reservation, *_) = harness.rows(StockReservation, order_id=order_id)
    assert reservation.status == "released"
    (filed,) = harness.rows(Waybill, waybill_number=number)
    assert filed.status == "voided"


async def test_a_split_order_ships_each_consignment_on_its_own_with_its_own_waybill(
    harness: Harness, regulator_control: RegulatorControl
) -> None:
    parties = harness.parties()
    handle = await harness.start(await harness.executed_contract(parties, dangerous=True))
    order_id = handle.id.removeprefix("Order:")
    confirm = await harness.task(order_id, "order_confirmation")
    supplier = parties.supplier.actor
    for plan, reason in (
        ({"1:L2": "200", "2:L1": "900"}, "line L1 plans 900 of its 1000 L"),
        ({"1:L2": "200", "3:L1": "1000"}, "numbered 1 to 2 without gaps"),
        ({"1:L9": "5"}, "the contract has no line 'L9'"),
        ({"1:L1": "1000", "1:L2": "-1"}, "must be above 0"),
    ):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await decide(handle, confirm.id, supplier, "confirm", choices=plan)
        assert reason in refusal(refused)[1]
    # The chilled kits go first; the acetone follows on a dangerous-goods vehicle.
    answer = await decide(
        handle, confirm.id, supplier, "confirm", choices={"1:L2": "200", "2:L1": "1000"}
    )
    assert answer.message.startswith("confirmed in 2 shipment(s), 1 with an e-waybill")
    view = await handle.query(OrderWorkflow.get_status)
    kits, acetone = view.shipments
    assert (kits.shipment.waybill_number, acetone.shipment.un_numbers) == (None, ("UN1090",))
    assert acetone.shipment.waybill_number == waybill_number_for(order_id, 2)

    # The order shows its least advanced shipment; the kits may leave meanwhile.
    await harness.status(order_id, OrderStatus.AWAITING_WAYBILL)
    now = await harness.now()
    logistics = parties.logistics.actor
    await report(handle, logistics, CarrierEventKind.PICKED_UP, now, shipment=1)
    with pytest.raises(WorkflowUpdateFailedError) as early:
        await report(handle, logistics, CarrierEventKind.PICKED_UP, now, shipment=2)
    assert refusal(early) == ("NotReady", "kind: shipment 2 is awaiting_waybill, not ready to move")
    with pytest.raises(WorkflowUpdateFailedError) as unplanned:
        await report(handle, logistics, CarrierEventKind.PICKED_UP, now, shipment=3)
    assert refusal(unplanned)[1] == "shipment: the order's shipments are 1 to 2"
    with pytest.raises(WorkflowUpdateFailedError) as moving:
        await handle.execute_update(
            OrderWorkflow.cancel_order,
            CancelOrderInput(reason="too late", actor=parties.buyer.actor),
        )
    assert refusal(moving)[0] == "NotReady"

    # A draft listing other goods than the shipment's is sent back, naming both.
    wrong = await _submit(
        harness, handle, parties, order_id, shipment=2, items=(w.HYDROCHLORIC_ACID,)
    )
    assert "items: the shipment carries UN1090; the draft lists UN1789" in wrong.message
    filed = await _submit(harness, handle, parties, order_id, shipment=2)
    assert filed.process_status == "filing"
    await harness.status(order_id, OrderStatus.READY_TO_DISPATCH)  # shipment 1 is beyond it
    assert regulator_control.tally(waybill_number_for(order_id, 2))["accepted"] == 1
    assert regulator_control.tally(waybill_number_for(order_id, 1))["accepted"] == 0

    proofs = []
    for shipment in (1, 2):
        if shipment == 2:
            await report(handle, logistics, CarrierEventKind.PICKED_UP, now, shipment=2)
        for kind in (CarrierEventKind.DEPARTED, CarrierEventKind.ARRIVED):
            await report(handle, logistics, kind, now, shipment=shipment)
        proof = b.store_document(harness.sessions, harness.store, org_id=parties.supplier.org.id)
        proofs.append(proof.document_id)
        await report(
            handle, logistics, CarrierEventKind.DELIVERED, now, proof=proof, shipment=shipment
        )
    acceptance = await harness.task(order_id, "order_acceptance")
    assert acceptance.document_ids == proofs
    assert acceptance.summary.startswith("Delivered: shipment 1 on ")
    assert "; shipment 2 on " in acceptance.summary
    assert len(harness.rows(CarrierEvent, order_id=order_id)) == 8
    shipped = {r.number: r.status for r in harness.rows(OrderShipment, order_id=order_id)}
    assert shipped == {1: "delivered", 2: "delivered"}
    delivered = harness.rows(AuditEntry, action="shipment.delivered")
    assert {f"{order_id}/1", f"{order_id}/2"} <= {entry.target_id for entry in delivered}
    await decide(handle, acceptance.id, parties.buyer.actor, "accept")
    await harness.status(order_id, OrderStatus.INVOICED)
    await record_history(handle, "order_split_shipments")
