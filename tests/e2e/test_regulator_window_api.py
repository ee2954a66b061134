"""End to end: the regulator's window onto filed e-waybills. One carrier makes the waybills of
two orders (《危险货物道路运输安全管理办法》 art. 24): the first is delivered, the second
cancelled after filing, so its filing is voided. The regulator finds them by every filter,
reads the record with who made it, downloads the sealed PDF, verifies the stored copies and
exports the list; every read is audited, and a rewritten PDF is found out. Nobody else opens the
window. On the dev server with the real worker, PostgreSQL, S3 and the regulator sandbox.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from contracts.common import OPERATOR_ORG_ID, Role
from contracts.fulfilment import OrderStatus
from db.models import AuditEntry
from sandboxes.regulator import RegulatorControl
from settings import Settings
from storage.object_store import ObjectStore, content_key
from tests.e2e import order_api
from tests.e2e.order_api import (
    ACETONE_ONLY,
    MIXED,
    REGULATOR_ORG_ID,
    Carriers,
    OrderHandle,
    People,
    confirm_with,
    deliver,
    file_shipment,
    order_reaches,
    pdf_text,
    problems,
    start,
)
from tests.harness import carrier_api as ca
from tests.harness import orders as o
from tests.harness import sourcing as s
from tests.harness import waybills as w
from tests.harness.builders import MINIMAL_PDF, make_org

people = order_api.people
carriers = order_api.carriers
started = order_api.started


async def test_the_regulator_finds_reads_verifies_and_exports_the_carrier_s_filed_waybills(
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
    buyer, supplier, logistics = (people(m) for m in (who.buyer, who.supplier, who.logistics))
    regulator = people(s.member(sessions, s.org_row(sessions, REGULATOR_ORG_ID), Role.REGULATOR))
    ops = people(s.member(sessions, s.org_row(sessions, OPERATOR_ORG_ID), Role.OPS_SUPERVISOR))
    carrier = await carriers()
    plate_a, plate_b = carrier.plate, ca.random_plate()
    second_vehicle = await ca.created(
        carrier.manager,
        f"/carriers/{carrier.org_id}/vehicles",
        ca.vehicle_body(plate_b, ("3", "8")),
    )
    code = who.supplier.org.credit_code

    # -- two orders, one carrier: acetone and hydrochloric acid delivered ----------------------
    mixed = o.executed_contract(sessions, who, now=began, lines=(s.lines()[0], o.HYDROCHLORIC_ACID))
    order_a = await start(dev_env, e2e_settings, started, mixed)
    number = f"EW-{mixed.contract_id}-1"
    await confirm_with(supplier, order_a, carrier)
    loading_a = datetime.now(UTC) + timedelta(days=1)
    await file_shipment(
        order_a,
        logistics=logistics,
        carrier=carrier,
        consignor_credit_code=code,
        items=MIXED,
        loading_at=loading_a,
    )
    await order_reaches(buyer, order_a, OrderStatus.READY_TO_DISPATCH)
    await deliver(order_a, carrier, MINIMAL_PDF + b"% signed for A\n")
    await order_reaches(buyer, order_a, OrderStatus.DELIVERED)
    tally = regulator_control.tally(number)

    # -- ... and acetone on the second vehicle, filed, then cancelled: its filing is voided ----
    acetone = o.executed_contract(sessions, who, now=began, lines=(s.lines()[0],))
    order_b = await start(dev_env, e2e_settings, started, acetone)
    number_b = f"EW-{acetone.contract_id}-1"
    await confirm_with(supplier, order_b, carrier)
    await file_shipment(
        order_b,
        logistics=logistics,
        carrier=carrier,
        consignor_credit_code=code,
        items=ACETONE_ONLY,
        loading_at=datetime.now(UTC) + timedelta(days=5),
        vehicle_id=second_vehicle["vehicle_id"],
    )
    await order_reaches(buyer, order_b, OrderStatus.READY_TO_DISPATCH)
    cancel_url = f"/orders/{order_b}/cancel"
    assert (await logistics.http.post(cancel_url, json={"reason": "x"})).status_code == 403
    assert (await carrier.dispatcher.http.post(cancel_url, json={"reason": "x"})).status_code == 403
    assert (await buyer.http.post(cancel_url, json={"reason": "  "})).status_code == 422
    cancelled = await buyer.http.post(cancel_url, json={"reason": "工厂检修 plant shutdown"})
    assert cancelled.status_code == 200, cancelled.text
    gone = await order_reaches(buyer, order_b, OrderStatus.CANCELLED)
    assert "plant shutdown" in gone["status_reason"]
    assert regulator_control.tally(number_b)["status"] == "voided"

    # -- the window is the regulator's alone ----------------------------------------------------
    for door in ("/regulator/waybills", "/regulator/waybills.csv", f"/regulator/waybills/{number}"):
        for caller in (supplier, logistics, buyer, ops, carrier.dispatcher, carrier.manager):
            assert (await caller.http.get(door)).status_code == 403, (door, caller.user_id)
    for door in (f"/orders/{order_a}", f"/contracts/{mixed.contract_id}"):
        assert (await regulator.http.get(door)).status_code == 404, door
    for door in ("/orders", "/contracts", "/rfqs"):
        assert (await regulator.http.get(door)).status_code == 403, door
    assert (await regulator.http.get(f"/orders/{order_a}/invoice")).status_code == 404

    async def found(**filters: str) -> list[str]:
        answer = await regulator.http.get(
            "/regulator/waybills", params={"carrier": carrier.name, **filters}
        )
        assert answer.status_code == 200, answer.text
        return [row["waybill_number"] for row in answer.json()]

    day_a = loading_a.astimezone(w.CST).date().isoformat()
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
    assert sorted(await found(made_by_org_id=carrier.org_id)) == sorted([number, number_b])
    assert await found(made_by_org_id=who.supplier.org.id) == []
    assert await found(carrier="no such carrier " + carrier.name) == []
    summary = (
        await regulator.http.get("/regulator/waybills", params={"vehicle_plate": plate_a})
    ).json()[0]
    assert summary["un_numbers"] == ["UN1090", "UN1789"] and summary["hazard_classes"] == ["3", "8"]
    assert summary["consignor_name"] == "江苏恒信化工有限公司"
    assert summary["receipt_number"] == tally["receipt_number"]
    # The carrier made it (art. 24), and the regulator sees which carrier and which dispatcher.
    assert summary["made_by"]["org_id"] == carrier.org_id
    assert summary["made_by"]["name"] == carrier.name
    assert "李强" in summary["made_by"]["dispatcher"]
    bad_date = await regulator.http.get("/regulator/waybills", params={"filed_from": "yesterday"})
    assert bad_date.status_code == 422 and "filed_from" in problems(bad_date)

    record = await regulator.http.get(f"/regulator/waybills/{number}")
    assert record.status_code == 200, record.text
    filed = record.json()
    assert filed["status"] == "delivered" and filed["record"]["waybill_number"] == number
    assert filed["made_by"] == summary["made_by"]
    assert filed["record"]["carrier"]["credit_code"] == carrier.org.credit_code
    assert filed["record"]["consignor"]["credit_code"] == code
    assert filed["record"]["vehicle"]["plate"] == plate_a
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

    exported = await regulator.http.get("/regulator/waybills.csv", params={"carrier": carrier.name})
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
    assert rows[number_b]["made_by"].startswith(f"{carrier.name} · ")
    only_8 = await regulator.http.get(
        "/regulator/waybills.csv", params={"carrier": carrier.name, "hazard_class": "8"}
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
