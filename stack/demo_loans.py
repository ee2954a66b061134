"""The order-loan act of ``make demo``: Lianfeng borrows against its chilled-kits order, and the
buyer's payment repays the loan first.

Once Lianfeng has confirmed the order it applies for 75% of the order's value (under the
product's 80% advance rate) for 60 days. The buyer's finance confirms the receivable (确权) before
any money moves; the credit assessment grades and prices the loan; platform finance approves,
refused first without a second factor (403) and then with its TOTP step-up; Lianfeng accepts the
offer; the financing is registered with the receivables registry and the bank pays out once (the
payout shown from the bank's own record). When the buyer pays, its bank first credits the
platform's supervised account (the transfer, in the bank sandbox) and its finance then records
the payment with its step-up; the order passes the payment to the loan, which takes penalty,
interest, fee and principal, remits the rest to Lianfeng and releases the registration. Last the
ledger's trial balance, today's movements compared with the bank's statement as the nightly
reconciliation compares them, and the portfolio with its bad-debt rate.

Each round finances its own new order; an order that already has a loan gets no second
application (its loan, if being repaid, still receives the transfer).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from contracts.banking import IncomingTransfer
from db.finance import Account
from db.seed import DEMO_ORGS
from gateways.bank import BankClient
from gateways.receivables_registry import ReceivablesRegistryClient
from rules.bank_reconciliation import BankMovement, LedgerMovement, reconcile
from settings import get_settings
from stack.demo_client import FINANCE, Caller, open_task, step, wait_for
from stack.demo_second_factor import stepped_up
from stack.demo_waybill import CST

LOAN_SUPPLIER = "supplier@lianfeng.example"  # the order this demo finances is Lianfeng's
PLATFORM_FINANCE = "finance@tradeflow.example"
ADVANCE = Decimal("0.75")  # of the order's value, under the product's 80% advance rate
TERM_DAYS = 60
BUYER_ACCOUNT = "6222600110004471852"  # Huadong's account at its own bank, paying in
REPAYING = ("disbursed", "overdue")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Financed:
    """A loan paid out on an order: what the buyer's payment repays."""

    base: str
    loan_id: str
    order_id: str
    buyer_org_id: str

    def pay_in(self, owed: Mapping[str, Any], reference: str) -> None:
        """The buyer's bank credits the supervised account with what it pays, under the
        reference the payment is then recorded with (the reconciliation matches the two)."""
        payer = next(o.legal_name for o in DEMO_ORGS if o.id == self.buyer_org_id)
        transfer = IncomingTransfer(
            payer_account=BUYER_ACCOUNT,
            payer_name=payer,
            amount=Decimal(owed["amount"]),
            currency=owed["currency"],
            reference=reference,
        )
        account = get_settings().bank_platform_account
        with BankClient.from_settings(get_settings()) as bank:
            credit = bank.credit(account, transfer, idempotency_key=f"demo-pay-in:{reference}")
        print(
            f"{payer}'s bank credits {credit.currency} {credit.amount} to the supervised account "
            f"{account} (监管账户), reference {reference} → {credit.payment_id} {credit.status}"
        )


