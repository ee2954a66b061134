"""The registers and the regulator's e-waybill pages, on real rows from the harness builders:
each register lists what the API lists for the caller, the search forgives how a name or number
was typed and never widens the set, and the filed e-waybills are the regulator's and staff's."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contracts.finance import LoanStatus
from db.models import AuditEntry, Order, Organisation, WaybillFiling
from db.session import transaction
from storage.object_store import ObjectStore
from tests.harness import cold_orders as co
from tests.harness import listings
from tests.harness import loan_rows as lr
from tests.harness import sourcing as s
from tests.harness import waybills as w
from tests.harness.workbench import Person
from workbench.pages import registers, registers_live, registers_trade

HUADONG = "org_demo_buyer_huadong"
FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


@dataclass(frozen=True)
class Rows:
    supplier: Organisation
    own_orders: list[str]
    other_order: str
    waybill: str
    pdf_document_id: str
    trip_id: str
    loan_id: str


@pytest.fixture(scope="module")
def rows(api_url: str, sessions: sessionmaker[Session], store: ObjectStore) -> Rows:
    """Huadong's (the demo buyer's) orders and another buyer's, from one accredited supplier;
    a filed e-waybill on Huadong's first order; a cold trip and an overdue loan elsewhere."""
    supplier = s.accredited_supplier(sessions, store)
    own = listings.orders(sessions, HUADONG, supplier.id, 2)
    other = listings.orders(sessions, s.buyer_org(sessions).id, supplier.id, 1)[0]
    now = datetime.now(UTC)
    number = f"EW-{own[0]}-1"
    record = w.waybill(number, own[0], loading_at=now + timedelta(days=1))
    pdf = listings.document(sessions, supplier.id)
    with transaction(sessions) as session:
        session.add(
            listings.filed_waybill(
                number,
                own[0],
                pdf,
                now,
                record=record.model_dump(mode="json"),
                consignor_name=record.consignor.name,
                consignee_name=record.consignee.name,
                carrier_name=record.carrier.name,
                vehicle_plate=record.vehicle.plate,
            )
        )
        session.add(
            WaybillFiling(waybill_number=number, kind="filed", receipt=f"R{number}", at=now)
        )
    cold = co.cold_order(sessions)
    trip_id = co.open_trip(sessions, cold)
    lent = lr.loan_order(sessions, store)
    loan_id = lr.insert_loan(
        sessions,
        lent,
        status=LoanStatus.OVERDUE,
        principal=Decimal("80000.00"),
        disbursed_on=lr.china_today() - timedelta(days=100),
        due_on=lr.china_today() - timedelta(days=10),
        accrued_to=lr.china_today() - timedelta(days=10),
        owed=("80000.00", "400.00", "1200.00", "0"),
    )
    return Rows(supplier, own, other, number, pdf, trip_id, loan_id)


@pytest.fixture
def person(api_url: str) -> Iterator[Person]:
    someone = Person(api_url)
    yield someone
    someone.close()


def spaced_full_width(text: str) -> str:
    """How a code pasted from a PDF and typed with a Chinese input method may look."""
    wide = "".join(FULL_WIDTH.get(c.upper(), c) for c in text)
    return " ".join(wide[i : i + 4] for i in range(0, len(wide), 4))


def test_a_buyer_sees_its_orders_and_cannot_find_another_buyers(rows: Rows, person: Person) -> None:
    person.sign_in("buyer@huadong.example")
    index = person.get("/workbench/registers")
    assert index.status_code == 200 and "台账" in index.text
    for name in ("orders", "contracts", "rfqs", "suppliers"):
        assert f'data-register="{name}"' in index.text
    assert 'data-register="regulator-waybills"' not in index.text

    orders = person.get("/workbench/registers/orders")
    assert orders.status_code == 200 and "订单" in orders.text
    assert all(f'data-row="{order_id}"' in orders.text for order_id in rows.own_orders)
    assert rows.other_order not in orders.text
    assert "CNY 100.00" in orders.text  # the buyer sees its orders' money

    hidden = person.get("/workbench/registers/orders", q=rows.other_order)
    assert 'data-row="' not in hidden.text and 'data-testid="no-rows"' in hidden.text
    # The supplier they share names both orders: the search still finds only Huadong's.
    shared = person.get("/workbench/registers/orders", q=rows.supplier.credit_code.lower())
    assert f'data-row="{rows.own_orders[0]}"' in shared.text
    assert rows.other_order not in shared.text
    # Its own order by number, typed in full width with spaces.
    typed = person.get("/workbench/registers/orders", q=spaced_full_width(rows.own_orders[1]))
    assert f'data-row="{rows.own_orders[1]}"' in typed.text

    # The parties' e-waybill register: the waybill of Huadong's order, by its plate as typed.
    waybills = person.get("/workbench/registers/waybills", q="苏e·a 8231")
    assert f'data-row="{rows.waybill}"' in waybills.text


