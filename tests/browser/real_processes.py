"""The processes the browser tests look at, made the way people make them: through the REST API,
run by the real worker, so every task the pages show was opened by its own workflow."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import Role
from gateways.certification_registry import CertificationRegistryClient
from storage.object_store import ObjectStore
from tests.e2e.test_accreditation_api import caller, multipart
from tests.e2e.test_sourcing_api import quote_line, quote_terms, rfq_body
from tests.harness import builders as b
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller
from tests.harness.temporal import eventually

BUYER = "buyer@huadong.example"


async def open_task(http: httpx.AsyncClient, kind: str, subject_id: str) -> str:
    """The id of the open task of ``kind`` about ``subject_id``, once its process opened it."""

    async def opened() -> str | None:
        answer = await http.get("/tasks", params={"kind": kind, "subject_id": subject_id})
        assert answer.status_code == 200, answer.text
        return str(answer.json()[0]["task_id"]) if answer.json() else None

    found: str = await eventually(opened, what=f"a {kind} task for {subject_id}", attempts=600)
    return found


async def high_risk_application(
    api_url: str,
    secret: str,
    sessions: sessionmaker[Session],
    registry: CertificationRegistryClient,
) -> str:
    """A new supplier applies with real certificates and three loss-making years: high risk, so
    two different compliance officers must approve (four eyes). Answers the application's id."""
    org = b.make_org(sessions)
    supplier = TokenCaller(api_url, secret, s.member(sessions, org, Role.SUPPLIER))
    today = date.today()
    claims = [
        b.register_certificate(
            registry,
            holder=org.legal_name,
            standard=standard,
            issued=today - timedelta(days=200),
            expires=today + timedelta(days=700),
        )
        for standard in ("ISO 9001", "ISO 14001")
    ]
    form: dict[str, Any] = {
        "credit_code": org.credit_code,
        "licence_number": "JS-320200-2021-0107",
        "product_categories": ["solvents"],
        "certificates": [json.loads(c.model_dump_json(exclude={"document"})) for c in claims],
        "financials": [
            json.loads(y.model_dump_json(exclude={"document"}))
            for y in b.distressed_years(today.year - 1)
        ],
    }
    applied = await supplier.http.post("/accreditation/applications", **multipart(form))
    await supplier.http.aclose()
    assert applied.status_code == 202, applied.text
    return str(applied.json()["application_id"])


@dataclass(frozen=True)
class QuotedRfq:
    rfq_id: str
    cheaper_on_l1: str  # the supplier organisation quoting the better acetone price
    cheaper_on_l2: str  # the one quoting the better chilled kits


async def rfq_with_two_quotes(
    api_url: str, secret: str, sessions: sessionmaker[Session], store: ObjectStore
) -> QuotedRfq:
    """The demo buyer (华东) asks two accredited suppliers, each better on one line; both quote
    and the buyer closes early, so the RFQ waits for its award."""
    buyer = await caller(api_url, BUYER)
    a, b_ = (
        TokenCaller(
            api_url,
            secret,
            s.member(sessions, s.accredited_supplier(sessions, store), Role.SUPPLIER),
        )
        for _ in range(2)
    )
    created = await buyer.http.post("/rfqs", json=rfq_body([a.org_id, b_.org_id]))
    assert created.status_code == 202, created.text
    rfq_id = str(created.json()["rfq_id"])

    async def in_status(status: str) -> bool | None:
        answer = await buyer.http.get(f"/rfqs/{rfq_id}")
        return True if answer.status_code == 200 and answer.json()["status"] == status else None

    await eventually(lambda: in_status("open"), what="the RFQ open", attempts=600)
    # A is cheaper on the acetone (L1), B on the chilled kits (L2): a split award makes sense.
    for supplier, l1, l2 in (
        (a, ("8.60", "500.00"), ("160.00", "300.00")),
        (b_, ("8.90", "800.00"), ("150.00", "200.00")),
    ):
        terms = quote_terms(quote_line("L1", *l1), quote_line("L2", *l2))
        quoted = await supplier.http.post(f"/rfqs/{rfq_id}/quotes", json={"terms": terms})
        assert quoted.status_code == 200, quoted.text
        await supplier.http.aclose()
    closed = await buyer.http.post(f"/rfqs/{rfq_id}/close", json={"reason": "both answered"})
    assert closed.status_code == 200, closed.text
    await eventually(lambda: in_status("evaluating"), what="the RFQ evaluating", attempts=600)
    await buyer.http.aclose()
    return QuotedRfq(rfq_id, cheaper_on_l1=a.org_id, cheaper_on_l2=b_.org_id)
