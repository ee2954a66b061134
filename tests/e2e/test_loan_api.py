"""End to end: an order loan over the real API, from an executed order to its repayment by the
buyer's payment. The supplier borrows against its invoiced order; the buyer's finance confirms
the receivable (确权); platform finance approves with its second factor; the supplier accepts
the offer; the financing is registered and the bank pays out once. The buyer pays into the
platform's supervised account and records the payment on the order: the loan is repaid first
and the rest goes on to the supplier. The ledger balances and the day's reconciliation with the
bank agrees. Refused: a second loan on the order, a related-party order, a receivable the buyer
does not confirm; a loan is seen only by its parties, and only platform finance approves.

On the dev server with the real worker, a database and a bank sandbox of the module's own
(``tests.harness.loans``), the shared receivables registry, S3 and Temporal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from contracts.common import OPERATOR_ORG_ID, Role
from contracts.fulfilment import OrderStatus
from db.finance import LoanRepayment
from db.models import HumanTask, Organisation
from db.session import transaction
from gateways.bank import BankClient
from gateways.receivables_registry import ReceivablesRegistryClient
from sandboxes.bank import BankControl, BankSandbox
from security.totp import step_at, totp
from settings import Settings
from storage.object_store import ObjectStore
from tests.conftest import TEST_BANK_KEY
from tests.e2e import order_api
from tests.e2e.order_api import (
    Json,
    OrderHandle,
    People,
    answered,
    decide,
    event,
    opened_task,
    order_reaches,
    problems,
    start,
    until,
)
from tests.harness import loans as lo
from tests.harness import orders as o
from tests.harness import second_factor as sf
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller
from tests.harness.builders import MINIMAL_PDF
from tests.harness.postgres import rows

people = order_api.people
started = order_api.started
loan_database = lo.loan_database
sessions = lo.own_sessions
loan_bank = lo.loan_bank
bank_control = lo.bank_control


@pytest.fixture(scope="module")
def e2e_settings(e2e_settings: Settings, loan_database: str, loan_bank: BankSandbox) -> Settings:
    return e2e_settings.model_copy(
        update={"database_url": loan_database, "bank_url": loan_bank.url}
    )


@pytest.fixture(scope="module")
def bank(loan_bank: BankSandbox) -> Iterator[BankClient]:
    with BankClient(loan_bank.url, api_key=TEST_BANK_KEY, timeout_s=5.0) as client:
        yield client


async def confirmed_order(
    dev_env: WorkflowEnvironment,
    settings: Settings,
    started: list[OrderHandle],
    sessions: sessionmaker[Session],
    who: o.Parties,
    supplier: TokenCaller,
) -> str:
    """An executed contract's order of cartons, confirmed by its supplier (no carrier)."""
    terms = o.executed_contract(sessions, who, now=datetime.now(UTC), lines=(lo.CARTONS,))
    order_id = await start(dev_env, settings, started, terms)
    confirming = await opened_task(supplier, "order_confirmation", order_id)
    await decide(supplier, confirming, "confirm")
    return order_id


async def delivered_and_invoiced(
    order_id: str, *, logistics: TokenCaller, buyer: TokenCaller
) -> Json:
    """The supplier's logistics reports the shipment to its delivery with the signed proof;
    the buyer accepts and the order is invoiced."""
    await order_reaches(buyer, order_id, OrderStatus.READY_TO_DISPATCH)
    events = f"/orders/{order_id}/shipments/1/events"
    for kind in ("picked_up", "departed", "arrived"):
        await answered(logistics.http.post(events, json=event(kind)))
    uploaded = await logistics.http.post(
        f"/orders/{order_id}/documents",
        files={"file": ("签收单 POD.pdf", MINIMAL_PDF, "application/pdf")},
    )
    assert uploaded.status_code == 201, uploaded.text
    proof = uploaded.json()["document_id"]
    await answered(
        logistics.http.post(events, json=event("delivered", proof_of_delivery_document_id=proof))
    )
    acceptance = await opened_task(buyer, "order_acceptance", order_id)
    await decide(buyer, acceptance, "accept")
    invoiced: Json = await order_reaches(buyer, order_id, OrderStatus.INVOICED)
    return invoiced


