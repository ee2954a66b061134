"""The regulator fails every way it can (503, timeouts, slow answers, a lost answer to an accepted
filing) while the worker process is killed mid-filing: exactly one accepted filing per waybill,
each status change accepted once, and the order still completes. The waybill goes the way
carriers make it: the consignor declares the consignment list, the order's carrier makes the
waybill from it with its own fleet, and the loader's checks start the filing; the carrier
reports the shipment.

Dev server and real worker processes: a SIGKILLed attempt is only retried once its worker's
beats stop for the heartbeat timeout (``contracts.liveness``), which the time-skipping server
would skip past instead of proving.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from contracts.common import Actor, DocumentRef, Role
from contracts.consignment import LoadingCheckReport
from contracts.fulfilment import (
    CarrierEventInput,
    CarrierEventKind,
    OrderOutcome,
    OrderStatus,
    PaymentInput,
    waybill_number_for,
)
from contracts.tasks import DecideTaskInput, TaskAnswer
from db.models import AuditEntry, HumanTask, Invoice, Order, OrderShipment, Waybill, WaybillFiling
from gateways.regulator import RegulatorClient
from sandboxes.faults import FaultMode
from sandboxes.regulator import RegulatorControl
from settings import Settings
from storage.object_store import ObjectStore
from tests.conftest import TEST_JWT_SECRET, TEST_KEY_SPEC
from tests.harness import builders as b
from tests.harness import carriers as c
from tests.harness import orders as o
from tests.harness import sourcing as s
from tests.harness import waybills as w
from tests.harness.postgres import rows
from tests.harness.temporal import eventually, new_task_queue
from workflows.order import OrderWorkflow

pytestmark = pytest.mark.long(seconds=55)  # handed out first: see tests/conftest.py

ROOT = Path(__file__).resolve().parents[2]
# The worker's regulator client gives up after this long; the sandbox's "timeout" and "slow"
# faults are set just over it, so every such attempt fails on the worker's side.
CLIENT_TIMEOUT_S = 2.0
FILINGS = "/waybills"

OrderHandle = WorkflowHandle[OrderWorkflow, OrderOutcome]


@contextmanager
def worker_process(
    settings: Settings, temporal_address: str, task_queue: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``worker.py`` as its own process, pointed at the test's services and the regulator."""
    env = dict(
        os.environ,
        TRADEFLOW_ENVIRONMENT="test",
        DATABASE_URL=settings.database_url,
        TRADEFLOW_TEMPORAL_ADDRESS=temporal_address,
        TRADEFLOW_TASK_QUEUE=task_queue,
        TRADEFLOW_OBJECT_STORE="s3",
        TRADEFLOW_S3_ENDPOINT_URL=settings.s3_endpoint_url or "",
        TRADEFLOW_S3_BUCKET=settings.s3_bucket,
        TRADEFLOW_ENCRYPTION_KEYS=TEST_KEY_SPEC,
        TRADEFLOW_ACTIVE_KEY_ID="test1",
        TRADEFLOW_JWT_SECRET=TEST_JWT_SECRET,
        TRADEFLOW_CERTIFICATION_REGISTRY_URL=settings.certification_registry_url,
        TRADEFLOW_REGULATOR_URL=settings.regulator_url,
        TRADEFLOW_REGULATOR_API_KEY=settings.regulator_api_key,
        TRADEFLOW_REGULATOR_TIMEOUT_S=str(CLIENT_TIMEOUT_S),
    )
    process = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


async def open_task(sessions: sessionmaker[Session], *, order_id: str, kind: str) -> HumanTask:
    async def opened() -> HumanTask | None:
        found = rows(sessions, HumanTask, subject_id=order_id, kind=kind, status="open")
        return found[0] if found else None

    return await eventually(opened, attempts=300, interval=0.1)


async def order_reaches(
    sessions: sessionmaker[Session], *, order_id: str, status: OrderStatus, attempts: int = 300
) -> Order:
    async def reached() -> Order | None:
        (row,) = rows(sessions, Order, id=order_id)
        return row if row.status == status.value else None

    return await eventually(reached, attempts=attempts, interval=0.25)


