"""Cold shipments on the time-skipping server, with real activities on PostgreSQL: an excursion
during the trip raising one task however many batches repeat it, the buyer's quarantine and claim
coming off the invoice, a silent logger's task, and a pickup reported late. (A month of dense
readings is in test_cold_chain_history.py, on a server of its own.)"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import select
from temporalio.client import WorkflowHandle

from contracts.cold_chain import (
    ColdChainOutcome,
    Disposition,
    cold_chain_workflow_id,
    trip_id_for,
)
from contracts.common import Money
from contracts.fulfilment import CarrierEventKind, OrderStatus, PaymentInput
from contracts.sourcing import ContractTerms
from db.cold_chain import ColdTrip, CreditNote
from db.models import Document, HumanTask, Notification, Order
from storage.object_store import get_verified
from tests.harness import builders as b
from tests.harness import cold_chain as c
from tests.harness import orders as o
from tests.harness.histories import record_history
from tests.harness.temporal import eventually, skip_time
from tests.workflows.test_order import (
    Harness,
    OrderHandle,
    decide,
    harness,
    report,
    time_skipping_env,
)
from workflows.cold_chain import ColdChainWorkflow
from workflows.order import OrderWorkflow

__all__ = ["harness", "time_skipping_env"]  # the fixtures this module shares with test_order

FIVE_MINUTES = timedelta(minutes=5)
LETTUCE = c.CHILLED_LETTUCE


def _pdf_text(harness: Harness, document_id: str) -> str:
    (document,) = harness.rows(Document, id=document_id)
    data = get_verified(harness.store, document.sha256)
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def _open_tasks(harness: Harness, order_id: str, kind: str) -> list[HumanTask]:
    with harness.sessions() as session:
        return list(
            session.scalars(
                select(HumanTask)
                .where(HumanTask.subject_id == order_id, HumanTask.kind == kind)
                .order_by(HumanTask.created_at)
            )
        )


async def confirmed_chilled_order(
    harness: Harness,
) -> tuple[o.Parties, OrderHandle, str, str, ContractTerms]:
    parties = harness.parties()
    terms = o.executed_contract(
        harness.sessions, parties, now=await harness.now(), lines=(LETTUCE,)
    )
    handle = await harness.start(terms)
    order_id = handle.id.removeprefix("Order:")
    confirm = await harness.task(order_id, "order_confirmation")
    await decide(handle, confirm.id, parties.supplier.actor, "confirm")
    await harness.status(order_id, OrderStatus.READY_TO_DISPATCH)
    trip_id = trip_id_for(order_id, 1)
    (trip,) = harness.rows(ColdTrip, id=trip_id)
    assert trip.status == "planned" and trip.plan["zones"][0]["zone"] == "chilled"
    return parties, handle, order_id, trip_id, terms


async def _alerts(harness: Harness, order_id: str, prefix: str) -> list[HumanTask]:
    tasks = await _open_tasks(harness, order_id, "cold_chain_alert")
    return [t for t in tasks if t.details.get("alert", "").startswith(prefix)]


async def test_an_excursion_raises_one_task_and_the_quarantine_ends_in_a_claim_on_the_invoice(
    harness: Harness,
) -> None:
    parties, handle, order_id, trip_id, _ = await confirmed_chilled_order(harness)
    supplier_org = parties.supplier.org.id
    c.logger_on_trip(
        harness.sessions, org_id=supplier_org, trip_id=trip_id, logger_id="LG-A1", zone="chilled"
    )
    pickup = await harness.now()
    await report(handle, parties.logistics.actor, CarrierEventKind.PICKED_UP, pickup)
    trip: WorkflowHandle[ColdChainWorkflow, ColdChainOutcome] = harness.client.get_workflow_handle(
        cold_chain_workflow_id(trip_id), result_type=ColdChainOutcome
    )
    store = {"low": Decimal(0), "high": Decimal(4)}

    # Six hours in range, sent as the logger sends them: hourly, after the fact.
    cool: list[tuple[datetime, Decimal]] = []
    for hour in range(6):
        await skip_time(harness.env, timedelta(hours=1))
        begin = pickup + timedelta(hours=hour)
        readings = c.every(begin, begin + timedelta(minutes=55), FIVE_MINUTES, "1")
        cool += readings
        batch = c.store(harness.sessions, trip_id, "LG-A1", readings, **store)
        await trip.signal(ColdChainWorkflow.readings, batch)
    # Then the reefer fails: 40 minutes at 6 °C, past the 30-minute tolerance (MKT stays under
    # the 4 °C label, so the buyer decides).
    await skip_time(harness.env, timedelta(minutes=45))
    start = pickup + timedelta(hours=6, minutes=5)
    warm = c.every(start, start + timedelta(minutes=40), FIVE_MINUTES, "6")
    batch = c.store(harness.sessions, trip_id, "LG-A1", warm, **store)
    assert batch.alarm
    await trip.signal(ColdChainWorkflow.readings, batch)

    async def excursion_task() -> HumanTask | None:
        tasks = await _alerts(harness, order_id, "excursion:")
        return tasks[0] if tasks else None

    task = await eventually(excursion_task, attempts=400)
    assert task.org_id == supplier_org and task.role == "logistics"  # no carrier: the supplier's
    assert (
        "LG-A1" in task.summary
        and "6.00 °C at worst" in task.summary
        and "budget left" in task.summary
    )
    assert task.details["chart"].endswith(f"/orders/{order_id}/shipments/1/temperature/chart.svg")
    # The same excursion, sent again (a duplicate batch) and continued: still one task.
    await trip.signal(ColdChainWorkflow.readings, batch)
    await skip_time(harness.env, timedelta(minutes=10))
    more = c.every(start + timedelta(minutes=45), start + timedelta(minutes=50), FIVE_MINUTES, "3")
    await trip.signal(
        ColdChainWorkflow.readings, c.store(harness.sessions, trip_id, "LG-A1", more, **store)
    )

    async def assessed_to_the_end() -> dict[str, object] | None:
        (row,) = harness.rows(ColdTrip, id=trip_id)
        figures = row.figures or {}
        loggers = figures.get("loggers") or [{}]
        return figures if loggers[0].get("readings") == len(cool) + len(warm) + len(more) else None

    await eventually(assessed_to_the_end, attempts=400)
    assert len(await _alerts(harness, order_id, "excursion:")) == 1
    notified = harness.rows(Notification, subject_id=order_id, kind="cold_chain_alert")
    assert {n.org_id for n in notified} == {parties.buyer.org.id, supplier_org}

    # Delivered: the excursion was within budget, so the buyer decides; quarantine, then claim.
    await skip_time(harness.env, timedelta(minutes=20))
    arrival = await harness.now()
    proof = b.store_document(harness.sessions, harness.store, org_id=supplier_org)
    for kind in (CarrierEventKind.DEPARTED, CarrierEventKind.ARRIVED):
        await report(handle, parties.logistics.actor, kind, arrival)
    await report(handle, parties.logistics.actor, CarrierEventKind.DELIVERED, arrival, proof=proof)
    disposition = await harness.task(order_id, "cold_chain_disposition")
    assert "release_with_deviation" in disposition.summary
    answer = await decide(trip, disposition.id, parties.buyer.actor, "quarantine")
    assert answer.process_status == "quarantined"
    inspection = await harness.task(order_id, "cold_chain_inspection")
    # What the logger buffered on the last stretch arrives while the goods sit in quarantine.
    late = c.every(start + timedelta(minutes=55), arrival, FIVE_MINUTES, "3")
    c.store(harness.sessions, trip_id, "LG-A1", late, **store)
    answer = await decide(
        trip,
        inspection.id,
        parties.buyer.actor,
        "accept_with_claim",
        comment="20 cases wilted",
        choices={"lost:L9": "20"},
    )
    assert answer.process_status == "accept_with_claim"
    outcome = await trip.result()
    assert outcome.disposition is Disposition.ACCEPT_WITH_CLAIM

    terms_total = harness.rows(ColdTrip, id=trip_id)[0]
    assert terms_total.figures is not None
    everything = len(cool) + len(warm) + len(more) + len(late)
    assert terms_total.figures["loggers"][0]["readings"] == everything  # the report has them all
    (note,) = harness.rows(CreditNote, trip_id=trip_id)
    assert outcome.claim is not None and note.amount == outcome.claim.amount
    assert terms_total.disposition == "accept_with_claim" and terms_total.liable == "supplier"
    text = _pdf_text(harness, outcome.report_document_id)
    for expected in ("Temperature Report", "温度", "LG-A1", "MKT", "20 cases wilted", note.id):
        assert expected in text, expected

    # The order goes on: acceptance, invoice, and the buyer owes the invoice less the credit.
    acceptance = await harness.task(order_id, "order_acceptance")
    await decide(handle, acceptance.id, parties.buyer.actor, "accept")
    await harness.status(order_id, OrderStatus.INVOICED)
    view = await handle.query(OrderWorkflow.get_status)
    assert view.credited is not None and view.credited.amount == note.amount
    assert view.shipments[0].cold_chain is not None
    due = view.credited.amount
    receipt = await handle.execute_update(
        OrderWorkflow.record_payment,
        PaymentInput(
            amount=Money(amount=_total(harness, order_id) - due, currency="CNY"),
            reference="BANK-REF-COLD",
            paid_on=arrival.date(),
            actor=parties.finance.actor,
        ),
    )
    assert receipt.outstanding.amount == 0
    assert (await handle.result()).status == OrderStatus.COMPLETED
    await record_history(handle, "order_cold_chain_reassessed")
    await record_history(trip, "cold_chain_quarantine_claim_reassessed")


def _total(harness: Harness, order_id: str) -> Decimal:
    (order,) = harness.rows(Order, id=order_id)
    total: Decimal = order.total_amount
    return total


async def test_a_silent_logger_raises_its_task_and_no_evidence_quarantines_at_once(
    harness: Harness,
) -> None:
    parties, handle, order_id, trip_id, _ = await confirmed_chilled_order(harness)
    supplier_org = parties.supplier.org.id
    c.logger_on_trip(
        harness.sessions, org_id=supplier_org, trip_id=trip_id, logger_id="LG-S1", zone="chilled"
    )
    pickup = await harness.now()
    await report(handle, parties.logistics.actor, CarrierEventKind.PICKED_UP, pickup)
    # Nothing comes from the logger: past the 90 minutes its line allows.
    await skip_time(harness.env, timedelta(minutes=100))

    async def silence_task() -> HumanTask | None:
        tasks = await _alerts(harness, order_id, "silence:LG-S1")
        return tasks[0] if tasks else None

    task = await eventually(silence_task, attempts=400)
    assert "has sent nothing since" in task.summary
    arrival = await harness.now()
    proof = b.store_document(harness.sessions, harness.store, org_id=supplier_org)
    for kind in (CarrierEventKind.DEPARTED, CarrierEventKind.ARRIVED):
        await report(handle, parties.logistics.actor, kind, arrival)
    await report(handle, parties.logistics.actor, CarrierEventKind.DELIVERED, arrival, proof=proof)
    # No readings is no evidence: quarantined without asking, the inspection decides.
    inspection = await harness.task(order_id, "cold_chain_inspection")
    assert not await _open_tasks(harness, order_id, "cold_chain_disposition")
    trip: WorkflowHandle[ColdChainWorkflow, ColdChainOutcome] = harness.client.get_workflow_handle(
        cold_chain_workflow_id(trip_id), result_type=ColdChainOutcome
    )
    await decide(trip, inspection.id, parties.buyer.actor, "reject", comment="no record")
    outcome = await trip.result()
    assert outcome.disposition is Disposition.REJECT
    assert outcome.lost[0].quantity == LETTUCE.quantity
    (alert,) = await _alerts(harness, order_id, "silence:LG-S1")
    assert alert.status == "cancelled"  # nobody acknowledged it; the trip's end closed it
    # The order waits for the buyer now, nothing in flight to hold the server's clock after.
    await harness.task(order_id, "order_acceptance")
    await record_history(trip, "cold_chain_silent_reject_reassessed")


async def test_a_pickup_reported_late_leaves_the_logger_time_to_upload_before_it_counts_as_silent(
    harness: Harness,
) -> None:
    parties, handle, order_id, trip_id, _ = await confirmed_chilled_order(harness)
    c.logger_on_trip(
        harness.sessions,
        org_id=parties.supplier.org.id,
        trip_id=trip_id,
        logger_id="LG-L1",
        zone="chilled",
    )
    # Reported three hours late: longer than the 90 minutes the logger may be silent, but it
    # could not upload before the pickup was on record.
    now = await harness.now()
    pickup = now - timedelta(hours=3)
    await report(handle, parties.logistics.actor, CarrierEventKind.PICKED_UP, pickup)
    trip: WorkflowHandle[ColdChainWorkflow, ColdChainOutcome] = harness.client.get_workflow_handle(
        cold_chain_workflow_id(trip_id), result_type=ColdChainOutcome
    )
    readings = c.every(pickup, now, FIVE_MINUTES, "2")
    batch = c.store(harness.sessions, trip_id, "LG-L1", readings, low=Decimal(0), high=Decimal(4))
    await trip.signal(ColdChainWorkflow.readings, batch)
    await skip_time(harness.env, timedelta(minutes=30))

    async def assessed() -> int | None:
        (row,) = harness.rows(ColdTrip, id=trip_id)
        loggers = (row.figures or {}).get("loggers") or [{}]
        count = loggers[0].get("readings")
        return count if count == len(readings) else None

    await eventually(assessed, attempts=400)
    assert await _alerts(harness, order_id, "silence:") == []
    # Silent from here on, it is alerted once the 90 minutes pass.
    await skip_time(harness.env, timedelta(minutes=70))

    async def silence_task() -> HumanTask | None:
        tasks = await _alerts(harness, order_id, "silence:LG-L1")
        return tasks[0] if tasks else None

    await eventually(silence_task, attempts=400)

    async def both_told() -> list[Notification] | None:
        told = harness.rows(Notification, subject_id=order_id, kind="cold_chain_alert")
        return told if len(told) == 2 else None

    await eventually(both_told, attempts=400)  # nothing left in flight when the test ends
