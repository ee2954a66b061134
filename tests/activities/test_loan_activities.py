"""The loan process's activities before any money moves, on real PostgreSQL and the real
receivables registry sandbox: eligibility (each refusal recorded, never the one-live-loan index
hit), the credit facts read from the platform's record, the assessment, the registration.

The money steps are in ``test_loan_money.py``; both use a database of their own
(``tests.harness.loans``) so a day's ledger is only theirs."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.loans import LoanActivities
from contracts.common import SYSTEM_ACTOR, Money
from contracts.finance import (
    EligibilityCheck,
    LoanApplication,
    LoanInput,
    LoanStatus,
    LoanStatusInput,
    RegisterInput,
)
from contracts.fulfilment import CarrierEventKind
from db.audit_log import audit_once
from db.finance import Loan
from db.loan_facts import credit_facts
from db.models import AuditEntry, CarrierEvent, Payment
from db.session import transaction
from gateways.receivables_registry import ReceivablesRegistryClient
from storage.object_store import ObjectStore
from tests.harness import loan_trades as data

D = Decimal


def record(
    env: ActivityEnvironment, loans: LoanActivities, app: LoanApplication
) -> EligibilityCheck:
    return env.run(loans.record_loan, LoanInput(application=app))


def test_an_eligible_application_is_recorded_once(
    activity_env: ActivityEnvironment,
    loans: LoanActivities,
    ledger: sessionmaker[Session],
    store: ObjectStore,
) -> None:
    trade = data.trade(ledger, store)
    app = trade.application("500000.00")
    check = record(activity_env, loans, app)
    assert check.problems == ()
    assert check.unpaid_value == Money(amount=D("1000000.00"), currency="CNY")
    assert check.receivable_due_on == date.today() + timedelta(days=60)  # the invoice's
    assert record(activity_env, loans, app) == check
    with ledger() as session:
        assert session.scalar(select(func.count()).where(Loan.order_id == trade.order_id)) == 1
        audits = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target_id == app.loan_id)
        ).all()
    assert data.loan_row(ledger, app.loan_id).status == LoanStatus.APPLIED
    assert audits == ["loan.applied"]


def test_before_invoicing_the_receivable_falls_due_30_days_after_delivery(
    activity_env: ActivityEnvironment,
    loans: LoanActivities,
    ledger: sessionmaker[Session],
    store: ObjectStore,
) -> None:
    trade = data.trade(ledger, store, status="in_transit", invoiced=False)
    check = record(activity_env, loans, trade.application("100000.00"))
    assert check.problems == ()
    # The harness agrees delivery 20 days after the order: due 20 + 30 days from today.
    assert check.receivable_due_on == datetime.now(UTC).date() + timedelta(days=50)


def _refused(
    env: ActivityEnvironment,
    loans: LoanActivities,
    sessions: sessionmaker[Session],
    app: LoanApplication,
) -> dict[str, str]:
    """The problems by field, and the loan recorded refused with them."""
    check = record(env, loans, app)
    assert check.problems
    row = data.loan_row(sessions, app.loan_id)
    assert row.status == LoanStatus.REFUSED
    for field, rule in check.problems:
        assert f"{field}: {rule}" in row.status_reason
    return dict(check.problems)


def test_orders_between_related_organisations_are_refused(
    activity_env: ActivityEnvironment,
    loans: LoanActivities,
    ledger: sessionmaker[Session],
    store: ObjectStore,
) -> None:
    # One registered address, written two ways (spaces; full-width digits).
    seller = data.supplier(ledger, store, address="上海市 浦东新区 世纪大道100号")
    purchaser = data.buyer(ledger, address="上海市浦东新区世纪大道１００号")
    trade = data.Trade(seller, purchaser, data.order(ledger, seller, purchaser))
    problems = _refused(activity_env, loans, ledger, trade.application("100000.00"))
    assert "related organisations" in problems["order_id"]
    assert "the same registered address" in problems["order_id"]


def test_a_second_loan_on_the_order_is_refused(
    activity_env: ActivityEnvironment,
    loans: LoanActivities,
    ledger: sessionmaker[Session],
    store: ObjectStore,
) -> None:
    trade = data.trade(ledger, store)
    first = trade.application("300000.00")
    assert record(activity_env, loans, first).problems == ()
    problems = _refused(activity_env, loans, ledger, trade.application("100000.00"))
    assert problems["order_id"] == "the order already has a loan: one loan an order"
    assert data.loan_row(ledger, first.loan_id).status == LoanStatus.APPLIED


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("disputed", "an order that is disputed cannot be financed"),
        ("awaiting_confirmation", "an order that is awaiting_confirmation cannot be financed"),
        ("cancelled", "an order that is cancelled cannot be financed"),
    ],
)
def test_an_order_not_executed_or_in_dispute_is_refused(
    activity_env: ActivityEnvironment,
    loans: LoanActivities,
    ledger: sessionmaker[Session],
    store: ObjectStore,
    status: str,
    words: str,
) -> None:
    trade = data.trade(ledger, store, status=status, invoiced=False)
    problems = _refused(activity_env, loans, ledger, trade.application("100000.00"))
    assert problems == {"order_id": words}


def test_above_the_advance_rate_is_refused_and_the_refusal_holds_no_order(
    activity_env: ActivityEnvironment,
    loans: LoanActivities,
    ledger: sessionmaker[Session],
    store: ObjectStore,
) -> None:
    seller, purchaser = data.supplier(ledger, store), data.buyer(ledger)
    # 1,000,000 less 300,000 paid: 700,000 unpaid; 80% of it is 560,000.00.
    order_id = data.order(ledger, seller, purchaser, paid=D("300000.00"))
    trade = data.Trade(seller, purchaser, order_id)
    problems = _refused(activity_env, loans, ledger, trade.application("560000.01"))
    assert problems["amount"].startswith("the amount is above CNY 560,000.00, 80% of the")
    # The refused loan does not hold the order: the most it allows is accepted.
    assert record(activity_env, loans, trade.application("560000.00")).problems == ()


def test_two_applications_at_once_are_judged_one_after_the_other(
    ledger: sessionmaker[Session], store: ObjectStore, loans: LoanActivities
) -> None:
    trade = data.trade(ledger, store)
    apps = [trade.application("200000.00") for _ in range(2)]
    start = threading.Barrier(2)
    checks: dict[str, EligibilityCheck] = {}

    def apply(app: LoanApplication) -> None:
        start.wait()
        checks[app.loan_id] = record(ActivityEnvironment(), loans, app)

    threads = [threading.Thread(target=apply, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The order's row lock, not the unique index, decided: one applied and one refused.
    statuses = sorted(data.loan_row(ledger, app.loan_id).status for app in apps)
    assert statuses == [LoanStatus.APPLIED, LoanStatus.REFUSED]
    assert sorted(len(check.problems) for check in checks.values()) == [0, 1]


def test_credit_facts_read_the_platforms_record(
    ledger: sessionmaker[Session], store: ObjectStore
) -> None:
    seller, purchaser, other = data.supplier(ledger, store), data.buyer(ledger), data.buyer(ledger)
    today = datetime.now(UTC).date()
    promised = today - timedelta(days=10)

    def delivered(order_id: str, on: date) -> None:
        with transaction(ledger) as session:
            session.add(
                CarrierEvent(
                    order_id=order_id,
                    shipment_number=1,
                    kind=CarrierEventKind.DELIVERED.value,
                    at=datetime.combine(on, datetime.min.time(), UTC) + timedelta(hours=6),
                    location="Shanghai",
                    reported_by="usr_test",
                )
            )

    def made(
        status: str, *, invoice_due_on: date | None = None, created_at: datetime | None = None
    ) -> str:
        return data.order(
            ledger,
            seller,
            purchaser,
            status=status,
            delivery_date=promised,
            invoice_due_on=invoice_due_on,
            created_at=created_at,
        )

    paid_late = made("completed", invoice_due_on=today - timedelta(days=5))
    delivered(paid_late, promised - timedelta(days=1))
    with transaction(ledger) as session:
        session.add(
            Payment(
                id=f"{paid_late}:payment-1",
                order_id=paid_late,
                amount=D("1000000.00"),
                currency="CNY",
                reference="late",
                paid_on=today - timedelta(days=2),
                recorded_by="usr_test",
            )
        )
    late = made("invoiced")
    delivered(late, promised + timedelta(days=3))
    made("disputed")
    settled_dispute = made("invoiced")
    with transaction(ledger) as session:
        audit_once(session, SYSTEM_ACTOR, "order.disputed", settled_dispute, {"reason": "x"})
    made("in_transit", created_at=datetime.now(UTC) - timedelta(days=60))  # not delivered
    data.order(ledger, seller, other, status="invoiced", delivery_date=promised)
    with ledger() as session:
        facts = credit_facts(session, seller.org.id, purchaser.org.id, today=today)
    assert (facts.risk_band, facts.accreditation_score) == ("low", D("80.00"))
    assert (facts.orders_delivered, facts.orders_delivered_late, facts.disputes) == (5, 1, 2)
    assert facts.order_value == D("5000000.00")
    assert (facts.buyer_invoices_paid, facts.buyer_invoices_paid_late) == (1, 1)
    # Four orders with this buyer in the last 30 days; one in the six months before: 1/6.
    assert (facts.buyer_orders_last_30d, facts.buyer_orders_monthly_before) == (4, D("0.17"))
    assert facts.concentration == D("0.8333")  # 5,000,000 of 6,000,000 traded
    assert (facts.losses, facts.loans_overdue, facts.loans_written_off) == (D(0), 0, 0)


def test_the_assessment_prices_within_the_product_and_is_kept(
    activity_env: ActivityEnvironment,
    loans: LoanActivities,
    ledger: sessionmaker[Session],
    store: ObjectStore,
) -> None:
    trade = data.trade(ledger, store)
    app = trade.application("400000.00", term_days=90)
    record(activity_env, loans, app)
    assessment = activity_env.run(loans.assess_loan, LoanInput(application=app))
    terms = assessment.terms
    assert not assessment.declined and assessment.grade in "ABCD"
    assert D("0.008") <= terms.fee_rate <= D("0.015")
    assert terms.penalty_rate == terms.interest_rate * D("1.5")
    assert (terms.principal, terms.term_days, terms.day_count) == (app.amount, 90, "ACT/360")
    assert terms.fee.amount == (D("400000") * terms.fee_rate).quantize(D("0.01"))
    # (interest over 90 days ACT/360 + fee) / advance * 365 / 90
    interest = (D("400000") * terms.interest_rate * 90 / 360).quantize(D("0.01"))
    apr = ((interest + terms.fee.amount) / D("400000") * 365 / 90).quantize(D("0.0001"))
    assert assessment.effective_apr == apr
    assert "new_buyer" in assessment.flags  # the buyer has paid no invoice yet
    assert activity_env.run(loans.assess_loan, LoanInput(application=app)) == assessment
    assert data.loan_row(ledger, app.loan_id).assessment is not None


def test_a_receivable_is_registered_once_and_never_financed_twice(
    activity_env: ActivityEnvironment,
    loans: LoanActivities,
    ledger: sessionmaker[Session],
    store: ObjectStore,
    receivables_registry: ReceivablesRegistryClient,
) -> None:
    trade = data.trade(ledger, store)
    app = trade.application("300000.00")
    record(activity_env, loans, app)
    terms = data.terms(app.amount.amount)
    activity_env.run(
        loans.set_loan_status,
        LoanStatusInput(loan_id=app.loan_id, status=LoanStatus.REGISTERING, terms=terms),
    )
    due = date.today() + timedelta(days=60)
    registered = activity_env.run(
        loans.register_receivable, RegisterInput(loan_id=app.loan_id, terms=terms, due_on=due)
    )
    assert registered.number and not registered.problem
    again = activity_env.run(
        loans.register_receivable, RegisterInput(loan_id=app.loan_id, terms=terms, due_on=due)
    )
    assert again == registered
    found = receivables_registry.search(trade.buyer.org.credit_code, trade.order_id)
    assert [(r.registration_number, r.idempotency_key) for r in found] == [
        (registered.number, app.loan_id)
    ]
    # Another loan on the same receivable (the first one ended, say): financed already.
    activity_env.run(
        loans.set_loan_status, LoanStatusInput(loan_id=app.loan_id, status=LoanStatus.CANCELLED)
    )
    second = trade.application("300000.00")
    assert record(activity_env, loans, second).problems == ()
    refused = activity_env.run(
        loans.register_receivable, RegisterInput(loan_id=second.loan_id, terms=terms, due_on=due)
    )
    assert refused.number is None
    assert f"already pledged to another financing (registration {registered.number})" in (
        refused.problem
    )


def test_a_final_status_stays(
    activity_env: ActivityEnvironment,
    loans: LoanActivities,
    ledger: sessionmaker[Session],
    store: ObjectStore,
) -> None:
    app = data.trade(ledger, store).application("100000.00")
    record(activity_env, loans, app)
    for status in (LoanStatus.WITHDRAWN, LoanStatus.UNDER_REVIEW):
        activity_env.run(loans.set_loan_status, LoanStatusInput(loan_id=app.loan_id, status=status))
    assert data.loan_row(ledger, app.loan_id).status == LoanStatus.WITHDRAWN