def test_a_full_width_spaced_credit_code_finds_the_supplier(rows: Rows, person: Person) -> None:
    person.sign_in("buyer@huadong.example")
    code = rows.supplier.credit_code
    found = person.get("/workbench/registers/suppliers", q=spaced_full_width(code))
    assert found.status_code == 200
    assert f'data-row="{rows.supplier.id}"' in found.text and code in found.text
    assert "accredited" in found.text and "2030-01-01" in found.text  # standing and next review
    assert 'data-row="' not in person.get("/workbench/registers/suppliers", q=code + "X").text
    english = person.get("/workbench/lang/en", next="/workbench/registers/suppliers")
    assert "Credit code" in english.text and "Next review" in english.text


def test_the_regulator_reads_a_filed_waybill_and_a_supplier_is_refused(
    rows: Rows, person: Person, api_url: str, sessions: sessionmaker[Session]
) -> None:
    person.sign_in("inspector@regulator.example")
    listed = person.get("/workbench/waybills", q=spaced_full_width(rows.waybill))
    assert listed.status_code == 200 and f'data-row="{rows.waybill}"' in listed.text
    with sessions() as session:
        entries = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "regulator.listed",
                AuditEntry.detail["first"].astext == rows.waybill,  # this module's waybill
            )
        ).all()
    # The read named as the API's list read names it: the query, its page, what it showed.
    assert entries and all(
        (e.detail["last"], e.detail["cursor"], e.detail["limit"], e.detail["results"])
        == (rows.waybill, None, 100, 1)
        for e in entries
    )
    by_un = person.get("/workbench/waybills", un_number="1090", vehicle_plate="苏EA8231")
    assert f'data-row="{rows.waybill}"' in by_un.text

    page = person.get(f"/workbench/waybills/{rows.waybill}")
    assert page.status_code == 200
    for shown in ("UN1090", "Acetone", "王建国", "G2 京沪高速", "苏E·A8231", f"R{rows.waybill}"):
        assert shown in page.text
    assert f'href="/workbench/documents/{rows.pdf_document_id}"' in page.text
    assert "<form" not in page.text.split("<main>", 1)[1]  # read only
    with sessions() as session:
        read = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target_id == rows.waybill)
        ).all()
    assert "regulator.read" in read

    supplier = Person(api_url)
    try:
        supplier.sign_in("supplier@hengxin.example")
        refused = supplier.get("/workbench/waybills")
        assert refused.status_code == 403 and "您无权访问此页面" in refused.text
        assert supplier.get(f"/workbench/waybills/{rows.waybill}").status_code == 403
    finally:
        supplier.close()


def test_staff_open_every_register_the_index_offers(rows: Rows, person: Person) -> None:
    person.sign_in("supervisor@tradeflow.example")
    index = person.get("/workbench/registers")
    offered = [
        "suppliers",
        "carriers",
        "contracts",
        "orders",
        "shipments",
        "waybills",
        "cold-chain",
        "loans",
    ]
    assert all(f'data-register="{name}"' in index.text for name in offered)
    assert 'data-register="rfqs"' not in index.text  # sourcing is the buyers' and suppliers'
    for name in offered:
        assert person.get(f"/workbench/registers/{name}").status_code == 200, name
    trip = person.get("/workbench/registers/cold-chain", q=rows.trip_id)
    assert f'data-row="{rows.trip_id}"' in trip.text and "planned" in trip.text
    overdue = person.get("/workbench/registers/loans", q=rows.loan_id, overdue="true")
    assert f'data-row="{rows.loan_id}"' in overdue.text and "CNY 80,000.00" in overdue.text
    assert person.get("/workbench/waybills", q=rows.waybill).status_code == 200


def _shown(page: str) -> list[str]:
    return re.findall(r'data-row="([^"]+)"', page)