async def decide(
    handle: OrderHandle,
    *,
    task_id: str,
    actor: Actor,
    outcome: str,
    choices: dict[str, str] | None = None,
) -> TaskAnswer:
    answer: TaskAnswer = await handle.execute_update(
        "decide_task",
        DecideTaskInput(task_id=task_id, outcome=outcome, choices=choices or {}, actor=actor),
        result_type=TaskAnswer,
    )
    return answer


async def report(
    handle: OrderHandle, *, actor: Actor, kind: CarrierEventKind, proof: DocumentRef | None = None
) -> None:
    await handle.execute_update(
        OrderWorkflow.record_carrier_event,
        CarrierEventInput(
            shipment=1,
            kind=kind,
            at=datetime.now(UTC),
            location="上海金山 Jinshan",
            proof_of_delivery=proof,
            actor=actor,
        ),
    )


async def carrier_made_draft(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    handle: OrderHandle,
    parties: o.Parties,
    dispatcher: Actor,
) -> DocumentRef:
    """The consignor declares shipment 1's consignment list and the carrier makes its waybill
    from it with its own fleet, both as the API would; answers the made draft, awaiting the
    loading check."""
    order_id = handle.id.removeprefix("Order:")
    carrier_org_id = dispatcher.org_id
    listing = await open_task(sessions, order_id=order_id, kind="consignment_list")
    listed = w.consignment(parties.supplier.org.credit_code)
    stored = w.store_json(
        sessions,
        store,
        org_id=parties.supplier.org.id,
        name="consignment",
        data=listed.model_dump_json().encode(),
        kind="consignment_list",
    )
    declared = await decide(
        handle,
        task_id=listing.id,
        actor=parties.logistics.actor,
        outcome="submit",
        choices={"document_id": stored.document_id},
    )
    assert declared.process_status == OrderStatus.AWAITING_WAYBILL.value
    making = await open_task(sessions, order_id=order_id, kind="waybill_submission")
    assert making.org_id == carrier_org_id
    trip = w.trip(
        datetime.now(UTC) + timedelta(days=1),
        vehicle_id=c.add_vehicle(sessions, carrier_org_id).id,
        driver_id=c.add_crew(sessions, carrier_org_id, role="driver").id,
        escort_id=c.add_crew(sessions, carrier_org_id, role="escort", name="李押运").id,
    )
    made = w.carriers_draft(
        sessions,
        listed,
        trip,
        carrier_org_id=carrier_org_id,
        order_id=order_id,
        task_details=making.details,
    )
    draft = w.store_draft(sessions, store, org_id=carrier_org_id, draft=made)
    answer = await decide(
        handle,
        task_id=making.id,
        actor=dispatcher,
        outcome="submit",
        choices={"document_id": draft.document_id},
    )
    assert answer.process_status == OrderStatus.AWAITING_LOADING_CHECK.value, answer
    return draft


def filing_faults(control: RegulatorControl, number: str) -> list[str | None]:
    """The fault each filing of ``number`` met, oldest first (None: it reached the regulator)."""
    return [
        r["fault"]
        for r in control.requests(path_prefix=FILINGS)
        if r["path"] == FILINGS and r["method"] == "POST" and r["idempotency_key"] == number
    ]


async def until_a_filing_meets(control: RegulatorControl, number: str, mode: FaultMode) -> None:
    async def met() -> bool | None:
        return True if mode in filing_faults(control, number) else None

    await eventually(met, attempts=300, interval=0.05)


async def filing_attempt_in_flight(handle: OrderHandle) -> int | None:
    """The attempt number of a ``file_waybill`` a worker has started and not yet answered."""
    pending = (await handle.describe()).raw_description.pending_activities
    started = [
        a.attempt
        for a in pending
        if a.activity_type.name == "file_waybill"
        and a.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
    ]
    return started[0] if started else None


