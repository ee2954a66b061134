"""A loan's money on real PostgreSQL and a real bank sandbox (both the package's own, so the
day's ledger and statement hold only these tests' money): the payout made and booked once
whatever the bank's answer, repayments down the waterfall, the rest remitted once, and the day
reconciled with the bank (the ledger's own rules: ``test_loan_ledger.py``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Literal

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.loans import LoanActivities
from contracts.attention import INVALID_RECORD
from contracts.finance import (
    DisburseInput,
    LoanStatus,
    OrderLoanInput,
    ReconcileInput,
)
from db.finance import Account, Journal, JournalKind, Loan, Posting
from db.models import Organisation
from db.session import transaction
from gateways.bank import BankClient
from gateways.http_adapter import ExternalSystemUnavailable
from sandboxes.bank import PLATFORM_ACCOUNT, BankControl
from storage.object_store import ObjectStore
from tests.harness import loan_trades as data

D = Decimal
CHINA = timezone(timedelta(hours=8))


def loan_of_order(sessions: sessionmaker[Session], order_id: str) -> Loan:
    with sessions() as session:
        return session.scalars(select(Loan).where(Loan.order_id == order_id)).one()


def supplier_account(sessions: sessionmaker[Session], org_id: str) -> str:
    with sessions() as session:
        org = session.get(Organisation, org_id)
        assert org is not None and org.bank_account is not None
        return org.bank_account


def test_a_loan_paid_out_repaid_twice_and_the_rest_remitted_balances_and_reconciles(
    activity_env: ActivityEnvironment,
    loans: LoanActivities,
    ledger: sessionmaker[Session],
    store: ObjectStore,
    ledger_bank_client: BankClient,
    ledger_bank_control: BankControl,
) -> None:
    bank, env = ledger_bank_client, activity_env
    trade = data.trade(ledger, store)
    before = ledger_bank_control.balance(PLATFORM_ACCOUNT)
    order = OrderLoanInput(order_id=trade.order_id)
    assert env.run(loans.loan_for_order, order).loan_id is None
    app, _, paid = data.paid_out(env, loans, trade, "500000.00")
    assert paid.settled and paid.value_date is not None
    assert env.run(loans.loan_for_order, order).loan_id == app.loan_id
    row = data.loan_row(ledger, app.loan_id)
    assert (row.status, row.payment_id, row.due_on) == (
        LoanStatus.DISBURSED,
        paid.payment_id,
        paid.value_date + timedelta(days=60),
    )
    data.backdate(ledger, app.loan_id, 30)

    first = data.buyer_pays(bank, trade, app.loan_id, "100000.00", 1)
    split = env.run(loans.apply_repayment, first)
    # 30 days at 8% ACT/360: 500,000 * 0.08 * 30 / 360 = 3,333.33; then the 1% fee 5,000.00;
    # the rest, 100,000 - 3,333.33 - 5,000.00 = 91,666.67, repays principal.
    assert (split.penalty, split.interest, split.fee, split.principal, split.remitted) == (
        D("0.00"),
        D("3333.33"),
        D("5000.00"),
        D("91666.67"),
        D("0.00"),
    )
    assert split.outstanding == D("408333.33")
    env.run(loans.remit_to_supplier, first)  # nothing left to remit
    second = data.buyer_pays(bank, trade, app.loan_id, "450000.00", 2)
    split = env.run(loans.apply_repayment, second)
    # Paid the same day: no more interest; 408,333.33 repays the principal, 41,666.67 is left.
    assert (split.interest, split.principal, split.remitted, split.outstanding) == (
        D("0.00"),
        D("408333.33"),
        D("41666.67"),
        D("0.00"),
    )
    assert env.run(loans.apply_repayment, second) == split  # once per payment
    env.run(loans.remit_to_supplier, second)
    env.run(loans.remit_to_supplier, second)  # once: the second finds it remitted

    assert data.journals(ledger, app.loan_id, JournalKind.REPAYMENT) == 2
    assert data.journals(ledger, app.loan_id, JournalKind.REMITTANCE) == 1
    row = data.loan_row(ledger, app.loan_id)
    assert row.owed() == 0 and row.principal_owed == 0
    books = data.book(ledger, app.loan_id)
    assert {a: books[a] for a in books if books[a]} == {
        Account.BANK: D("8333.33"),  # -500,000 + 100,000 + 450,000 - 41,666.67
        Account.FEE_INCOME: D("-5000.00"),
        Account.INTEREST_INCOME: D("-3333.33"),
    }
    # The bank moved the platform's account by what the ledger's bank account says.
    moved = ledger_bank_control.balance(PLATFORM_ACCOUNT) - before
    assert moved == books[Account.BANK]
    statement = bank.statement(PLATFORM_ACCOUNT, paid.value_date)
    assert len(statement.under_key(app.loan_id)) == 1
    assert len(statement.under_key(f"{app.loan_id}:remit:{second.payment_id}:1")) == 1
    with ledger() as session:
        sums = session.execute(
            select(Posting.currency, func.sum(Posting.amount)).group_by(Posting.currency)
        ).all()
    assert sums and all(total == 0 for _, total in sums)

    result = env.run(loans.reconcile_bank, ReconcileInput(day=paid.value_date))
    assert result.differences == ()
    with ledger() as session:
        bank_journals = session.scalar(
            select(func.count(func.distinct(Journal.id)))
            .join(Posting, Posting.journal_id == Journal.id)
            .where(Journal.booked_on == paid.value_date, Posting.account == Account.BANK.value)
        )
    assert result.matched == bank_journals == len(statement.entries)


@pytest.mark.parametrize("mode", ["error", "timeout"])
def test_a_payout_whose_answer_is_lost_is_made_and_booked_once(
    activity_env: ActivityEnvironment,
    loans: LoanActivities,
    ledger: sessionmaker[Session],
    store: ObjectStore,
    ledger_bank_client: BankClient,
    ledger_bank_control: BankControl,
    mode: Literal["error", "timeout"],
) -> None:
    trade = data.trade(ledger, store)
    ledger_bank_control.accept_then_fail(mode=mode, delay_s=0.1, count=1)
    with pytest.raises(ExternalSystemUnavailable):
        data.paid_out(activity_env, loans, trade, "200000.00")
    loan_id = loan_of_order(ledger, trade.order_id).id
    assert data.journals(ledger, loan_id, JournalKind.DISBURSEMENT) == 0
    terms = data.terms(D("200000.00"))
    # The activity's retry: the same key, so the bank answers the payment it booked.
    paid = activity_env.run(
        loans.disburse_loan, DisburseInput(loan_id=loan_id, attempt=1, terms=terms)
    )
    assert paid.settled and paid.value_date is not None
    again = activity_env.run(
        loans.disburse_loan, DisburseInput(loan_id=loan_id, attempt=1, terms=terms)
    )
    assert again == paid
    statement = ledger_bank_client.statement(PLATFORM_ACCOUNT, paid.value_date)
    assert [e.payment_id for e in statement.under_key(loan_id)] == [paid.payment_id]
    assert data.journals(ledger, loan_id, JournalKind.DISBURSEMENT) == 1
    assert data.journals(ledger, loan_id, JournalKind.FEE) == 1


def test_a_refused_payout_is_an_answer_and_finance_retry_pays_under_a_new_key(
    activity_env: ActivityEnvironment,
    loans: LoanActivities,
    ledger: sessionmaker[Session],
    store: ObjectStore,
    ledger_bank_client: BankClient,
    ledger_bank_control: BankControl,
) -> None:
    trade = data.trade(ledger, store)
    account = supplier_account(ledger, trade.supplier.org.id)
    ledger_bank_control.close_account(account)
    app, terms, refused = data.paid_out(activity_env, loans, trade, "150000.00")
    assert not refused.settled
    assert refused.reason == ("the supplier's account is closed at its bank (bank: account_closed)")
    assert data.journals(ledger, app.loan_id, JournalKind.DISBURSEMENT) == 0
    ledger_bank_control.open_account(account)
    paid = activity_env.run(
        loans.disburse_loan, DisburseInput(loan_id=app.loan_id, attempt=2, terms=terms)
    )
    assert paid.settled
    payment = ledger_bank_client.find_payment(f"{app.loan_id}:attempt-2")
    assert payment is not None and payment.payment_id == paid.payment_id
    assert data.journals(ledger, app.loan_id, JournalKind.DISBURSEMENT) == 1


def test_no_bank_account_on_file_is_an_answer_without_calling_the_bank(
    activity_env: ActivityEnvironment,
    loans: LoanActivities,
    ledger: sessionmaker[Session],
    store: ObjectStore,
    ledger_bank_client: BankClient,
) -> None:
    trade = data.trade(ledger, store)
    with transaction(ledger) as session:
        session.execute(
            update(Organisation)
            .where(Organisation.id == trade.supplier.org.id)
            .values(bank_account=None)
        )
    app, _, refused = data.paid_out(activity_env, loans, trade, "100000.00")
    assert (refused.settled, refused.payment_id) == (False, None)
    assert "no bank account on file" in refused.reason
    assert ledger_bank_client.find_payment(app.loan_id) is None


def test_a_refused_remittance_asks_ops_and_their_retry_pays_under_the_next_key(
    activity_env: ActivityEnvironment,
    loans: LoanActivities,
    ledger: sessionmaker[Session],
    store: ObjectStore,
    ledger_bank_client: BankClient,
    ledger_bank_control: BankControl,
) -> None:
    trade = data.trade(ledger, store)
    app, _, _ = data.paid_out(activity_env, loans, trade, "100000.00")
    # Paid the day it was lent: 100,000 + the 1,000 fee owed; 50,000 more is the supplier's.
    payment = data.buyer_pays(ledger_bank_client, trade, app.loan_id, "151000.00", 1)
    assert activity_env.run(loans.apply_repayment, payment).remitted == D("50000.00")
    account = supplier_account(ledger, trade.supplier.org.id)
    ledger_bank_control.close_account(account)
    with pytest.raises(ApplicationError) as refused:
        activity_env.run(loans.remit_to_supplier, payment)
    assert (refused.value.type, refused.value.non_retryable) == (INVALID_RECORD, True)
    assert "the supplier's account is closed at its bank (bank: account_closed)" in str(
        refused.value
    )
    assert data.journals(ledger, app.loan_id, JournalKind.REMITTANCE) == 0
    ledger_bank_control.open_account(account)
    activity_env.run(loans.remit_to_supplier, payment)
    first = ledger_bank_client.find_payment(f"{app.loan_id}:remit:{payment.payment_id}:1")
    second = ledger_bank_client.find_payment(f"{app.loan_id}:remit:{payment.payment_id}:2")
    assert first is not None and not first.settled
    assert second is not None and second.settled and second.amount == D("50000.00")
    assert data.journals(ledger, app.loan_id, JournalKind.REMITTANCE) == 1


def test_a_backdated_payment_shaves_no_interest_off(
    activity_env: ActivityEnvironment,
    loans: LoanActivities,
    ledger: sessionmaker[Session],
    store: ObjectStore,
    ledger_bank_client: BankClient,
) -> None:
    trade = data.trade(ledger, store)
    app, _, paid = data.paid_out(activity_env, loans, trade, "500000.00")
    assert paid.value_date is not None
    data.backdate(ledger, app.loan_id, 30)
    payment = data.buyer_pays(ledger_bank_client, trade, app.loan_id, "100000.00", 1)
    # The buyer says it paid 20 days after the payout; the platform hears of it 30 days after.
    said = payment.model_copy(update={"paid_on": paid.value_date - timedelta(days=10)})
    heard = datetime.combine(paid.value_date, time(10, 0), tzinfo=CHINA)
    env = ActivityEnvironment()
    env.info = replace(env.info, scheduled_time=heard)
    split = env.run(loans.apply_repayment, said)
    # Interest to the day it was heard of, not the day claimed: 500,000 * 0.08 * 30 / 360.
    assert split.interest == D("3333.33")
