"""Dangerous goods on the time-skipping server: the carrier makes the e-waybill from the
consignor's consignment list (《危险货物道路运输安全管理办法》 art. 24), the loader checks before
loading (五必查), and only the order's carrier reports the shipment moving."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text, update
from temporalio.client import WorkflowUpdateFailedError

from contracts.common import OPERATOR_ORG_ID, Actor, Role
from contracts.consignment import ConsignmentList, LoadingCheckReport
from contracts.fulfilment import (
    CancelOrderInput,
    CarrierEventKind,
    OrderStatus,
    waybill_number_for,
)
from contracts.tasks import TaskAnswer
from contracts.waybill import WaybillItem
from db.fleet import CarrierCrewMember
from db.models import (
    AuditEntry,
    CarrierEvent,
    LoadingCheck,
    Order,
    OrderShipment,
    Waybill,
    WaybillFiling,
)
from db.session import transaction
from sandboxes.regulator import RegulatorControl
from storage.object_store import get_verified
from tests.harness import builders as b
from tests.harness import carriers as c
from tests.harness import waybills as w
from tests.harness.histories import record_history
from tests.harness.orders import Parties
from tests.harness.temporal import refusal
from tests.workflows import test_order
from tests.workflows.test_order import Harness, OrderHandle, decide, report
from workflows.order import OrderWorkflow

# The order tests' time-skipping server and worker, one of this module's own.
time_skipping_env = test_order.time_skipping_env
harness = test_order.harness


@dataclass
class CarrierSide:
    org_id: str
    dispatcher: Actor
    vehicle_id: str
    driver_id: str
    escort_id: str


def carrier_side(harness: Harness, *, classes: tuple[str, ...] = ("3", "8")) -> CarrierSide:
    org = c.accredited_carrier(harness.sessions, classes=classes)
    return CarrierSide(
        org_id=org.id,
        dispatcher=Actor(user_id="usr_test_dispatch", org_id=org.id, roles=(Role.LOGISTICS,)),
        vehicle_id=c.add_vehicle(harness.sessions, org.id).id,
        driver_id=c.add_crew(harness.sessions, org.id, role="driver").id,
        escort_id=c.add_crew(harness.sessions, org.id, role="escort", name="李押运").id,
    )


def expire(harness: Harness, crew_id: str, days: int) -> None:
    """Set a crew member's certificate to expire ``days`` from the real today."""
    with transaction(harness.sessions) as session:
        row = session.get(CarrierCrewMember, crew_id)
        assert row is not None
        session.execute(
            update(CarrierCrewMember)
            .where(CarrierCrewMember.id == crew_id)
            .values(certificate_expiry=row.created_at.date() + timedelta(days=days))
        )


async def confirmed(harness: Harness, carrier: CarrierSide) -> tuple[Parties, OrderHandle, str]:
    parties = harness.parties()
    handle = await harness.start(await harness.executed_contract(parties, dangerous=True))
    order_id = handle.id.removeprefix("Order:")
    confirm = await harness.task(order_id, "order_confirmation")
    await decide(
        handle, confirm.id, parties.supplier.actor, "confirm", choices={"carrier": carrier.org_id}
    )
    return parties, handle, order_id


async def declare(
    harness: Harness,
    handle: OrderHandle,
    parties: Parties,
    order_id: str,
    *,
    items: tuple[WaybillItem, ...] = (w.ACETONE,),
) -> tuple[TaskAnswer, ConsignmentList]:
    task = await harness.task(order_id, "consignment_list")
    listed = w.consignment(parties.supplier.org.credit_code, items=items)
    stored = w.store_json(
        harness.sessions,
        harness.store,
        org_id=parties.supplier.org.id,
        name="consignment",
        data=listed.model_dump_json().encode(),
        kind="consignment_list",
    )
    answer = await decide(
        handle,
        task.id,
        parties.logistics.actor,
        "submit",
        choices={"document_id": stored.document_id},
    )
    return answer, listed


