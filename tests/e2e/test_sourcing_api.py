"""End to end: an RFQ through the REST API to two signed e-contracts, on the dev server with the
real worker, PostgreSQL and S3; plus refused input, category invitations and approval settings."""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from contracts.common import OPERATOR_ORG_ID, Role
from contracts.sourcing import ApprovalChain, ApprovalLevel, Signature
from db.models import AuditEntry, Organisation, Rfq
from db.seed import DEMO_RATES_SOURCE
from security.keys import jwt_secret_from_settings
from security.signatures import verify
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller
from tests.harness.builders import store_document
from tests.harness.temporal import eventually

REGULATOR_ORG_ID = "org_demo_regulator"
HASH_CHANGED = "document hash differs from the signed hash"


People = Callable[[Organisation, Role], TokenCaller]


@pytest.fixture
async def people(
    api_url: str, e2e_settings: Settings, sessions: sessionmaker[Session]
) -> AsyncIterator[People]:
    """Makes a user of an organisation with one role and an HTTP client logged in as them."""
    secret = jwt_secret_from_settings(e2e_settings)
    made: list[TokenCaller] = []

    def make(org: Organisation, role: Role) -> TokenCaller:
        made.append(TokenCaller(api_url, secret, s.member(sessions, org, role)))
        return made[-1]

    yield make
    for caller in made:
        await caller.http.aclose()


async def until(
    probe: Callable[[], Awaitable[Any]], *, attempts: int = 1200, interval: float = 0.1
) -> Any:
    return await eventually(probe, attempts=attempts, interval=interval)


def rfq_body(supplier_ids: list[str], **overrides: Any) -> dict[str, Any]:
    today = date.today()
    body: dict[str, Any] = {
        "title": "季度溶剂与冷藏试剂采购 Solvents and chilled reagents",
        "lines": [
            {
                "line_id": "L1",
                "description": "丙酮 Acetone, technical grade",
                "specification": "purity ≥ 99.5%, 200 L steel drums",
                "quantity": "20000",
                "unit": "L",
                "un_number": "UN1090",
                "packing_group": "II",
            },
            {
                "line_id": "L2",
                "description": "冷藏试剂 Chilled reagent kit",
                "quantity": "200",
                "unit": "kit",
                "temperature": {"min_celsius": "2", "max_celsius": "8"},
            },
        ],
        "delivery_place": "上海市金山区化学工业区 Jinshan Chemical Park, Shanghai",
        "incoterm": "DAP",
        "needed_by": (today + timedelta(days=30)).isoformat(),
        "quote_deadline": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        "currency": "CNY",
        "payment_terms": "验收后30天付款 30 days after acceptance",
        "invited_supplier_ids": supplier_ids,
    }
    body.update(overrides)
    return body


def quote_line(line_id: str, price: str, logistics: str, *, break_price: str | None = None) -> Any:
    return {
        "line_id": line_id,
        "unit_price": price,
        "price_breaks": [{"min_quantity": "10000", "unit_price": break_price}]
        if break_price
        else [],
        "stock_available": "50000",
        "lead_time_days": 7,
        "logistics_cost": logistics,
        "transit_days": 2,
    }


def quote_terms(*lines: Any, attachments: list[dict[str, str]] | None = None) -> Any:
    return {
        "lines": list(lines),
        "valid_until": (date.today() + timedelta(days=30)).isoformat(),
        "freight": "0",
        "tax_rate": "0.13",
        "attachments": attachments or [],
    }


