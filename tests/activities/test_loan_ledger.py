"""The loan ledger on real PostgreSQL (the package's own database): the database refuses an
unbalanced journal and any change to a booked one, a write-off clears every receivable once, and
a transfer the ledger does not know is reported to platform finance."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.loans import LoanActivities
from contracts.banking import IncomingTransfer
from contracts.common import OPERATOR_ORG_ID
from contracts.finance import (
    LoanInput,
    LoanStatus,
    OrderLoanInput,
    ReconcileInput,
    WriteOffInput,
)
from db.finance import Account, Journal, JournalKind, post_journal
from db.models import AuditEntry, Notification
from db.session import transaction
from gateways.bank import BankClient
from gateways.receivables_registry import ReceivablesRegistryClient
from storage.object_store import ObjectStore
from tests.harness import loan_trades as data

D = Decimal


def test_the_database_refuses_an_unbalanced_journal_and_keeps_the_ledger_append_only(
    activity_env: ActivityEnvironment,
    loans: LoanActivities,
    ledger: sessionmaker[Session],
    store: ObjectStore,
) -> None:
    app = data.trade(ledger, store).application("100000.00")
    activity_env.run(loans.record_loan, LoanInput(application=app))

    def post(journal_id: str, lines: list[tuple[Account, Decimal]]) -> None:
        with transaction(ledger) as session:
            post_journal(
                session,
                journal_id=journal_id,
                loan_id=app.loan_id,
                kind=JournalKind.FEE,
                booked_on=app.applied_at.date(),
                memo="test",
                currency="CNY",
                lines=lines,
            )

    with pytest.raises(IntegrityError, match=r"does not balance: CNY 0\.01"):
        post(
            f"{app.loan_id}:off",
            [(Account.FEE_RECEIVABLE, D("100.00")), (Account.FEE_INCOME, D("-99.99"))],
        )
    with pytest.raises(IntegrityError, match="double entry needs two"):
        post(f"{app.loan_id}:single", [(Account.FEE_RECEIVABLE, D("100.00"))])
    post(
        f"{app.loan_id}:even",
        [(Account.FEE_RECEIVABLE, D("1.00")), (Account.FEE_INCOME, D("-1.00"))],
    )
    with ledger() as session:
        kept = session.scalars(select(Journal.id).where(Journal.loan_id == app.loan_id)).all()
    assert kept == [f"{app.loan_id}:even"]
    for statement in (
        "UPDATE ledger_postings SET amount = 2 WHERE journal_id = :j",
        "DELETE FROM ledger_postings WHERE journal_id = :j",
        "DELETE FROM ledger_journals WHERE id = :j",
    ):
        with (
            pytest.raises(DBAPIError, match="the ledger is append-only"),
            transaction(ledger) as session,
        ):
            session.execute(text(statement), {"j": f"{app.loan_id}:even"})


def test_a_write_off_accrues_to_today_and_clears_every_receivable(
    activity_env: ActivityEnvironment,
    loans: LoanActivities,
    ledger: sessionmaker[Session],
    store: ObjectStore,
) -> None:
    trade = data.trade(ledger, store)
    app, _, paid = data.paid_out(activity_env, loans, trade, "200000.00")
    assert paid.value_date is not None
    data.backdate(ledger, app.loan_id, 70)  # due 10 days ago
    decision = WriteOffInput(
        loan_id=app.loan_id, decided_by=("usr_fin_a", "usr_fin_b"), reason="the buyer is insolvent"
    )
    with pytest.raises(ApplicationError, match="takes two different people"):
        activity_env.run(
            loans.write_off_loan, decision.model_copy(update={"decided_by": ("usr_fin_a",) * 2})
        )
    activity_env.run(loans.write_off_loan, decision)
    activity_env.run(loans.write_off_loan, decision)  # once
    # 60 days at 8%: 200,000 * 0.08 * 60 / 360 = 2,666.67; 10 overdue days at 12%:
    # 200,000 * 0.12 * 10 / 360 = 666.67; with the 2,000.00 fee: 205,333.34 written off.
    row = data.loan_row(ledger, app.loan_id)
    assert (row.status, row.written_off, row.owed()) == (
        LoanStatus.WRITTEN_OFF,
        D("205333.34"),
        D(0),
    )
    books = data.book(ledger, app.loan_id)
    assert {a: books[a] for a in books if books[a]} == {
        Account.BANK: D("-200000.00"),
        Account.WRITE_OFF: D("205333.34"),
        Account.FEE_INCOME: D("-2000.00"),
        Account.INTEREST_INCOME: D("-2666.67"),
        Account.PENALTY_INCOME: D("-666.67"),
    }
    assert data.journals(ledger, app.loan_id, JournalKind.WRITE_OFF) == 1
    with ledger() as session:
        audit = session.scalars(
            select(AuditEntry).where(
                AuditEntry.target_id == app.loan_id, AuditEntry.action == "loan.written_off"
            )
        ).one()
    assert audit.detail["decided_by"] == ["usr_fin_a", "usr_fin_b"]
    # Far past the 0.5% line (this package's loans paid out well under 41 million): platform
    # finance hears of it at once.
    with ledger() as session:
        alert = session.get(Notification, f"bad_debt_alert:{app.loan_id}")
    assert alert is not None and alert.org_id == OPERATOR_ORG_ID and alert.role == "finance"
    assert "bad-debt rate" in alert.message and "0.5% warning line" in alert.message
    order = OrderLoanInput(order_id=trade.order_id)
    assert activity_env.run(loans.loan_for_order, order).loan_id is None


def test_a_transfer_the_ledger_does_not_know_is_reported_to_platform_finance(
    activity_env: ActivityEnvironment,
    ledger: sessionmaker[Session],
    ledger_bank_client: BankClient,
    receivables_registry: ReceivablesRegistryClient,
) -> None:
    # An account of its own, so the platform account's reconciliation stays exact.
    account = data.account_number()
    reference = f"UNKNOWN-{uuid.uuid4().hex[:8]}"
    credit = ledger_bank_client.credit(
        account,
        IncomingTransfer(
            payer_account=data.account_number(),
            payer_name="A stranger",
            amount=D("1234.56"),
            currency="CNY",
            reference=reference,
        ),
        idempotency_key=f"credit-{reference}",
    )
    assert credit.value_date is not None
    loans = LoanActivities(
        ledger,
        ledger_bank_client,
        receivables_registry,
        platform_account=account,
    )
    result = activity_env.run(loans.reconcile_bank, ReconcileInput(day=credit.value_date))
    assert (
        f"missing in the ledger: the bank's payment {credit.payment_id} (reference {reference}) "
        "of CNY 1,234.56 is booked in no journal"
    ) in result.differences
    with ledger() as session:
        notices = session.scalars(
            select(Notification).where(
                Notification.org_id == OPERATOR_ORG_ID,
                Notification.kind == "bank_reconciliation",
                Notification.subject_id == credit.value_date.isoformat(),
            )
        ).all()
    assert any(reference in notice.message for notice in notices)