async def make(
    harness: Harness,
    handle: OrderHandle,
    carrier: CarrierSide,
    listed: ConsignmentList,
    order_id: str,
    **trip: Any,
) -> TaskAnswer:
    """The carrier makes the waybill as the API composes it, from its own fleet."""
    task = await harness.task(order_id, "waybill_submission")
    assert task.org_id == carrier.org_id
    order = w.trip(
        await harness.now() + timedelta(days=1),
        vehicle_id=carrier.vehicle_id,
        driver_id=carrier.driver_id,
        escort_id=carrier.escort_id,
        **trip,
    )
    draft = w.carriers_draft(
        harness.sessions,
        listed,
        order,
        carrier_org_id=carrier.org_id,
        order_id=order_id,
        task_details=task.details,
    )
    stored = w.store_draft(harness.sessions, harness.store, org_id=carrier.org_id, draft=draft)
    return await decide(
        handle, task.id, carrier.dispatcher, "submit", choices={"document_id": stored.document_id}
    )


async def load(
    harness: Harness, handle: OrderHandle, parties: Parties, order_id: str, *, failed: str = ""
) -> TaskAnswer:
    task = await harness.task(order_id, "loading_check")
    checks: dict[str, Any] = {
        "vehicle_permits": True,
        "crew_qualified": True,
        "vehicle_inspected": True,
        "goods_match": True,
        "tank_medium": True,
    }
    if failed:
        checks[failed] = False
    checked = LoadingCheckReport(
        **checks, note="桶身标签缺失 drum labels missing" if failed else ""
    )
    return await decide(
        handle,
        task.id,
        parties.logistics.actor,
        "refuse" if failed else "load",
        comment=checked.note,
        choices=checked.answers(),
    )