async def opened_task(caller: TokenCaller, kind: str, subject_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        answer = await caller.http.get("/tasks", params={"kind": kind, "subject_id": subject_id})
        assert answer.status_code == 200, answer.text
        return answer.json()[0] if answer.json() else None

    found: dict[str, Any] = await until(probe)
    return found


async def rfq_reaches(caller: TokenCaller, rfq_id: str, status: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        answer = await caller.http.get(f"/rfqs/{rfq_id}")
        ok = answer.status_code == 200 and answer.json()["status"] == status
        return answer.json() if ok else None

    found: dict[str, Any] = await until(probe)
    return found


async def contract_reaches(caller: TokenCaller, contract_id: str, status: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        answer = await caller.http.get(f"/contracts/{contract_id}")
        assert answer.status_code == 200, answer.text
        return answer.json() if answer.json()["status"] == status else None

    found: dict[str, Any] = await until(probe)
    return found


async def order_awaits_confirmation(caller: TokenCaller, contract_id: str) -> bool | None:
    answer = await caller.http.get(f"/contracts/{contract_id}")
    return True if answer.json()["fulfilment_status"] == "awaiting_confirmation" else None


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_an_rfq_becomes_two_signed_contracts_through_rest(
    api_url: str,
    worker: None,
    people: People,
    sessions: sessionmaker[Session],
    store: ObjectStore,
) -> None:
    buyer_org = s.buyer_org(sessions)
    buyer = people(buyer_org, Role.BUYER)
    finance = people(buyer_org, Role.FINANCE)
    a, b, c = (
        people(s.accredited_supplier(sessions, store, score=Decimal(score)), Role.SUPPLIER)
        for score in (85, 80, 75)
    )
    outsider = people(s.accredited_supplier(sessions, store), Role.SUPPLIER)
    regulator = people(s.org_row(sessions, REGULATOR_ORG_ID), Role.REGULATOR)
    compliance = people(s.org_row(sessions, OPERATOR_ORG_ID), Role.COMPLIANCE)

    # -- the RFQ opens, sealed, for three invited suppliers ----------------------------------
    body = rfq_body([a.org_id, b.org_id, c.org_id], sealed=True)
    created = await buyer.http.post("/rfqs", json=body, headers={"Idempotency-Key": "rfq-1"})
    assert created.status_code == 202, created.text
    rfq_id = created.json()["rfq_id"]
    assert created.json()["url"] == f"/rfqs/{rfq_id}"
    detail = await rfq_reaches(buyer, rfq_id, "open")
    assert detail["sealed"] is True and [ln["line_id"] for ln in detail["lines"]] == ["L1", "L2"]
    assert sorted(i["supplier_org_id"] for i in detail["invitations"]) == sorted(
        [a.org_id, b.org_id, c.org_id]
    )
    assert detail["live"]["status"] == "open"
    as_c = (await c.http.get(f"/rfqs/{rfq_id}")).json()
    assert as_c["invitations"] is None and as_c["live"] is None
    assert as_c["my_invitation"]["status"] == "invited"
    assert (await outsider.http.get(f"/rfqs/{rfq_id}")).status_code == 404
    assert rfq_id in [r["rfq_id"] for r in (await c.http.get("/rfqs")).json()]
    assert rfq_id not in [r["rfq_id"] for r in (await outsider.http.get("/rfqs")).json()]
    assert rfq_id in [r["rfq_id"] for r in (await buyer.http.get("/rfqs?status=open")).json()]

    # -- quotes, a decline, the sealed comparison ---------------------------------------------
    brochure = store_document(sessions, store, org_id=a.org_id, name="datasheet.pdf")
    a_terms = quote_terms(
        quote_line("L1", "8.90", "500.00", break_price="8.50"),
        quote_line("L2", "160.00", "300.00"),
        attachments=[brochure.model_dump(mode="json")],
    )
    first = await a.http.post(
        f"/rfqs/{rfq_id}/quotes", json={"terms": a_terms}, headers={"Idempotency-Key": "a-q1"}
    )
    assert first.status_code == 200, first.text
    assert first.json()["revision"] == 1 and first.json()["status"] == "active"
    replayed = await a.http.post(
        f"/rfqs/{rfq_id}/quotes", json={"terms": a_terms}, headers={"Idempotency-Key": "a-q1"}
    )
    assert replayed.json() == first.json() and replayed.headers["idempotent-replayed"] == "true"
    foreign = quote_terms(
        quote_line("L1", "8.90", "800.00"),
        attachments=[brochure.model_dump(mode="json")],
    )
    stolen = await b.http.post(f"/rfqs/{rfq_id}/quotes", json={"terms": foreign})
    assert stolen.status_code == 422 and stolen.json()["errors"][0]["field"] == (
        "terms.attachments.0"
    )
    b_terms = quote_terms(quote_line("L1", "8.90", "800.00"), quote_line("L2", "150.00", "200.00"))
    assert (await b.http.post(f"/rfqs/{rfq_id}/quotes", json={"terms": b_terms})).status_code == 200
    assert (
        await outsider.http.post(f"/rfqs/{rfq_id}/quotes", json={"terms": b_terms})
    ).status_code == 404
    waiting = await buyer.http.post(f"/rfqs/{rfq_id}/close", json={})
    assert waiting.status_code == 409 and "not every invited supplier" in waiting.json()["detail"]
    declined = await c.http.post(f"/rfqs/{rfq_id}/decline", json={"reason": "no cold chain"})
    assert declined.status_code == 200 and declined.json()["status"] == "declined"

    sealed = await buyer.http.get(f"/rfqs/{rfq_id}/comparison")
    assert sealed.status_code == 409 and "sealed until the quote deadline" in sealed.text
    assert (await buyer.http.get(f"/rfqs/{rfq_id}/quotes")).status_code == 409

    # -- C cannot read A's quote by any door ---------------------------------------------------
    assert (await c.http.get(f"/rfqs/{rfq_id}/quotes")).json() == []
    assert (await c.http.get(f"/rfqs/{rfq_id}/comparison")).status_code == 403
    assert (await c.http.get(f"/documents/{brochure.document_id}")).status_code == 404
    assert a.org_id not in (await c.http.get(f"/rfqs/{rfq_id}")).text
    assert (await outsider.http.get(f"/rfqs/{rfq_id}/quotes")).status_code == 404

    # -- A revises; a concurrent revision of the same revision is stale ------------------------
    revised = quote_terms(
        quote_line("L1", "8.60", "500.00", break_price="8.30"),
        quote_line("L2", "160.00", "300.00"),
    )
    racing = await asyncio.gather(
        *(
            a.http.post(f"/rfqs/{rfq_id}/quotes", json={"terms": revised, "replaces_revision": 1})
            for _ in range(2)
        )
    )
    assert sorted(r.status_code for r in racing) == [200, 409], [r.text for r in racing]
    assert "replaces_revision" in next(r for r in racing if r.status_code == 409).text
    mine = (await a.http.get(f"/rfqs/{rfq_id}/quotes")).json()
    assert [(q["revision"], q["status"]) for q in mine] == [(2, "active"), (1, "superseded")]

    # -- every supplier answered: the buyer closes early and compares --------------------------
    closed = await buyer.http.post(f"/rfqs/{rfq_id}/close", json={"reason": "all answered"})
    assert closed.status_code == 200, closed.text
    await rfq_reaches(buyer, rfq_id, "evaluating")
    assert len((await buyer.http.get(f"/rfqs/{rfq_id}/quotes")).json()) == 3
    comparison = await buyer.http.get(f"/rfqs/{rfq_id}/comparison")
    assert comparison.status_code == 200, comparison.text
    offers = {line["line_id"]: line["offers"] for line in comparison.json()["lines"]}
    assert {o["supplier_org_id"] for o in offers["L1"]} == {a.org_id, b.org_id}
    assert {o["supplier_org_id"] for o in offers["L2"]} == {a.org_id, b.org_id}
    a_l1 = next(o for o in offers["L1"] if o["supplier_org_id"] == a.org_id)
    # 20,000 L at the 8.30 break, 500 logistics, 13 % tax on both: 166,000 + 500 + 21,645 VAT,
    # which the buyer, a general taxpayer by default, deducts: it compares 166,500 net.
    assert (Decimal(a_l1["unit_price"]), Decimal(a_l1["landed_cost"])) == (
        Decimal("8.30"),
        Decimal("166500.00"),
    )
    assert Decimal(a_l1["tax"]) == Decimal(a_l1["deductible_tax"]) == Decimal("21645.00")
    assert a_l1["revision"] == 2 and offers["L1"][0]["supplier_org_id"] == a.org_id

    # -- split award through the inbox ---------------------------------------------------------
    award = await opened_task(buyer, "rfq_award", rfq_id)
    awarded = await buyer.http.post(
        f"/tasks/{award['task_id']}/decision",
        json={"outcome": "award", "choices": {"L1": a.org_id, "L2": b.org_id}},
    )
    assert awarded.status_code == 200, awarded.text
    assert awarded.json()["process_status"] == "awarding"

    async def both_contracts() -> list[dict[str, Any]] | None:
        rows = (await buyer.http.get("/contracts", params={"rfq_id": rfq_id})).json()
        return rows if len(rows) == 2 else None

    by_supplier = {row["supplier_org_id"]: row for row in await until(both_contracts)}
    contract_a, contract_b = (
        by_supplier[a.org_id]["contract_id"],
        by_supplier[b.org_id]["contract_id"],
    )
    assert Decimal(by_supplier[a.org_id]["total"]["amount"]) == Decimal("188145.00")
    assert (await c.http.get(f"/contracts/{contract_a}")).status_code == 404
    assert [r["contract_id"] for r in (await a.http.get("/contracts")).json()] == [contract_a]

    # -- A's contract is above 100,000 CNY: the buyer's finance approves, not the buyer --------
    approval = await opened_task(finance, "contract_approval", contract_a)
    assert (
        await buyer.http.post(f"/tasks/{approval['task_id']}/decision", json={"outcome": "approve"})
    ).status_code == 404
    approved = await finance.http.post(
        f"/tasks/{approval['task_id']}/decision", json={"outcome": "approve"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["process_status"] == "awaiting_signatures"

    # -- both parties sign both contracts by the hash of the PDF they read ---------------------
    for contract_id, supplier in ((contract_a, a), (contract_b, b)):
        pending = await contract_reaches(buyer, contract_id, "awaiting_signatures")
        sha = pending["document"]["sha256"]
        for party in (buyer, supplier):
            await opened_task(party, "contract_signature", contract_id)
        wrong = await buyer.http.post(
            f"/contracts/{contract_id}/signatures", json={"document_sha256": "0" * 64}
        )
        assert wrong.status_code == 422 and "document_sha256" in wrong.text
        assert (
            await finance.http.post(
                f"/contracts/{contract_id}/signatures", json={"document_sha256": sha}
            )
        ).status_code == 403
        for party, status in ((buyer, "awaiting_signatures"), (supplier, "executed")):
            signed = await party.http.post(
                f"/contracts/{contract_id}/signatures",
                json={"document_sha256": sha},
                headers={"Idempotency-Key": f"sign-{contract_id}"},
            )
            assert signed.status_code == 200, signed.text
            assert signed.json()["process_status"] == status

    executed = await contract_reaches(buyer, contract_a, "executed")
    # The executed contract becomes an order, which waits for the supplier's confirmation.
    assert executed["fulfilment_status"] in ("awaiting_fulfilment", "awaiting_confirmation")
    assert await until(lambda: order_awaits_confirmation(buyer, contract_a))
    assert executed["executed_at"] is not None
    assert [a_["level"] for a_ in executed["approvals"]] == [1]
    assert executed["approvals"][0]["approved_by"] == finance.member.actor.user_id
    assert executed["amount_in_chain_currency"]["currency"] == "CNY"
    assert {sig["signer_org_id"] for sig in executed["signatures"]} == {buyer.org_id, a.org_id}
    executed_b = await contract_reaches(buyer, contract_b, "executed")
    assert executed_b["approvals"] == []

    # -- the PDFs say what was agreed ----------------------------------------------------------
    pdf_a = await a.http.get(f"/contracts/{contract_a}/document")
    assert pdf_a.status_code == 200 and pdf_a.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf_a.content).hexdigest() == executed["document"]["sha256"]
    text_a = pdf_text(pdf_a.content)
    assert buyer.member.org.legal_name in text_a and a.member.org.legal_name in text_a
    assert "UN1090" in text_a
    text_b = pdf_text((await b.http.get(f"/contracts/{contract_b}/document")).content)
    assert "2.0 °C ~ 8.0 °C" in text_b and b.member.org.legal_name in text_b
    assert (await c.http.get(f"/contracts/{contract_a}/document")).status_code == 404

    # -- anyone party to it can verify; a tampered copy fails, naming why ----------------------
    verified = await buyer.http.get(f"/contracts/{contract_a}/verification")
    assert verified.status_code == 200, verified.text
    report = verified.json()
    assert (report["valid"], report["document_intact"], report["all_parties_signed"]) == (
        True,
        True,
        True,
    )
    assert [sig["valid"] for sig in report["signatures"]] == [True, True]
    assert (await compliance.http.get(f"/contracts/{contract_a}/verification")).json()["valid"]
    assert (await regulator.http.get(f"/contracts/{contract_a}/verification")).status_code == 404
    genuine = await a.http.post(
        f"/contracts/{contract_a}/verification",
        files={"file": ("contract.pdf", pdf_a.content, "application/pdf")},
    )
    assert genuine.json()["valid"] is True
    middle = len(pdf_a.content) // 2
    tampered_bytes = (
        pdf_a.content[:middle] + bytes([pdf_a.content[middle] ^ 1]) + pdf_a.content[middle + 1 :]
    )
    tampered = await a.http.post(
        f"/contracts/{contract_a}/verification",
        files={"file": ("contract.pdf", tampered_bytes, "application/pdf")},
    )
    assert tampered.status_code == 200, tampered.text
    verdict = tampered.json()
    assert verdict["valid"] is False and verdict["document_intact"] is False
    assert all(HASH_CHANGED in " ".join(sig["reasons"]) for sig in verdict["signatures"])

    # -- offline: the published public key verifies the stored signature -----------------------
    keys = (await outsider.http.get(f"/organisations/{a.org_id}/signing-keys")).json()
    stored = next(sig for sig in executed["signatures"] if sig["signer_org_id"] == a.org_id)
    public = next(k["public_key"] for k in keys if k["key_id"] == stored["key_id"])
    signature = Signature(contract_id=contract_a, **stored)
    assert verify(signature, public, document_sha256=executed["document"]["sha256"]).valid

    final = await rfq_reaches(buyer, rfq_id, "completed")
    assert final["status_reason"] == "2 contract(s) executed"
    with sessions() as session:
        downloads = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "document.downloaded")
            .where(AuditEntry.actor_org_id == a.org_id)
        ).all()
    assert any(entry.detail.get("contract_id") == contract_a for entry in downloads)


# -- refused input --------------------------------------------------------------------------


def _past_deadline(body: dict[str, Any], _: str) -> None:
    body["quote_deadline"] = (datetime.now(UTC) - timedelta(hours=1)).isoformat()


def _duplicate_line(body: dict[str, Any], _: str) -> None:
    body["lines"][1]["line_id"] = "L1"


def _unknown_un_number(body: dict[str, Any], _: str) -> None:
    body["lines"][0]["un_number"] = "UN9999"


def _packing_group_not_allowed(body: dict[str, Any], _: str) -> None:
    body["lines"][0]["packing_group"] = "I"  # acetone is packing group II only


def _packing_group_alone(body: dict[str, Any], _: str) -> None:
    body["lines"][1]["packing_group"] = "II"


def _needed_today(body: dict[str, Any], _: str) -> None:
    body["needed_by"] = date.today().isoformat()


def _suspended_supplier(body: dict[str, Any], suspended: str) -> None:
    body["invited_supplier_ids"].append(suspended)


def _no_rate(body: dict[str, Any], _: str) -> None:
    body["currency"] = "USD"  # the buyer approves in EUR; no USD/EUR rate is recorded


def _empty_category(body: dict[str, Any], _: str) -> None:
    del body["invited_supplier_ids"]
    body["category"] = f"nobody-sells-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize(
    ("mutate", "field", "rule"),
    [
        (_past_deadline, "quote_deadline", "in the future"),
        (_duplicate_line, "lines.1.line_id", "L1 is used by an earlier line"),
        (_unknown_un_number, "lines.0.un_number", "UN9999 is not on the dangerous goods list"),
        (_packing_group_not_allowed, "lines.0.un_number", "packing group I is not allowed"),
        (_packing_group_alone, "lines.1.packing_group", "without a un_number"),
        (_needed_today, "needed_by", "after today"),
        (_suspended_supplier, "invited_supplier_ids.2", "is suspended"),
        (_no_rate, "currency", "USD/EUR"),
        (_empty_category, "category", "no accredited supplier"),
    ],
    ids=[
        "past-deadline",
        "duplicate-line",
        "un9999",
        "packing-group",
        "packing-group-alone",
        "needed-today",
        "suspended",
        "no-fx-rate",
        "category",
    ],
)
async def test_bad_rfqs_are_refused_naming_the_field_and_nothing_starts(
    people: People,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    dev_env: WorkflowEnvironment,
    mutate: Callable[[dict[str, Any], str], None],
    field: str,
    rule: str,
) -> None:
    buyer_org = s.buyer_org(sessions)
    s.set_approval_chain(
        sessions,
        buyer_org.id,
        ApprovalChain(currency="EUR", levels=(ApprovalLevel(above=Decimal(20_000)),)),
    )
    buyer = people(buyer_org, Role.BUYER)
    invited = [s.accredited_supplier(sessions, store).id for _ in range(2)]
    suspended = s.accredited_supplier(sessions, store, status="suspended").id
    body = rfq_body(invited)
    mutate(body, suspended)

    def rfq_rows() -> int:
        with sessions() as session:
            query = select(func.count()).select_from(Rfq).where(Rfq.buyer_org_id == buyer_org.id)
            return session.scalar(query) or 0

    answer = await buyer.http.post("/rfqs", json=body)

    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["errors"]
    assert problem["field"] == field and rule in problem["rule"], problem
    assert rfq_rows() == 0
    started = await dev_env.client.count_workflows(f"TradeflowOrgId = '{buyer_org.id}'")
    assert started.count == 0


async def test_only_buyers_create_rfqs_and_both_audiences_are_refused(
    people: People, sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    supplier = people(s.accredited_supplier(sessions, store), Role.SUPPLIER)
    buyer = people(s.buyer_org(sessions), Role.BUYER)
    body = rfq_body([supplier.org_id])
    assert (await supplier.http.post("/rfqs", json=body)).status_code == 403
    both = await buyer.http.post("/rfqs", json=rfq_body([supplier.org_id], category="solvents"))
    assert both.status_code == 422 and "exactly one of" in both.text
    assert (await buyer.http.get("/rfqs/rfq_missing")).status_code == 404


async def test_a_category_rfq_invites_its_accredited_suppliers_and_can_be_cancelled(
    api_url: str,
    worker: None,
    people: People,
    sessions: sessionmaker[Session],
    store: ObjectStore,
) -> None:
    category = f"reagents-{uuid.uuid4().hex[:8]}"
    accredited = {s.accredited_supplier(sessions, store, category=category).id for _ in range(2)}
    s.accredited_supplier(sessions, store, category=category, status="suspended")
    s.accredited_supplier(sessions, store, category="other")
    buyer = people(s.buyer_org(sessions), Role.BUYER)
    body = rfq_body([])
    del body["invited_supplier_ids"]
    body["category"] = category

    created = await buyer.http.post("/rfqs", json=body)
    assert created.status_code == 202, created.text
    rfq_id = created.json()["rfq_id"]
    detail = await rfq_reaches(buyer, rfq_id, "open")
    assert {i["supplier_org_id"] for i in detail["invitations"]} == accredited

    later = datetime.fromisoformat(detail["quote_deadline"]) + timedelta(days=1)
    moved = await buyer.http.post(
        f"/rfqs/{rfq_id}/deadline", json={"new_deadline": later.isoformat()}
    )
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["quote_deadline"]) == later
    past = await buyer.http.post(
        f"/rfqs/{rfq_id}/deadline", json={"new_deadline": "2020-01-01T00:00:00Z"}
    )
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "new_deadline"
    suspended_id, still_accredited = sorted(accredited)
    s.set_standing(sessions, suspended_id, "suspended")
    refused = await people(s.org_row(sessions, suspended_id), Role.SUPPLIER).http.post(
        f"/rfqs/{rfq_id}/quotes", json={"terms": quote_terms(quote_line("L1", "9.00", "0"))}
    )
    assert refused.status_code == 409 and "suspended" in refused.json()["detail"]
    unexplained = await buyer.http.post(f"/rfqs/{rfq_id}/cancel", json={})
    assert unexplained.status_code == 422
    cancelled = await buyer.http.post(f"/rfqs/{rfq_id}/cancel", json={"reason": "budget cut"})
    assert cancelled.status_code == 200, cancelled.text
    final = await rfq_reaches(buyer, rfq_id, "cancelled")
    assert "budget cut" in final["status_reason"]
    supplier = people(s.org_row(sessions, still_accredited), Role.SUPPLIER)
    late = await supplier.http.post(
        f"/rfqs/{rfq_id}/quotes",
        json={"terms": quote_terms(quote_line("L1", "9.00", "100.00"))},
    )
    assert late.status_code == 409, late.text


async def test_a_declined_signature_lapses_the_contract_and_the_rfq(
    api_url: str,
    worker: None,
    people: People,
    sessions: sessionmaker[Session],
    store: ObjectStore,
) -> None:
    buyer = people(s.buyer_org(sessions), Role.BUYER)
    supplier = people(s.accredited_supplier(sessions, store), Role.SUPPLIER)
    created = await buyer.http.post("/rfqs", json=rfq_body([supplier.org_id]))
    rfq_id = created.json()["rfq_id"]
    await rfq_reaches(buyer, rfq_id, "open")
    terms = quote_terms(quote_line("L1", "1.00", "100.00"), quote_line("L2", "10.00", "50.00"))
    quoted = await supplier.http.post(f"/rfqs/{rfq_id}/quotes", json={"terms": terms})
    assert quoted.status_code == 200, quoted.text
    # Not sealed: the buyer sees the quote while quoting is open.
    assert len((await buyer.http.get(f"/rfqs/{rfq_id}/quotes")).json()) == 1
    assert (await buyer.http.post(f"/rfqs/{rfq_id}/close", json={})).status_code == 200
    award = await opened_task(buyer, "rfq_award", rfq_id)
    awarded = await buyer.http.post(
        f"/tasks/{award['task_id']}/decision", json={"outcome": "award"}
    )
    assert awarded.status_code == 200, awarded.text

    async def drafted() -> str | None:
        rows = (await buyer.http.get("/contracts", params={"rfq_id": rfq_id})).json()
        return rows[0]["contract_id"] if rows else None

    contract_id = await until(drafted)
    await opened_task(supplier, "contract_signature", contract_id)

    unexplained = await supplier.http.post(
        f"/contracts/{contract_id}/decline-signature", json={"reason": ""}
    )
    assert unexplained.status_code == 422
    declined = await supplier.http.post(
        f"/contracts/{contract_id}/decline-signature", json={"reason": "price no longer holds"}
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["process_status"] == "lapsed"
    lapsed = await contract_reaches(buyer, contract_id, "lapsed")
    assert "price no longer holds" in lapsed["status_reason"] and lapsed["signatures"] == []
    sha = lapsed["document"]["sha256"]
    too_late = await buyer.http.post(
        f"/contracts/{contract_id}/signatures", json={"document_sha256": sha}
    )
    assert too_late.status_code == 409
    unsigned = (await buyer.http.get(f"/contracts/{contract_id}/verification")).json()
    assert unsigned["valid"] is False and unsigned["all_parties_signed"] is False
    await rfq_reaches(buyer, rfq_id, "lapsed")


# -- approval settings --------------------------------------------------------------------


async def test_finance_sets_the_approval_chain_and_the_admin_records_rates(
    people: People, sessions: sessionmaker[Session]
) -> None:
    buyer_org = s.buyer_org(sessions)
    finance = people(buyer_org, Role.FINANCE)
    buyer = people(buyer_org, Role.BUYER)
    stranger = people(s.buyer_org(sessions), Role.FINANCE)
    admin = people(s.org_row(sessions, OPERATOR_ORG_ID), Role.ADMIN)
    url = f"/organisations/{buyer_org.id}/approval-chain"

    default = (await buyer.http.get(url)).json()
    assert default["is_default"] is True and default["chain"]["currency"] == "CNY"
    chain = {"currency": "CNY", "levels": [{"above": "50000"}, {"above": "500000"}]}
    put = await finance.http.put(url, json=chain)
    assert put.status_code == 200, put.text
    assert [Decimal(lv["above"]) for lv in put.json()["chain"]["levels"]] == [50000, 500000]
    assert (await buyer.http.get(url)).json()["is_default"] is False
    unordered = {"currency": "CNY", "levels": [{"above": "500000"}, {"above": "50000"}]}
    refused = await finance.http.put(url, json=unordered)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "levels.1.above"
    assert (await buyer.http.put(url, json=chain)).status_code == 403
    assert (await stranger.http.put(url, json=chain)).status_code == 404
    assert (await stranger.http.get(url)).status_code == 404
    assert (await admin.http.put(url, json=chain | {"currency": "EUR"})).status_code == 200

    rates = (await buyer.http.get("/fx-rates", params={"base": "USD", "quote": "CNY"})).json()
    assert any(r["source"] == DEMO_RATES_SOURCE for r in rates)
    rate = {
        "base": "SGD",
        "quote": "CNY",
        "rate": "5.3120",
        "as_of": date.today().isoformat(),
        "source": "test desk",
    }
    assert (await finance.http.post("/fx-rates", json=rate)).status_code == 403
    recorded = await admin.http.post("/fx-rates", json=rate)
    assert recorded.status_code == 201, recorded.text
    assert (await admin.http.post("/fx-rates", json=rate)).status_code == 409
    same = await admin.http.post("/fx-rates", json=rate | {"quote": "SGD"})
    assert same.status_code == 422 and same.json()["errors"][0]["field"] == "quote"
    with sessions() as session:
        audited = session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.target_id.in_([buyer_org.id, str(recorded.json()["id"])])
            )
        ).all()
    assert "approval_chain.updated" in audited and "fx_rate.recorded" in audited