async def apply(supplier: TokenCaller, order_id: str, amount: Decimal, term_days: int) -> Json:
    """The supplier's application, accepted (202) and recorded by the loan's process."""
    answer = await supplier.http.post(
        "/loans",
        json={
            "order_id": order_id,
            "amount": {"amount": str(amount), "currency": "CNY"},
            "term_days": term_days,
            "purpose": "原纸采购 paper for the order",
        },
    )
    assert answer.status_code == 202, answer.text
    url = answer.headers["location"]
    assert url == answer.json()["url"]

    async def recorded() -> Json | None:
        found = await supplier.http.get(url)
        assert found.status_code == 200, found.text
        return dict(found.json())

    loan: Json = await until(recorded)
    return loan


async def loan_reaches(caller: TokenCaller, loan_id: str, status: str) -> Json:
    async def reached() -> Json | None:
        found = await answered(caller.http.get(f"/loans/{loan_id}"))
        assert found["status"] == status, f"{found['status']}: {found['status_reason']}"
        return found

    loan: Json = await until(reached)
    return loan


def wrong_code(device: sf.Device) -> str:
    """A code the authenticator does not show in the server's window."""
    now = step_at(datetime.now(UTC))
    valid = {totp(device.authenticator.secret, step) for step in range(now - 2, now + 3)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in valid)


async def listed(call: Awaitable[httpx.Response]) -> list[Json]:
    """The 200 answer's list."""
    answer = await call
    assert answer.status_code == 200, answer.text
    rows: list[Json] = answer.json()
    return rows


def money(amount: Any) -> Decimal:
    return Decimal(str(amount))


