"""Every list pages by cursor: each row exactly once, the next page in ``Link`` and
``X-Next-Cursor``, a malformed cursor and an out-of-range number refused naming the field.

The real API over HTTP; rows are written directly, several sharing their first sort key so page
boundaries fall between equal keys. Each list is filtered to the test's own rows (its own
organisation, carrier, currency pair or audit target), since the database is shared; a
carrier's list of orders holds the ones assigned to it.
"""

from __future__ import annotations

import base64
import json
import math
import random
import re
import string
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import OPERATOR_ORG_ID, OrgKind, Role
from db.models import AccreditationApplication, Order, Organisation
from db.session import transaction
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness import carriers as c
from tests.harness import listings
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller
from tests.harness.builders import make_org
from tests.harness.postgres import rows

ROWS = 7
LIMIT = 3
BIGINT_PLUS_ONE = 2**63
_LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


@dataclass
class World:
    """The test's own organisations and people, and the rows each list should show them."""

    buyer: TokenCaller
    supplier: TokenCaller
    admin: TokenCaller
    regulator: TokenCaller
    lists: dict[str, tuple[TokenCaller, str, dict[str, Any], list[Any]]]


def _currency() -> str:
    return "".join(random.choices(string.ascii_uppercase, k=3))


@pytest.fixture(scope="module")
async def world(
    api_url: str, settings: Settings, sessions: sessionmaker[Session], store: ObjectStore
) -> AsyncIterator[World]:
    secret = settings.jwt_secret
    buyer_org = s.buyer_org(sessions)
    supplier_org = s.accredited_supplier(sessions, store)
    with sessions() as session:
        operator = session.get_one(Organisation, OPERATOR_ORG_ID)
    buyer = TokenCaller(api_url, secret, s.member(sessions, buyer_org, Role.BUYER))
    supplier = TokenCaller(api_url, secret, s.member(sessions, supplier_org, Role.SUPPLIER))
    admin = TokenCaller(api_url, secret, s.member(sessions, operator, Role.ADMIN))
    regulator_org = make_org(sessions, kind=OrgKind.REGULATOR)
    regulator = TokenCaller(api_url, secret, s.member(sessions, regulator_org, Role.REGULATOR))

    order_ids = listings.orders(sessions, buyer_org.id, supplier_org.id, ROWS)
    carrier = f"Paging Haulage {uuid.uuid4().hex[:8]}"
    waybill_numbers = listings.waybills(sessions, order_ids[0], carrier, ROWS)
    # A carrier's list holds the orders assigned to it, and only those.
    carrier_org = c.accredited_carrier(sessions)
    dispatcher = TokenCaller(api_url, secret, s.member(sessions, carrier_org, Role.LOGISTICS))
    carried = order_ids[: ROWS - 2]
    with transaction(sessions) as session:
        session.execute(
            update(Order).where(Order.id.in_(carried)).values(carrier_org_id=carrier_org.id)
        )
    rfq_ids = listings.rfqs(sessions, buyer_org.id, ROWS)
    quote_ids = listings.quotes(sessions, rfq_ids[0], supplier_org.id, ROWS)
    contract_ids = listings.contracts(sessions, buyer_org.id, supplier_org.id, ROWS)
    base, quote = _currency(), _currency()
    rate_ids = listings.rates(sessions, base, quote, ROWS)
    target = f"paging-{uuid.uuid4().hex}"
    listings.audit_entries(sessions, admin.member.actor, target, ROWS)
    listings.applications(sessions, supplier_org.id, ROWS)
    # The buyer's contracts are the listed ones and the orders'; its RFQs, theirs and its own.
    all_contracts = [*contract_ids, *(order_id.removeprefix("ord-") for order_id in order_ids)]
    all_rfqs = [*rfq_ids, *(c.removesuffix("-C1") for c in all_contracts)]
    # The supplier's applications: these and the one its accreditation came from.
    applications = [
        a.id for a in rows(sessions, AccreditationApplication, supplier_org_id=supplier_org.id)
    ]
    lists: dict[str, tuple[TokenCaller, str, dict[str, Any], list[Any]]] = {
        "orders": (buyer, "/orders", {}, order_ids),
        "carrier-orders": (dispatcher, "/orders", {}, carried),
        "waybills": (regulator, "/regulator/waybills", {"carrier": carrier}, waybill_numbers),
        "rfqs": (buyer, "/rfqs", {}, all_rfqs),
        "quotes": (buyer, f"/rfqs/{rfq_ids[0]}/quotes", {}, quote_ids),
        "contracts": (buyer, "/contracts", {}, all_contracts),
        "tasks": (buyer, "/tasks", {}, listings.tasks(sessions, buyer.member.actor, ROWS)),
        "notifications": (
            buyer,
            "/notifications",
            {},
            listings.notifications(sessions, buyer_org.id, ROWS),
        ),
        "fx-rates": (buyer, "/fx-rates", {"base": base, "quote": quote}, rate_ids),
        "audit": (admin, "/audit/entries", {"target_id": target}, []),  # ids read back
        "applications": (supplier, "/accreditation/applications", {}, applications),
        "signing-keys": (
            buyer,
            f"/organisations/{supplier_org.id}/signing-keys",
            {},
            listings.signing_keys(sessions, supplier_org.id, ROWS),
        ),
    }
    yield World(buyer, supplier, admin, regulator, lists)
    for caller in (buyer, supplier, admin, regulator, dispatcher):
        await caller.http.aclose()


