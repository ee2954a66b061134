"""Order loans for the API's tests: an order a supplier may borrow against, and loans with their
ledger written straight to PostgreSQL as the loan process's activities leave them, so the reads
and the finance views are tested on figures worked out by hand, without the process running.

Each test that reads money by currency gives its loans a currency of their own
(``own_currency``): the database is shared by the whole session, and the portfolio and trial
balance are per currency, so a test sees exactly its own book.
"""

from __future__ import annotations

import random
import string
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import OPERATOR_ORG_ID, Money, Role
from contracts.finance import LoanStatus, LoanTerms, loan_workflow_id
from contracts.fulfilment import OrderStatus, order_id_for, order_workflow_id
from db.finance import Account, JournalKind, Loan, LoanRepayment, post_journal
from db.loan_facts import china_day
from db.models import Order, Organisation
from db.session import transaction
from storage.object_store import ObjectStore
from tests.harness import orders as o
from tests.harness import sourcing as s
from tests.harness.builders import make_org


def own_currency() -> str:
    """A three-letter code no real currency and no other test uses (``X`` and two letters:
    ISO 4217 keeps X codes for non-currencies). Drawn without replacement: two tests of one
    process share its database, and a code drawn twice (one chance in 676 a pair) mixed one
    test's loans into the other's portfolio."""
    return next(_UNUSED_CURRENCIES)


_UNUSED_CURRENCIES = iter(
    random.sample(
        ["X" + a + b for a in string.ascii_uppercase for b in string.ascii_uppercase], k=26 * 26
    )
)


def china_today() -> date:
    return china_day(datetime.now(UTC))


def staff(sessions: sessionmaker[Session], role: Role) -> s.Member:
    """A user of the platform's operator holding ``role`` (platform finance, say)."""
    return s.member(sessions, s.org_row(sessions, OPERATOR_ORG_ID), role)


@dataclass(frozen=True)
class LoanOrder:
    """An order and its parties: a buyer with a buyer and a finance user, a supplier with a
    supplier, a finance and a logistics user."""

    order_id: str
    who: o.Parties
    supplier_finance: s.Member
    currency: str

    @property
    def supplier_org_id(self) -> str:
        return self.who.supplier.org.id

    @property
    def buyer_org_id(self) -> str:
        return self.who.buyer.org.id


def loan_order(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    *,
    accredited: bool = True,
    total: Decimal = Decimal("100000.00"),
    currency: str = "CNY",
    status: OrderStatus = OrderStatus.CONFIRMED,
    shared_address: str | None = None,
    supplier_of: LoanOrder | None = None,
    buyer_of: LoanOrder | None = None,
) -> LoanOrder:
    """A confirmed order of an accredited supplier (low risk band) with a new buyer, nothing
    paid; ``shared_address`` registers both parties at one address (related parties). The
    supplier and the buyer are new unless taken from another order (``supplier_of``,
    ``buyer_of``)."""
    if supplier_of is not None or buyer_of is not None:
        return _another(sessions, supplier_of, buyer_of, total=total, currency=currency)
    buyer = s.buyer_org(sessions)
    supplier = s.accredited_supplier(sessions, store) if accredited else make_org(sessions)
    if shared_address is not None:
        with transaction(sessions) as session:
            session.execute(
                update(Organisation)
                .where(Organisation.id.in_([buyer.id, supplier.id]))
                .values(registered_address=shared_address)
            )
    who = o.Parties(
        buyer=s.member(sessions, buyer, Role.BUYER),
        finance=s.member(sessions, buyer, Role.FINANCE),
        supplier=s.member(sessions, supplier, Role.SUPPLIER),
        logistics=s.member(sessions, supplier, Role.LOGISTICS),
    )
    finance = s.member(sessions, supplier, Role.FINANCE)
    return _ordered(sessions, who, finance, total=total, currency=currency, status=status)


def _another(
    sessions: sessionmaker[Session],
    supplier_of: LoanOrder | None,
    buyer_of: LoanOrder | None,
    *,
    total: Decimal,
    currency: str,
) -> LoanOrder:
    """A new order between the parties of earlier ones (a new party where none is given)."""
    if supplier_of is None or buyer_of is None:
        raise ValueError("give both parties' earlier orders")
    seller, paying = supplier_of.who, buyer_of.who
    who = o.Parties(
        buyer=paying.buyer,
        finance=paying.finance,
        supplier=seller.supplier,
        logistics=seller.logistics,
    )
    return _ordered(
        sessions,
        who,
        supplier_of.supplier_finance,
        total=total,
        currency=currency,
        status=OrderStatus.CONFIRMED,
    )