async def test_the_carrier_makes_the_waybill_from_the_consignment_list_and_the_loader_checks(
    harness: Harness, regulator_control: RegulatorControl
) -> None:
    """Art. 24: the carrier makes the waybill from the consignor's list; 五必查 before loading;
    the carrier, not the supplier, reports the shipment and is recorded as the maker."""
    carrier = carrier_side(harness)
    gases_only = carrier_side(harness, classes=("2",))
    parties = harness.parties()
    handle = await harness.start(await harness.executed_contract(parties, dangerous=True))
    order_id = handle.id.removeprefix("Order:")
    confirm = await harness.task(order_id, "order_confirmation")
    supplier = parties.supplier.actor
    with pytest.raises(WorkflowUpdateFailedError) as no_carrier:
        await decide(handle, confirm.id, supplier, "confirm")
    assert refusal(no_carrier)[1].startswith("choices.carrier: an order with dangerous goods")
    wrong = await decide(
        handle, confirm.id, supplier, "confirm", choices={"carrier": gases_only.org_id}
    )
    assert wrong.process_status == "awaiting_confirmation"
    assert "does not cover class 3" in wrong.message
    again = await harness.task(order_id, "order_confirmation")
    answer = await decide(
        handle, again.id, supplier, "confirm", choices={"carrier": carrier.org_id}
    )
    assert answer.message.startswith(
        "confirmed in 1 shipment(s), 1 with an e-waybill for the carrier"
    )
    (row,) = harness.rows(Order, id=order_id)
    assert row.carrier_org_id == carrier.org_id

    await harness.status(order_id, OrderStatus.AWAITING_CONSIGNMENT)
    now = await harness.now()
    with pytest.raises(WorkflowUpdateFailedError) as supplier_reports:
        await report(handle, parties.logistics.actor, CarrierEventKind.PICKED_UP, now)
    assert refusal(supplier_reports) == (
        "WrongRole",
        "only the carrier's logistics may report carrier events",
    )
    declared, listed = await declare(harness, handle, parties, order_id)
    assert declared.process_status == "awaiting_waybill"
    (planned,) = harness.rows(OrderShipment, order_id=order_id)
    assert planned.consignment_document_id is not None

    # The driver's certificate expired: blocking, back to the carrier alone.
    expire(harness, carrier.driver_id, -1)
    expired = await make(harness, handle, carrier, listed, order_id)
    assert expired.process_status == "awaiting_waybill"
    assert "back to the carrier: " in expired.message
    assert "driver.certificate_expiry" in expired.message
    # The escort's expires within 30 days: a warning, platform logistics safety approves.
    expire(harness, carrier.driver_id, 300)
    expire(harness, carrier.escort_id, 12)
    warned = await make(harness, handle, carrier, listed, order_id)
    assert warned.process_status == "awaiting_safety_approval"
    review = await harness.task(order_id, "waybill_safety_review")
    assert carrier.dispatcher.user_id in review.excluded_user_ids
    safety = Actor(user_id="usr_test_safety", org_id=OPERATOR_ORG_ID, roles=(Role.LOGISTICS,))
    approved = await decide(handle, review.id, safety, "approve")
    assert approved.process_status == "awaiting_loading_check"

    # The loader finds the goods do not match: loading refused, recorded, back to the carrier.
    refused = await load(harness, handle, parties, order_id, failed="goods_match")
    assert refused.message == "loading refused, failed checks: goods_match"
    fix = await harness.task(order_id, "waybill_submission")
    assert "the loader refused to load: goods_match failed" in fix.details["problems"]
    assert fix.details["revision"] == "3"
    (check,) = harness.rows(LoadingCheck, order_id=order_id)
    assert (check.passed, check.checks["goods_match"], check.checks["tank_medium"]) == (
        False,
        "no",
        "yes",
    )
    assert len(harness.rows(AuditEntry, action="waybill.loading_checked")) >= 1

    expire(harness, carrier.escort_id, 300)
    clean = await make(harness, handle, carrier, listed, order_id)
    assert clean.process_status == "awaiting_loading_check"
    assert "JT/T 617.7-2018" in clean.message and "ADR 1.1.3.6" in clean.message
    # The regulator accepts, then its answer is lost: the retry must get the same receipt.
    regulator_control.accept_then_fail(count=1, paths=["/waybills"])
    loaded = await load(harness, handle, parties, order_id)
    assert loaded.process_status == "filing"
    await harness.status(order_id, OrderStatus.READY_TO_DISPATCH)
    number = waybill_number_for(order_id, 1)
    tally = regulator_control.tally(number)
    assert (tally["accepted"], tally["replays"]) == (1, 1)
    (filed,) = harness.rows(Waybill, waybill_number=number)
    assert filed.receipt_number == tally["receipt_number"]
    assert filed.made_by_org_id == carrier.org_id
    assert "李强" in filed.made_by and filed.record["revision"] == 3
    assert filed.record["consignor"]["credit_code"] == parties.supplier.org.credit_code
    assert get_verified(harness.store, filed.pdf_sha256)[:5] == b"%PDF-"
    (sealed,) = harness.rows(AuditEntry, action="waybill.filed", target_id=number)
    assert sealed.detail["made_by_org_id"] == carrier.org_id
    with harness.sessions() as session, pytest.raises(Exception, match="immutable"):
        session.execute(
            text("UPDATE waybills SET made_by = 'forged' WHERE waybill_number = :n"), {"n": number}
        )
        session.commit()

    for kind in (CarrierEventKind.PICKED_UP, CarrierEventKind.DEPARTED, CarrierEventKind.ARRIVED):
        await report(handle, carrier.dispatcher, kind, now)
    proof = b.store_document(harness.sessions, harness.store, org_id=carrier.org_id)
    await report(handle, carrier.dispatcher, CarrierEventKind.DELIVERED, now, proof=proof)
    filings = sorted(f.kind for f in harness.rows(WaybillFiling, waybill_number=number))
    assert filings == ["delivered", "departed", "filed"]
    await harness.task(order_id, "order_acceptance")
    await record_history(handle, "order_carrier_made_waybill")


