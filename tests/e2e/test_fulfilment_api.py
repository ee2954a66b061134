"""End to end: an executed contract with dangerous goods through the order REST API, from
confirmation through the e-waybill's filing, delivery, acceptance and invoice to payment, and the
regulator's window onto the filed waybills; on the dev server with the real worker, PostgreSQL,
S3 and the regulator sandbox."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from contracts.common import OPERATOR_ORG_ID, Role
from contracts.fulfilment import OrderOutcome, OrderStatus, order_id_for
from contracts.sourcing import ContractTerms
from contracts.waybill import EWaybill, WaybillItem
from db.models import AuditEntry
from sandboxes.regulator import RegulatorControl
from security.keys import jwt_secret_from_settings
from settings import Settings
from storage.object_store import ObjectStore, content_key
from tests.harness import orders as o
from tests.harness import sourcing as s
from tests.harness import waybills as w
from tests.harness.api_server import TokenCaller
from tests.harness.builders import MINIMAL_PDF, make_org, store_document
from tests.harness.temporal import eventually

REGULATOR_ORG_ID = "org_demo_regulator"
OrderHandle = WorkflowHandle[Any, OrderOutcome]


People = Callable[[s.Member], TokenCaller]


@pytest.fixture
async def people(api_url: str, e2e_settings: Settings) -> AsyncIterator[People]:
    secret = jwt_secret_from_settings(e2e_settings)
    made: list[TokenCaller] = []

    def make(member: s.Member) -> TokenCaller:
        made.append(TokenCaller(api_url, secret, member))
        return made[-1]

    yield make
    for caller in made:
        await caller.http.aclose()


@pytest.fixture
async def started(dev_env: WorkflowEnvironment) -> AsyncIterator[list[OrderHandle]]:
    """Orders the test starts; any still running at the end is terminated."""
    handles: list[OrderHandle] = []
    yield handles
    for handle in handles:
        with contextlib.suppress(RPCError):
            await handle.terminate("test finished")


async def until(probe: Callable[[], Awaitable[Any]]) -> Any:
    return await eventually(probe, attempts=1200, interval=0.1)


async def opened_task(caller: TokenCaller, kind: str, subject_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        answer = await caller.http.get("/tasks", params={"kind": kind, "subject_id": subject_id})
        assert answer.status_code == 200, answer.text
        return answer.json()[0] if answer.json() else None

    found: dict[str, Any] = await until(probe)
    return found


async def order_reaches(caller: TokenCaller, order_id: str, status: OrderStatus) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        answer = await caller.http.get(f"/orders/{order_id}")
        ok = answer.status_code == 200 and answer.json()["status"] == status.value
        return answer.json() if ok else None

    found: dict[str, Any] = await until(probe)
    return found


async def decide(caller: TokenCaller, task: dict[str, Any], outcome: str) -> dict[str, Any]:
    answer = await caller.http.post(f"/tasks/{task['task_id']}/decision", json={"outcome": outcome})
    assert answer.status_code == 200, answer.text
    decided: dict[str, Any] = answer.json()
    return decided


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def random_plate() -> str:
    return "苏E·" + uuid.uuid4().hex[:5].upper()


def draft(
    number: str,
    order_id: str,
    *,
    loading_at: datetime,
    carrier: str,
    plate: str,
    items: tuple[WaybillItem, ...],
    driver_expiry: date | None = None,
) -> EWaybill:
    base = w.waybill(number, order_id, loading_at=loading_at, driver_expiry=driver_expiry)
    return base.model_copy(
        update={
            "items": items,
            "carrier": base.carrier.model_copy(update={"name": carrier}),
            "vehicle": base.vehicle.model_copy(update={"plate": plate}),
        }
    )


def problems(answer: httpx.Response) -> dict[str, str]:
    return {p["field"]: p["rule"] for p in answer.json()["errors"]}


async def start(
    dev_env: WorkflowEnvironment,
    settings: Settings,
    started: list[OrderHandle],
    terms: ContractTerms,
) -> str:
    handle = await o.start_order(dev_env.client, terms, task_queue=settings.task_queue)
    started.append(handle)
    return order_id_for(terms.contract_id)


async def test_a_dangerous_goods_order_runs_to_payment_and_the_regulator_sees_its_filing(
    api_url: str,
    worker: None,
    people: People,
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
    regulator = people(s.member(sessions, s.org_row(sessions, REGULATOR_ORG_ID), Role.REGULATOR))
    ops = people(s.member(sessions, s.org_row(sessions, OPERATOR_ORG_ID), Role.OPS_SUPERVISOR))
    carrier = f"苏州安运危险品运输有限公司{uuid.uuid4().hex[:8]}"
    plate_a, plate_b = random_plate(), random_plate()

    # -- the executed contract becomes an order: acetone (class 3) and hydrochloric acid (8) ---
    terms = o.executed_contract(sessions, who, now=began, lines=(s.lines()[0], o.HYDROCHLORIC_ACID))
    order_id = await start(dev_env, e2e_settings, started, terms)
    first = await order_reaches(buyer, order_id, OrderStatus.AWAITING_CONFIRMATION)
    number = f"EW-{terms.contract_id}-1"
    assert (first["dangerous_goods"], first["shipments"]) == (True, [])
    assert Decimal(first["total"]["amount"]) == terms.total.amount and first["invoice"] is None
    assert (await ops.http.get(f"/orders/{order_id}")).status_code == 200
    for door in (f"/orders/{order_id}", f"/contracts/{terms.contract_id}"):
        assert (await regulator.http.get(door)).status_code == 404, door
    for door in ("/orders", "/contracts", "/rfqs"):
        assert (await regulator.http.get(door)).status_code == 403, door
    assert (await outsider.http.get(f"/orders/{order_id}")).status_code == 404
    assert order_id not in [r["order_id"] for r in (await outsider.http.get("/orders")).json()]
    assert order_id in [r["order_id"] for r in (await supplier.http.get("/orders")).json()]

    confirmed = await decide(
        supplier, await opened_task(supplier, "order_confirmation", order_id), "confirm"
    )
    assert confirmed["process_status"] == "confirmed"
    assert confirmed["message"].startswith("confirmed in 1 shipment(s), 1 with an e-waybill")

    # -- the e-waybill: refused input, a blocking problem, then clean and filed -----------------
    task = await opened_task(logistics, "waybill_submission", order_id)
    assert task["details"]["waybill_number"] == number
    live = (await buyer.http.get(f"/orders/{order_id}")).json()
    assert task["task_id"] in live["open_task_ids"]
    (shipment,) = live["shipments"]
    assert (shipment["shipment"], shipment["waybill_number"]) == (1, number)
    assert shipment["un_numbers"] == ["UN1090", "UN1789"]
    assert {line: Decimal(q) for line, q in shipment["quantities"].items()} == {
        line.line_id: line.quantity for line in terms.lines
    }
    unplanned = await logistics.http.post(
        f"/orders/{order_id}/shipments/2/events",
        json={"kind": "picked_up", "at": began.isoformat(), "location": "无锡 Wuxi"},
    )
    assert unplanned.status_code == 404 and "not in the order's plan" in unplanned.text
    early = await logistics.http.post(
        f"/orders/{order_id}/shipments/1/events",
        json={"kind": "picked_up", "at": began.isoformat(), "location": "无锡 Wuxi"},
    )
    assert early.status_code == 409 and "not ready to move" in early.json()["detail"]

    loading = datetime.now(UTC) + timedelta(days=1)
    clean = draft(
        number,
        order_id,
        loading_at=loading,
        carrier=carrier,
        plate=plate_a,
        items=(w.ACETONE, w.HYDROCHLORIC_ACID),
    )
    url = f"/orders/{order_id}/shipments/1/waybill"
    malformed = clean.model_dump(mode="json")
    malformed["vehicle"]["plate"] = "not a plate"
    malformed["items"][1]["quantity"] = "-5"
    refused = await logistics.http.post(url, json=malformed)
    assert refused.status_code == 422, refused.text
    assert {"vehicle.plate", "items.1.quantity"} <= set(problems(refused))
    other = clean.model_copy(update={"waybill_number": "EW-someone-else"})
    wrong = await logistics.http.post(url, json=other.model_dump(mode="json"))
    assert wrong.status_code == 422 and number in problems(wrong)["waybill_number"]
    elsewhere = clean.model_copy(update={"shipment_id": f"{order_id}-S2"})
    misplaced = await logistics.http.post(url, json=elsewhere.model_dump(mode="json"))
    assert misplaced.status_code == 422 and "-S1" in problems(misplaced)["shipment_id"]
    body = clean.model_dump(mode="json")
    assert (await supplier.http.post(url, json=body)).status_code == 403  # logistics' task
    assert (await buyer.http.post(url, json=body)).status_code == 403
    assert (await outsider.http.post(url, json=body)).status_code == 404

    expired = draft(
        number,
        order_id,
        loading_at=loading,
        carrier=carrier,
        plate=plate_a,
        items=(w.ACETONE, w.HYDROCHLORIC_ACID),
        driver_expiry=clean.dispatch_date - timedelta(days=1),
    )
    sent_back = await logistics.http.post(url, json=expired.model_dump(mode="json"))
    assert sent_back.status_code == 200, sent_back.text
    assert sent_back.json()["process_status"] == "awaiting_waybill"
    assert "driver.certificate_expiry" in sent_back.json()["message"]
    fix = await opened_task(logistics, "waybill_submission", order_id)
    assert fix["task_id"] != task["task_id"] and "driver.certificate_expiry" in fix["summary"]
    filing = await logistics.http.post(url, json=body, headers={"Idempotency-Key": "wb-a"})
    assert filing.status_code == 200, filing.text
    assert filing.json()["process_status"] == "filing"
    ready = await order_reaches(buyer, order_id, OrderStatus.READY_TO_DISPATCH)
    with sessions() as session:
        drafts = session.scalars(
            select(AuditEntry.detail)
            .where(AuditEntry.target_id == order_id)
            .where(AuditEntry.action == "order.document_added")
        ).all()
    assert len(drafts) == 2  # the refused draft and the filed one, readable by staff
    for stored in drafts:
        read = await ops.http.get(f"/orders/{order_id}/documents/{stored['document_id']}")
        assert read.status_code == 200 and EWaybill.model_validate_json(read.content)
    tally = regulator_control.tally(number)
    assert tally["accepted"] == 1
    assert ready["shipments"][0]["receipt_number"] == tally["receipt_number"]

    # -- carrier events, in order, with the proof of delivery ----------------------------------
    events = f"/orders/{order_id}/shipments/1/events"

    def event(kind: str, **extra: Any) -> dict[str, Any]:
        at = datetime.now(UTC).isoformat()
        return {"kind": kind, "at": at, "location": "G2 京沪高速 Wuxi", **extra}

    skipped = await logistics.http.post(events, json=event("departed"))
    assert skipped.status_code == 422 and "picked_up must be reported first" in skipped.text
    picked = await logistics.http.post(events, json=event("picked_up"))
    assert picked.status_code == 200, picked.text
    assert picked.json() == {
        "shipment": 1,
        "kind": "picked_up",
        "shipment_status": "in_transit",
        "status": "in_transit",
    }
    ahead = await logistics.http.post(events, json=event("arrived"))
    assert ahead.status_code == 422 and "departed must be reported first" in ahead.text
    assert (await buyer.http.post(events, json=event("departed"))).status_code == 403
    for kind in ("departed", "arrived"):
        reported = await logistics.http.post(events, json=event(kind))
        assert reported.status_code == 200, reported.text

    pod_bytes = MINIMAL_PDF + b"% signed by the consignee\n"
    uploaded = await logistics.http.post(
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
    no_proof = await logistics.http.post(events, json=event("delivered"))
    assert no_proof.status_code == 422 and "proof_of_delivery_document_id" in problems(no_proof)
    foreign = store_document(sessions, store, org_id=outsider_member.org.id)
    stolen = await logistics.http.post(
        events, json=event("delivered", proof_of_delivery_document_id=foreign.document_id)
    )
    assert stolen.status_code == 422 and "proof_of_delivery_document_id" in problems(stolen)
    delivered = await logistics.http.post(
        events,
        json=event(
            "delivered", note="签收 signed", proof_of_delivery_document_id=pod["document_id"]
        ),
    )
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["status"] == "delivered"
    again = await logistics.http.post(events, json=event("picked_up"))
    assert again.status_code == 422 and "already reported" in again.text

    # The buyer reads the supplier's proof through the order; nobody else can.
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
    assert (await regulator.http.get(f"/orders/{order_id}/invoice")).status_code == 404

    # -- finance pays in two parts ------------------------------------------------------------
    payments = f"/orders/{order_id}/payments"
    half = (total / 2).quantize(Decimal("0.01"))
    today = date.today().isoformat()

    def payment(amount: Decimal, currency: str = "CNY") -> dict[str, Any]:
        return {
            "amount": {"amount": str(amount), "currency": currency},
            "reference": f"BANK-{amount}",
            "paid_on": today,
        }

    dollars = await finance.http.post(payments, json=payment(half, "USD"))
    assert dollars.status_code == 422 and "amount.currency" in dollars.text
    too_much = await finance.http.post(payments, json=payment(total + 1))
    assert too_much.status_code == 422 and "outstanding" in too_much.text
    assert (await supplier.http.post(payments, json=payment(half))).status_code == 403
    part = await finance.http.post(payments, json=payment(half), headers={"Idempotency-Key": "p1"})
    assert part.status_code == 200, part.text
    assert Decimal(part.json()["outstanding"]["amount"]) == total - half
    replay = await finance.http.post(
        payments, json=payment(half), headers={"Idempotency-Key": "p1"}
    )
    assert replay.json() == part.json() and replay.headers["idempotent-replayed"] == "true"
    rest = await finance.http.post(payments, json=payment(total - half))
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
    completed = (await buyer.http.get("/orders", params={"status": "completed"})).json()
    assert order_id in [r["order_id"] for r in completed]
    late = await buyer.http.post(f"/orders/{order_id}/cancel", json={"reason": "too late"})
    assert late.status_code == 409

    # -- a second order is filed, then cancelled: its filing is voided ------------------------
    acetone_only = o.executed_contract(sessions, who, now=began, lines=(s.lines()[0],))
    second = await start(dev_env, e2e_settings, started, acetone_only)
    await decide(supplier, await opened_task(supplier, "order_confirmation", second), "confirm")
    await opened_task(logistics, "waybill_submission", second)
    number_b = f"EW-{acetone_only.contract_id}-1"
    later = draft(
        number_b,
        second,
        loading_at=datetime.now(UTC) + timedelta(days=5),
        carrier=carrier,
        plate=plate_b,
        items=(w.ACETONE,),
    )
    filed_b = await logistics.http.post(
        f"/orders/{second}/shipments/1/waybill", json=later.model_dump(mode="json")
    )
    assert filed_b.json()["process_status"] == "filing", filed_b.text
    await order_reaches(buyer, second, OrderStatus.READY_TO_DISPATCH)
    cancel_url = f"/orders/{second}/cancel"
    assert (await logistics.http.post(cancel_url, json={"reason": "x"})).status_code == 403
    assert (await buyer.http.post(cancel_url, json={"reason": "  "})).status_code == 422
    cancelled = await buyer.http.post(cancel_url, json={"reason": "工厂检修 plant shutdown"})
    assert cancelled.status_code == 200, cancelled.text
    gone = await order_reaches(buyer, second, OrderStatus.CANCELLED)
    assert "plant shutdown" in gone["status_reason"]
    assert regulator_control.tally(number_b)["status"] == "voided"

    # -- the regulator's window ---------------------------------------------------------------
    for door in ("/regulator/waybills", "/regulator/waybills.csv", f"/regulator/waybills/{number}"):
        for caller in (supplier, logistics, buyer, ops):
            assert (await caller.http.get(door)).status_code == 403, (door, caller.user_id)

    async def found(**filters: str) -> list[str]:
        answer = await regulator.http.get(
            "/regulator/waybills", params={"carrier": carrier, **filters}
        )
        assert answer.status_code == 200, answer.text
        return [row["waybill_number"] for row in answer.json()]

    day_a = clean.dispatch_date.isoformat()
    assert sorted(await found()) == sorted([number, number_b])
    assert await found(un_number="UN1789") == [number]
    assert sorted(await found(un_number="1090")) == sorted([number, number_b])
    assert await found(hazard_class="8") == [number]
    assert sorted(await found(hazard_class="3")) == sorted([number, number_b])
    assert await found(vehicle_plate=plate_b.replace("·", "")) == [number_b]
    assert await found(vehicle_plate=plate_a) == [number]
    assert await found(dispatched_from=day_a, dispatched_to=day_a) == [number]
    assert await found(status="delivered") == [number]
    assert await found(status="voided") == [number_b]
    assert sorted(await found(filed_from=began.isoformat())) == sorted([number, number_b])
    assert await found(filed_to=began.isoformat()) == []
    assert await found(carrier="no such carrier " + carrier) == []
    summary = (
        await regulator.http.get("/regulator/waybills", params={"vehicle_plate": plate_a})
    ).json()[0]
    assert summary["un_numbers"] == ["UN1090", "UN1789"] and summary["hazard_classes"] == ["3", "8"]
    assert summary["consignor_name"] == "江苏恒信化工有限公司"
    assert summary["receipt_number"] == tally["receipt_number"]
    bad_date = await regulator.http.get("/regulator/waybills", params={"filed_from": "yesterday"})
    assert bad_date.status_code == 422 and "filed_from" in problems(bad_date)

    record = await regulator.http.get(f"/regulator/waybills/{number}")
    assert record.status_code == 200, record.text
    filed = record.json()
    assert filed["status"] == "delivered" and filed["record"]["waybill_number"] == number
    assert [f["kind"] for f in filed["filings"]] == ["filed", "departed", "delivered"]
    assert all(f["receipt"] for f in filed["filings"])
    assert filed["filings"][0]["receipt"] == tally["receipt_number"]
    assert [i["un_number"] for i in filed["record"]["items"]] == ["UN1090", "UN1789"]
    assert (await regulator.http.get("/regulator/waybills/EW-missing")).status_code == 404

    waybill_pdf = await regulator.http.get(f"/regulator/waybills/{number}/pdf")
    assert waybill_pdf.status_code == 200 and waybill_pdf.content[:5] == b"%PDF-"
    assert hashlib.sha256(waybill_pdf.content).hexdigest() == filed["pdf_sha256"]
    assert number in pdf_text(waybill_pdf.content)
    integrity = (await regulator.http.get(f"/regulator/waybills/{number}/integrity")).json()
    assert integrity == {
        "json_intact": True,
        "pdf_intact": True,
        "record_matches_json": True,
        "intact": True,
    }

    exported = await regulator.http.get("/regulator/waybills.csv", params={"carrier": carrier})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert exported.content.startswith(b"\xef\xbb\xbf")
    rows = {
        r["waybill_number"]: r
        for r in csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig")))
    }
    assert set(rows) == {number, number_b}
    assert rows[number]["un_numbers"] == "UN1090 UN1789" and rows[number]["status"] == "delivered"
    assert rows[number]["consignee_name"] == "华东精细化工贸易有限公司"
    assert rows[number_b]["vehicle_plate"] == plate_b
    only_8 = await regulator.http.get(
        "/regulator/waybills.csv", params={"carrier": carrier, "hazard_class": "8"}
    )
    assert [
        r["waybill_number"] for r in csv.DictReader(io.StringIO(only_8.text.lstrip("\ufeff")))
    ] == [number]

    with sessions() as session:
        reads = session.execute(
            select(AuditEntry.action, AuditEntry.target_id).where(
                AuditEntry.actor_user_id == regulator.user_id
            )
        ).all()
    assert {
        ("regulator.listed", "waybills"),
        ("regulator.exported", "waybills"),
        ("regulator.read", number),
        ("regulator.downloaded", number),
        ("regulator.verified", number),
    } <= set(reads)

    # Whoever rewrites the stored PDF is found out: the copy no longer hashes to the sealed hash.
    store.put(content_key(filed["pdf_sha256"]), b"%PDF-1.4 forged", content_type="application/pdf")
    broken = (await regulator.http.get(f"/regulator/waybills/{number}/integrity")).json()
    assert (broken["pdf_intact"], broken["json_intact"], broken["intact"]) == (False, True, False)
    assert (await regulator.http.get(f"/regulator/waybills/{number}/pdf")).status_code == 409


async def test_only_a_regulator_organisation_s_regulators_open_the_regulator_window(
    people: People, sessions: sessionmaker[Session]
) -> None:
    impostor = people(s.member(sessions, make_org(sessions), Role.REGULATOR))
    regulator = people(s.member(sessions, s.org_row(sessions, REGULATOR_ORG_ID), Role.REGULATOR))
    assert (await impostor.http.get("/regulator/waybills")).status_code == 403
    assert (await regulator.http.get("/regulator/waybills", params={"limit": 1})).status_code == 200
    bad = await regulator.http.get("/regulator/waybills", params={"hazard_class": "X"})
    assert bad.status_code == 422 and "hazard_class" in problems(bad)
    naive = await regulator.http.get(
        "/regulator/waybills", params={"filed_to": "2026-01-01T00:00:00"}
    )
    assert naive.status_code == 422 and "UTC offset" in problems(naive)["filed_to"]