def _link(page: str, testid: str) -> str | None:
    found = re.search(rf'href="([^"]+)" data-testid="{testid}"', page)
    return html.unescape(found.group(1)) if found else None


def _follow(person: Person, link: str) -> httpx.Response:
    url = httpx.URL(link)
    return person.get(url.path, **dict(url.params))


def test_a_register_pages_through_every_row_once_while_rows_are_added(
    rows: Rows, person: Person, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two rows a page: the buyer's orders register, walked by its next-page links, shows each
    of the buyer's orders once and in the API's order (newest first), though an order is added
    after the first page; the search stays in the links, a later page links back to the first,
    and a cursor the register did not give is refused."""
    monkeypatch.setattr(registers_trade, "SHOWN", 2)
    listings.orders(sessions, HUADONG, rows.supplier.id, 3)
    with sessions() as session:
        expected = session.scalars(
            select(Order.id)
            .where(Order.buyer_org_id == HUADONG, Order.supplier_org_id == rows.supplier.id)
            .order_by(Order.created_at.desc(), Order.id)
        ).all()
    assert len(expected) >= 5
    person.sign_in("buyer@huadong.example")
    code = rows.supplier.credit_code
    page = person.get("/workbench/registers/orders", q=code)
    assert _link(page.text, "first-page") is None
    seen = _shown(page.text)
    added = listings.orders(sessions, HUADONG, rows.supplier.id, 1)[0]  # newer than them all
    pages = 1
    while (following := _link(page.text, "next-page")) is not None:
        assert f"q={code}" in following
        page = _follow(person, following)
        assert page.status_code == 200
        assert _link(page.text, "first-page") == f"/workbench/registers/orders?q={code}"
        seen += _shown(page.text)
        pages += 1
        assert pages <= len(expected), "the pages go on past the rows"
    assert seen == list(expected) and added not in seen
    assert pages == -(-len(expected) // 2)
    first = person.get("/workbench/registers/orders", q=code)
    assert _shown(first.text)[0] == added

    forged = person.get("/workbench/registers/orders", cursor="bm90LWEtY3Vyc29y")
    assert forged.status_code == 422 and "cursor" in forged.text
    contracts = person.get("/workbench/registers/contracts", q=code)
    elsewhere = _link(contracts.text, "next-page")
    assert elsewhere is not None  # a contracts cursor is not the orders register's
    cursor = elsewhere.split("cursor=")[1]
    assert person.get("/workbench/registers/orders", cursor=cursor).status_code == 422


def test_every_register_walked_a_row_a_page_shows_its_first_page_in_order(
    rows: Rows,
    person: Person,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each register's keyset reads its key from the right one of a row's entities (a shipment
    its order's and its own number, a cold trip its pickup or the stand-in for none): walked a
    row a page, staff see the rows one page of a hundred shows, in its order."""
    # Two trips picked up at the same moment, after the module's trip (not picked up: first).
    # Other modules' trips may stand anywhere among them: the database is the worker's.
    picked_up = datetime.now(UTC) - timedelta(hours=1)
    picked = sorted(co.open_trip(sessions, co.cold_order(sessions)) for _ in range(2))
    for trip_id in picked:
        co.set_trip(sessions, trip_id, started_at=picked_up)
    person.sign_in("supervisor@tradeflow.example")
    names = ["suppliers", "carriers", "contracts", "orders", "shipments", "waybills", "loans"]
    firsts = {name: _shown(person.get(f"/workbench/registers/{name}").text)[:12] for name in names}
    trips = _shown(person.get("/workbench/registers/cold-chain").text)
    ours = [rows.trip_id, *picked]
    assert [t for t in trips if t in ours] == ours, trips
    firsts["cold-chain"] = trips[: trips.index(picked[-1]) + 1]
    assert all(len(firsts[name]) >= 2 for name in ("suppliers", "contracts", "orders"))
    for module in (registers, registers_trade, registers_live):
        monkeypatch.setattr(module, "SHOWN", 1)
    for name, first in firsts.items():
        page = person.get(f"/workbench/registers/{name}")
        seen = _shown(page.text)
        while len(seen) < len(first) and (following := _link(page.text, "next-page")):
            page = _follow(person, following)
            assert page.status_code == 200, name
            seen += _shown(page.text)
        assert seen[: len(first)] == first, name
