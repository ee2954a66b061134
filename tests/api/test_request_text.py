"""What the database would refuse is refused at the edge, naming the field: control characters in
every text a request carries (body, form, query, path), amounts past their column, and JSON in a
form field nested deeper than a parser recurses.

Each of these once answered 500, or was accepted and then stuck a process (NUL in an RFQ's
title). The real API over HTTP; every request is complete and valid but for the one field, so
the answer names exactly that field.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import OPERATOR_ORG_ID, OrgKind, Role
from db.models import Organisation
from settings import Settings
from tests.harness import builders as b
from tests.harness import carrier_api as ca
from tests.harness import sourcing as s
from tests.harness import waybills as w
from tests.harness.api_server import TokenCaller
from tests.harness.builders import make_org

NUL = "a\u0000b"
DEEP = "[" * 3000 + "]" * 3000
PDF = ("doc.pdf", b.MINIMAL_PDF, "application/pdf")


@dataclass
class People:
    buyer: TokenCaller
    finance: TokenCaller
    supplier: TokenCaller
    admin: TokenCaller
    regulator: TokenCaller
    anonymous: httpx.AsyncClient


@pytest.fixture(scope="module")
async def people(
    api_url: str, settings: Settings, sessions: sessionmaker[Session]
) -> AsyncIterator[People]:
    secret = settings.jwt_secret
    buyer_org = s.buyer_org(sessions)
    supplier_org = make_org(sessions)
    with sessions() as session:
        operator = session.get_one(Organisation, OPERATOR_ORG_ID)
    regulator_org = make_org(sessions, kind=OrgKind.REGULATOR)
    found = People(
        buyer=TokenCaller(api_url, secret, s.member(sessions, buyer_org, Role.BUYER)),
        finance=TokenCaller(api_url, secret, s.member(sessions, buyer_org, Role.FINANCE)),
        supplier=TokenCaller(api_url, secret, s.member(sessions, supplier_org, Role.SUPPLIER)),
        admin=TokenCaller(api_url, secret, s.member(sessions, operator, Role.ADMIN)),
        regulator=TokenCaller(api_url, secret, s.member(sessions, regulator_org, Role.REGULATOR)),
        anonymous=httpx.AsyncClient(base_url=api_url, timeout=60),
    )
    yield found
    for caller in (found.buyer, found.finance, found.supplier, found.admin, found.regulator):
        await caller.http.aclose()
    await found.anonymous.aclose()


def _fields(answer: httpx.Response) -> list[str]:
    """The fields an error names, whichever of the two error shapes it has."""
    body = answer.json()
    problems = body.get("errors") or body.get("detail") or []
    return [p["field"] for p in problems if isinstance(p, dict)]


def _rfq(**change: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "title": "Quarterly solvents",
        "lines": [json.loads(line.model_dump_json()) for line in s.lines()],
        "delivery_place": "Jinshan Chemical Park, Shanghai",
        "incoterm": "DAP",
        "needed_by": (now + timedelta(days=30)).date().isoformat(),
        "quote_deadline": (now + timedelta(days=3)).isoformat(),
        "currency": "CNY",
        "payment_terms": "30 days",
        "category": "solvents",
    }
    return _changed(body, change)


def _changed(body: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """``body`` with each dotted path ("lines.0.unit") set to its value."""
    for path, value in change.items():
        *parents, last = path.split(".")
        target: Any = body
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value
    return body


def _consignment(**change: Any) -> dict[str, Any]:
    return _changed(ca.consignment_body(b.unique_credit_code()), change)


def _trip(**change: Any) -> dict[str, Any]:
    ids = {"vehicle_id": "veh_x", "driver_id": "crew_x", "escort_id": "crew_y"}
    made = w.trip(datetime.now(UTC) + timedelta(days=1), **ids).model_dump(mode="json")
    return _changed(made, change)


def _event(**change: Any) -> dict[str, Any]:
    return {"kind": "picked_up", "at": "2024-01-01T08:00:00+08:00", "location": "Nanjing"} | change


def _payment(**change: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount": {"amount": "100.00", "currency": "CNY"},
        "reference": "TT-1",
        "paid_on": "2024-01-02",
    }
    return body | change


Call = Callable[[People], Awaitable[httpx.Response]]

CASES: list[tuple[str, Call, str]] = [
    (
        "fx-rate-source",
        lambda p: p.admin.http.post(
            "/fx-rates",
            json={
                "base": "USD",
                "quote": "CNY",
                "rate": "7.1",
                "as_of": "2024-01-02",
                "source": NUL,
            },
        ),
        "source",
    ),
    (
        "approval-level-title",
        lambda p: p.finance.http.put(
            f"/organisations/{p.finance.org_id}/approval-chain",
            json={"currency": "CNY", "levels": [{"above": "1000", "title": NUL}]},
        ),
        "levels.0.title",
    ),
    ("rfq-title", lambda p: p.buyer.http.post("/rfqs", json=_rfq(title=NUL)), "title"),
    (
        "rfq-description",
        lambda p: p.buyer.http.post("/rfqs", json=_rfq(**{"lines.0.description": NUL})),
        "lines.0.description",
    ),
    (
        "rfq-unit",
        lambda p: p.buyer.http.post("/rfqs", json=_rfq(**{"lines.1.unit": NUL})),
        "lines.1.unit",
    ),
    (
        "rfq-delivery-place",
        lambda p: p.buyer.http.post("/rfqs", json=_rfq(delivery_place=NUL)),
        "delivery_place",
    ),
    (
        "rfq-payment-terms",
        lambda p: p.buyer.http.post("/rfqs", json=_rfq(payment_terms=NUL)),
        "payment_terms",
    ),
    (
        "rfq-category",
        lambda p: p.buyer.http.post("/rfqs", json=_rfq(category="solvents\n")),
        "category",
    ),
    (
        "rfq-decline-reason",
        lambda p: p.supplier.http.post("/rfqs/rfq_x/decline", json={"reason": NUL}),
        "reason",
    ),
    (
        "rfq-cancel-reason",
        lambda p: p.buyer.http.post("/rfqs/rfq_x/cancel", json={"reason": NUL}),
        "reason",
    ),
    (
        "task-comment",
        lambda p: p.buyer.http.post(
            "/tasks/task_x/decision", json={"outcome": "approve", "comment": NUL}
        ),
        "comment",
    ),
    (
        "task-outcome",
        lambda p: p.buyer.http.post("/tasks/task_x/decision", json={"outcome": "approve\t"}),
        "outcome",
    ),
    (
        "order-cancel-reason",
        lambda p: p.buyer.http.post("/orders/ord-x/cancel", json={"reason": NUL}),
        "reason",
    ),
    (
        "payment-reference",
        lambda p: p.finance.http.post("/orders/ord-x/payments", json=_payment(reference=NUL)),
        "reference",
    ),
    (
        "payment-amount",
        lambda p: p.finance.http.post(
            "/orders/ord-x/payments",
            json=_payment(amount={"amount": "1e30", "currency": "CNY"}),
        ),
        "amount.amount",
    ),
    (
        "payment-in-the-future",
        lambda p: p.finance.http.post(
            "/orders/ord-x/payments",
            json=_payment(paid_on=(datetime.now(UTC) + timedelta(days=2)).date().isoformat()),
        ),
        "paid_on",
    ),
    (
        "event-location",
        lambda p: p.supplier.http.post(
            "/orders/ord-x/shipments/1/events", json=_event(location=NUL)
        ),
        "location",
    ),
    (
        "consignment-hazards",
        lambda p: p.supplier.http.post(
            "/orders/ord-x/shipments/1/consignment", json=_consignment(hazards=NUL)
        ),
        "hazards",
    ),
    (
        "consignment-contact-name",
        lambda p: p.supplier.http.post(
            "/orders/ord-x/shipments/1/consignment",
            json=_consignment(**{"consignee.contact_name": NUL}),
        ),
        "consignee.contact_name",
    ),
    (
        "waybill-route",
        lambda p: p.supplier.http.post(
            "/orders/ord-x/shipments/1/waybill/make", json=_trip(route=NUL)
        ),
        "route",
    ),
    (
        "waybill-gross-mass",
        lambda p: p.supplier.http.post(
            "/orders/ord-x/shipments/1/waybill/make", json=_trip(gross_mass_kg="1e30")
        ),
        "gross_mass_kg",
    ),
    (
        "loading-check-note",
        lambda p: p.supplier.http.post(
            "/orders/ord-x/shipments/1/loading-check", json=ca.loading_check_body() | {"note": NUL}
        ),
        "note",
    ),
    (
        "decline-signature-reason",
        lambda p: p.buyer.http.post("/contracts/c-x/decline-signature", json={"reason": NUL}),
        "reason",
    ),
    (
        "login-username",
        lambda p: p.anonymous.post("/auth/token", data={"username": NUL, "password": "secret"}),
        "username",
    ),
    (
        "waybill-carrier",
        lambda p: p.regulator.http.get("/regulator/waybills", params={"carrier": NUL}),
        "carrier",
    ),
    ("task-kind", lambda p: p.buyer.http.get("/tasks", params={"kind": NUL}), "kind"),
    ("order-id", lambda p: p.buyer.http.get("/orders/ord%00x"), "order_id"),
]


@pytest.mark.parametrize(("call", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_a_control_character_or_an_oversized_number_is_refused_naming_the_field(
    people: People, call: Call, field: str
) -> None:
    answer = await call(people)
    assert answer.status_code == 422, answer.text
    assert _fields(answer) == [field]


def _application_files(certificates: int = 1, years: int = 1) -> list[tuple[str, Any]]:
    return (
        [("licence", PDF)]
        + [("certificate_files", PDF)] * certificates
        + [("statement_files", PDF)] * years
    )


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (DEEP, "recursion"),
        ("{not json", "JSON"),
        ("[]", "object"),
    ],
    ids=["nested-3000-deep", "malformed", "not-an-object"],
)
async def test_json_in_the_application_form_field_is_refused_naming_it(
    people: People, value: str, rule: str
) -> None:
    answer = await people.supplier.http.post(
        "/accreditation/applications",
        data={"application": value},
        files=_application_files(),
    )
    assert answer.status_code == 422, answer.text
    assert _fields(answer) == ["application"]
    assert rule.lower() in answer.text.lower()


async def test_deeply_nested_json_in_a_renewal_is_refused_naming_the_field(
    people: People,
) -> None:
    answer = await people.supplier.http.post(
        "/accreditation/renewals", data={"certificate": DEEP}, files=[("file", PDF)]
    )
    assert answer.status_code == 422, answer.text
    assert _fields(answer) == ["certificate"]