_ID_OF = {
    "orders": "order_id",
    "carrier-orders": "order_id",
    "waybills": "waybill_number",
    "rfqs": "rfq_id",
    "quotes": "quote_id",
    "contracts": "contract_id",
    "tasks": "task_id",
    "notifications": "id",
    "fx-rates": "id",
    "audit": "id",
    "applications": "application_id",
    "signing-keys": "key_id",
}


@dataclass
class Walk:
    rows: list[dict[str, Any]]
    pages: int
    links: list[str]


async def walk(
    http: httpx.AsyncClient, path: str, params: dict[str, Any], *, limit: int = LIMIT
) -> Walk:
    """Every page of a list, following ``Link`` until a page has none."""
    answer = await http.get(path, params={**params, "limit": limit})
    rows: list[dict[str, Any]] = []
    links: list[str] = []
    while True:
        assert answer.status_code == 200, answer.text
        rows += answer.json()
        link = answer.headers.get("link")
        if link is None:
            assert "x-next-cursor" not in answer.headers
            return Walk(rows, len(links) + 1, links)
        found = _LINK.match(link)
        assert found is not None, link
        url = found["url"]
        assert httpx.URL(url).params["cursor"] == answer.headers["x-next-cursor"]
        links.append(url)
        answer = await http.get(url)


@pytest.mark.parametrize("name", list(_ID_OF))
async def test_paging_through_a_list_returns_each_row_exactly_once(world: World, name: str) -> None:
    caller, path, params, expected = world.lists[name]
    everything = await walk(caller.http, path, params, limit=500)
    assert everything.pages == 1
    if name == "audit":
        expected = [row["id"] for row in everything.rows]
        assert len(expected) == ROWS

    paged = await walk(caller.http, path, params)

    ids = [row[_ID_OF[name]] for row in paged.rows]
    assert len(ids) == len(set(ids))  # nothing twice
    assert sorted(ids, key=str) == sorted(expected, key=str)  # nothing missed or foreign
    assert ids == [row[_ID_OF[name]] for row in everything.rows]  # the same order
    assert paged.pages == math.ceil(len(expected) / LIMIT)


async def test_the_next_link_keeps_the_other_query_parameters(world: World) -> None:
    caller, path, _, expected = world.lists["orders"]
    paged = await walk(caller.http, path, {"status": "awaiting_confirmation"})
    assert len(paged.rows) == len(expected)
    for link in paged.links:
        params = httpx.URL(link).params
        assert params["status"] == "awaiting_confirmation"
        assert params["limit"] == str(LIMIT)


async def test_the_csv_export_pages_like_the_list(world: World) -> None:
    _, _, params, expected = world.lists["waybills"]
    http = world.regulator.http
    answer = await http.get("/regulator/waybills.csv", params={**params, "limit": 4})
    numbers: list[str] = []
    while True:
        assert answer.status_code == 200
        numbers += [line.split(",")[0] for line in answer.text.splitlines()[1:]]
        link = answer.headers.get("link")
        if link is None:
            break
        found = _LINK.match(link)
        assert found is not None
        answer = await http.get(found["url"])
    assert sorted(numbers) == sorted(expected) and len(numbers) == len(set(numbers))