def finance_order(base: str, order_id: str, supplier_email: str, out: Path) -> Financed | None:
    """The loan on the order, applied for, confirmed, approved, accepted and paid out; None for
    the orders this demo does not finance."""
    if supplier_email != LOAN_SUPPLIER:
        return None
    step(f"订单融资 Order loan: {supplier_email} borrows against order {order_id}")
    supplier = Caller(base, supplier_email)
    held = supplier.call("GET", "/loans", params={"order_id": order_id})
    if held:
        loan = held[0]
        print(f"order {order_id} has loan {loan['loan_id']} ({loan['status']}): no second one")
        if loan["status"] not in REPAYING:
            return None
        return Financed(base, loan["loan_id"], order_id, loan["buyer_org_id"])
    order = supplier.call("GET", f"/orders/{order_id}")
    total = Decimal(order["total"]["amount"])
    amount = ((total * ADVANCE) // 100 * 100).quantize(CENT)  # whole hundreds, rounded down
    applied = supplier.call(
        "POST",
        "/loans",
        json={
            "order_id": order_id,
            "amount": {"amount": str(amount), "currency": order["total"]["currency"]},
            "term_days": TERM_DAYS,
            "purpose": "备货 cold-chain packaging and reagents for this order",
        },
        headers={"Idempotency-Key": f"demo-loan:{order_id}"},
    )
    loan_id: str = applied["loan_id"]
    print(
        f"{supplier.email}: applies for {order['total']['currency']} {amount} over {TERM_DAYS} "
        f"days ({ADVANCE:.0%} of {total}) → {applied['status']}, {loan_id}"
    )
    _confirm(base, loan_id)
    _approve(base, loan_id, out)
    _offer(supplier, loan_id)
    _paid_out(supplier, loan_id)
    return Financed(base, loan_id, order_id, applied["buyer_org_id"])


def _decide(
    caller: Caller,
    task: Mapping[str, Any],
    outcome: str,
    comment: str = "",
    headers: Mapping[str, str] | None = None,
) -> None:
    answer = caller.call(
        "POST",
        f"/tasks/{task['task_id']}/decision",
        json={"outcome": outcome, "comment": comment},
        headers=dict(headers or {}),
    )
    print(f"{caller.email}: {task['title']}: {outcome} → {answer['process_status']}")


def _confirm(base: str, loan_id: str) -> None:
    """The buyer's finance confirms it owes the receivable (确权) before any money moves."""
    buyer_finance = Caller(base, FINANCE)
    task = open_task(buyer_finance, "loan_receivable_confirmation", loan_id)
    print(f"{buyer_finance.email}: {task['summary']}")
    _decide(buyer_finance, task, "confirm", "确权 amount, due date and no dispute confirmed")


def _approve(base: str, loan_id: str, out: Path) -> None:
    """Platform finance approves: refused without a second factor, then with its step-up."""
    finance = Caller(base, PLATFORM_FINANCE)
    task = open_task(finance, "loan_approval", loan_id)
    print(f"{finance.email}: {task['title']}\n  {task['summary']}")
    tried = finance.http.post(f"/tasks/{task['task_id']}/decision", json={"outcome": "approve"})
    if tried.status_code != 403:
        raise SystemExit(f"an approval without a second factor → {tried.status_code} {tried.text}")
    rule = "; ".join(e["rule"] for e in tried.json().get("errors", []))
    print(f"{finance.email}: approves without a second factor → 403 {rule}")
    _decide(finance, task, "approve", "额度内 within limits", stepped_up(finance, out))


def _offer(supplier: Caller, loan_id: str) -> None:
    """The offer's grade, fee, rates and APR as the supplier sees them; it accepts."""
    task = open_task(supplier, "loan_offer", loan_id)
    loan = supplier.call("GET", f"/loans/{loan_id}")
    terms, plan = loan["terms"], loan["schedule"]
    fee = terms["fee"]
    print(
        f"offer: grade {terms['grade']}, {terms['principal']['currency']} "
        f"{terms['principal']['amount']} for {terms['term_days']} days; fee "
        f"{Decimal(terms['fee_rate']):.2%} = {fee['currency']} {fee['amount']}; interest "
        f"{Decimal(terms['interest_rate']):.2%} a year ({terms['day_count']}), penalty interest "
        f"{Decimal(terms['penalty_rate']):.2%} a year; to the due date interest "
        f"{plan['interest']}, total due {plan['total_due']}; effective APR "
        f"{Decimal(plan['effective_apr']):.2%}"
    )
    _decide(supplier, task, "accept")


def _paid_out(supplier: Caller, loan_id: str) -> None:
    """Registered and paid out: the registration and the payout as the bank booked it."""
    loan = _loan_reaches(supplier, loan_id, REPAYING)
    print(
        f"loan {loan_id}: {loan['status']} on {loan['disbursed_on']}, due {loan['due_on']}; "
        f"registered with the receivables registry (动产融资统一登记) as "
        f"{loan['registration_number']}"
    )
    with BankClient.from_settings(get_settings()) as bank:
        payout = bank.find_payment(loan_id)  # the payout's key is the loan id
    if payout is None:
        raise SystemExit(f"the bank has no payment under the key {loan_id}")
    print(
        f"bank payout {payout.payment_id}: {payout.currency} {payout.amount} to "
        f"{payout.payee_name} ({payout.payee_account}), {payout.status}, value date "
        f"{payout.value_date}, as the bank booked it under the key {loan_id}"
    )


def _loan_reaches(caller: Caller, loan_id: str, statuses: tuple[str, ...]) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        found = caller.http.get(f"/loans/{loan_id}")
        if found.status_code == 200 and found.json()["status"] in statuses:
            loan: dict[str, Any] = found.json()
            return loan
        return None

    reached: dict[str, Any] = wait_for(f"loan {loan_id} to be {' or '.join(statuses)}", probe)
    return reached


def repaid(financed: Financed) -> None:
    """After the buyer's payment: its split, the loan repaid and released, the ledger, today's
    reconciliation so far and the portfolio."""
    step(f"还款 Repayment: the buyer's payment on {financed.order_id} repays {financed.loan_id}")
    supplier = Caller(financed.base, LOAN_SUPPLIER)
    loan = _loan_reaches(supplier, financed.loan_id, ("repaid",))
    for r in loan["repayments"]:
        print(
            f"payment {r['payment_id']} of {loan['amount']['currency']} {r['amount']}: penalty "
            f"{r['penalty']}, interest {r['interest']}, fee {r['fee']}, principal "
            f"{r['principal']}; remitted to the supplier {r['remitted']}; the loan owes "
            f"{r['outstanding_after']} after it"
        )
        if r["paid_on"] == loan["disbursed_on"]:
            # Interest counts the first day and not the last (算头不算尾): none on the payout day.
            print(f"  paid on the day of the payout, {r['paid_on']}: no day of interest yet")
    print(f"loan {financed.loan_id}: {loan['status']} ({loan['status_reason']})")
    number = loan["registration_number"]
    with ReceivablesRegistryClient.from_settings(get_settings()) as registry:
        record = registry.get(number)
    if record is not None:
        released = f"{record.released_at:%Y-%m-%d %H:%M %Z}" if record.released_at else "—"
        print(f"receivables registry {number}: {record.status} (released {released})")
    finance = Caller(financed.base, PLATFORM_FINANCE)
    _ledger(finance, financed.loan_id)
    _reconciliation(finance)
    _portfolio(finance)


def _ledger(finance: Caller, loan_id: str) -> None:
    step("总账 The ledger: the loan's journals and the trial balance")
    ledger = finance.call("GET", "/finance/ledger", params={"loan_id": loan_id})
    for j in ledger["journals"]:
        moved = ", ".join(f"{p['account']} {p['amount']}" for p in j["postings"])
        print(f"  {j['booked_on']} {j['kind']}: {moved}")
    whole = finance.call("GET", "/finance/ledger", params={"limit": 1})
    for tb in whole["trial_balance"]:
        accounts = ", ".join(f"{a['account']} {a['balance']}" for a in tb["accounts"])
        print(
            f"trial balance of the whole ledger, {tb['currency']}: {accounts}; total "
            f"{tb['total']} ({'balanced' if tb['balanced'] else 'NOT BALANCED'})"
        )


def _reconciliation(finance: Caller) -> None:
    """Today's bank movements so far against the ledger's, compared by the reconciliation's
    own rule; the nightly run records the day once the bank has closed it."""
    step("对账 Reconciliation: the supervised account's statement against the ledger")
    today = datetime.now(CST).date()
    settings = get_settings()
    with BankClient.from_settings(settings) as bank:
        statement = bank.statement(settings.bank_platform_account, today)
    movements = [
        BankMovement(e.payment_id, e.reference, e.amount, e.currency) for e in statement.entries
    ]
    result = reconcile(list(_bank_postings(finance, today)), movements)
    print(
        f"bank statement of {today}: opening {statement.opening_balance}, {len(movements)} "
        f"movements, closing {statement.closing_balance} {statement.currency}"
    )
    print(
        f"today so far, as the nightly reconciliation compares it: {result.matched} matched, "
        f"differences: {'; '.join(result.differences) or 'none'}"
    )
    recorded = finance.call("GET", "/finance/reconciliations", params={"limit": 1})
    for day in recorded:
        print(
            f"last recorded reconciliation, {day['day']}: {day['matched']} matched, "
            f"{'agreed' if day['agreed'] else 'differences: ' + '; '.join(day['differences'])}"
        )


def _bank_postings(finance: Caller, day: date) -> Iterator[LedgerMovement]:
    """Each journal's movement of the bank account booked on ``day``, every page of them."""
    params: dict[str, str | int] = {"start": day.isoformat(), "end": day.isoformat(), "limit": 500}
    while True:
        page = finance.http.get("/finance/ledger", params=params)
        page.raise_for_status()
        for j in page.json()["journals"]:
            bank = [p for p in j["postings"] if p["account"] == Account.BANK.value]
            if bank:
                amount = sum((Decimal(p["amount"]) for p in bank), Decimal(0))
                yield LedgerMovement(
                    j["journal_id"], j["bank_reference"], amount, bank[0]["currency"]
                )
        cursor = page.headers.get("X-Next-Cursor")
        if not cursor:
            return
        params["cursor"] = cursor


def _portfolio(finance: Caller) -> None:
    step("资产组合 The loan portfolio")
    book = finance.call("GET", "/finance/portfolio")
    for c in book["currencies"]:
        print(
            f"{c['currency']}: disbursed {c['disbursed']}, outstanding {c['outstanding']} on "
            f"{c['loans_outstanding']} loans, written off {c['written_off']}; bad-debt rate "
            f"{Decimal(c['bad_debt_rate']):.2%} (alert above "
            f"{Decimal(book['alert_above']):.1%}: {'ALERT' if c['alert'] else 'no alert'})"
        )