async def test_a_waybill_is_filed_once_through_regulator_faults_and_a_killed_worker(
    dev_env: WorkflowEnvironment,
    settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    regulator: RegulatorClient,
    regulator_control: RegulatorControl,
) -> None:
    client = dev_env.client
    address = client.service_client.config.target_host
    task_queue = new_task_queue()
    parties = o.parties(sessions, store)
    carrier = c.accredited_carrier(sessions, classes=("3", "8"))
    dispatcher = Actor(user_id="usr_test_dispatch", org_id=carrier.id, roles=(Role.LOGISTICS,))
    acetone = s.lines()[0]
    terms = o.executed_contract(sessions, parties, now=datetime.now(UTC), lines=(acetone,))
    handle = await o.start_order(client, terms, task_queue=task_queue)
    order_id = handle.id.removeprefix("Order:")
    number = waybill_number_for(order_id, 1)
    try:
        # -- filing: 503, then a timeout, then an accepted filing whose answer never arrives
        # because the worker waiting for it is killed.
        with worker_process(settings, address, task_queue) as first:
            confirm = await open_task(sessions, order_id=order_id, kind="order_confirmation")
            await decide(
                handle,
                task_id=confirm.id,
                actor=parties.supplier.actor,
                outcome="confirm",
                choices={"carrier": carrier.id},
            )
            draft = await carrier_made_draft(sessions, store, handle, parties, dispatcher)
            loading = await open_task(sessions, order_id=order_id, kind="loading_check")
            assert loading.details["waybill_number"] == number
            # Armed first: it strikes only once a filing gets past the faults below, so the
            # regulator holds the accepted filing's answer longer than the worker waits.
            regulator_control.accept_then_fail(
                mode="timeout", delay_s=CLIENT_TIMEOUT_S * 4, count=1, paths=[FILINGS]
            )
            # The regulator is down (bounded, in case the filing never comes) ...
            regulator_control.set_fault(mode="error", status=503, seconds=60, paths=[FILINGS])
            checked = LoadingCheckReport(
                vehicle_permits=True,
                crew_qualified=True,
                vehicle_inspected=True,
                goods_match=True,
                tank_medium=True,
            )
            answer = await decide(
                handle,
                task_id=loading.id,
                actor=parties.logistics.actor,
                outcome="load",
                choices=checked.answers(),
            )
            assert answer.process_status == OrderStatus.FILING.value
            # ... until a filing has met the outage; then it stops answering once ...
            await until_a_filing_meets(regulator_control, number, "error")
            regulator_control.set_fault(
                mode="timeout", delay_s=CLIENT_TIMEOUT_S + 0.5, count=1, paths=[FILINGS]
            )
            await until_a_filing_meets(regulator_control, number, "timeout")

            # ... and the next filing is accepted; the worker dies waiting for the answer.
            async def accepted_in_flight() -> int | None:
                if regulator_control.tally(number)["accepted"] < 1:
                    return None
                return await filing_attempt_in_flight(handle)

            killed_attempt = await eventually(accepted_in_flight, attempts=400, interval=0.05)
            first.send_signal(signal.SIGKILL)
            first.wait()
        # The killed attempt was still in flight: no worker ever answered it.
        assert await filing_attempt_in_flight(handle) == killed_attempt
        assert regulator_control.tally(number)["replays"] == 0

        with worker_process(settings, address, task_queue):
            # Retried once the killed attempt's heartbeat timeout passes; the retry
            # replays the accepted filing and gets its receipt.
            await order_reaches(
                sessions, order_id=order_id, status=OrderStatus.READY_TO_DISPATCH, attempts=480
            )
            (shipment,) = rows(sessions, OrderShipment, order_id=order_id)
            assert (shipment.waybill_number, shipment.status) == (number, "ready_to_dispatch")
            tally = regulator_control.tally(number)
            assert (tally["accepted"], tally["replays"]) == (1, 1)
            assert (tally["conflicts"], tally["rejections"]) == (0, 0)
            faults = filing_faults(regulator_control, number)
            assert faults[0] == "error" and "timeout" in faults
            assert faults[-2:] == [None, None]  # the accepted filing and the retry's replay
            receipt = tally["receipt_number"]
            assert receipt is not None
            (shipment,) = (await handle.query(OrderWorkflow.get_status)).shipments
            assert shipment.receipt_number == receipt
            (filed,) = rows(sessions, Waybill, waybill_number=number)
            assert (filed.order_id, filed.receipt_number) == (order_id, receipt)
            assert filed.json_document_id == draft.document_id
            assert filed.made_by_org_id == carrier.id
            (sealed,) = rows(sessions, AuditEntry, action="waybill.filed", target_id=number)
            assert sealed.detail["receipt_number"] == receipt
            (filing,) = rows(sessions, WaybillFiling, waybill_number=number, kind="filed")
            assert filing.receipt == receipt

            # -- transport: the status path answers slowly. Departure's first answer comes
            # after the worker gave up (recorded, answer lost); delivery's in time.
            status_path = f"{FILINGS}/{number}/status"
            await report(handle, actor=dispatcher, kind=CarrierEventKind.PICKED_UP)
            regulator_control.set_fault(
                mode="slow", delay_s=CLIENT_TIMEOUT_S + 1, count=1, paths=[status_path]
            )
            await report(handle, actor=dispatcher, kind=CarrierEventKind.DEPARTED)
            await report(handle, actor=dispatcher, kind=CarrierEventKind.ARRIVED)
            regulator_control.set_fault(
                mode="slow", delay_s=CLIENT_TIMEOUT_S / 2, count=1, paths=[status_path]
            )
            proof = b.store_document(sessions, store, org_id=carrier.id)
            await report(handle, actor=dispatcher, kind=CarrierEventKind.DELIVERED, proof=proof)
            slowed = [r for r in regulator_control.requests(path_prefix=status_path) if r["fault"]]
            assert [r["fault"] for r in slowed] == ["slow", "slow"]
            tally = regulator_control.tally(number)
            assert (tally["accepted"], tally["status"]) == (1, "delivered")
            assert (tally["status_changes"], tally["status_replays"]) == (2, 1)
            record = regulator.get_record(number)
            assert record is not None
            assert [h["status"] for h in record["history"]] == ["filed", "departed", "delivered"]
            history = {h["status"]: h["event_receipt"] for h in record["history"]}
            filings = {
                f.kind: f.receipt for f in rows(sessions, WaybillFiling, waybill_number=number)
            }
            assert filings == history
            (filed,) = rows(sessions, Waybill, waybill_number=number)
            assert filed.status == "delivered"
            for change in ("departed", "delivered"):
                assert (
                    len(rows(sessions, AuditEntry, action=f"waybill.{change}", target_id=number))
                    == 1
                )

            # -- the buyer accepts, the invoice is issued, one payment completes the order.
            acceptance = await open_task(sessions, order_id=order_id, kind="order_acceptance")
            accepted = await decide(
                handle, task_id=acceptance.id, actor=parties.buyer.actor, outcome="accept"
            )
            assert accepted.process_status == OrderStatus.INVOICED.value
            await order_reaches(sessions, order_id=order_id, status=OrderStatus.INVOICED)
            (invoice,) = rows(sessions, Invoice, order_id=order_id)
            assert invoice.amount == terms.total.amount
            paid = await handle.execute_update(
                OrderWorkflow.record_payment,
                PaymentInput(
                    amount=terms.total,
                    reference="BANK-REF-WAYBILL-1",
                    paid_on=datetime.now(UTC).date(),
                    actor=parties.finance.actor,
                ),
            )
            assert paid.outstanding.amount == 0
            outcome = await handle.result()
            assert outcome.status == OrderStatus.COMPLETED
        (row,) = rows(sessions, Order, id=order_id)
        assert (row.status, row.paid_amount) == ("completed", terms.total.amount)
        assert regulator_control.tally(number)["accepted"] == 1
        assert len(rows(sessions, Waybill, order_id=order_id)) == 1
    finally:
        with contextlib.suppress(RPCError):
            await handle.terminate("test finished")
