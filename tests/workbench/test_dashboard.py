"""The dashboard: the arithmetic on hand-worked numbers, and the pages on real rows.

The page tests make orders, a delivery and a loan in a currency of their own (``own_currency``:
the database is shared by the session and figures are per currency), so every figure checked is
worked out from the rows made here, and one buyer's dashboard is checked not to count another's.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from contracts.finance import LoanStatus
from db.models import CarrierEvent, Contract, HumanTask, Order, Rfq, User, WaybillFiling
from db.seed import DEMO_PASSWORD
from db.session import transaction
from security.passwords import hash_password
from storage.object_store import ObjectStore
from tests.harness import listings
from tests.harness import loan_rows as lr
from tests.harness.workbench import Person
from workbench import metrics_ops as ops
from workbench.charts import Chart, Series, gauge, stacked_bar_chart
from workbench.i18n import CHINA, money
from workbench.metrics import (
    WeekAmount,
    change,
    currencies,
    percent,
    rate,
    recent_and_before,
    since,
    week_start,
    weekly,
    weeks_back,
)
from workflows.order_filing import WAYBILL_TASK

# -- the arithmetic ------------------------------------------------------------------------


def test_weeks_start_on_monday_and_the_window_ends_with_this_week() -> None:
    sunday, monday = date(2024, 6, 9), date(2024, 6, 10)
    assert week_start(sunday) == date(2024, 6, 3) and week_start(monday) == monday
    weeks = weeks_back(date(2024, 6, 12), 3)
    assert weeks == [date(2024, 5, 27), date(2024, 6, 3), date(2024, 6, 10)]
    # Midnight in China is 16:00 UTC the day before.
    assert since(monday).astimezone(UTC) == datetime(2024, 6, 9, 16, tzinfo=UTC)


def test_weekly_fills_empty_weeks_and_keeps_currencies_apart() -> None:
    weeks = weeks_back(date(2024, 6, 12), 4)
    rows = [
        WeekAmount(weeks[0], "USD", 1, Decimal("10.00")),
        WeekAmount(weeks[1], "CNY", 2, Decimal("100.00")),
        WeekAmount(weeks[3], "CNY", 1, Decimal("50.50")),
    ]
    assert currencies(row.currency for row in rows) == ["CNY", "USD"]
    series = weekly(rows, weeks, "CNY")
    assert [amount for _, _, amount in series] == [0, Decimal("100.00"), 0, Decimal("50.50")]
    assert recent_and_before(series, recent=2) == (Decimal("50.50"), Decimal("100.00"))
    assert change(Decimal("50.50"), Decimal("100.00")) == Decimal("-0.4950")
    assert change(Decimal(5), Decimal(0)) is None


def test_rates_are_four_places_and_shown_as_percent() -> None:
    assert rate(2, 3) == Decimal("0.6667") and percent(rate(2, 3)) == "66.7%"
    assert rate(0, 0) is None and percent(None) == "—"
    assert rate(Decimal("1.5"), Decimal(6)) == Decimal("0.2500")


def test_a_stack_and_a_gauge_are_svg_with_their_values_in_titles() -> None:
    stacked = stacked_bar_chart(
        Chart("Filings", [Series("filed", [("W1", 3)]), Series("refused", [("W1", 1)])])
    )
    assert stacked.startswith("<svg") and "filed W1: 3" in stacked and "refused W1: 1" in stacked
    with pytest.raises(ValueError):
        stacked_bar_chart(Chart("x", [Series("s", [("a", -1)])]))
    ring = gauge("On time", Decimal("0.875"))
    assert "87.5%" in ring and "<circle" in ring
    assert "—" in gauge("On time", None)


# -- the pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Book:
    currency: str
    buyer_email: str
    supplier_email: str
    own_orders: tuple[str, ...]  # the buyer's and the supplier's orders
    other_order: str  # another buyer's, from another supplier


def _can_sign_in(sessions: sessionmaker[Session], user_id: str) -> str:
    with transaction(sessions) as session:
        session.execute(
            update(User)
            .where(User.id == user_id)
            .values(password_hash=hash_password(DEMO_PASSWORD))
        )
        email = session.scalars(select(User.email).where(User.id == user_id)).one()
    return email


@pytest.fixture(scope="module")
def book(sessions: sessionmaker[Session], store: ObjectStore) -> Book:
    code = lr.own_currency()
    first = lr.loan_order(sessions, store, total=Decimal("120000.00"), currency=code)
    second = lr.loan_order(
        sessions, store, supplier_of=first, buyer_of=first, total=Decimal("30000.50"), currency=code
    )
    other = lr.loan_order(sessions, store, total=Decimal("7777.00"), currency=code)
    today = lr.china_today()
    loan_id = lr.insert_loan(
        sessions,
        first,
        status=LoanStatus.DISBURSED,
        principal=Decimal("50000.00"),
        disbursed_on=today,
        due_on=today + timedelta(days=90),
        accrued_to=today,
        owed=("50000.00", "500.00", "0", "0"),
    )
    lr.disburse(sessions, loan_id, code, "50000.00", today)
    with transaction(sessions) as session:
        session.add(
            CarrierEvent(
                order_id=first.order_id,
                shipment_number=1,
                kind="delivered",
                at=datetime.now(UTC),
                location="上海",
                reported_by="test",
            )
        )
    return Book(
        currency=code,
        buyer_email=_can_sign_in(sessions, first.who.buyer.actor.user_id),
        supplier_email=_can_sign_in(sessions, first.who.supplier.actor.user_id),
        own_orders=(first.order_id, second.order_id),
        other_order=other.order_id,
    )


@pytest.fixture
def person(api_url: str) -> Iterator[Person]:
    someone = Person(api_url)
    yield someone
    someone.close()


def _panel(page: str, key: str) -> str:
    found = re.search(rf'data-testid="panel-{key}">(.*?)</section>', page, re.S)
    assert found is not None, f"no panel {key} on the page"
    return html.unescape(found.group(1))


def _total(sessions: sessionmaker[Session], order_ids: tuple[str, ...]) -> Decimal:
    with sessions() as session:
        amounts = session.scalars(select(Order.total_amount).where(Order.id.in_(order_ids)))
        return sum(amounts, Decimal(0))


def test_ops_see_the_platforms_gmv_and_loan_book_from_the_rows(
    book: Book, person: Person, sessions: sessionmaker[Session]
) -> None:
    person.sign_in("supervisor@tradeflow.example")
    page = person.get("/workbench/dashboard").text
    everything = _total(sessions, (*book.own_orders, book.other_order))
    gmv = _panel(page, "gmv")
    assert money(everything, book.currency) in gmv
    assert re.search(rf"<td>{book.currency}</td>\s*<td>3</td>", gmv)
    loans = _panel(page, "loans")
    assert re.search(rf"<td>{book.currency}</td>\s*<td>B</td>\s*<td>已放款</td>", loans)
    assert money(Decimal("50500.00"), book.currency) in loans
    assert f"坏账率 {book.currency} 0.0%" in loans
    for key in ("lead_time", "on_time", "filings", "cold_route", "cold_carrier"):
        panel = _panel(page, key)  # a chart, or one line saying there is nothing yet
        assert ("<svg" in panel) != (f'data-testid="nothing-{key}"' in panel), panel
        assert ("<details>" in panel) == ("<svg" in panel)  # exact numbers only where some are


def test_a_buyer_sees_its_own_spend_savings_and_suppliers_not_another_buyers(
    book: Book, person: Person, sessions: sessionmaker[Session]
) -> None:
    person.sign_in(book.buyer_email)
    page = person.get("/workbench/dashboard").text
    spend = _panel(page, "spend")
    own = _total(sessions, book.own_orders)
    assert money(own, book.currency) in spend
    assert money(own + _total(sessions, (book.other_order,)), book.currency) not in spend
    assert re.search(rf"<td>{book.currency}</td>\s*<td>2</td>", spend)
    assert 'data-testid="panel-gmv"' not in page and 'data-testid="panel-loans"' not in page
    target, awarded = _target_and_award(sessions, book.own_orders)
    assert money(target - awarded, book.currency) in _panel(page, "savings")
    suppliers = _panel(page, "suppliers")
    assert re.search(r"<td>1</td>\s*<td>(100\.0|0\.0)%</td>", suppliers)


def _target_and_award(
    sessions: sessionmaker[Session], order_ids: tuple[str, ...]
) -> tuple[Decimal, Decimal]:
    """Target x quantity and the award's price x quantity over the lines that had a target."""
    target = awarded = Decimal(0)
    with sessions() as session:
        for contract, rfq in session.execute(
            select(Contract, Rfq)
            .join(Order, Order.contract_id == Contract.id)
            .join(Rfq, Rfq.id == Contract.rfq_id)
            .where(Order.id.in_(order_ids))
        ):
            asked = {line["line_id"]: line for line in rfq.body["lines"]}
            for line in contract.terms["lines"]:
                price = asked[line["line_id"]].get("target_unit_price")
                if price is not None:
                    target += Decimal(price) * Decimal(line["quantity"])
                    awarded += Decimal(line["unit_price"]) * Decimal(line["quantity"])
    return target, awarded


