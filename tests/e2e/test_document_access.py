"""One rule for who may read a document, whichever path asks.

The real API over HTTP; the order, its carrier, its contract PDF, the consignment list, the
delivery proof, the invoice and the filed e-waybill the carrier made are recorded by the real
activities (run directly, as the workflows would run them), and the proof is uploaded through the
API. Each reader then asks every path that serves the document: the parties read it everywhere;
the order's carrier reads the carriage documents (consignment list, filed e-waybill, proof) and
nothing else; an unrelated supplier gets 404 everywhere, and a regulator reads the filed e-waybill
and nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.carriage import CarriageRecords
from activities.e_contracts import ContractDocuments
from activities.fulfilment_records import FulfilmentRecords
from activities.invoices import InvoiceActivities
from activities.waybills import WaybillActivities
from contracts.common import Role
from contracts.consignment import AssignCarrierInput, RecordConsignmentInput
from contracts.fulfilment import (
    CarrierEventInput,
    CarrierEventKind,
    IssueInvoiceInput,
    OrderInput,
    RecordEventInput,
    RecordShipmentsInput,
    SealWaybillInput,
    order_id_for,
)
from db.models import Contract, Invoice, Organisation, Waybill
from db.session import transaction
from gateways.regulator import RegulatorClient
from rules.shipments import plan_shipments
from security.keys import jwt_secret_from_settings
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness import carriers as c
from tests.harness import orders as o
from tests.harness import sourcing as s
from tests.harness import waybills as w
from tests.harness.api_server import TokenCaller
from tests.harness.builders import MINIMAL_PDF

REGULATOR_ORG_ID = "org_demo_regulator"


@dataclass(frozen=True)
class Recorded:
    order_id: str
    contract_id: str
    contract_pdf: str
    consignment: str
    proof: str
    invoice: str
    waybill_number: str
    waybill_json: str
    waybill_pdf: str
    draft: str  # submitted, never filed


@pytest.fixture
def who(sessions: sessionmaker[Session], store: ObjectStore) -> o.Parties:
    return o.parties(sessions, store)


@pytest.fixture
def carrier(sessions: sessionmaker[Session]) -> Organisation:
    return c.accredited_carrier(sessions, classes=("3",))


@pytest.fixture
async def callers(
    api_url: str,
    e2e_settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    who: o.Parties,
    carrier: Organisation,
) -> AsyncIterator[dict[str, TokenCaller]]:
    secret = jwt_secret_from_settings(e2e_settings)
    with sessions() as session:
        regulator_org = session.get(Organisation, REGULATOR_ORG_ID)
    assert regulator_org is not None
    stranger = s.accredited_supplier(sessions, store)
    made = {
        "buyer": TokenCaller(api_url, secret, who.buyer),
        "finance": TokenCaller(api_url, secret, who.finance),
        "supplier": TokenCaller(api_url, secret, who.supplier),
        "logistics": TokenCaller(api_url, secret, who.logistics),
        "dispatcher": TokenCaller(api_url, secret, s.member(sessions, carrier, Role.LOGISTICS)),
        "carrier": TokenCaller(api_url, secret, s.member(sessions, carrier, Role.CARRIER)),
        "stranger": TokenCaller(api_url, secret, s.member(sessions, stranger, Role.SUPPLIER)),
        "regulator": TokenCaller(
            api_url, secret, s.member(sessions, regulator_org, Role.REGULATOR)
        ),
    }
    yield made
    for caller in made.values():
        await caller.http.aclose()


async def record_everything(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    regulator: RegulatorClient,
    who: o.Parties,
    carrier: Organisation,
    logistics: TokenCaller,
) -> Recorded:
    now = datetime.now(UTC)
    env = ActivityEnvironment()
    terms = o.executed_contract(sessions, who, now=now, lines=s.lines()[:1])
    contract_pdf = env.run(ContractDocuments(sessions, store).render_contract, terms)
    with transaction(sessions) as session:  # as record_contract leaves it once rendered
        contract = session.get(Contract, terms.contract_id)
        assert contract is not None
        contract.document_id = contract_pdf.document_id
        contract.document_sha256 = contract_pdf.sha256
    order_id = order_id_for(terms.contract_id)
    records = FulfilmentRecords(sessions)
    env.run(records.record_order, OrderInput(order_id=order_id, contract=terms))
    # Confirmed whole, naming the carrier; the consignor declares the consignment list.
    plan = plan_shipments(order_id, terms.lines, {})
    env.run(records.record_shipments, RecordShipmentsInput(order_id=order_id, shipments=plan))
    carriage = CarriageRecords(sessions)
    assigned = env.run(
        carriage.assign_carrier,
        AssignCarrierInput(
            order_id=order_id,
            carrier_org_id=carrier.id,
            un_numbers=plan[0].un_numbers,
            on=now.date(),
        ),
    )
    assert assigned.problem == ""
    listed = w.store_json(
        sessions,
        store,
        org_id=who.supplier.org.id,
        name="consignment",
        data=w.consignment(who.supplier.org.credit_code).model_dump_json().encode(),
        kind="consignment_list",
    )
    env.run(
        carriage.record_consignment,
        RecordConsignmentInput(order_id=order_id, shipment=1, document_id=listed.document_id),
    )

    uploaded = await logistics.http.post(
        f"/orders/{order_id}/documents",
        files={"file": ("签收单 proof.pdf", MINIMAL_PDF + uuid.uuid4().bytes, "application/pdf")},
    )
    assert uploaded.status_code == 201, uploaded.text
    proof = uploaded.json()
    env.run(
        records.record_carrier_event,
        RecordEventInput(
            order_id=order_id,
            event=CarrierEventInput(
                shipment=1,
                kind=CarrierEventKind.DELIVERED,
                at=now,
                location="Jinshan",
                proof_of_delivery=proof,
                actor=who.logistics.actor,
            ),
        ),
    )
    env.run(
        InvoiceActivities(sessions, store).issue_invoice,
        IssueInvoiceInput(
            order_id=order_id, contract=terms, accepted_at=now, due_on=(now + timedelta(30)).date()
        ),
    )
    number = f"WB-{uuid.uuid4().hex[:10].upper()}"
    # The carrier made the filed one; the other, a supplier's draft, was never filed.
    draft = w.store_draft(
        sessions,
        store,
        org_id=carrier.id,
        draft=w.waybill(number, order_id, loading_at=now),
    )
    unfiled = w.store_draft(
        sessions,
        store,
        org_id=who.supplier.org.id,
        draft=w.waybill(number + "-2", order_id, loading_at=now),
    )
    env.run(
        WaybillActivities(sessions, store, regulator).seal_waybill,
        SealWaybillInput(
            order_id=order_id,
            waybill_number=number,
            document_id=draft.document_id,
            receipt_number=f"R-{number}",
            filed_at=now,
            made_by_org_id=carrier.id,
        ),
    )
    with sessions() as session:
        invoice = session.query(Invoice).filter_by(order_id=order_id).one()
        waybill = session.get(Waybill, number)
        assert waybill is not None
        return Recorded(
            order_id=order_id,
            contract_id=terms.contract_id,
            contract_pdf=contract_pdf.document_id,
            consignment=listed.document_id,
            proof=proof["document_id"],
            invoice=invoice.document_id,
            waybill_number=number,
            waybill_json=waybill.json_document_id,
            waybill_pdf=waybill.pdf_document_id,
            draft=unfiled.document_id,
        )


def paths(r: Recorded, document_id: str) -> list[str]:
    """Every path that serves ``document_id``."""
    found = [f"/documents/{document_id}"]
    if document_id in (r.consignment, r.proof, r.invoice, r.waybill_json, r.waybill_pdf):
        found.append(f"/orders/{r.order_id}/documents/{document_id}")
    if document_id == r.invoice:
        found.append(f"/orders/{r.order_id}/invoice")
    if document_id == r.contract_pdf:
        found.append(f"/contracts/{r.contract_id}/document")
    if document_id == r.waybill_pdf:
        found.append(f"/regulator/waybills/{r.waybill_number}/pdf")
    return found


async def statuses(caller: TokenCaller, urls: list[str]) -> dict[str, int]:
    return {url: (await caller.http.get(url)).status_code for url in urls}


async def test_each_reader_gets_the_same_answer_at_every_path(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    regulator: RegulatorClient,
    who: o.Parties,
    carrier: Organisation,
    callers: dict[str, TokenCaller],
) -> None:
    r = await record_everything(sessions, store, regulator, who, carrier, callers["logistics"])
    carriage_docs = (r.consignment, r.proof, r.waybill_json, r.waybill_pdf)
    order_docs = (*carriage_docs, r.invoice)

    for name in ("buyer", "finance", "supplier", "logistics"):
        for document_id in order_docs:
            answers = await statuses(callers[name], paths(r, document_id))
            regulator_only = f"/regulator/waybills/{r.waybill_number}/pdf"
            expected = {u: 403 if u == regulator_only else 200 for u in answers}
            assert answers == expected, (name, document_id)
    for name in ("buyer", "finance", "supplier"):  # a contract's parties
        answers = await statuses(callers[name], paths(r, r.contract_pdf))
        assert set(answers.values()) == {200}, (name, answers)
    for name in ("logistics",):  # no contract role: the contract is not theirs to read
        answers = await statuses(callers[name], paths(r, r.contract_pdf))
        assert set(answers.values()) == {404}, (name, answers)

    # The carrier (its dispatchers and its manager) reads what it carries, nothing of the sale.
    regulator_only = f"/regulator/waybills/{r.waybill_number}/pdf"
    for name in ("dispatcher", "carrier"):
        for document_id in carriage_docs:
            answers = await statuses(callers[name], paths(r, document_id))
            expected = {u: 403 if u == regulator_only else 200 for u in answers}
            assert answers == expected, (name, document_id)
        for document_id in (r.invoice, r.contract_pdf, r.draft):
            answers = await statuses(callers[name], paths(r, document_id))
            assert set(answers.values()) == {404}, (name, document_id, answers)

    stranger = callers["stranger"]
    for document_id in (*order_docs, r.contract_pdf, r.draft):
        for url in paths(r, document_id):
            answer = await stranger.http.get(url)
            refused = 403 if url.startswith("/regulator/") else 404
            assert answer.status_code == refused, (url, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"

    for url in paths(r, r.proof):  # the same download, whichever path
        answer = await callers["buyer"].http.get(url)
        assert answer.headers["content-type"] == "application/pdf"
        assert "proof.pdf" in answer.headers["content-disposition"]

    inspector = callers["regulator"]
    filed = await statuses(inspector, [*paths(r, r.waybill_pdf), f"/documents/{r.waybill_json}"])
    for url, status in filed.items():
        assert status == (404 if url.startswith("/orders/") else 200), (url, status)
    for document_id in (r.consignment, r.proof, r.invoice, r.contract_pdf, r.draft):
        answer = await inspector.http.get(f"/documents/{document_id}")
        assert answer.status_code == 404, document_id
