"""The order-loan benchmark's book, written straight to PostgreSQL as the loan process leaves it
(not timed): suppliers and buyers, their orders (executed and invoiced), and loans paid out, each
with the disbursement and fee journals its payout books.

One supplier is the eligibility case: accredited, with a bank account, a registered address and a
user, ``orders`` orders of which ``loans`` carry a loan; its loans are the ones the repayments
go to. The other suppliers fill the book to ``book_loans`` loans, a loan an order, paid out over
the last ~150 days on 60-day terms, so the portfolio sees every overdue bucket. Rows go in by
bulk inserts (thousands a statement), journals too: the database's deferred trigger checks each
one at commit, as it does any journal.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from contracts.finance import CreditAssessment, LoanStatus
from db.finance import Account, Journal, JournalKind, Loan, Posting
from db.loan_facts import china_day
from db.models import Contract, Invoice, Order, Rfq
from db.session import transaction
from storage.object_store import ObjectStore
from tests.harness import listings
from tests.harness import loan_trades as trades
from tests.harness.builders import make_org
from tests.harness.sourcing import Member

BUYERS = 20
LOANS_A_SUPPLIER = 200  # the other suppliers' loans each
ORDER_TOTAL = Decimal("1000000.00")
PRINCIPAL = Decimal("500000.00")
TERM_DAYS = 60
REPAYING_DISBURSED_DAYS_AGO = 40  # the repaid loans: ten repayments fit before today
SPREAD_DAYS = 150  # the book's payouts: from today back to past the 90+ bucket's start


@dataclass(frozen=True)
class OrderRef:
    order_id: str
    buyer_org_id: str


@dataclass(frozen=True)
class RepayingLoan:
    loan_id: str
    order_id: str
    disbursed_on: date


@dataclass(frozen=True)
class Book:
    supplier: Member  # the eligibility case
    free_orders: tuple[OrderRef, ...]  # its orders without a loan
    repaying: tuple[RepayingLoan, ...]  # its loans, paid out
    other_loans: tuple[str, ...]  # the rest of the book's loans
    loans: int


def build_book(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    *,
    orders: int,
    loans: int,
    book_loans: int,
) -> Book:
    """The whole book (module docstring); ``book_loans`` counts the eligibility supplier's."""
    trades.platform_org(sessions)
    supplier = trades.supplier(sessions, store)
    buyers = [trades.buyer(sessions).org.id for _ in range(BUYERS)]
    today = china_day(datetime.now(UTC))
    own = _orders(sessions, supplier.org.id, buyers, orders, today=today)
    paid_on = today - timedelta(days=REPAYING_DISBURSED_DAYS_AGO)
    financed = own[:loans]
    _loans(sessions, financed, supplier.org.id, [paid_on] * len(financed), today=today)
    repaying = tuple(
        RepayingLoan(_loan_id(ref.order_id), ref.order_id, paid_on) for ref in financed
    )
    others: list[str] = []
    remaining = book_loans - loans
    while remaining > 0:
        n = min(LOANS_A_SUPPLIER, remaining)
        org_id = make_org(sessions).id
        refs = _orders(sessions, org_id, buyers, n, today=today)
        days = [today - timedelta(days=(i * 37) % SPREAD_DAYS) for i in range(n)]
        _loans(sessions, refs, org_id, days, today=today)
        others += [_loan_id(ref.order_id) for ref in refs]
        remaining -= n
    return Book(supplier, tuple(own[loans:]), repaying, tuple(others), loans + len(others))


def _loan_id(order_id: str) -> str:
    return f"loan_{order_id.removeprefix('ord_')}"