def test_a_supplier_sees_its_sales_and_loans_in_both_languages(
    book: Book, person: Person, sessions: sessionmaker[Session]
) -> None:
    person.sign_in(book.supplier_email)
    chinese = person.get("/workbench/dashboard").text
    sales = _panel(chinese, "sales")
    assert money(_total(sessions, book.own_orders), book.currency) in sales
    assert "订单额" in sales and "精确数字" in sales
    assert money(Decimal("50500.00"), book.currency) in _panel(chinese, "loans")
    on_time = _panel(chinese, "on_time")
    delivered_on_time = _delivered_on_time(sessions, book.own_orders[0])
    assert ("100.0%" if delivered_on_time else "0.0%") in on_time
    english = person.get("/workbench/lang/en", next="/workbench/dashboard").text
    assert "Receivables" in english and "Exact numbers" in english
    assert english.count("<svg") >= 4 and 'lang="en"' in english


def _delivered_on_time(sessions: sessionmaker[Session], order_id: str) -> bool:
    with sessions() as session:
        contract = session.scalars(
            select(Contract)
            .join(Order, Order.contract_id == Contract.id)
            .where(Order.id == order_id)
        ).one()
    today = datetime.now(CHINA).date()
    return today <= date.fromisoformat(contract.terms["delivery_date"])


