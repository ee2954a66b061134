"""End to end: an executed contract with dangerous goods through the order REST API, driven by
its parties and its carrier. The supplier confirms naming an accredited carrier licensed for the
goods; its logistics declares the consignment list (托运清单); the carrier's dispatcher makes
the e-waybill from it with a vehicle, driver and escort of its own fleet
(《危险货物道路运输安全管理办法》 art. 24); the loader records its five checks
(五必查) and the waybill is filed. The carrier reports the shipment and uploads the proof of
delivery; the buyer accepts, the invoice says what is owed, finance steps up with its second
factor and pays in two parts. Refused input answers 4xx naming the field; what the rules refuse
goes back to whoever has to fix it. On the dev server with the real worker, PostgreSQL, S3 and
the regulator sandbox.

The regulator's window is ``test_regulator_window_api``; who may see and do what on a carrier's
order, ``test_carrier_access_api``.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from contracts.common import OPERATOR_ORG_ID, Role
from contracts.consignment import ConsignmentList
from contracts.fulfilment import OrderStatus
from contracts.waybill import EWaybill
from db.models import AuditEntry
from sandboxes.regulator import RegulatorControl
from settings import Settings
from storage.object_store import ObjectStore
from tests.e2e import order_api
from tests.e2e.order_api import (
    MIXED,
    Carriers,
    Json,
    OrderHandle,
    People,
    answered,
    decide,
    event,
    next_task,
    opened_task,
    order_reaches,
    pdf_text,
    problems,
    start,
)
from tests.harness import carrier_api as ca
from tests.harness import orders as o
from tests.harness import second_factor as sf
from tests.harness import sourcing as s
from tests.harness.builders import MINIMAL_PDF, store_document

people = order_api.people
carriers = order_api.carriers
started = order_api.started


def order_ids(answer: Any) -> list[str]:
    return [row["order_id"] for row in answer.json()]


async def test_a_dangerous_goods_order_runs_from_confirmation_through_its_carrier_to_payment(
    api_url: str,
    worker: None,
    people: People,
    carriers: Carriers,
    started: list[OrderHandle],
    dev_env: WorkflowEnvironment,
    e2e_settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    regulator_control: RegulatorControl,
) -> None:
    began = datetime.now(UTC)
    who = o.parties(sessions, store)
    buyer, finance, supplier, logistics = (
        people(m) for m in (who.buyer, who.finance, who.supplier, who.logistics)
    )
    outsider_member = s.member(sessions, s.accredited_supplier(sessions, store), Role.SUPPLIER)
    outsider = people(outsider_member)
    ops = people(s.member(sessions, s.org_row(sessions, OPERATOR_ORG_ID), Role.OPS_SUPERVISOR))
    carrier = await carriers()
    gases_only = await carriers(classes=("2",))
    dispatch = carrier.dispatcher.http
    code = who.supplier.org.credit_code

    # -- the executed contract becomes an order: acetone (class 3) and hydrochloric acid (8) ---
    terms = o.executed_contract(sessions, who, now=began, lines=(s.lines()[0], o.HYDROCHLORIC_ACID))
    order_id = await start(dev_env, e2e_settings, started, terms)
    first = await order_reaches(buyer, order_id, OrderStatus.AWAITING_CONFIRMATION)
    number = f"EW-{terms.contract_id}-1"
    assert (first["dangerous_goods"], first["shipments"], first["carrier_org_id"]) == (
        True,
        [],
        None,
    )
    assert Decimal(first["total"]["amount"]) == terms.total.amount and first["invoice"] is None
    assert (await ops.http.get(f"/orders/{order_id}")).status_code == 200
    assert (await outsider.http.get(f"/orders/{order_id}")).status_code == 404
    assert order_id not in order_ids(await outsider.http.get("/orders"))
    assert order_id in order_ids(await supplier.http.get("/orders"))

    # -- confirmation names a carrier whose licence covers both classes ----------------------
    confirmation = await opened_task(supplier, "order_confirmation", order_id)
    decision = f"/tasks/{confirmation['task_id']}/decision"
    unnamed = await supplier.http.post(decision, json={"outcome": "confirm"})
    assert unnamed.status_code == 422, unnamed.text
    assert unnamed.json()["detail"].startswith("choices.carrier: an order with dangerous goods")
    # A carrier that cannot carry the goods is refused at once, naming the choice.
    for chosen, rule in (
        (who.buyer.org.id, "is not a carrier organisation"),
        (gases_only.org_id, "does not cover class 3, 8 (it permits 2)"),
    ):
        wrong_carrier = await supplier.http.post(
            decision, json={"outcome": "confirm", "choices": {"carrier": chosen}}
        )
        assert wrong_carrier.status_code == 422, wrong_carrier.text
        assert rule in problems(wrong_carrier)["choices.carrier"]
    confirmed = await decide(supplier, confirmation, "confirm", {"carrier": carrier.org_id})
    assert confirmed["process_status"] == "confirmed"
    assert confirmed["message"].startswith(
        "confirmed in 1 shipment(s), 1 with an e-waybill for the carrier"
    )

    # -- the consignor declares the consignment list -----------------------------------------
    declaring = await opened_task(logistics, "consignment_list", order_id)
    assert declaring["details"]["waybill_number"] == number
    live = await answered(buyer.http.get(f"/orders/{order_id}"))
    assert live["carrier_org_id"] == carrier.org_id
    assert declaring["task_id"] in live["open_task_ids"]
    (shipment,) = live["shipments"]
    assert (shipment["shipment"], shipment["waybill_number"], shipment["status"]) == (
        1,
        number,
        "awaiting_consignment",
    )
    assert shipment["un_numbers"] == ["UN1090", "UN1789"]
    assert {line: Decimal(q) for line, q in shipment["quantities"].items()} == {
        line.line_id: line.quantity for line in terms.lines
    }
    events = f"/orders/{order_id}/shipments/1/events"
    unplanned = await dispatch.post(
        f"/orders/{order_id}/shipments/2/events", json=event("picked_up")
    )
    assert unplanned.status_code == 404 and "not in the order's plan" in unplanned.text
    early = await dispatch.post(events, json=event("picked_up"))
    assert early.status_code == 409 and "not ready to move" in early.json()["detail"]

    consignment = f"/orders/{order_id}/shipments/1/consignment"
    listed = ca.consignment_body(code, items=MIXED)
    malformed = copy.deepcopy(listed)
    malformed["items"][1]["quantity"] = "-5"
    malformed["loading_place"] = ""
    refused = await logistics.http.post(consignment, json=malformed)
    assert refused.status_code == 422, refused.text
    assert {"items.1.quantity", "loading_place"} <= set(problems(refused))
    # The consignor is the contract's supplier, by its credit code, and lists the shipment's goods.
    forged = await logistics.http.post(
        consignment, json=ca.consignment_body(outsider_member.org.credit_code, items=MIXED)
    )
    assert forged.status_code == 422, forged.text
    assert f"must be {code}" in problems(forged)["consignor.credit_code"]
    partial = await logistics.http.post(consignment, json=ca.consignment_body(code))
    assert partial.status_code == 422, partial.text
    assert problems(partial)["items"] == (
        "shipment 1 carries UN1090, UN1789; the list declares UN1090"
    )
    declared = await answered(logistics.http.post(consignment, json=listed))
    assert declared["process_status"] == "awaiting_waybill"

    # -- the carrier makes the waybill from it, with its own fleet ---------------------------
    making = await opened_task(carrier.dispatcher, "waybill_submission", order_id)
    (listed_id,) = making["document_ids"]
    copy_read = await dispatch.get(f"/orders/{order_id}/documents/{listed_id}")
    assert copy_read.status_code == 200, copy_read.text
    assert ConsignmentList.model_validate_json(copy_read.content).consignor.credit_code == code
    make = f"/orders/{order_id}/shipments/1/waybill/make"
    loading = datetime.now(UTC) + timedelta(days=3)
    for field, fleet, rule in (
        ("vehicle_id", {"vehicle_id": gases_only.vehicle_id}, "not a vehicle of carrier"),
        ("driver_id", {"driver_id": gases_only.driver_id}, "not a crew member of carrier"),
        ("escort_id", {"escort_id": carrier.driver_id}, "registered as driver, not escort"),
    ):
        wrong = await dispatch.post(make, json=carrier.order(loading, **fleet))
        assert wrong.status_code == 422, (field, wrong.text)
        assert rule in problems(wrong)[field], (field, wrong.text)
    bad_trip = carrier.order(loading)
    bad_trip["gross_mass_kg"] = "-1"
    bad_trip["planned_loading_at"] = "2026-01-01T08:00:00"
    refused = await dispatch.post(make, json=bad_trip)
    assert refused.status_code == 422, refused.text
    assert {"gross_mass_kg", "planned_loading_at"} <= set(problems(refused))
    # A driver whose qualification lapses before the trip: blocking, back to the carrier alone.
    lapsing = await ca.created(
        carrier.manager,
        f"/carriers/{carrier.org_id}/crew",
        ca.crew_body("driver", "赵师傅", datetime.now(UTC).date() + timedelta(days=1)),
    )
    sent_back = await answered(
        dispatch.post(make, json=carrier.order(loading, driver_id=lapsing["crew_id"]))
    )
    assert sent_back["process_status"] == "awaiting_waybill"
    assert "back to the carrier: " in sent_back["message"]
    assert "driver.certificate_expiry" in sent_back["message"]
    fix = await next_task(carrier.dispatcher, "waybill_submission", order_id, after=making)
    assert "driver.certificate_expiry" in fix["details"]["problems"]
    assert (fix["details"]["revision"], fix["document_ids"]) == ("2", [listed_id])
    made = await answered(dispatch.post(make, json=carrier.order(loading)))
    assert made["process_status"] == "awaiting_loading_check", made

    # -- the loader checks before loading: a failed check sends it back to the carrier -------
    check = f"/orders/{order_id}/shipments/1/loading-check"
    checking = await opened_task(logistics, "loading_check", order_id)
    unanswered = await logistics.http.post(check, json={"vehicle_permits": True})
    assert unanswered.status_code == 422
    assert {"crew_qualified", "vehicle_inspected", "goods_match"} <= set(problems(unanswered))
    refused_load = await answered(
        logistics.http.post(check, json=ca.loading_check_body(failed="goods_match"))
    )
    assert refused_load["process_status"] == "awaiting_waybill"
    assert refused_load["message"] == "loading refused, failed checks: goods_match"
    again = await next_task(carrier.dispatcher, "waybill_submission", order_id, after=fix)
    assert "the loader refused to load: goods_match failed" in again["details"]["problems"]
    assert again["details"]["revision"] == "3"
    remade = await answered(dispatch.post(make, json=carrier.order(loading)))
    assert remade["process_status"] == "awaiting_loading_check"
    await next_task(logistics, "loading_check", order_id, after=checking)
    filing = await logistics.http.post(
        check, json=ca.loading_check_body(), headers={"Idempotency-Key": "lc-a"}
    )
    assert filing.status_code == 200, filing.text
    assert filing.json()["process_status"] == "filing"
    ready = await order_reaches(buyer, order_id, OrderStatus.READY_TO_DISPATCH)
    with sessions() as session:
        added = session.scalars(
            select(AuditEntry.detail)
            .where(AuditEntry.target_id == order_id)
            .where(AuditEntry.action == "order.document_added")
        ).all()
    # The consignment list and the three waybills the carrier made, readable by staff.
    assert len(added) == 4
    drafts = []
    for stored in added:
        read = await ops.http.get(f"/orders/{order_id}/documents/{stored['document_id']}")
        assert read.status_code == 200, read.text
        if stored["document_id"] != listed_id:
            drafts.append(EWaybill.model_validate_json(read.content))
    assert sorted(d.revision for d in drafts) == [1, 2, 3]
    assert {d.carrier.credit_code for d in drafts} == {carrier.org.credit_code}
    tally = regulator_control.tally(number)
    assert tally["accepted"] == 1
    assert ready["shipments"][0]["receipt_number"] == tally["receipt_number"]

    # -- the carrier reports the shipment, in order, with the proof of delivery --------------
    skipped = await dispatch.post(events, json=event("departed"))
    assert skipped.status_code == 422 and "picked_up must be reported first" in skipped.text
    picked = await dispatch.post(events, json=event("picked_up"))
    assert picked.status_code == 200, picked.text
    assert picked.json() == {
        "shipment": 1,
        "kind": "picked_up",
        "shipment_status": "in_transit",
        "status": "in_transit",
    }
    ahead = await dispatch.post(events, json=event("arrived"))
    assert ahead.status_code == 422 and "departed must be reported first" in ahead.text
    for kind in ("departed", "arrived"):
        await answered(dispatch.post(events, json=event(kind)))

    pod_bytes = MINIMAL_PDF + b"% signed by the consignee\n"
    uploaded = await dispatch.post(
        f"/orders/{order_id}/documents",
        files={"file": ("签收单 POD.pdf", pod_bytes, "application/pdf")},
    )
    assert uploaded.status_code == 201, uploaded.text
    pod = uploaded.json()
    assert pod["sha256"] == hashlib.sha256(pod_bytes).hexdigest()
    files = {"file": ("x.pdf", pod_bytes, "application/pdf")}
    assert (
        await outsider.http.post(f"/orders/{order_id}/documents", files=files)
    ).status_code == 404
    no_proof = await dispatch.post(events, json=event("delivered"))
    assert no_proof.status_code == 422 and "proof_of_delivery_document_id" in problems(no_proof)
    foreign = store_document(sessions, store, org_id=outsider_member.org.id)
    stolen = await dispatch.post(
        events, json=event("delivered", proof_of_delivery_document_id=foreign.document_id)
    )
    assert stolen.status_code == 422 and "proof_of_delivery_document_id" in problems(stolen)
    delivered = await dispatch.post(
        events,
        json=event(
            "delivered", note="签收 signed", proof_of_delivery_document_id=pod["document_id"]
        ),
    )
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["status"] == "delivered"
    repeated = await dispatch.post(events, json=event("picked_up"))
    assert repeated.status_code == 422 and "already reported" in repeated.text

    # The buyer reads the carrier's proof through the order; nobody else can.
    proof_url = f"/orders/{order_id}/documents/{pod['document_id']}"
    read_back = await buyer.http.get(proof_url)
    assert read_back.status_code == 200 and read_back.content == pod_bytes
    assert "filename*=UTF-8''" in read_back.headers["content-disposition"]
    assert (await outsider.http.get(proof_url)).status_code == 404
    assert (await outsider.http.get(f"/documents/{pod['document_id']}")).status_code == 404
    unrelated = f"/orders/{order_id}/documents/{foreign.document_id}"
    assert (await buyer.http.get(unrelated)).status_code == 404

    # -- the buyer accepts; the invoice says what is owed -------------------------------------
    acceptance = await opened_task(buyer, "order_acceptance", order_id)
    assert acceptance["document_ids"] == [pod["document_id"]]
    assert (await decide(buyer, acceptance, "accept"))["process_status"] == "invoiced"
    invoiced = await order_reaches(finance, order_id, OrderStatus.INVOICED)
    total = terms.total.amount
    assert Decimal(invoiced["invoice"]["amount"]) == total
    pdf = await finance.http.get(f"/orders/{order_id}/invoice")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == pdf.headers["x-content-sha256"]
    text = pdf_text(pdf.content)
    assert who.buyer.org.legal_name in text and who.supplier.org.legal_name in text
    assert f"CNY {total:,.2f}" in text and "UN1789" in text
    assert (await outsider.http.get(f"/orders/{order_id}/invoice")).status_code == 404

    # -- finance pays in two parts ------------------------------------------------------------
    payments = f"/orders/{order_id}/payments"
    half = (total / 2).quantize(Decimal("0.01"))
    today = date.today().isoformat()

    def payment(amount: Decimal, currency: str = "CNY") -> Json:
        return {
            "amount": {"amount": str(amount), "currency": currency},
            "reference": f"BANK-{amount}",
            "paid_on": today,
        }

    # Paying moves money: without a second factor just proved (step-up), finance is refused.
    unproved = await finance.http.post(payments, json=payment(half))
    assert unproved.status_code == 403 and "X-Step-Up" in unproved.text
    proved = await sf.step_up(finance)
    dollars = await finance.http.post(payments, json=payment(half, "USD"), headers=proved)
    assert dollars.status_code == 422 and "amount.currency" in dollars.text
    too_much = await finance.http.post(payments, json=payment(total + 1), headers=proved)
    assert too_much.status_code == 422 and "outstanding" in too_much.text
    assert (await supplier.http.post(payments, json=payment(half))).status_code == 403
    assert (await dispatch.post(payments, json=payment(half))).status_code == 403
    once = {"Idempotency-Key": "p1", **proved}
    part = await finance.http.post(payments, json=payment(half), headers=once)
    assert part.status_code == 200, part.text
    assert Decimal(part.json()["outstanding"]["amount"]) == total - half
    replay = await finance.http.post(payments, json=payment(half), headers=once)
    assert replay.json() == part.json() and replay.headers["idempotent-replayed"] == "true"
    rest = await finance.http.post(payments, json=payment(total - half), headers=proved)
    assert rest.status_code == 200, rest.text
    assert rest.json()["status"] == "completed"
    assert Decimal(rest.json()["outstanding"]["amount"]) == 0
    outcome = await started[0].result()
    assert outcome.status == OrderStatus.COMPLETED
    final = await order_reaches(buyer, order_id, OrderStatus.COMPLETED)
    assert (
        Decimal(final["paid"]["amount"]) == total and Decimal(final["outstanding"]["amount"]) == 0
    )
    (shipped,) = final["shipments"]
    assert [e["kind"] for e in shipped["events"]] == [
        "picked_up",
        "departed",
        "arrived",
        "delivered",
    ]
    assert shipped["events"][-1]["proof_document_id"] == pod["document_id"]
    assert shipped["status"] == "delivered"
    completed = await buyer.http.get("/orders", params={"status": "completed"})
    assert order_id in order_ids(completed)
    late = await buyer.http.post(f"/orders/{order_id}/cancel", json={"reason": "too late"})
    assert late.status_code == 409