def _ordered(
    sessions: sessionmaker[Session],
    who: o.Parties,
    supplier_finance: s.Member,
    *,
    total: Decimal,
    currency: str,
    status: OrderStatus,
) -> LoanOrder:
    terms = o.executed_contract(sessions, who, now=datetime.now(UTC), lines=(s.lines()[0],))
    order_id = order_id_for(terms.contract_id)
    with transaction(sessions) as session:
        session.add(
            Order(
                id=order_id,
                contract_id=terms.contract_id,
                workflow_id=order_workflow_id(order_id),
                buyer_org_id=who.buyer.org.id,
                supplier_org_id=who.supplier.org.id,
                status=status.value,
                dangerous_goods=False,
                total_amount=total,
                currency=currency,
            )
        )
    return LoanOrder(
        order_id=order_id, who=who, supplier_finance=supplier_finance, currency=currency
    )


def terms(
    principal: Decimal,
    currency: str,
    *,
    term_days: int = 90,
    interest_rate: str = "0.072",
    fee_rate: str = "0.01",
) -> LoanTerms:
    rate = Decimal(interest_rate)
    return LoanTerms(
        principal=Money(amount=principal, currency=currency),
        term_days=term_days,
        fee_rate=Decimal(fee_rate),
        interest_rate=rate,
        penalty_rate=rate * Decimal("1.5"),
        day_count="ACT/360",
        fee=Money(
            amount=(principal * Decimal(fee_rate)).quantize(Decimal("0.01")), currency=currency
        ),
        grade="B",
    )


def insert_loan(
    sessions: sessionmaker[Session],
    order: LoanOrder,
    *,
    status: LoanStatus,
    principal: Decimal,
    disbursed_on: date | None = None,
    due_on: date | None = None,
    accrued_to: date | None = None,
    owed: tuple[str, str, str, str] = ("0", "0", "0", "0"),
    priced: bool = True,
    registration_number: str | None = None,
) -> str:
    """A loan row as the process's activities leave it: ``owed`` is (principal, fee, interest,
    penalty) still owed, the balance of record."""
    loan_id = f"loan-{uuid.uuid4().hex[:12]}"
    contracted = terms(principal, order.currency) if priced else None
    principal_owed, fee_owed, interest_owed, penalty_owed = (Decimal(x) for x in owed)
    with transaction(sessions) as session:
        session.add(
            Loan(
                id=loan_id,
                order_id=order.order_id,
                supplier_org_id=order.supplier_org_id,
                buyer_org_id=order.buyer_org_id,
                workflow_id=loan_workflow_id(loan_id),
                status=status.value,
                status_reason="graded B: the supplier's own credit figures",
                currency=order.currency,
                amount=principal,
                term_days=90,
                purpose="raw materials",
                terms=contracted.model_dump(mode="json") if contracted else None,
                approved_by=[],
                registration_number=registration_number,
                disbursed_on=disbursed_on,
                due_on=due_on,
                principal_owed=principal_owed,
                fee_owed=fee_owed,
                interest_owed=interest_owed,
                penalty_owed=penalty_owed,
                accrued_to=accrued_to,
                applied_by=order.who.supplier.actor.user_id,
                applied_at=datetime.now(UTC) - timedelta(days=1),
            )
        )
    return loan_id


def book(
    sessions: sessionmaker[Session],
    loan_id: str,
    currency: str,
    kind: JournalKind,
    booked_on: date,
    lines: list[tuple[Account, str]],
    *,
    bank_reference: str | None = None,
) -> str:
    """One balanced journal for the loan (signed lines, debit positive)."""
    journal_id = f"{kind.value}:{loan_id}:{uuid.uuid4().hex[:8]}"
    with transaction(sessions) as session:
        post_journal(
            session,
            journal_id=journal_id,
            loan_id=loan_id,
            kind=kind,
            booked_on=booked_on,
            memo=f"{kind.value} of {loan_id}",
            currency=currency,
            lines=[(account, Decimal(amount)) for account, amount in lines],
            bank_reference=bank_reference,
        )
    return journal_id


def disburse(
    sessions: sessionmaker[Session], loan_id: str, currency: str, principal: str, on: date
) -> str:
    """The payout's journal: the principal lent, paid from the bank account."""
    return book(
        sessions,
        loan_id,
        currency,
        JournalKind.DISBURSEMENT,
        on,
        [(Account.PRINCIPAL, principal), (Account.BANK, f"-{principal}")],
        bank_reference=f"PAY-{loan_id}",
    )


def repayment_row(
    sessions: sessionmaker[Session], loan_id: str, paid_on: date, **parts: str
) -> str:
    """A buyer payment as ``apply_repayment`` records it (amount, the split, remitted,
    outstanding_after)."""
    payment_id = f"pay-{uuid.uuid4().hex[:10]}"
    with transaction(sessions) as session:
        session.add(
            LoanRepayment(
                payment_id=payment_id,
                loan_id=loan_id,
                paid_on=paid_on,
                **{name: Decimal(value) for name, value in parts.items()},
            )
        )
    return payment_id