def test_the_regulator_sees_filings_per_day(person: Person) -> None:
    person.sign_in("inspector@regulator.example")
    page = person.get("/workbench/dashboard").text
    assert "每日备案" in _panel(page, "filings_per_day")


def test_ops_see_decision_lead_times_of_every_organisations_tasks(
    book: Book, person: Person, sessions: sessionmaker[Session]
) -> None:
    """Platform staff oversee every process: a buyer's award decision counts in their lead
    times, though the task was never in their inbox."""
    process = f"Leadtest{uuid.uuid4().hex[:6]}"
    decided = datetime.now(UTC) - timedelta(hours=1)
    with transaction(sessions) as session:
        buyer_org = session.get_one(Order, book.own_orders[0]).buyer_org_id
        award = _task(f"{process}:award", "rfq_award", decided, org_id=buyer_org)
        session.add(award)
    person.sign_in("supervisor@tradeflow.example")
    lead = _panel(person.get("/workbench/dashboard").text, "lead_time")
    assert "<svg" in lead and process in lead, lead


def _task(workflow_id: str, kind: str, decided: datetime | None, **fields: Any) -> HumanTask:
    """A task of ``kind`` made three hours before it was ``decided`` (None: still open)."""
    made = (decided or datetime.now(UTC)) - timedelta(hours=3)
    values: dict[str, Any] = {
        "role": "buyer",
        "org_id": "org_dashboard_test",
        "subject_type": "order",
        "subject_id": "ord_none",
        "created_at": made,
        **fields,
    }
    return HumanTask(
        id=f"task_{uuid.uuid4().hex[:12]}",
        workflow_id=workflow_id,
        kind=kind,
        title="Decide",
        summary="",
        outcomes=["yes"],
        status="decided" if decided else "open",
        outcome="yes" if decided else None,
        decided_at=decided,
        **values,
    )


