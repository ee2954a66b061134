"""The finance views over the real API, on loans and journals written by hand in a currency of
each test's own: the portfolio's disbursed, outstanding, exposure, overdue buckets and bad-debt
rate with its alert strictly above 0.5%; the ledger's trial balance at zero; the reconciliation
of a day; and who may see them (platform oversight the portfolio, platform finance the rest)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from contracts.common import Role
from contracts.finance import LoanStatus
from db.finance import Account, JournalKind
from storage.object_store import ObjectStore
from tests.harness import cold_orders as co
from tests.harness import loan_rows as lr

Caller = co.Caller
caller = co.caller
CENT = Decimal("0.01")


def by_hand(principal: str, annual_rate: str, since: date, as_of: date) -> Decimal:
    """ACT/360 simple interest, rounded half up once (the default product's convention)."""
    days = (as_of - since).days
    return (Decimal(principal) * Decimal(annual_rate) * days / 360).quantize(CENT)


def write_off(sessions: sessionmaker[Session], loan_id: str, currency: str, amount: str) -> None:
    lr.book(
        sessions,
        loan_id,
        currency,
        JournalKind.WRITE_OFF,
        lr.china_today(),
        [(Account.WRITE_OFF, amount), (Account.PRINCIPAL, f"-{amount}")],
    )


async def book_of(finance: Any, currency: str) -> dict[str, Any]:
    answer = await finance.http.get("/finance/portfolio", params={"currency": currency})
    assert answer.status_code == 200, answer.text
    portfolio = answer.json()
    assert [book["currency"] for book in portfolio["currencies"]] == [currency]
    return {"as_of": date.fromisoformat(portfolio["as_of"]), **portfolio["currencies"][0]}


async def test_the_portfolio_from_loans_and_journals_worked_out_by_hand(
    caller: Caller, sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    code, today = lr.own_currency(), lr.china_today()
    s1b1 = lr.loan_order(sessions, store, currency=code)
    s2b2 = lr.loan_order(sessions, store, currency=code)
    s1b2 = lr.loan_order(sessions, store, currency=code, supplier_of=s1b1, buyer_of=s2b2)
    s2b1 = lr.loan_order(sessions, store, currency=code, supplier_of=s2b2, buyer_of=s1b1)
    s2b1_again = lr.loan_order(sessions, store, currency=code, supplier_of=s2b2, buyer_of=s1b1)
    # Current: 100,000 lent 10 days ago at 7.2%, its fee of 1,000 owed.
    current = lr.insert_loan(
        sessions,
        s1b1,
        status=LoanStatus.DISBURSED,
        principal=Decimal("100000.00"),
        disbursed_on=today - timedelta(days=10),
        due_on=today + timedelta(days=80),
        accrued_to=today - timedelta(days=10),
        owed=("100000.00", "1000.00", "0", "0"),
    )
    # 45 and 100 days past due: penalty interest (7.2% * 1.5 = 10.8%) since the due date.
    late = lr.insert_loan(
        sessions,
        s1b2,
        status=LoanStatus.OVERDUE,
        principal=Decimal("50000.00"),
        disbursed_on=today - timedelta(days=135),
        due_on=today - timedelta(days=45),
        accrued_to=today - timedelta(days=45),
        owed=("50000.00", "0", "0", "0"),
    )
    later = lr.insert_loan(
        sessions,
        s2b1,
        status=LoanStatus.OVERDUE,
        principal=Decimal("20000.00"),
        disbursed_on=today - timedelta(days=190),
        due_on=today - timedelta(days=100),
        accrued_to=today - timedelta(days=100),
        owed=("20000.00", "0", "0", "0"),
    )
    lost = lr.insert_loan(
        sessions,
        s2b1_again,
        status=LoanStatus.WRITTEN_OFF,
        principal=Decimal("50000.00"),
        disbursed_on=today - timedelta(days=300),
    )
    for loan_id, principal in ((current, "100000.00"), (late, "50000.00")):
        lr.disburse(sessions, loan_id, code, principal, today - timedelta(days=10))
    for loan_id, principal in ((later, "20000.00"), (lost, "50000.00")):
        lr.disburse(sessions, loan_id, code, principal, today - timedelta(days=10))
    write_off(sessions, lost, code, "50000.00")

    finance = caller(lr.staff(sessions, Role.FINANCE))
    book = await book_of(finance, code)
    as_of = book["as_of"]
    interest = by_hand("100000", "0.072", today - timedelta(days=10), as_of)  # 200.00
    penalty_45 = by_hand("50000", "0.108", today - timedelta(days=45), as_of)  # 675.00
    penalty_100 = by_hand("20000", "0.108", today - timedelta(days=100), as_of)  # 600.00
    owed = {
        current: Decimal("101000.00") + interest,
        late: Decimal("50000.00") + penalty_45,
        later: Decimal("20000.00") + penalty_100,
    }
    assert Decimal(book["disbursed"]) == Decimal("220000.00")
    assert Decimal(book["principal_owed"]) == Decimal("170000.00")
    assert Decimal(book["accrued"]) == Decimal("1000.00") + interest + penalty_45 + penalty_100
    assert Decimal(book["outstanding"]) == sum(owed.values())
    assert book["loans_outstanding"] == 3
    suppliers = [(e["org_id"], Decimal(e["amount"]), e["loans"]) for e in book["by_supplier"]]
    assert suppliers == [
        (s1b1.supplier_org_id, owed[current] + owed[late], 2),
        (s2b2.supplier_org_id, owed[later], 1),
    ]
    assert book["by_supplier"][0]["name"] == s1b1.who.supplier.org.legal_name
    buyers = [(e["org_id"], Decimal(e["amount"]), e["loans"]) for e in book["by_buyer"]]
    assert buyers == [
        (s1b1.buyer_org_id, owed[current] + owed[later], 2),
        (s2b2.buyer_org_id, owed[late], 1),
    ]
    buckets = {b["bucket"]: (b["loans"], Decimal(b["amount"])) for b in book["overdue"]}
    assert list(buckets) == ["current", "1-30", "31-60", "61-90", "90+"]
    assert buckets == {
        "current": (1, owed[current]),
        "1-30": (0, Decimal(0)),
        "31-60": (1, owed[late]),
        "61-90": (0, Decimal(0)),
        "90+": (1, owed[later]),
    }
    # 50,000 / 220,000 = 0.22727...: far above the warning line.
    assert (Decimal(book["written_off"]), book["bad_debt_rate"], book["alert"]) == (
        Decimal("50000.00"),
        "0.2273",
        True,
    )


async def test_the_bad_debt_alert_is_raised_only_above_half_a_percent(
    caller: Caller, sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    code = lr.own_currency()
    order = lr.loan_order(sessions, store, currency=code)
    loan_id = lr.insert_loan(
        sessions, order, status=LoanStatus.WRITTEN_OFF, principal=Decimal("200000.00")
    )
    lr.disburse(sessions, loan_id, code, "200000.00", lr.china_today())
    write_off(sessions, loan_id, code, "1000.00")
    finance = caller(lr.staff(sessions, Role.FINANCE))
    book = await book_of(finance, code)
    assert (book["bad_debt_rate"], book["alert"]) == ("0.0050", False)  # on the line
    write_off(sessions, loan_id, code, "10.00")  # 1,010 / 200,000 = 0.00505: shown 0.0051
    book = await book_of(finance, code)
    assert (book["bad_debt_rate"], book["alert"]) == ("0.0051", True)
    answer = await finance.http.get("/finance/portfolio")
    assert Decimal(answer.json()["alert_above"]) == Decimal("0.005")


async def test_the_trial_balance_is_zero_in_each_currency(
    caller: Caller, sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    code, today = lr.own_currency(), lr.china_today()
    order = lr.loan_order(sessions, store, currency=code)
    loan_id = lr.insert_loan(
        sessions, order, status=LoanStatus.DISBURSED, principal=Decimal("30000.00")
    )
    lr.disburse(sessions, loan_id, code, "30000.00", today - timedelta(days=2))
    lr.book(
        sessions,
        loan_id,
        code,
        JournalKind.FEE,
        today - timedelta(days=2),
        [(Account.FEE_RECEIVABLE, "300.00"), (Account.FEE_INCOME, "-300.00")],
    )
    lr.book(
        sessions,
        loan_id,
        code,
        JournalKind.REPAYMENT,
        today,
        [
            (Account.BANK, "10300.00"),
            (Account.FEE_RECEIVABLE, "-300.00"),
            (Account.PRINCIPAL, "-10000.00"),
        ],
        bank_reference="BUYER-PAID-1",
    )
    finance = caller(lr.staff(sessions, Role.FINANCE))
    answer = await finance.http.get("/finance/ledger", params={"loan_id": loan_id, "limit": 2})
    ledger = answer.json()
    assert [j["kind"] for j in ledger["journals"]] == ["disbursement", "fee"]
    assert answer.headers["x-next-cursor"]
    [balance] = ledger["trial_balance"]
    assert (balance["currency"], Decimal(balance["total"]), balance["balanced"]) == (
        code,
        Decimal(0),
        True,
    )
    assert {a["account"]: Decimal(a["balance"]) for a in balance["accounts"]} == {
        "bank": Decimal("-19700.00"),
        "fee_income": Decimal("-300.00"),
        "fee_receivable": Decimal(0),
        "loan_principal": Decimal("20000.00"),
    }
    bank = next(a for a in balance["accounts"] if a["account"] == "bank")
    assert (Decimal(bank["debits"]), Decimal(bank["credits"])) == (
        Decimal("10300.00"),
        Decimal("30000.00"),
    )
    rest = await finance.http.get(
        "/finance/ledger", params={"loan_id": loan_id, "cursor": answer.headers["x-next-cursor"]}
    )
    assert [j["kind"] for j in rest.json()["journals"]] == ["repayment"]
    today_only = {"loan_id": loan_id, "start": today.isoformat(), "end": today.isoformat()}
    [balance] = (await finance.http.get("/finance/ledger", params=today_only)).json()[
        "trial_balance"
    ]
    assert Decimal(balance["total"]) == 0
    everything = (await finance.http.get("/finance/ledger", params={"limit": 1})).json()
    assert everything["trial_balance"] and all(b["balanced"] for b in everything["trial_balance"])


async def test_a_closed_day_is_reconciled_with_the_banks_statement(
    caller: Caller, sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    code = lr.own_currency()
    # A day long ago of this test's own: nothing else was booked or paid on it.
    day = date(2001, 1, 1) + timedelta(days=random.randrange(3000))
    order = lr.loan_order(sessions, store, currency=code)
    loan_id = lr.insert_loan(sessions, order, status=LoanStatus.REPAID, principal=Decimal(100))
    journal_id = lr.book(
        sessions,
        loan_id,
        code,
        JournalKind.REPAYMENT,
        day,
        [(Account.BANK, "100.00"), (Account.PRINCIPAL, "-100.00")],
        bank_reference="NOT-AT-THE-BANK",
    )
    finance = caller(lr.staff(sessions, Role.FINANCE))
    answer = await finance.http.post("/finance/reconciliations", json={"day": day.isoformat()})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert (found["day"], found["matched"], found["agreed"]) == (day.isoformat(), 0, False)
    [difference] = found["differences"]
    assert difference.startswith(f"missing at the bank: the ledger's journal {journal_id}")
    listed = (await finance.http.get("/finance/reconciliations", params={"limit": 500})).json()
    assert found in listed

    quiet = day + timedelta(days=1)
    answer = await finance.http.post("/finance/reconciliations", json={"day": quiet.isoformat()})
    assert (answer.json()["matched"], answer.json()["differences"]) == (0, [])
    today = {"day": lr.china_today().isoformat()}
    answer = await finance.http.post("/finance/reconciliations", json=today)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "day"


async def test_platform_oversight_sees_the_portfolio_and_only_platform_finance_the_books(
    caller: Caller, sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    order = lr.loan_order(sessions, store)
    views = ("/finance/portfolio", "/finance/ledger", "/finance/reconciliations")
    allowed = {
        Role.FINANCE: views,
        Role.OPS_SUPERVISOR: views[:1],
        Role.ADMIN: views[:1],
        Role.COMPLIANCE: (),
    }
    for role, sees in allowed.items():
        member = caller(lr.staff(sessions, role))
        for path in views:
            answer = await member.http.get(path)
            assert answer.status_code == (200 if path in sees else 403), (role, path)
    for party in (order.who.supplier, order.supplier_finance, order.who.finance):
        member = caller(party)
        for path in views:
            assert (await member.http.get(path)).status_code == 403, (party.actor.roles, path)
        answer = await member.http.post("/finance/reconciliations", json={"day": "2001-01-01"})
        assert answer.status_code == 403
    bad = await caller(lr.staff(sessions, Role.FINANCE)).http.get(
        "/finance/portfolio", params={"currency": "cny"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "currency"
