"""End to end: who may see and do what on an order with a carrier (issue 9, section 3).

The order's carrier is a party to its carriage only (《危险货物道路运输安全管理办法》 art. 24):
it sees the orders assigned to it, without their money; it makes the waybill and reports the
shipment, and reads the carriage documents (the consignment list, the filed e-waybill, the
proof of delivery) but not the invoice or what the parties upload for themselves. The supplier
declares and loads but neither makes the waybill nor reports the shipment; another carrier sees
nothing of the order. The real API over HTTP with the real worker on the dev server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from contracts.consignment import ConsignmentList
from contracts.fulfilment import OrderStatus
from contracts.waybill import EWaybill
from db.models import OrderShipment, Waybill
from settings import Settings
from storage.object_store import ObjectStore
from tests.e2e import order_api
from tests.e2e.order_api import (
    Carriers,
    OrderHandle,
    People,
    answered,
    confirm_with,
    decide,
    deliver,
    event,
    opened_task,
    order_reaches,
    start,
)
from tests.harness import carrier_api as ca
from tests.harness import orders as o
from tests.harness import sourcing as s
from tests.harness import waybills as w
from tests.harness.api_server import TokenCaller
from tests.harness.builders import MINIMAL_PDF
from tests.harness.postgres import rows

people = order_api.people
carriers = order_api.carriers
started = order_api.started


async def sees(caller: TokenCaller, order_id: str) -> bool:
    """Whether the caller finds the order, both by its id and in its list."""
    read = await caller.http.get(f"/orders/{order_id}")
    listed = await caller.http.get("/orders")
    assert listed.status_code == 200, listed.text
    in_list = order_id in [row["order_id"] for row in listed.json()]
    assert (read.status_code == 200) == in_list, (read.status_code, in_list)
    assert read.status_code in (200, 404), read.text
    return in_list


async def test_a_carrier_sees_and_does_only_its_part_of_the_orders_assigned_to_it(
    api_url: str,
    worker: None,
    people: People,
    carriers: Carriers,
    started: list[OrderHandle],
    dev_env: WorkflowEnvironment,
    e2e_settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
) -> None:
    who = o.parties(sessions, store)
    buyer, finance, supplier, logistics = (
        people(m) for m in (who.buyer, who.finance, who.supplier, who.logistics)
    )
    carrier = await carriers()
    other = await carriers()
    dispatcher, manager = carrier.dispatcher, carrier.manager
    terms = o.executed_contract(sessions, who, now=datetime.now(UTC), lines=(s.lines()[0],))
    order_id = await start(dev_env, e2e_settings, started, terms)
    await order_reaches(buyer, order_id, OrderStatus.AWAITING_CONFIRMATION)

    # -- a carrier sees an order once it is named its carrier, and without its money ----------
    assert not await sees(dispatcher, order_id)
    await confirm_with(supplier, order_id, carrier)
    for caller in (dispatcher, manager):
        assert await sees(caller, order_id)
        seen = await answered(caller.http.get(f"/orders/{order_id}"))
        assert seen["carrier_org_id"] == carrier.org_id
        assert (seen["total"], seen["paid"], seen["outstanding"], seen["invoice"]) == (
            None,
            None,
            None,
            None,
        )
        (row,) = [r for r in (await caller.http.get("/orders")).json() if r["order_id"] == order_id]
        assert (row["total"], row["paid"]) == (None, None)
    for caller in (other.dispatcher, other.manager):
        assert not await sees(caller, order_id)
    assert (await answered(buyer.http.get(f"/orders/{order_id}")))["total"] is not None

    # -- each party its own part of the shipment -----------------------------------------------
    shipment = f"/orders/{order_id}/shipments/1"
    loading = datetime.now(UTC) + timedelta(days=2)
    listed = ca.consignment_body(who.supplier.org.credit_code)
    # The API checks the side before the shipment's state: the supplier never reports events
    # on a carrier's order, ready or not.
    for caller in (logistics, supplier, buyer):
        refused = await caller.http.post(f"{shipment}/events", json=event("picked_up"))
        assert refused.status_code == 403, (caller.user_id, refused.text)
        assert "carrier" in refused.json()["detail"]
    await opened_task(logistics, "consignment_list", order_id)
    for caller, code in ((dispatcher, 403), (manager, 403), (supplier, 403), (buyer, 403)):
        declared = await caller.http.post(f"{shipment}/consignment", json=listed)
        assert declared.status_code == code, (caller.user_id, declared.text)
    stranger = await other.dispatcher.http.post(f"{shipment}/consignment", json=listed)
    assert stranger.status_code == 404, stranger.text
    await answered(logistics.http.post(f"{shipment}/consignment", json=listed))

    making = await opened_task(dispatcher, "waybill_submission", order_id)
    assert making["role"] == "logistics"
    order_body = carrier.order(loading)
    for caller in (logistics, supplier, manager, buyer):  # the carrier's dispatchers make it
        refused = await caller.http.post(f"{shipment}/waybill/make", json=order_body)
        assert refused.status_code == 403, (caller.user_id, refused.text)
    stranger = await other.dispatcher.http.post(
        f"{shipment}/waybill/make", json=other.order(loading)
    )
    assert stranger.status_code == 404, stranger.text
    # Nor does the older whole-draft submission let the supplier make it on a carrier's order.
    draft = w.waybill(making["details"]["waybill_number"], order_id, loading_at=loading)
    whole = await logistics.http.post(f"{shipment}/waybill", json=draft.model_dump(mode="json"))
    assert whole.status_code == 409, whole.text
    made = await answered(dispatcher.http.post(f"{shipment}/waybill/make", json=order_body))
    assert made["process_status"] == "awaiting_loading_check", made

    await opened_task(logistics, "loading_check", order_id)
    for caller, code in ((dispatcher, 403), (manager, 403), (other.dispatcher, 404)):
        checked = await caller.http.post(f"{shipment}/loading-check", json=ca.loading_check_body())
        assert checked.status_code == code, (caller.user_id, checked.text)
    await answered(logistics.http.post(f"{shipment}/loading-check", json=ca.loading_check_body()))
    await order_reaches(buyer, order_id, OrderStatus.READY_TO_DISPATCH)

    # -- only the order's carrier reports the shipment and adds its proof ----------------------
    for caller, code in ((logistics, 403), (buyer, 403), (other.dispatcher, 404)):
        reported = await caller.http.post(f"{shipment}/events", json=event("picked_up"))
        assert reported.status_code == code, (caller.user_id, reported.text)
    files = {"file": ("签收单.pdf", MINIMAL_PDF, "application/pdf")}
    intruding = await other.dispatcher.http.post(f"/orders/{order_id}/documents", files=files)
    assert intruding.status_code == 404, intruding.text
    proof = await deliver(order_id, carrier, MINIMAL_PDF + b"% signed by the consignee\n")
    acceptance = await opened_task(buyer, "order_acceptance", order_id)
    assert (await decide(buyer, acceptance, "accept"))["process_status"] == "invoiced"
    invoiced = await order_reaches(finance, order_id, OrderStatus.INVOICED)
    invoice = invoiced["invoice"]["document_id"]
    kept = await buyer.http.post(
        f"/orders/{order_id}/documents",
        files={"file": ("buyer notes.pdf", MINIMAL_PDF + b"% notes\n", "application/pdf")},
    )
    assert kept.status_code == 201, kept.text
    buyers_own = kept.json()["document_id"]

    # -- the carrier reads the carriage documents, not the invoice nor the parties' own -------
    seen = await answered(dispatcher.http.get(f"/orders/{order_id}"))
    assert (seen["status"], seen["total"], seen["invoice"]) == ("invoiced", None, None)
    for caller in (dispatcher, manager):
        assert (await caller.http.get(f"/orders/{order_id}/invoice")).status_code == 404
    assert (await finance.http.get(f"/orders/{order_id}/invoice")).status_code == 200
    (planned,) = rows(sessions, OrderShipment, order_id=order_id)
    (filed,) = rows(sessions, Waybill, order_id=order_id)
    # The order names the shipment's carriage documents, so nobody needs to guess their ids.
    (shown,) = seen["shipments"]
    assert (shown["consignment_document_id"], shown["waybill_pdf_document_id"]) == (
        planned.consignment_document_id,
        filed.pdf_document_id,
    )
    carriage = {
        "consignment list": planned.consignment_document_id,
        "filed waybill": filed.json_document_id,
        "filed PDF": filed.pdf_document_id,
        "proof of delivery": proof,
    }
    for name, document_id in carriage.items():
        assert document_id is not None, name
        for url in (f"/orders/{order_id}/documents/{document_id}", f"/documents/{document_id}"):
            read = await dispatcher.http.get(url)
            assert read.status_code == 200, (name, url, read.text)
            assert (await other.dispatcher.http.get(url)).status_code == 404, (name, url)
            assert (await buyer.http.get(url)).status_code == 200, (name, url)
    listing = await dispatcher.http.get(
        f"/orders/{order_id}/documents/{carriage['consignment list']}"
    )
    assert ConsignmentList.model_validate_json(listing.content).consignor.credit_code == (
        who.supplier.org.credit_code
    )
    sealed = await dispatcher.http.get(f"/documents/{carriage['filed waybill']}")
    assert EWaybill.model_validate_json(sealed.content).carrier.credit_code == (
        carrier.org.credit_code
    )
    pdf = await dispatcher.http.get(f"/orders/{order_id}/documents/{carriage['filed PDF']}")
    assert pdf.content[:5] == b"%PDF-" and pdf.headers["content-type"] == "application/pdf"
    for document_id in (invoice, buyers_own):
        for url in (f"/orders/{order_id}/documents/{document_id}", f"/documents/{document_id}"):
            answer = await dispatcher.http.get(url)
            assert answer.status_code == 404, (url, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            assert (await supplier.http.get(url)).status_code == 200, url