def test_decision_hours_are_postgresqls_percentiles_per_process_and_kind(
    sessions: sessionmaker[Session],
) -> None:
    """Three award decisions of a process of their own took 1, 2 and 10 hours, one approval
    30 minutes: by kind, the medians 2 and 0.5 and the p90s 8.4 and 0.5 (interpolated between
    ranks: 2 + 0.8 x 8); all four together, the median 1.5."""
    process = f"Hourstest{uuid.uuid4().hex[:6]}"
    decided = datetime.now(UTC) - timedelta(hours=1)
    spans = [("rfq_award", 1.0), ("rfq_award", 2.0), ("rfq_award", 10.0), ("approve_order", 0.5)]
    with transaction(sessions) as session:
        for kind, took in spans:
            workflow_id = f"{process}:{uuid.uuid4().hex[:6]}"
            made = decided - timedelta(hours=took)
            session.add(_task(workflow_id, kind, decided, created_at=made))
    own = [HumanTask.workflow_id.like(f"{process}:%")]
    with sessions() as session:
        groups, every = ops.decision_hours(session, own, decided - timedelta(days=1))
    by_kind = {g.kind: (g.process, g.decided, round(g.median, 6), round(g.p90, 6)) for g in groups}
    assert by_kind == {"rfq_award": (process, 3, 2.0, 8.4), "approve_order": (process, 1, 0.5, 0.5)}
    assert every is not None and (every.decided, round(every.median, 6)) == (4, 1.5)
    with sessions() as session:
        assert ops.decision_hours(session, own, decided + timedelta(hours=1)) == ([], None)


def test_filing_hours_are_postgresqls_percentiles_by_week_and_in_all(
    book: Book, sessions: sessionmaker[Session]
) -> None:
    """Three e-waybills of an order, each accepted 1, 2 and 10 hours after its last
    submission (an earlier one of the first is not its last), and a filing the regulator
    refused: three filed, one refused, the median 2 and the p90 8.4 hours (interpolated between
    ranks), in the week and in all."""
    order_id = book.own_orders[1]
    with sessions() as session:
        supplier = session.get_one(Order, order_id).supplier_org_id
    copy = listings.document(sessions, supplier)
    at = datetime.now(UTC) - timedelta(minutes=5)
    with transaction(sessions) as session:
        for took in (1.0, 2.0, 10.0):
            number = f"WBH{uuid.uuid4().hex[:10].upper()}"
            session.add(listings.filed_waybill(number, order_id, copy, at))
            session.add(WaybillFiling(waybill_number=number, kind="filed", receipt="R", at=at))
            details = {"waybill_number": number}
            submitted = at - timedelta(hours=took)
            session.add(_task(f"Hours:{number}", WAYBILL_TASK, submitted, details=details))
            if took == 1.0:
                earlier = submitted - timedelta(hours=5)
                session.add(_task(f"Hours:{number}", WAYBILL_TASK, earlier, details=details))
        refused = {"problems": "regulator: the plate is not registered"}
        session.add(
            _task(
                f"Hours:{order_id}",
                WAYBILL_TASK,
                None,
                subject_id=order_id,
                created_at=at,
                details=refused,
            )
        )
    with sessions() as session:
        weeks, every = ops.filings_by_week(session, [Order.id == order_id], at - timedelta(days=1))
    figures = [(w.filed, w.refused, round(w.median or 0, 6), round(w.p90 or 0, 6)) for w in weeks]
    assert figures == [(3, 1, 2.0, 8.4)]
    day = at.astimezone(CHINA).date()
    assert weeks[0].week == day - timedelta(days=day.weekday())
    assert (every.filed, every.refused, every.median, every.p90) == (
        3,
        1,
        weeks[0].median,
        weeks[0].p90,
    )
    with sessions() as session:
        later = ops.filings_by_week(session, [Order.id == order_id], at + timedelta(hours=1))
    assert later == ([], ops.FilingFigures(0, 0, None, None))