async def test_an_order_loan_is_confirmed_approved_paid_out_once_and_repaid_by_the_buyers_payment(
    api_url: str,
    worker: None,
    people: People,
    started: list[OrderHandle],
    dev_env: WorkflowEnvironment,
    e2e_settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    bank: BankClient,
    bank_control: BankControl,
    receivables_registry: ReceivablesRegistryClient,
) -> None:
    who = o.parties(sessions, store)
    buyer, finance, supplier, logistics = (
        people(m) for m in (who.buyer, who.finance, who.supplier, who.logistics)
    )
    operator = s.org_row(sessions, OPERATOR_ORG_ID)
    platform_finance = people(s.member(sessions, operator, Role.FINANCE))
    ops = people(s.member(sessions, operator, Role.OPS_SUPERVISOR))
    other_supplier = people(
        s.member(sessions, s.accredited_supplier(sessions, store), Role.SUPPLIER)
    )
    account = lo.with_bank_account(sessions, who.supplier.org.id)

    order_id = await confirmed_order(dev_env, e2e_settings, started, sessions, who, supplier)
    invoiced = await delivered_and_invoiced(order_id, logistics=logistics, buyer=buyer)
    total = money(invoiced["total"]["amount"])
    amount = (total * Decimal("0.6")).quantize(lo.CENT)

    # -- the supplier applies; a second loan on the order is refused -------------------------
    loan = await apply(supplier, order_id, amount, term_days=30)
    loan_id = loan["loan_id"]
    assert (loan["order_id"], money(loan["amount"]["amount"])) == (order_id, amount)
    again = await supplier.http.post(
        "/loans",
        json={
            "order_id": order_id,
            "amount": {"amount": "1000", "currency": "CNY"},
            "term_days": 30,
        },
    )
    assert again.status_code == 422, again.text
    assert "already has a loan" in problems(again)["order_id"]

    # A supplier sees only its own loans; the buyer sees this one without its price.
    assert (await other_supplier.http.get(f"/loans/{loan_id}")).status_code == 404
    assert (await other_supplier.http.get(f"/loans/{loan_id}/statement")).status_code == 404
    others = await listed(other_supplier.http.get("/loans"))
    assert loan_id not in [row["loan_id"] for row in others]
    assert loan_id in [row["loan_id"] for row in await listed(supplier.http.get("/loans"))]
    seen_by_buyer = await answered(buyer.http.get(f"/loans/{loan_id}"))
    assert (seen_by_buyer["terms"], seen_by_buyer["outstanding"]) == (None, None)

    # -- the buyer's finance confirms the receivable (确权) -----------------------------------
    confirming = await opened_task(finance, "loan_receivable_confirmation", loan_id)
    assert money(confirming["details"]["amount"]) == total
    assert (await decide(finance, confirming, "confirm"))["process_status"] == "under_review"

    # -- platform finance approves, with its second factor; nobody else decides ---------------
    approval = await opened_task(platform_finance, "loan_approval", loan_id)
    decision = f"/tasks/{approval['task_id']}/decision"
    approve = {"outcome": "approve", "comment": "order and buyer checked"}
    for outsider in (supplier, finance, buyer, ops):
        refused = await outsider.http.post(decision, json=approve)
        assert refused.status_code == 404, (outsider.member.actor.roles, refused.text)
    unproved = await platform_finance.http.post(decision, json=approve)
    assert unproved.status_code == 403, unproved.text
    assert "X-Step-Up" in problems(unproved)
    device = await sf.enrol(platform_finance)
    wrong = await platform_finance.http.post("/auth/step-up", json={"code": wrong_code(device)})
    assert wrong.status_code == 403, wrong.text
    assert "code" in problems(wrong)
    forged = await platform_finance.http.post(
        decision, json=approve, headers={sf.STEP_UP: "not-a-grant"}
    )
    assert forged.status_code == 403 and "X-Step-Up" in problems(forged)
    approved = await platform_finance.http.post(
        decision, json=approve, headers=await sf.step_up(platform_finance)
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["process_status"] == "offered"

    # -- the supplier accepts; registered, paid out once --------------------------------------
    offer = await opened_task(supplier, "loan_offer", loan_id)
    assert (await decide(supplier, offer, "accept"))["process_status"] == "registering"
    paid_out = await loan_reaches(supplier, loan_id, "disbursed")
    terms = paid_out["terms"]
    fee = money(terms["fee"]["amount"])
    disbursed_on = date.fromisoformat(paid_out["disbursed_on"])
    assert money(terms["principal"]["amount"]) == amount and fee > 0
    assert paid_out["due_on"] == (disbursed_on + timedelta(days=30)).isoformat()
    assert money(paid_out["owed"]["principal"]) == amount and money(paid_out["owed"]["fee"]) == fee
    payout = bank.find_payment(loan_id)
    assert payout is not None and payout.settled
    assert (payout.payee_account, payout.amount, payout.value_date) == (
        account,
        amount,
        disbursed_on,
    )
    statement = bank.statement(e2e_settings.bank_platform_account, disbursed_on)
    assert [e.amount for e in statement.under_key(loan_id)] == [-amount]
    assert bank_control.balance(account) == amount
    number = paid_out["registration_number"]
    registered = receivables_registry.get(number)
    assert registered is not None and registered.in_force
    assert (registered.idempotency_key, registered.receivable.reference) == (loan_id, order_id)
    assert registered.debtor.credit_code == who.buyer.org.credit_code
    # The module's book holds this loan alone: the portfolio is its figures.
    (book,) = (await answered(platform_finance.http.get("/finance/portfolio")))["currencies"]
    exposure = money(paid_out["owed"]["total"])
    assert (money(book["disbursed"]), money(book["outstanding"])) == (amount, exposure)
    assert [(e["org_id"], money(e["amount"])) for e in book["by_supplier"]] == [
        (who.supplier.org.id, exposure)
    ]
    assert [e["org_id"] for e in book["by_buyer"]] == [who.buyer.org.id]
    assert {b["bucket"]: b["loans"] for b in book["overdue"]}["current"] == 1

    # -- the buyer pays the invoice into the supervised account and records it (step-up) ------
    reference = f"HD-{loan_id}"
    credited = lo.pay_in(
        bank, e2e_settings, payer=who.buyer.org.legal_name, amount=total, reference=reference
    )
    assert credited.settled and credited.value_date is not None
    paid_on = credited.value_date
    payment = {
        "amount": {"amount": str(total), "currency": "CNY"},
        "reference": reference,
        "paid_on": paid_on.isoformat(),
    }
    payments = f"/orders/{order_id}/payments"
    unproved_payment = await finance.http.post(payments, json=payment)
    assert unproved_payment.status_code == 403 and "X-Step-Up" in problems(unproved_payment)
    receipt = await finance.http.post(payments, json=payment, headers=await sf.step_up(finance))
    assert receipt.status_code == 200, receipt.text
    assert receipt.json()["status"] == "completed"

    # -- the loan is repaid first, the rest goes on to the supplier ---------------------------
    repaid = await loan_reaches(supplier, loan_id, "repaid")
    days = (paid_on - disbursed_on).days
    owed_interest = lo.interest(amount, money(terms["interest_rate"]), days)
    (split,) = repaid["repayments"]
    rest = total - amount - fee - owed_interest
    assert {k: money(split[k]) for k in ("principal", "fee", "interest", "penalty")} == {
        "principal": amount,
        "fee": fee,
        "interest": owed_interest,
        "penalty": Decimal(0),
    }
    assert (money(split["remitted"]), money(split["outstanding_after"])) == (rest, Decimal(0))
    assert money(repaid["outstanding"]["amount"]) == 0 and money(repaid["owed"]["total"]) == 0
    with sessions() as session:
        repayment = session.get(LoanRepayment, split["payment_id"])
        assert repayment is not None and repayment.remittance_payment_id is not None
        remittance_id = repayment.remittance_payment_id
    remittance = bank.get_payment(remittance_id)
    assert remittance is not None and remittance.settled
    assert (remittance.payee_account, remittance.amount) == (account, rest)
    # What the supplier got: the principal, then the buyer's payment less the loan's dues.
    assert bank_control.balance(account) == total - fee - owed_interest
    released = receivables_registry.get(number)
    assert released is not None and not released.in_force
    (book,) = (await answered(platform_finance.http.get("/finance/portfolio")))["currencies"]
    assert (money(book["disbursed"]), book["loans_outstanding"]) == (amount, 0)
    assert (money(book["bad_debt_rate"]), book["alert"]) == (Decimal(0), False)

    # The supplier's statement; the buyer reads none.
    lines = await answered(supplier.http.get(f"/loans/{loan_id}/statement"))
    kinds = [line["kind"] for line in lines["lines"]]
    expected = ["disbursement", "fee"] + (["accrual"] if owed_interest else [])
    assert kinds == [*expected, "repayment", "remittance"]
    assert money(lines["opening_owed"]) == 0 and money(lines["closing_owed"]) == 0
    assert max(money(line["owed_after"]) for line in lines["lines"]) == amount + fee + owed_interest
    assert (await buyer.http.get(f"/loans/{loan_id}/statement")).status_code == 403

    # -- the ledger balances and agrees with the bank -----------------------------------------
    ledger = await answered(
        platform_finance.http.get("/finance/ledger", params={"loan_id": loan_id})
    )
    assert sorted(j["kind"] for j in ledger["journals"]) == sorted(kinds)
    for journal in ledger["journals"]:
        assert sum(money(p["amount"]) for p in journal["postings"]) == 0, journal
    everything = await answered(platform_finance.http.get("/finance/ledger"))
    assert everything["trial_balance"] and all(t["balanced"] for t in everything["trial_balance"])
    assert lo.ledger_total(sessions) == 0
    assert (await supplier.http.get("/finance/ledger")).status_code == 403

    days_moved = sorted({disbursed_on, paid_on, remittance.value_date or paid_on})
    moved = 0
    for day in days_moved:
        result = lo.reconcile(sessions, e2e_settings, bank, receivables_registry, day)
        assert result.differences == (), result.differences
        moved += result.matched
    assert moved == 3  # the payout, the buyer's payment, the remittance
    reconciliations = await listed(platform_finance.http.get("/finance/reconciliations"))
    recorded = {r["day"]: r for r in reconciliations}
    assert all(recorded[d.isoformat()]["agreed"] for d in days_moved)
    # Finance may run a closed day again over the API; the open day is the daily process's.
    today = lo.china_today()
    open_day = await platform_finance.http.post(
        "/finance/reconciliations", json={"day": today.isoformat()}
    )
    assert open_day.status_code == 422 and "day" in problems(open_day)
    yesterday = await answered(
        platform_finance.http.post(
            "/finance/reconciliations", json={"day": (today - timedelta(days=1)).isoformat()}
        )
    )
    assert yesterday["agreed"] and yesterday["matched"] == 0
    assert (await started[0].result()).status == OrderStatus.COMPLETED


async def test_a_related_party_order_is_refused_at_the_application(
    api_url: str,
    worker: None,
    people: People,
    started: list[OrderHandle],
    dev_env: WorkflowEnvironment,
    e2e_settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
) -> None:
    who = o.parties(sessions, store)
    # One registered address, written two ways (full-width digits, spaces).
    for org_id, address in (
        (who.supplier.org.id, "江苏省无锡市新吴区 长江路５５号"),
        (who.buyer.org.id, "江苏省无锡市新吴区长江路55号"),
    ):
        with transaction(sessions) as session:
            session.execute(
                update(Organisation)
                .where(Organisation.id == org_id)
                .values(registered_address=address)
            )
    supplier = people(who.supplier)
    order_id = await confirmed_order(dev_env, e2e_settings, started, sessions, who, supplier)
    await order_reaches(supplier, order_id, OrderStatus.READY_TO_DISPATCH)
    refused = await supplier.http.post(
        "/loans",
        json={
            "order_id": order_id,
            "amount": {"amount": "5000", "currency": "CNY"},
            "term_days": 30,
        },
    )
    assert refused.status_code == 422, refused.text
    rule = problems(refused)["order_id"]
    assert "related organisations" in rule and "the same registered address" in rule
    assert await listed(supplier.http.get("/loans", params={"order_id": order_id})) == []


async def test_a_receivable_the_buyer_does_not_confirm_moves_no_money(
    api_url: str,
    worker: None,
    people: People,
    started: list[OrderHandle],
    dev_env: WorkflowEnvironment,
    e2e_settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    bank: BankClient,
    receivables_registry: ReceivablesRegistryClient,
) -> None:
    who = o.parties(sessions, store)
    lo.with_bank_account(sessions, who.supplier.org.id)
    supplier, finance = people(who.supplier), people(who.finance)
    platform_finance = people(
        s.member(sessions, s.org_row(sessions, OPERATOR_ORG_ID), Role.FINANCE)
    )
    order_id = await confirmed_order(dev_env, e2e_settings, started, sessions, who, supplier)
    await order_reaches(supplier, order_id, OrderStatus.READY_TO_DISPATCH)
    loan = await apply(supplier, order_id, Decimal("5000.00"), term_days=45)
    loan_id = loan["loan_id"]

    confirming = await opened_task(finance, "loan_receivable_confirmation", loan_id)
    answer = await finance.http.post(
        f"/tasks/{confirming['task_id']}/decision",
        json={"outcome": "reject", "comment": "货未收到 not received: we owe nothing yet"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["process_status"] == "rejected"
    rejected = await loan_reaches(supplier, loan_id, "rejected")
    assert "did not confirm the receivable: 货未收到" in rejected["status_reason"]
    assert (rejected["disbursed_on"], rejected["registration_number"]) == (None, None)
    assert rejected["open_task_ids"] == []

    # No money moved, nothing was registered, nobody was asked to approve.
    assert bank.find_payment(loan_id) is None
    pledges = receivables_registry.search(who.buyer.org.credit_code, order_id)
    assert pledges == []
    ledger = await answered(
        platform_finance.http.get("/finance/ledger", params={"loan_id": loan_id})
    )
    assert ledger["journals"] == [] and ledger["trial_balance"] == []
    asked = rows(sessions, HumanTask, subject_id=loan_id)
    assert [task.kind for task in asked] == ["loan_receivable_confirmation"]
    (only,) = await listed(supplier.http.get("/loans", params={"order_id": order_id}))
    assert (only["loan_id"], only["status"]) == (loan_id, "rejected")