def _cursor(parts: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


def _fields(answer: httpx.Response) -> list[str]:
    """The fields an error names, whichever of the two error shapes it has."""
    body = answer.json()
    problems = body.get("errors") or body.get("detail") or []
    return [p["field"] for p in problems if isinstance(p, dict)]


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("/orders", "not a cursor"),
        ("/orders", "!!!!"),
        ("/orders", _cursor(["orders"])),  # too few parts
        ("/orders", _cursor(["rfqs", "2024-01-01T00:00:00+00:00", "rfq_1"])),  # another list
        ("/orders", _cursor(["orders", "2024-01-01T00:00:00", "ord-1"])),  # a naive time
        ("/orders", _cursor(["orders", "yesterday", "ord-1"])),
        ("/orders", _cursor(["orders", "2024-01-01T00:00:00+00:00", "ord\u00001"])),  # NUL
        ("/orders", _cursor(["orders", "2024-01-01T00:00:00+00:00", "o" * 81])),  # too long
        ("/orders", _cursor(["orders", "2024-01-01T00:00:00+00:00", 7])),
        ("/orders", base64.urlsafe_b64encode(b"[" * 600 + b"]" * 600).decode()),
        ("/orders", "A" * 2000),
        ("/fx-rates", _cursor(["fx_rates", "2024-01-01", 2**31])),  # past the integer column
        ("/audit/entries", _cursor(["audit", BIGINT_PLUS_ONE])),  # past bigint
        ("/tasks", _cursor(["tasks", "2024-01-01T00:00:00+00:00", True, "t"])),
    ],
)
async def test_a_malformed_cursor_answers_422_naming_cursor(
    world: World, path: str, cursor: str
) -> None:
    caller = world.admin if path.startswith("/audit") else world.buyer
    answer = await caller.http.get(path, params={"cursor": cursor})
    assert answer.status_code == 422, answer.text
    assert _fields(answer) == ["cursor"]


Call = Callable[[World], Awaitable[httpx.Response]]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda w: w.buyer.http.get("/orders", params={"limit": BIGINT_PLUS_ONE}), "limit"),
        (lambda w: w.buyer.http.get("/orders", params={"limit": 0}), "limit"),
        (lambda w: w.buyer.http.get("/tasks", params={"limit": 501}), "limit"),
        (
            lambda w: w.regulator.http.get(
                "/regulator/waybills.csv", params={"limit": BIGINT_PLUS_ONE}
            ),
            "limit",
        ),
        (
            lambda w: w.admin.http.get("/audit/entries", params={"after_seq": BIGINT_PLUS_ONE}),
            "after_seq",
        ),
        (
            lambda w: w.buyer.http.get(
                f"/rfqs/{w.lists['rfqs'][3][0]}/comparison", params={"top": BIGINT_PLUS_ONE}
            ),
            "top",
        ),
        (
            lambda w: w.supplier.http.post(
                f"/orders/{w.lists['orders'][3][0]}/shipments/{BIGINT_PLUS_ONE}/events",
                json={"kind": "picked_up", "at": "2024-01-01T00:00:00+00:00", "location": "x"},
            ),
            "shipment",
        ),
        (
            lambda w: w.supplier.http.post(
                f"/rfqs/{w.lists['rfqs'][3][0]}/quotes",
                json={"terms": {}, "replaces_revision": BIGINT_PLUS_ONE},
            ),
            "replaces_revision",
        ),
        (lambda w: w.buyer.http.get(f"/orders/{'o' * 241}"), "order_id"),
    ],
    ids=[
        "limit-huge",
        "limit-zero",
        "limit-above-max",
        "csv-limit",
        "after-seq",
        "top",
        "shipment",
        "revision",
        "long-id",
    ],
)
async def test_numbers_out_of_range_answer_422_naming_the_field(
    world: World, call: Call, field: str
) -> None:
    answer = await call(world)
    assert answer.status_code == 422, answer.text
    assert field in _fields(answer)


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("buyer", "/orders"),
        ("regulator", "/regulator/waybills"),
        ("regulator", "/regulator/waybills.csv"),
    ],
)
async def test_an_offset_past_bigint_no_longer_fails(world: World, who: str, path: str) -> None:
    caller: TokenCaller = getattr(world, who)
    answer = await caller.http.get(path, params={"offset": BIGINT_PLUS_ONE})
    assert answer.status_code == 200, answer.text