def _orders(
    sessions: sessionmaker[Session], supplier_id: str, buyers: Sequence[str], n: int, *, today: date
) -> list[OrderRef]:
    """``n`` invoiced orders of executed contracts (created over the last year, due in 60 days),
    the buyers in turn; an RFQ, a contract, an order and an invoice each."""
    document_id = listings.document(sessions, supplier_id)
    now = datetime.now(UTC)
    rfqs: list[dict[str, Any]] = []
    contracts: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    invoices: list[dict[str, Any]] = []
    refs: list[OrderRef] = []
    for i in range(n):
        tag = uuid.uuid4().hex[:16]
        buyer = buyers[i % len(buyers)]
        created = now - timedelta(days=i % 360, minutes=i)
        rfq_id, contract_id, order_id = f"rfq_{tag}", f"ctr_{tag}", f"ord_{tag}"
        parties = {"buyer_org_id": buyer, "supplier_org_id": supplier_id}
        money = {"total_amount": ORDER_TOTAL, "currency": "CNY", "created_at": created}
        rfqs.append(
            {
                "id": rfq_id,
                "buyer_org_id": buyer,
                "workflow_id": f"Rfq:{rfq_id}",
                "title": f"Bench {rfq_id}",
                "status": "awarded",
                "sealed": False,
                "currency": "CNY",
                "quote_deadline": created,
                "needed_by": (created + timedelta(days=20)).date(),
                "body": {},
                "created_by": "usr_bench",
                "created_at": created,
            }
        )
        delivery = (created + timedelta(days=20)).date().isoformat()
        contracts.append(
            {
                "id": contract_id,
                "rfq_id": rfq_id,
                "workflow_id": f"Contract:{contract_id}",
                "status": "executed",
                "terms": {"delivery_date": delivery},
                "executed_at": created,
                **parties,
                **money,
            }
        )
        orders.append(
            {
                "id": order_id,
                "contract_id": contract_id,
                "workflow_id": f"Order:{order_id}",
                "status": "invoiced",
                "dangerous_goods": False,
                "paid_amount": Decimal(0),
                **parties,
                **money,
            }
        )
        invoices.append(
            {
                "id": f"INV-{order_id}",
                "order_id": order_id,
                "document_id": document_id,
                "amount": ORDER_TOTAL,
                "currency": "CNY",
                "due_on": today + timedelta(days=60),
                "issued_at": created,
            }
        )
        refs.append(OrderRef(order_id, buyer))
    with transaction(sessions) as session:
        for model, rows in ((Rfq, rfqs), (Contract, contracts), (Order, orders)):
            session.execute(insert(model), rows)
        session.execute(insert(Invoice), invoices)
    return refs


def _loans(
    sessions: sessionmaker[Session],
    refs: Sequence[OrderRef],
    supplier_id: str,
    paid_on: Sequence[date],
    *,
    today: date,
) -> None:
    """A loan on each order, paid out on its day as ``disburse_loan`` leaves it: the row's
    balances, its disbursement and fee journals; overdue when its due day has passed."""
    terms = trades.terms(PRINCIPAL, term_days=TERM_DAYS)
    fee = terms.fee.amount
    # Stored on every assessed loan, so every loan row read carries it.
    assessment = CreditAssessment(
        grade=terms.grade,
        score=72,
        declined=False,
        terms=terms,
        reasons=(
            "accreditation risk band low: +30",
            "accreditation score 80.00: +16",
            "58 of 60 orders delivered on time (96.67%): +18",
            "no dispute on 60 orders: +10",
            "the buyer paid 24 of 25 invoices on time: +8",
        ),
        effective_apr=Decimal("0.1408"),
    ).model_dump(mode="json")
    loans: list[dict[str, Any]] = []
    journals: list[dict[str, Any]] = []
    postings: list[dict[str, Any]] = []
    for ref, day in zip(refs, paid_on, strict=True):
        loan_id, due_on = _loan_id(ref.order_id), day + timedelta(days=TERM_DAYS)
        overdue = due_on < today
        loans.append(
            {
                "id": loan_id,
                "order_id": ref.order_id,
                "supplier_org_id": supplier_id,
                "buyer_org_id": ref.buyer_org_id,
                "workflow_id": f"Loan:{loan_id}",
                "status": (LoanStatus.OVERDUE if overdue else LoanStatus.DISBURSED).value,
                "status_reason": "",
                "currency": "CNY",
                "amount": PRINCIPAL,
                "term_days": TERM_DAYS,
                "purpose": "raw materials for the order",
                "terms": terms.model_dump(mode="json"),
                "assessment": assessment,
                "approved_by": ["usr_bench_fin_a"],
                "registration_number": f"ZDW-{loan_id[-12:]}",
                "payment_id": f"BANK-{loan_id}",
                "disbursed_on": day,
                "due_on": due_on,
                "principal_owed": PRINCIPAL,
                "fee_owed": fee,
                "interest_owed": Decimal(0),
                "penalty_owed": Decimal(0),
                "accrued_to": day,
                "written_off": Decimal(0),
                "applied_by": "usr_bench_supplier",
                "applied_at": datetime.combine(day, datetime.min.time(), UTC),
            }
        )
        for kind, debit, credit, amount in (
            (JournalKind.DISBURSEMENT, Account.PRINCIPAL, Account.BANK, PRINCIPAL),
            (JournalKind.FEE, Account.FEE_RECEIVABLE, Account.FEE_INCOME, fee),
        ):
            journal_id = f"{loan_id}:{kind.value}"
            journals.append(
                {
                    "id": journal_id,
                    "loan_id": loan_id,
                    "kind": kind.value,
                    "booked_on": day,
                    "memo": f"{kind.value} of loan {loan_id}",
                    "bank_reference": f"BANK-{loan_id}"
                    if kind is JournalKind.DISBURSEMENT
                    else None,
                }
            )
            postings += [
                {"journal_id": journal_id, "account": debit.value, "amount": amount},
                {"journal_id": journal_id, "account": credit.value, "amount": -amount},
            ]
    with transaction(sessions) as session:
        session.execute(insert(Loan), loans)
        session.execute(insert(Journal), journals)
        session.execute(insert(Posting), [{**p, "currency": "CNY"} for p in postings])