async def test_finance_says_whether_the_buyer_deducts_input_vat(
    people: People, sessions: sessionmaker[Session]
) -> None:
    buyer_org = s.buyer_org(sessions)
    finance = people(buyer_org, Role.FINANCE)
    buyer = people(buyer_org, Role.BUYER)
    stranger = people(s.buyer_org(sessions), Role.FINANCE)
    url = f"/organisations/{buyer_org.id}/tax-profile"

    default = (await buyer.http.get(url)).json()
    assert default == {
        "buyer_org_id": buyer_org.id,
        "deducts_input_vat": True,
        "comparison_basis": "net of deductible VAT",
    }
    small_scale = {"deducts_input_vat": False}
    assert (await buyer.http.put(url, json=small_scale)).status_code == 403
    assert (await stranger.http.put(url, json=small_scale)).status_code == 404
    assert (await stranger.http.get(url)).status_code == 404
    refused = await finance.http.put(url, json={"deducts_input_vat": "perhaps"})
    assert refused.status_code == 422, refused.text
    put = await finance.http.put(url, json=small_scale)
    assert put.status_code == 200, put.text
    assert put.json()["comparison_basis"] == "including VAT"
    assert (await buyer.http.get(url)).json()["deducts_input_vat"] is False
    with sessions() as session:
        audited = session.scalars(
            select(AuditEntry.detail).where(
                AuditEntry.target_id == buyer_org.id, AuditEntry.action == "tax_profile.updated"
            )
        ).all()
    assert audited == [{"deducts_input_vat": False, "before": True}]
