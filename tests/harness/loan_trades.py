"""Loan test data for the loan activities, written straight to PostgreSQL as the processes
leave it: an accredited supplier with a bank account, a buyer, their executed order (invoiced or
not), a loan application against it and the terms finance approves; a loan paid out through the
activities, the buyer's transfers into the platform's account, and the loan's books."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.loans import LoanActivities
from contracts.banking import IncomingTransfer
from contracts.common import OPERATOR_ORG_ID, Money, OrgKind, Role
from contracts.finance import (
    DisburseInput,
    Disbursement,
    LoanApplication,
    LoanInput,
    LoanStatus,
    LoanStatusInput,
    LoanTerms,
    RepaymentInput,
)
from db.finance import Account, Journal, JournalKind, Loan, balance
from db.models import Contract, Invoice, Order, Organisation
from db.session import transaction
from gateways.bank import BankClient
from gateways.receivables_registry import ReceivablesRegistryClient
from sandboxes.bank import PLATFORM_ACCOUNT
from storage.object_store import ObjectStore
from tests.harness import listings
from tests.harness import sourcing as s
from tests.harness.builders import make_org
from tests.harness.sourcing import Member, member

# The operator's code as migration 0007 seeds it: a valid GB 32100-2015 code.
PLATFORM_CREDIT_CODE = "91100000MA0TF0P55U"


def platform_org(sessions: sessionmaker[Session]) -> None:
    """The operator's organisation (the lender on the registry, platform finance's org)."""
    with transaction(sessions) as session:
        session.execute(
            insert(Organisation)
            .values(
                id=OPERATOR_ORG_ID,
                kind=OrgKind.OPERATOR.value,
                legal_name="Tradeflow 平台运营",
                name_en="Tradeflow operations",
                credit_code=PLATFORM_CREDIT_CODE,
            )
            .on_conflict_do_nothing()
        )


def account_number() -> str:
    return "6217" + "".join(random.choice("0123456789") for _ in range(15))


def _with_account(
    sessions: sessionmaker[Session], org: Organisation, role: Role, address: str | None
) -> Member:
    """The organisation with a bank account and its registered address, and a user of it."""
    with transaction(sessions) as session:
        session.execute(
            update(Organisation)
            .where(Organisation.id == org.id)
            .values(
                bank_account=account_number(),
                registered_address=address or f"无锡市新吴区测试路{uuid.uuid4().hex[:8]}号",
            )
        )
    return member(sessions, org, role)


def supplier(
    sessions: sessionmaker[Session], store: ObjectStore, *, address: str | None = None
) -> Member:
    """An accredited supplier (low risk) with a bank account, its address and a user."""
    org = s.accredited_supplier(sessions, store)
    return _with_account(sessions, org, Role.SUPPLIER, address)


def buyer(sessions: sessionmaker[Session], *, address: str | None = None) -> Member:
    org = make_org(sessions, kind=OrgKind.BUYER)
    return _with_account(sessions, org, Role.FINANCE, address)


def order(
    sessions: sessionmaker[Session],
    seller: Member,
    purchaser: Member,
    *,
    status: str = "invoiced",
    total: Decimal = Decimal("1000000.00"),
    paid: Decimal = Decimal(0),
    delivery_date: date | None = None,
    invoice_due_on: date | None = None,
    created_at: datetime | None = None,
) -> str:
    """An order of an executed contract (delivery agreed 20 days after it, unless said), with
    its invoice when ``invoice_due_on`` is given."""
    created = created_at or datetime.now(UTC)
    rfq_id = listings.rfqs(sessions, purchaser.org.id, 1)[0]
    contract_id, order_id = f"{rfq_id}-C1", f"ord-{rfq_id}-C1"
    promised = delivery_date or (created + timedelta(days=20)).date()
    with transaction(sessions) as session:
        session.add(
            Contract(
                id=contract_id,
                rfq_id=rfq_id,
                workflow_id=f"Contract:{contract_id}",
                buyer_org_id=purchaser.org.id,
                supplier_org_id=seller.org.id,
                status="executed",
                terms={"delivery_date": promised.isoformat()},
                total_amount=total,
                currency="CNY",
                executed_at=created,
                created_at=created,
            )
        )
        session.flush()
        session.add(
            Order(
                id=order_id,
                contract_id=contract_id,
                workflow_id=f"Order:{order_id}",
                buyer_org_id=purchaser.org.id,
                supplier_org_id=seller.org.id,
                status=status,
                dangerous_goods=False,
                total_amount=total,
                currency="CNY",
                paid_amount=paid,
                created_at=created,
            )
        )
    if invoice_due_on is not None:
        document_id = listings.document(sessions, seller.org.id)
        with transaction(sessions) as session:
            session.add(
                Invoice(
                    id=f"INV-{order_id}",
                    order_id=order_id,
                    document_id=document_id,
                    amount=total,
                    currency="CNY",
                    due_on=invoice_due_on,
                    issued_at=created,
                )
            )
    return order_id


@dataclass(frozen=True)
class Trade:
    """A supplier, its buyer and an order between them."""

    supplier: Member
    buyer: Member
    order_id: str

    def application(
        self, amount: str, *, term_days: int = 60, loan_id: str | None = None
    ) -> LoanApplication:
        return LoanApplication(
            loan_id=loan_id or f"loan_{uuid.uuid4().hex[:16]}",
            order_id=self.order_id,
            supplier_org_id=self.supplier.org.id,
            buyer_org_id=self.buyer.org.id,
            amount=Money(amount=Decimal(amount), currency="CNY"),
            term_days=term_days,
            purpose="raw materials for the order",
            applied_by=self.supplier.actor,
            applied_at=datetime.now(UTC),
        )


def trade(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    *,
    status: str = "invoiced",
    total: Decimal = Decimal("1000000.00"),
    invoiced: bool = True,
) -> Trade:
    """A new accredited supplier and buyer and an order between them: by default invoiced, of
    CNY 1,000,000, due in 60 days."""
    seller, purchaser = supplier(sessions, store), buyer(sessions)
    due = date.today() + timedelta(days=60) if invoiced else None
    order_id = order(sessions, seller, purchaser, status=status, total=total, invoice_due_on=due)
    return Trade(seller, purchaser, order_id)


def activities(
    sessions: sessionmaker[Session], bank: BankClient, registry: ReceivablesRegistryClient
) -> LoanActivities:
    return LoanActivities(sessions, bank, registry, platform_account=PLATFORM_ACCOUNT)


def terms(principal: Decimal, *, term_days: int = 60) -> LoanTerms:
    """Terms as finance approves them: a 1% fee, 8% a year, penalty 12% (8% * 1.5), ACT/360."""
    return LoanTerms(
        principal=Money(amount=principal, currency="CNY"),
        term_days=term_days,
        fee_rate=Decimal("0.01"),
        interest_rate=Decimal("0.08"),
        penalty_rate=Decimal("0.12"),
        day_count="ACT/360",
        fee=Money(amount=(principal / 100).quantize(Decimal("0.01")), currency="CNY"),
        grade="B",
    )


def loan_row(sessions: sessionmaker[Session], loan_id: str) -> Loan:
    with sessions() as session:
        row = session.get(Loan, loan_id)
        assert row is not None
        return row


def paid_out(
    env: ActivityEnvironment,
    loans: LoanActivities,
    trade: Trade,
    principal: str,
    *,
    attempt: int = 1,
) -> tuple[LoanApplication, LoanTerms, Disbursement]:
    """A loan recorded, priced by ``terms`` and paid out."""
    app = trade.application(principal)
    assert env.run(loans.record_loan, LoanInput(application=app)).problems == ()
    approved = terms(Decimal(principal))
    env.run(
        loans.set_loan_status,
        LoanStatusInput(loan_id=app.loan_id, status=LoanStatus.DISBURSING, terms=approved),
    )
    paid = env.run(
        loans.disburse_loan, DisburseInput(loan_id=app.loan_id, attempt=attempt, terms=approved)
    )
    return app, approved, paid


def backdate(sessions: sessionmaker[Session], loan_id: str, days: int) -> None:
    """As if the loan had been paid out ``days`` earlier."""
    back = timedelta(days=days)
    with transaction(sessions) as session:
        session.execute(
            update(Loan)
            .where(Loan.id == loan_id)
            .values(
                disbursed_on=Loan.disbursed_on - back,
                due_on=Loan.due_on - back,
                accrued_to=Loan.accrued_to - back,
            )
        )


def buyer_pays(bank: BankClient, trade: Trade, loan_id: str, amount: str, n: int) -> RepaymentInput:
    """The buyer's transfer into the platform's account, as the order passes it to the loan."""
    reference = f"PAY-{uuid.uuid4().hex[:12]}"
    credit = bank.credit(
        PLATFORM_ACCOUNT,
        IncomingTransfer(
            payer_account=account_number(),
            payer_name=trade.buyer.org.legal_name,
            amount=Decimal(amount),
            currency="CNY",
            reference=reference,
        ),
        idempotency_key=f"credit-{reference}",
    )
    assert credit.value_date is not None
    return RepaymentInput(
        loan_id=loan_id,
        payment_id=f"{trade.order_id}:payment-{n}",
        amount=Money(amount=Decimal(amount), currency="CNY"),
        paid_on=credit.value_date,
        reference=reference,
    )


def journals(sessions: sessionmaker[Session], loan_id: str, kind: JournalKind) -> int:
    with sessions() as session:
        query = select(func.count()).where(Journal.loan_id == loan_id, Journal.kind == kind.value)
        return session.scalar(query) or 0


def book(sessions: sessionmaker[Session], loan_id: str) -> dict[Account, Decimal]:
    with sessions() as session:
        return {account: balance(session, account, loan_id=loan_id) for account in Account}