async def test_what_the_consignor_declared_goes_back_to_it_and_a_regulator_refusal_to_both(
    harness: Harness, regulator_control: RegulatorControl
) -> None:
    carrier = carrier_side(harness)
    parties, handle, order_id = await confirmed(harness, carrier)
    # Acetone is packing group II: the list's III is the consignor's to fix, not the carrier's.
    wrong_group = w.ACETONE.model_copy(update={"packing_group": "III"})
    _, listed = await declare(harness, handle, parties, order_id, items=(wrong_group,))
    sent_back = await make(harness, handle, carrier, listed, order_id)
    assert "back to the consignor and the carrier: items[0]" in sent_back.message
    fix = await harness.task(order_id, "consignment_list")
    assert fix.details["problems"].startswith("items[0]")
    _, listed = await declare(harness, handle, parties, order_id)
    await make(harness, handle, carrier, listed, order_id)

    # The regulator refuses: either part may be at fault, so both declare and make again.
    regulator_control.set_fault(mode="error", status=422, count=1, paths=["/waybills"])
    await load(harness, handle, parties, order_id)
    again = await harness.task(order_id, "consignment_list")
    assert again.details["problems"].startswith("regulator: ")
    _, listed = await declare(harness, handle, parties, order_id)
    remade = await harness.task(order_id, "waybill_submission")
    assert remade.details["problems"].startswith("regulator: ")
    await make(harness, handle, carrier, listed, order_id)
    await load(harness, handle, parties, order_id)
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
    await record_history(handle, "order_carrier_waybill_sent_back")


async def test_a_split_order_ships_each_consignment_on_its_own_with_its_own_waybill(
    harness: Harness, regulator_control: RegulatorControl
) -> None:
    carrier = carrier_side(harness)
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
            await decide(
                handle, confirm.id, supplier, "confirm", choices={**plan, "carrier": carrier.org_id}
            )
        assert reason in refusal(refused)[1]
    # The chilled kits go first; the acetone follows on a dangerous-goods vehicle.
    answer = await decide(
        handle,
        confirm.id,
        supplier,
        "confirm",
        choices={"1:L2": "200", "2:L1": "1000", "carrier": carrier.org_id},
    )
    assert answer.message.startswith("confirmed in 2 shipment(s), 1 with an e-waybill")
    view = await handle.query(OrderWorkflow.get_status)
    kits, acetone = view.shipments
    assert (kits.shipment.waybill_number, acetone.shipment.un_numbers) == (None, ("UN1090",))
    assert acetone.shipment.waybill_number == waybill_number_for(order_id, 2)

    # The order shows its least advanced shipment; the kits may leave meanwhile.
    await harness.status(order_id, OrderStatus.AWAITING_CONSIGNMENT)
    now = await harness.now()
    logistics = carrier.dispatcher
    await report(handle, logistics, CarrierEventKind.PICKED_UP, now, shipment=1)
    with pytest.raises(WorkflowUpdateFailedError) as early:
        await report(handle, logistics, CarrierEventKind.PICKED_UP, now, shipment=2)
    assert refusal(early) == (
        "NotReady",
        "kind: shipment 2 is awaiting_consignment, not ready to move",
    )
    with pytest.raises(WorkflowUpdateFailedError) as unplanned:
        await report(handle, logistics, CarrierEventKind.PICKED_UP, now, shipment=3)
    assert refusal(unplanned)[1] == "shipment: the order's shipments are 1 to 2"
    with pytest.raises(WorkflowUpdateFailedError) as moving:
        await handle.execute_update(
            OrderWorkflow.cancel_order,
            CancelOrderInput(reason="too late", actor=parties.buyer.actor),
        )
    assert refusal(moving)[0] == "NotReady"

    # A list declaring other goods than the shipment's is sent back to the consignor.
    _, listed = await declare(harness, handle, parties, order_id, items=(w.HYDROCHLORIC_ACID,))
    wrong = await make(harness, handle, carrier, listed, order_id)
    assert "items: the shipment carries UN1090; the draft lists UN1789" in wrong.message
    _, listed = await declare(harness, handle, parties, order_id)
    await make(harness, handle, carrier, listed, order_id)
    filed = await load(harness, handle, parties, order_id)
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
        proof = b.store_document(harness.sessions, harness.store, org_id=carrier.org_id)
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
    assert {r.number for r in harness.rows(OrderShipment, order_id=order_id)} == {1, 2}
