"""Order loans over the real API: an application breaking a rule is refused at the edge naming
each field, and starts nothing; only a supplier's supplier or finance role applies; an eligible
one starts the loan's process on the real worker, which asks the buyer to confirm, and its
supplier may withdraw it; a supplier sees only its loans, the buyer none of their price; the
statement is the supplier's and platform finance's. Figures are worked out by hand."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from contracts.common import OrgKind, Role
from contracts.finance import CONFIRMATION_TASK, LoanStatus, loan_workflow_id
from contracts.fulfilment import OrderStatus
from db.finance import Account, JournalKind
from storage.object_store import ObjectStore
from tests.harness import cold_orders as co
from tests.harness import loan_rows as lr
from tests.harness import sourcing as s
from tests.harness.builders import make_org
from tests.harness.temporal import eventually

Caller = co.Caller
caller = co.caller
CENT = Decimal("0.01")


def application(order: lr.LoanOrder, amount: str = "50000.00", **change: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": order.order_id,
        "amount": {"amount": amount, "currency": order.currency},
        "term_days": 90,
        "purpose": "原材料采购 raw materials",
    }
    return {**body, **change}


def fields(answer: httpx.Response) -> dict[str, str]:
    """The fields a 422 names, with their rules."""
    assert answer.status_code == 422, answer.text
    return {e["field"]: e["rule"] for e in answer.json()["errors"]}


def owed_between(statement: dict[str, Any]) -> tuple[Decimal, Decimal]:
    return Decimal(statement["opening_owed"]), Decimal(statement["closing_owed"])


async def test_each_rule_an_application_breaks_is_refused_naming_its_field_and_starts_nothing(
    caller: Caller,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    dev_env: WorkflowEnvironment,
) -> None:
    order = lr.loan_order(sessions, store, total=Decimal("100000.00"))
    supplier = caller(order.who.supplier)
    key = "apply-too-much"
    answer = await supplier.http.post(
        "/loans",
        json=application(order, "90000.00", term_days=3),
        headers={"Idempotency-Key": key},
    )
    refused = fields(answer)  # every rule broken, at once
    assert "CNY 80,000.00" in refused["amount"] and "80%" in refused["amount"]
    assert "7 to 180 days" in refused["term_days"]
    loan_id = "loan-" + hashlib.sha256(f"{supplier.user_id}\n{key}".encode()).hexdigest()[:12]
    with pytest.raises(RPCError) as missing:
        await dev_env.client.get_workflow_handle(loan_workflow_id(loan_id)).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND

    in_euros = application(order, amount="1000.00")
    in_euros["amount"]["currency"] = "EUR"
    assert "currency, CNY" in fields(await supplier.http.post("/loans", json=in_euros))["amount"]

    # A second loan on the same order.
    lr.insert_loan(
        sessions, order, status=LoanStatus.DISBURSED, principal=Decimal("20000.00"), priced=False
    )
    rule = fields(await supplier.http.post("/loans", json=application(order, "10000.00")))
    assert "already has a loan" in rule["order_id"]

    related = lr.loan_order(sessions, store, shared_address="上海市浦东新区 世纪大道100号")
    rule = fields(await caller(related.who.supplier).http.post("/loans", json=application(related)))
    assert "related organisations" in rule["order_id"]
    assert "same registered address" in rule["order_id"]

    unaccredited = lr.loan_order(sessions, store, accredited=False)
    answer = await caller(unaccredited.who.supplier).http.post(
        "/loans", json=application(unaccredited)
    )
    assert "accredited supplier" in fields(answer)["supplier"]

    disputed = lr.loan_order(sessions, store, status=OrderStatus.DISPUTED)
    answer = await caller(disputed.who.supplier).http.post("/loans", json=application(disputed))
    assert "disputed cannot be financed" in fields(answer)["order_id"]

    # Another supplier's order, and none at all, are alike: no order of the caller's.
    for order_id in (related.order_id, "ord-nothing-here"):
        answer = await supplier.http.post("/loans", json=application(order, order_id=order_id))
        assert fields(answer) == {"order_id": "no order of your organisation has this id"}


async def test_only_a_suppliers_supplier_or_finance_role_applies(
    caller: Caller, sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    order = lr.loan_order(sessions, store)
    regulator = s.member(sessions, make_org(sessions, kind=OrgKind.REGULATOR), Role.REGULATOR)
    for member in (
        order.who.buyer,
        order.who.finance,  # the buyer's finance: the receivable is its debt, not its loan
        order.who.logistics,
        lr.staff(sessions, Role.FINANCE),
        lr.staff(sessions, Role.ADMIN),
        regulator,
    ):
        answer = await caller(member).http.post("/loans", json=application(order))
        assert answer.status_code == 403, (member.actor.roles, answer.text)
    answer = await caller(order.who.supplier).http.post(
        "/loans", json=application(order, amount="-5", term_days=0)
    )
    assert set(fields(answer)) == {"amount.amount", "term_days"}


async def test_an_eligible_application_starts_the_loan_and_its_supplier_may_withdraw_it(
    caller: Caller, sessions: sessionmaker[Session], store: ObjectStore, worker: None
) -> None:
    order = lr.loan_order(sessions, store, total=Decimal("100000.00"))
    supplier, buyer_finance = caller(order.supplier_finance), caller(order.who.finance)
    body = application(order, "80000.00")
    key = {"Idempotency-Key": "apply-once"}
    answer = await supplier.http.post("/loans", json=body, headers=key)
    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    loan_id = accepted["loan_id"]
    assert answer.headers["location"] == f"/loans/{loan_id}" == accepted["url"]
    assert accepted["status"] == "applied"
    assert accepted["amount"] == {"amount": "80000.00", "currency": "CNY"}
    again = await supplier.http.post("/loans", json=body, headers=key)
    assert (again.status_code, again.json()) == (202, accepted)

    async def asking_the_buyer() -> dict[str, Any]:
        found = await supplier.http.get(f"/loans/{loan_id}")
        assert found.status_code == 200, found.text
        loan = found.json()
        assert loan["status"] == "awaiting_confirmation", loan["status"]
        assert loan["open_task_ids"], "no open task yet"
        return dict(loan)

    loan = await eventually(asking_the_buyer, attempts=600, interval=0.1)
    inbox = await buyer_finance.http.get(
        "/tasks", params={"kind": CONFIRMATION_TASK, "subject_id": loan_id}
    )
    assert [t["task_id"] for t in inbox.json()] == loan["open_task_ids"]
    seen_by_buyer = (await buyer_finance.http.get(f"/loans/{loan_id}")).json()
    assert seen_by_buyer["amount"] == accepted["amount"]
    assert seen_by_buyer["terms"] is seen_by_buyer["status_reason"] is None

    # While it is live the order holds it: a second application is refused.
    second = await supplier.http.post("/loans", json=application(order, "1000.00"))
    assert "already has a loan" in fields(second)["order_id"]

    other = lr.loan_order(sessions, store)
    assert (await caller(other.who.supplier).http.get(f"/loans/{loan_id}")).status_code == 404
    reason = {"reason": "the buyer paid early"}
    withdraw = f"/loans/{loan_id}/withdraw"
    assert (await caller(other.who.supplier).http.post(withdraw, json=reason)).status_code == 404
    assert (await buyer_finance.http.post(withdraw, json=reason)).status_code == 403
    assert fields(await supplier.http.post(withdraw, json={"reason": " "})) == {
        "reason": "a withdrawal must give its reason"
    }
    answer = await supplier.http.post(withdraw, json=reason)
    assert answer.status_code == 200, answer.text
    assert answer.json()["loan_id"] == loan_id

    async def withdrawn() -> bool:
        found = (await supplier.http.get(f"/loans/{loan_id}")).json()
        assert found["status"] == "withdrawn", found["status"]
        assert "the buyer paid early" in found["status_reason"]
        return True

    await eventually(withdrawn, attempts=600, interval=0.1)
    assert (await supplier.http.post(withdraw, json=reason)).status_code == 409


async def test_a_supplier_sees_only_its_loans_and_the_buyer_none_of_their_price(
    caller: Caller, sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    mine, theirs = lr.loan_order(sessions, store), lr.loan_order(sessions, store)
    today = lr.china_today()
    loan_id = lr.insert_loan(
        sessions,
        mine,
        status=LoanStatus.DISBURSED,
        principal=Decimal("100000.00"),
        disbursed_on=today - timedelta(days=10),
        due_on=today + timedelta(days=80),
        accrued_to=today - timedelta(days=10),
        owed=("100000.00", "500.00", "0", "0"),
        registration_number="DJ-2026-000123",
    )
    payment_id = lr.repayment_row(
        sessions,
        loan_id,
        today - timedelta(days=10),
        amount="500.00",
        penalty="0",
        interest="0",
        fee="500.00",
        principal="0",
        remitted="0",
        outstanding_after="100500.00",
    )
    other_id = lr.insert_loan(
        sessions, theirs, status=LoanStatus.UNDER_REVIEW, principal=Decimal("5000.00")
    )
    supplier = caller(mine.who.supplier)

    listed = (await supplier.http.get("/loans", params={"limit": 500})).json()
    assert [loan["loan_id"] for loan in listed] == [loan_id]
    assert (await supplier.http.get(f"/loans/{other_id}")).status_code == 404
    by_order = await supplier.http.get("/loans", params={"order_id": theirs.order_id})
    assert by_order.json() == []
    by_status = await supplier.http.get("/loans", params={"status": "under_review"})
    assert by_status.json() == []

    loan = (await supplier.http.get(f"/loans/{loan_id}")).json()
    assert loan["registration_number"] == "DJ-2026-000123"
    assert loan["open_task_ids"] == []  # no process answers for a row written by hand
    assert [r["payment_id"] for r in loan["repayments"]] == [payment_id]
    # 100,000.00 at 7.2% ACT/360 for the 90 days: 1,800.00; fee 1%: 1,000.00.
    assert loan["schedule"] == {
        "starts_on": (today - timedelta(days=10)).isoformat(),
        "due_on": (today + timedelta(days=80)).isoformat(),
        "days": 90,
        "principal": "100000.00",
        "fee": "1000.00",
        "interest": "1800.00",
        "total_due": "102800.00",
        "effective_apr": "0.1136",  # 2,800 / 100,000 * 365 / 90 = 0.113555...
        "currency": "CNY",
        "estimated": False,
    }
    owed = loan["owed"]
    days = (date.fromisoformat(owed["as_of"]) - (today - timedelta(days=10))).days
    interest = (Decimal(100000) * Decimal("0.072") * days / 360).quantize(CENT)
    assert Decimal(owed["interest"]) == interest  # 200.00 for the 10 days, on the day
    assert Decimal(owed["fee"]) == Decimal("500.00")
    assert Decimal(owed["total"]) == Decimal("100500.00") + interest
    assert Decimal(loan["outstanding"]["amount"]) == Decimal("100500.00")  # as booked

    buyer = caller(mine.who.finance)
    seen = (await buyer.http.get(f"/loans/{loan_id}")).json()
    assert seen["amount"] == {"amount": "100000.00", "currency": "CNY"}
    assert seen["due_on"] == loan["due_on"]
    hidden = ("terms", "schedule", "owed", "repayments", "status_reason", "outstanding")
    assert {name: seen[name] for name in hidden} == dict.fromkeys(hidden)
    listed = (await buyer.http.get("/loans", params={"order_id": mine.order_id})).json()
    assert [(x["loan_id"], x["outstanding"]) for x in listed] == [(loan_id, None)]

    for role in (Role.FINANCE, Role.OPS_SUPERVISOR, Role.ADMIN):
        seen = (await caller(lr.staff(sessions, role)).http.get(f"/loans/{loan_id}")).json()
        assert seen["schedule"] == loan["schedule"], role
    compliance = caller(lr.staff(sessions, Role.COMPLIANCE))
    assert (await compliance.http.get("/loans")).status_code == 403
    assert (await compliance.http.get(f"/loans/{loan_id}")).status_code == 404
    assert (await caller(mine.who.logistics).http.get(f"/loans/{loan_id}")).status_code == 404


async def test_the_statement_is_the_suppliers_and_platform_finances(
    caller: Caller, sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    order = lr.loan_order(sessions, store)
    d0, d1, d2 = (lr.china_today() - timedelta(days=n) for n in (20, 10, 5))
    loan_id = lr.insert_loan(
        sessions,
        order,
        status=LoanStatus.DISBURSED,
        principal=Decimal("100000.00"),
        disbursed_on=d0,
        due_on=d0 + timedelta(days=90),
        accrued_to=d2,
        owed=("71200.00", "0", "0", "0"),
    )
    lr.disburse(sessions, loan_id, "CNY", "100000.00", d0)
    lr.book(
        sessions,
        loan_id,
        "CNY",
        JournalKind.FEE,
        d0,
        [(Account.FEE_RECEIVABLE, "1000.00"), (Account.FEE_INCOME, "-1000.00")],
    )
    lr.book(
        sessions,
        loan_id,
        "CNY",
        JournalKind.ACCRUAL,
        d1,
        [(Account.INTEREST_RECEIVABLE, "200.00"), (Account.INTEREST_INCOME, "-200.00")],
    )
    lr.book(
        sessions,
        loan_id,
        "CNY",
        JournalKind.REPAYMENT,
        d2,
        [
            (Account.BANK, "30000.00"),
            (Account.INTEREST_RECEIVABLE, "-200.00"),
            (Account.FEE_RECEIVABLE, "-1000.00"),
            (Account.PRINCIPAL, "-28800.00"),
        ],
        bank_reference="BUYER-REF-1",
    )
    path = f"/loans/{loan_id}/statement"
    supplier = caller(order.who.supplier)
    whole = (await supplier.http.get(path)).json()
    assert owed_between(whole) == (Decimal(0), Decimal("71200.00"))
    assert [line["kind"] for line in whole["lines"]] == [
        "disbursement",
        "fee",
        "accrual",
        "repayment",
    ]
    assert [line["owed_after"] for line in whole["lines"]] == [
        "100000.00",
        "101000.00",
        "101200.00",
        "71200.00",
    ]
    repaid = whole["lines"][-1]
    assert repaid["owed_change"] == "-30000.00"
    assert {p["account"]: p["amount"] for p in repaid["postings"]}["bank"] == "30000.00"

    later = (await supplier.http.get(path, params={"start": d1.isoformat()})).json()
    assert owed_between(later) == (Decimal("101000.00"), Decimal("71200.00"))
    assert len(later["lines"]) == 2
    first = (await supplier.http.get(path, params={"end": d0.isoformat()})).json()
    assert (owed_between(first), len(first["lines"])) == ((Decimal(0), Decimal("101000.00")), 2)
    backwards = {"start": d1.isoformat(), "end": d0.isoformat()}
    assert fields(await supplier.http.get(path, params=backwards)) == {"start": "after end"}

    finance = caller(lr.staff(sessions, Role.FINANCE))
    assert (await finance.http.get(path)).json() == whole
    for member in (order.who.finance, lr.staff(sessions, Role.OPS_SUPERVISOR)):
        assert (await caller(member).http.get(path)).status_code == 403
    other = lr.loan_order(sessions, store)
    assert (await caller(other.who.supplier).http.get(path)).status_code == 404
