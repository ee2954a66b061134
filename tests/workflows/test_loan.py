"""Order-loan paths on the time-skipping server, with real activities, PostgreSQL, the bank and
the receivables registry sandboxes: repaid by the buyer's payments on the order, a lapsed offer, a
withdrawal, an overdue loan's penalty interest, collections and four-eyes write-off, a payout the
bank refuses, a receivable the buyer does not confirm; and the daily bank reconciliation."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.testing import WorkflowEnvironment

from contracts.common import OPERATOR_ORG_ID, Actor, Money, Role
from contracts.finance import (
    LoanApplication,
    LoanInput,
    LoanOutcome,
    LoanStatus,
    LoanView,
    RepaymentInput,
    WithdrawInput,
    loan_workflow_id,
)
from contracts.fulfilment import CarrierEventKind, OrderStatus, PaymentInput
from db.finance import Account, Journal, Loan, LoanRepayment, Posting, Reconciliation, balance
from db.models import HumanTask, Notification, Order, Organisation
from db.seed import seed_demo
from db.session import transaction
from gateways.bank import BankClient
from gateways.certification_registry import CertificationRegistryClient
from gateways.receivables_registry import ReceivablesRegistryClient
from gateways.regulator import RegulatorClient
from sandboxes.bank import BankControl
from security.keys import KeyRing
from security.payload_codec import data_converter
from settings import Settings
from stack.temporal import time_skipping_server_path
from stack.worker_roles import Workers
from storage.object_store import ObjectStore
from tests.harness import builders as b
from tests.harness import orders as o
from tests.harness import sourcing as s
from tests.harness.histories import record_history
from tests.harness.orders import Parties
from tests.harness.temporal import eventually, new_task_queue, refusal, skip_time, terminate_all
from tests.workflows.test_order import decide, report
from worker import build_worker
from workflows.loan import LoanWorkflow
from workflows.loan_state import CHINA
from workflows.order import OrderWorkflow
from workflows.reconciliation import ReconciliationWorkflow

LoanHandle = WorkflowHandle[LoanWorkflow, LoanOutcome]
FINANCE_1 = Actor(user_id="usr_fin_one", org_id=OPERATOR_ORG_ID, roles=(Role.FINANCE,))
FINANCE_2 = Actor(user_id="usr_fin_two", org_id=OPERATOR_ORG_ID, roles=(Role.FINANCE,))
CENT = Decimal("0.01")


@dataclass
class Harness:
    env: WorkflowEnvironment
    client: Client
    task_queue: str
    sessions: sessionmaker[Session]
    store: ObjectStore
    bank: BankClient
    started: list[str] = field(default_factory=list)

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def order(self, *, invoiced: bool) -> tuple[Parties, WorkflowHandle[Any, Any], str]:
        """A confirmed order (or one delivered, accepted and invoiced) of an accredited supplier
        with a bank account on file."""
        who = o.parties(self.sessions, self.store)
        with transaction(self.sessions) as session:
            session.execute(
                update(Organisation)
                .where(Organisation.id == who.supplier.org.id)
                .values(bank_account=f"62170000{uuid.uuid4().int % 10**10:010d}")
            )
        ambient = tuple(line.model_copy(update={"temperature": None}) for line in s.lines())
        terms = o.executed_contract(self.sessions, who, now=await self.now(), lines=ambient[1:])
        handle = await o.start_order(self.client, terms, task_queue=self.task_queue)
        self.started.append(handle.id)
        order_id = handle.id.removeprefix("Order:")
        confirm = await self.task(order_id, "order_confirmation")
        await decide(handle, confirm.id, who.supplier.actor, "confirm")
        if invoiced:
            await self.order_status(order_id, OrderStatus.READY_TO_DISPATCH)
            now = await self.now()
            for kind in (
                CarrierEventKind.PICKED_UP,
                CarrierEventKind.DEPARTED,
                CarrierEventKind.ARRIVED,
            ):
                await report(handle, who.logistics.actor, kind, now)
            proof = b.store_document(self.sessions, self.store, org_id=who.supplier.org.id)
            await report(handle, who.logistics.actor, CarrierEventKind.DELIVERED, now, proof=proof)
            acceptance = await self.task(order_id, "order_acceptance")
            await decide(handle, acceptance.id, who.buyer.actor, "accept")
        await self.order_status(order_id, OrderStatus.INVOICED if invoiced else None)
        return who, handle, order_id

    async def order_status(self, order_id: str, status: OrderStatus | None) -> None:
        async def reached() -> bool | None:
            with self.sessions() as session:
                order = session.get(Order, order_id)
                assert order is not None, "no order row yet"
                if status is None:
                    assert order.status != OrderStatus.AWAITING_CONFIRMATION.value, order.status
                else:
                    assert order.status == status.value, order.status
                return True

        await eventually(reached, attempts=1200)

    async def apply(
        self, who: Parties, order_id: str, amount: Decimal, **options: Any
    ) -> LoanHandle:
        loan_id = f"loan-{uuid.uuid4().hex[:12]}"
        application = LoanApplication(
            loan_id=loan_id,
            order_id=order_id,
            supplier_org_id=who.supplier.org.id,
            buyer_org_id=who.buyer.org.id,
            amount=Money(amount=amount, currency="CNY"),
            term_days=60,
            applied_by=who.supplier.actor,
            applied_at=await self.now(),
        )
        handle = await self.client.start_workflow(
            LoanWorkflow.run,
            LoanInput(application=application, **options),
            id=loan_workflow_id(loan_id),
            task_queue=self.task_queue,
        )
        self.started.append(handle.id)
        return handle

    async def task(self, subject_id: str, kind: str) -> HumanTask:
        async def opened() -> HumanTask | None:
            with self.sessions() as session:
                found = session.scalars(
                    select(HumanTask)
                    .where(HumanTask.subject_id == subject_id)
                    .where(HumanTask.kind == kind)
                    .where(HumanTask.status == "open")
                ).first()
                loan = session.get(Loan, subject_id)
                # What the loan is doing instead, for the failure to say.
                doing = f"loan {loan.status}: {loan.status_reason}" if loan else "no loan row"
                assert found is not None or loan is None, doing
                return found

        # Up to a minute: the suite's two processes may share one free core.
        return await eventually(opened, what=f"an open {kind} task", attempts=1200)

    async def ended(self, handle: LoanHandle) -> Loan:
        """The loan's row once its process has ended. Not ``result()``: on the time-skipping
        server, waiting for a result lets the clock jump to the order's next timer whenever
        nothing else runs, and the test goes on with that order."""

        async def over() -> bool | None:
            described = await handle.describe()
            return True if described.status != WorkflowExecutionStatus.RUNNING else None

        await eventually(over, what="the loan's end", attempts=1200)
        with self.sessions() as session:
            return session.get_one(Loan, handle.id.removeprefix("loan:"))

    async def loan_status(self, loan_id: str, status: LoanStatus) -> Loan:
        async def reached() -> Loan | None:
            with self.sessions() as session:
                row = session.get(Loan, loan_id)
                assert row is not None, "no loan row yet"
                assert row.status == status.value, f"{row.status}: {row.status_reason}"
                return row

        return await eventually(reached, what=f"loan {status.value}", attempts=600)

    async def to_offer(
        self, who: Parties, handle: LoanHandle, *, approvers: int = 1, confirmed: bool = False
    ) -> str:
        """Confirmed by the buyer, approved by finance: the offer task's id."""
        loan_id = handle.id.removeprefix("loan:")
        if not confirmed:
            confirmation = await self.task(loan_id, "loan_receivable_confirmation")
            assert confirmation.org_id == who.buyer.org.id and confirmation.role == "finance"
            await decide(handle, confirmation.id, who.finance.actor, "confirm")
        for deciding in (FINANCE_1, FINANCE_2)[:approvers]:
            approval = await self.task(loan_id, "loan_approval")
            await decide(handle, approval.id, deciding, "approve")
        return (await self.task(loan_id, "loan_offer")).id

    async def disbursed(self, who: Parties, handle: LoanHandle, *, approvers: int = 1) -> Loan:
        offer = await self.to_offer(who, handle, approvers=approvers)
        await decide(handle, offer, who.supplier.actor, "accept")
        return await self.loan_status(handle.id.removeprefix("loan:"), LoanStatus.DISBURSED)

    async def payout_refused(
        self, who: Parties, handle: LoanHandle, bank_control: BankControl
    ) -> tuple[str, HumanTask]:
        """The supplier's account closed at the bank, the offer accepted: its account and the
        task the bank's refusal opens for finance."""
        with self.sessions() as session:
            account = session.get_one(Organisation, who.supplier.org.id).bank_account
        assert account is not None
        bank_control.close_account(account)
        offer = await self.to_offer(who, handle)
        await decide(handle, offer, who.supplier.actor, "accept")
        task = await self.task(handle.id.removeprefix("loan:"), "loan_disbursement_rejected")
        return account, task

    def ledger_sums(self) -> Decimal:
        with self.sessions() as session:
            return Decimal(session.scalar(select(func.coalesce(func.sum(Posting.amount), 0))) or 0)

    def bank_payouts(self, loan_id: str, day: date) -> list[Any]:
        statement = self.bank.statement(self.bank_account, day)
        return [e for e in statement.entries if e.idempotency_key.startswith(loan_id)]

    bank_account = Settings().bank_platform_account


@pytest.fixture
async def time_skipping_env(keyring: KeyRing) -> AsyncIterator[WorkflowEnvironment]:
    """A server of each test's own: a loan's clock runs from its payout's bank day, so a clock
    another test skipped ahead would find a loan overdue before its due date."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(time_skipping_server_path()),
        data_converter=data_converter(keyring),
    )
    yield env
    await env.shutdown()


@dataclass(frozen=True)
class Services:
    """What a worker of the loan tests runs on: the database, object store and sandboxes."""

    sessions: sessionmaker[Session]
    store: ObjectStore
    registry: CertificationRegistryClient
    regulator: RegulatorClient
    bank: BankClient
    receivables_registry: ReceivablesRegistryClient

    def worker(self, client: Client, settings: Settings, task_queue: str) -> Workers:
        with transaction(self.sessions) as session:
            seed_demo(session)  # the platform: the lender the registry names, finance told
        return build_worker(
            client,
            settings=settings,
            sessions=self.sessions,
            store=self.store,
            registry=self.registry,
            regulator=self.regulator,
            bank=self.bank,
            receivables_registry=self.receivables_registry,
            task_queue=task_queue,
        )


@pytest.fixture
def services(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
    regulator: RegulatorClient,
    bank: BankClient,
    receivables_registry: ReceivablesRegistryClient,
) -> Services:
    return Services(sessions, store, registry, regulator, bank, receivables_registry)


@pytest.fixture
async def harness(
    time_skipping_env: WorkflowEnvironment, settings: Settings, services: Services
) -> AsyncIterator[Harness]:
    task_queue = new_task_queue()
    client = time_skipping_env.client
    async with services.worker(client, settings, task_queue):
        harness = Harness(
            time_skipping_env, client, task_queue, services.sessions, services.store, services.bank
        )
        yield harness
        await terminate_all(client, harness.started)


async def test_a_loan_is_paid_out_once_and_repaid_first_from_the_buyers_payments(
    harness: Harness,
) -> None:
    who, order, order_id = await harness.order(invoiced=True)
    with harness.sessions() as session:
        total = session.get(Order, order_id).total_amount  # type: ignore[union-attr]
    amount = (total * Decimal("0.6")).quantize(CENT)
    handle = await harness.apply(who, order_id, amount)
    loan_id = handle.id.removeprefix("loan:")
    loan = await harness.disbursed(who, handle)
    assert loan.disbursed_on is not None and loan.due_on == loan.disbursed_on + timedelta(days=60)
    assert loan.registration_number and loan.principal_owed == amount
    (payout,) = harness.bank_payouts(loan_id, loan.disbursed_on)
    assert Decimal(payout.amount) == -amount
    fee = loan.fee_owed
    assert fee > 0 and harness.ledger_sums() == 0

    # The buyer pays the invoice in two parts on the order: the loan is repaid first.
    paid_on = loan.disbursed_on + timedelta(days=30)
    first = (amount / 2).quantize(CENT)
    await order.execute_update(
        OrderWorkflow.record_payment,
        PaymentInput(
            amount=Money(amount=first, currency="CNY"),
            reference="BANK-LOAN-1",
            paid_on=paid_on,
            actor=who.finance.actor,
        ),
    )

    async def repaid_once() -> LoanRepayment | None:
        with harness.sessions() as session:
            return session.scalars(
                select(LoanRepayment).where(LoanRepayment.loan_id == loan_id)
            ).first()

    part = await eventually(repaid_once)
    # 30 days of interest at the contract rate, ACT/360, on the whole principal (算头不算尾).
    with harness.sessions() as session:
        rate = Decimal(session.get(Loan, loan_id).terms["interest_rate"])  # type: ignore[index,union-attr]
    interest = (amount * rate * 30 / 360).quantize(CENT, ROUND_HALF_UP)
    assert (part.penalty, part.interest, part.fee) == (Decimal(0), interest, fee)
    assert part.principal == first - interest - fee and part.remitted == 0
    rest = total - first
    receipt = await order.execute_update(
        OrderWorkflow.record_payment,
        PaymentInput(
            amount=Money(amount=rest, currency="CNY"),
            reference="BANK-LOAN-2",
            paid_on=paid_on,
            actor=who.finance.actor,
        ),
    )
    assert receipt.status == OrderStatus.COMPLETED
    outcome = await handle.result()
    assert outcome.status == LoanStatus.REPAID
    done = await harness.loan_status(loan_id, LoanStatus.REPAID)
    assert done.owed() == 0 and done.registration_released
    with harness.sessions() as session:
        second = session.get(LoanRepayment, f"{order_id}:payment-2")
        assert second is not None
        # Principal left after the first part, then the rest to the supplier.
        assert second.principal == amount - part.principal and second.interest == 0
        assert second.remitted == rest - second.principal and second.remittance_payment_id
        assert balance(session, Account.PRINCIPAL, loan_id=loan_id) == 0
        assert balance(session, Account.SUPPLIER_PAYABLE, loan_id=loan_id) == 0
        kinds = session.scalars(select(Journal.kind).where(Journal.loan_id == loan_id)).all()
    # Both parts were paid on one day: the second found nothing more accrued to book.
    assert sorted(kinds) == sorted(
        ["disbursement", "fee", "accrual", "repayment", "repayment", "remittance"]
    )
    assert harness.ledger_sums() == 0
    assert len(harness.bank_payouts(loan_id, loan.disbursed_on)) == 2  # payout and remittance
    await order.result()
    await record_history(handle, "loan_repaid")
    await record_history(order, "order_paid_repays_loan")


async def test_an_offer_not_accepted_in_time_lapses_and_no_money_moves(harness: Harness) -> None:
    who, _, order_id = await harness.order(invoiced=False)
    handle = await harness.apply(who, order_id, Decimal("10000.00"), offer_valid_days=2)
    loan_id = handle.id.removeprefix("loan:")
    await harness.to_offer(who, handle)
    await skip_time(harness.env, timedelta(days=2, minutes=1))
    # Polled, not awaited: waiting on a result lets the server skip time past the supplier's
    # accreditation, which the next application is checked against.
    row = await harness.loan_status(loan_id, LoanStatus.LAPSED)
    assert row.payment_id is None and row.registration_number is None
    assert harness.bank.find_payment(loan_id) is None
    # The order is free again: a new application may be made on it.
    again = await harness.apply(who, order_id, Decimal("10000.00"))
    await harness.loan_status(again.id.removeprefix("loan:"), LoanStatus.AWAITING_CONFIRMATION)
    assert (await handle.result()).status == LoanStatus.LAPSED
    await record_history(handle, "loan_offer_lapsed")


async def test_the_applicant_may_withdraw_before_approval_only(harness: Harness) -> None:
    who, _, order_id = await harness.order(invoiced=False)
    handle = await harness.apply(who, order_id, Decimal("10000.00"))
    loan_id = handle.id.removeprefix("loan:")
    confirmation = await harness.task(loan_id, "loan_receivable_confirmation")
    await decide(handle, confirmation.id, who.finance.actor, "confirm")
    approval = await harness.task(loan_id, "loan_approval")
    with pytest.raises(WorkflowUpdateFailedError) as stranger:
        await handle.execute_update(
            LoanWorkflow.withdraw_loan, WithdrawInput(reason="x", actor=who.buyer.actor)
        )
    assert refusal(stranger)[0] == "WrongRole"
    view: LoanView = await handle.execute_update(
        LoanWorkflow.withdraw_loan,
        WithdrawInput(reason="paid by the buyer early", actor=who.supplier.actor),
    )
    assert view.status == LoanStatus.UNDER_REVIEW
    ended = await harness.ended(handle)
    assert ended.status == LoanStatus.WITHDRAWN and "paid by the buyer early" in ended.status_reason
    with harness.sessions() as session:
        assert session.get(HumanTask, approval.id).status == "cancelled"  # type: ignore[union-attr]
    await record_history(handle, "loan_withdrawn")

    # After approval the offer is declined instead: withdrawal is refused.
    later = await harness.apply(who, order_id, Decimal("10000.00"))
    await harness.to_offer(who, later)
    with pytest.raises(WorkflowUpdateFailedError) as too_late:
        await later.execute_update(
            LoanWorkflow.withdraw_loan, WithdrawInput(reason="late", actor=who.supplier.actor)
        )
    assert refusal(too_late)[0] == "NotReady"
    offer = await harness.task(later.id.removeprefix("loan:"), "loan_offer")
    await decide(later, offer.id, who.supplier.actor, "decline", comment="found cheaper money")
    assert (await later.result()).status == LoanStatus.WITHDRAWN


async def test_an_overdue_loan_accrues_penalty_and_is_written_off_by_two_people(
    harness: Harness,
) -> None:
    who, _, order_id = await harness.order(invoiced=False)
    amount = Decimal("20000.00")
    handle = await harness.apply(who, order_id, amount, two_approvers_above=Decimal(1000))
    loan_id = handle.id.removeprefix("loan:")
    confirmation = await harness.task(loan_id, "loan_receivable_confirmation")
    await decide(handle, confirmation.id, who.finance.actor, "confirm")
    first = await harness.task(loan_id, "loan_approval")
    await decide(handle, first.id, FINANCE_1, "approve")
    second = await harness.task(loan_id, "loan_approval")
    assert second.id != first.id and FINANCE_1.user_id in second.excluded_user_ids
    with pytest.raises(WorkflowUpdateFailedError) as same_person:
        await decide(handle, second.id, FINANCE_1, "approve")
    assert refusal(same_person)[0] == "SameApprover"
    await decide(handle, second.id, FINANCE_2, "approve")
    offer = await harness.task(loan_id, "loan_offer")
    await decide(handle, offer.id, who.supplier.actor, "accept")
    loan = await harness.loan_status(loan_id, LoanStatus.DISBURSED)
    assert loan.approved_by == [FINANCE_1.user_id, FINANCE_2.user_id]
    assert loan.due_on is not None

    # Past the due date unpaid: overdue, and finance is asked to collect.
    overdue_at = datetime.combine(loan.due_on + timedelta(days=1), time(1, 0), tzinfo=CHINA)
    await skip_time(harness.env, overdue_at - await harness.now())
    await harness.loan_status(loan_id, LoanStatus.OVERDUE)
    collections = await harness.task(loan_id, "loan_collections")

    # Ten days late the buyer pays part: penalty interest (the contract rate plus half) on the
    # principal for the days past due, the term's interest and the fee come first.
    paid_on = loan.due_on + timedelta(days=10)
    await handle.signal(
        LoanWorkflow.repay,
        RepaymentInput(
            loan_id=loan_id,
            payment_id=f"{order_id}:payment-late",
            amount=Money(amount=Decimal("5000.00"), currency="CNY"),
            paid_on=paid_on,
            reference="LATE-1",
        ),
    )

    async def applied() -> LoanRepayment | None:
        with harness.sessions() as session:
            return session.get(LoanRepayment, f"{order_id}:payment-late")

    late = await eventually(applied)
    with harness.sessions() as session:
        terms = session.get(Loan, loan_id).terms  # type: ignore[union-attr]
    assert terms is not None
    rate, penalty_rate = Decimal(terms["interest_rate"]), Decimal(terms["penalty_rate"])
    assert penalty_rate == (rate * Decimal("1.5")).quantize(Decimal("0.000001"))
    assert late.interest == (amount * rate * 60 / 360).quantize(CENT, ROUND_HALF_UP)
    assert late.penalty == (amount * penalty_rate * 10 / 360).quantize(CENT, ROUND_HALF_UP)
    assert late.principal == Decimal("5000.00") - late.penalty - late.interest - late.fee

    # A write-off is proposed with a reason and needs a second, different approver.
    with pytest.raises(WorkflowUpdateFailedError) as no_reason:
        await decide(handle, collections.id, FINANCE_1, "write_off")
    assert "reason" in refusal(no_reason)[1]
    await decide(handle, collections.id, FINANCE_1, "write_off", comment="buyer insolvent")
    write_off = await harness.task(loan_id, "loan_write_off")
    with pytest.raises(WorkflowUpdateFailedError) as same:
        await decide(handle, write_off.id, FINANCE_1, "approve")
    assert refusal(same)[0] == "SameApprover"
    await decide(handle, write_off.id, FINANCE_2, "approve")
    outcome = await handle.result()
    assert outcome.status == LoanStatus.WRITTEN_OFF
    row = await harness.loan_status(loan_id, LoanStatus.WRITTEN_OFF)
    # The late payment had paid the penalty, interest and fee: the principal left is lost.
    assert row.owed() == 0 and row.written_off == amount - late.principal
    with harness.sessions() as session:
        assert balance(session, Account.PRINCIPAL, loan_id=loan_id) == 0
        assert balance(session, Account.WRITE_OFF, loan_id=loan_id) == row.written_off
    assert harness.ledger_sums() == 0
    await record_history(handle, "loan_written_off")


async def test_a_payout_the_bank_refuses_goes_to_finance_and_is_paid_once_after_the_retry(
    harness: Harness, bank_control: BankControl
) -> None:
    who, _, order_id = await harness.order(invoiced=False)
    handle = await harness.apply(who, order_id, Decimal("10000.00"))
    loan_id = handle.id.removeprefix("loan:")
    account, refused = await harness.payout_refused(who, handle, bank_control)
    row = await harness.loan_status(loan_id, LoanStatus.DISBURSEMENT_REJECTED)
    assert "account_closed" in row.status_reason and row.payment_id is None
    with pytest.raises(WorkflowUpdateFailedError) as supplier:
        await decide(handle, refused.id, who.supplier.actor, "retry")
    assert refusal(supplier)[0] == "WrongRole"

    bank_control.open_account(account)
    answer = await decide(handle, refused.id, FINANCE_1, "retry")
    assert answer.process_status == LoanStatus.DISBURSING
    paid = await harness.loan_status(loan_id, LoanStatus.DISBURSED)
    assert paid.disbursed_on is not None
    # The refused payment stays refused under its key; the retry is the one payout booked.
    first = harness.bank.find_payment(loan_id)
    assert first is not None and not first.settled
    (payout,) = harness.bank_payouts(loan_id, paid.disbursed_on)
    assert payout.payment_id == paid.payment_id and Decimal(payout.amount) == Decimal("-10000.00")
    assert harness.ledger_sums() == 0
    await record_history(handle, "loan_payout_refused_then_paid")


async def test_a_receivable_the_buyer_does_not_confirm_moves_no_money(harness: Harness) -> None:
    who, _, order_id = await harness.order(invoiced=False)
    handle = await harness.apply(who, order_id, Decimal("10000.00"))
    loan_id = handle.id.removeprefix("loan:")
    confirmation = await harness.task(loan_id, "loan_receivable_confirmation")
    with pytest.raises(WorkflowUpdateFailedError) as no_reason:
        await decide(handle, confirmation.id, who.finance.actor, "reject")
    assert "reason" in refusal(no_reason)[1]
    await decide(handle, confirmation.id, who.finance.actor, "reject", comment="goods disputed")
    outcome = await handle.result()
    assert outcome.status == LoanStatus.REJECTED and "goods disputed" in outcome.reason
    row = await harness.loan_status(loan_id, LoanStatus.REJECTED)
    assert row.terms is None and row.registration_number is None and row.payment_id is None
    assert harness.bank.find_payment(loan_id) is None
    await record_history(handle, "loan_receivable_rejected")


async def test_the_reconciliation_runs_each_morning_for_the_day_before(harness: Harness) -> None:
    handle = await harness.client.start_workflow(
        ReconciliationWorkflow.run,
        id=f"recon-{uuid.uuid4().hex[:8]}",
        task_queue=harness.task_queue,
    )
    harness.started.append(handle.id)
    now = (await harness.now()).astimezone(CHINA)
    first_run = datetime.combine(now.date(), time(1, 0), tzinfo=CHINA)
    if first_run <= now:
        first_run += timedelta(days=1)
    await skip_time(harness.env, first_run - now + timedelta(minutes=5))
    day = (first_run - timedelta(days=1)).date()

    async def recorded() -> Reconciliation | None:
        with harness.sessions() as session:
            return session.get(Reconciliation, day)

    reconciliation = await eventually(recorded, what=f"the reconciliation of {day}")
    assert reconciliation.matched >= 0 and "items" in reconciliation.differences
    await record_history(handle, "bank_reconciliation_daily")


async def test_a_loan_on_an_order_paid_before_its_payout_is_refused_and_nothing_is_paid(
    harness: Harness,
) -> None:
    who, order, order_id = await harness.order(invoiced=True)
    handle = await harness.apply(who, order_id, Decimal("10000.00"))
    loan_id = handle.id.removeprefix("loan:")
    confirmation = await harness.task(loan_id, "loan_receivable_confirmation")
    await decide(handle, confirmation.id, who.finance.actor, "confirm")
    await harness.task(loan_id, "loan_approval")
    # While finance reviews, the buyer pays the whole order: nothing is left to lend against.
    with harness.sessions() as session:
        total = session.get_one(Order, order_id).total_amount
    receipt = await order.execute_update(
        OrderWorkflow.record_payment,
        PaymentInput(
            amount=Money(amount=total, currency="CNY"),
            reference="PAID-EARLY",
            paid_on=(await harness.now()).date(),
            actor=who.finance.actor,
        ),
    )
    assert receipt.status == OrderStatus.COMPLETED
    offer = await harness.to_offer(who, handle, confirmed=True)
    await decide(handle, offer, who.supplier.actor, "accept")
    outcome = await handle.result()
    assert outcome.status == LoanStatus.REFUSED
    assert (
        "no longer eligible before the payout" in outcome.reason and "completed" in outcome.reason
    )
    row = await harness.loan_status(loan_id, LoanStatus.REFUSED)
    assert row.registration_number is None and row.payment_id is None
    assert harness.bank.find_payment(loan_id) is None
    await record_history(handle, "loan_refused_before_payout")


async def test_a_payment_that_came_while_the_payout_was_refused_goes_on_to_the_supplier(
    harness: Harness, bank_control: BankControl
) -> None:
    who, order, order_id = await harness.order(invoiced=True)
    handle = await harness.apply(who, order_id, Decimal("10000.00"))
    loan_id = handle.id.removeprefix("loan:")
    account, refused = await harness.payout_refused(who, handle, bank_control)
    # The buyer pays part of the order meanwhile: it waits with the loan for the payout.
    await order.execute_update(
        OrderWorkflow.record_payment,
        PaymentInput(
            amount=Money(amount=Decimal("3000.00"), currency="CNY"),
            reference="WHILE-REFUSED",
            paid_on=(await harness.now()).date(),
            actor=who.finance.actor,
        ),
    )
    bank_control.open_account(account)
    await decide(handle, refused.id, FINANCE_1, "cancel", comment="supplier changes bank")
    outcome = await handle.result()
    assert outcome.status == LoanStatus.CANCELLED

    async def passed_on() -> LoanRepayment | None:
        with harness.sessions() as session:
            row = session.get(LoanRepayment, f"{order_id}:payment-1")
            assert row is None or row.remittance_payment_id, "not remitted yet"
            return row

    # Nothing was lent: all of it is the supplier's, paid on through the supervised account.
    payment = await eventually(passed_on)
    assert payment.remitted == Decimal("3000.00") and payment.principal == 0
    assert payment.fee == payment.interest == payment.penalty == 0
    with harness.sessions() as session:
        assert balance(session, Account.SUPPLIER_PAYABLE, loan_id=loan_id) == 0
        assert balance(session, Account.BANK, loan_id=loan_id) == 0
        assert session.get_one(Loan, loan_id).registration_released
    assert harness.ledger_sums() == 0
    await record_history(handle, "loan_cancelled_payment_passed_on")


async def test_a_day_the_bank_will_not_reconcile_is_reported_and_the_next_days_still_run(
    time_skipping_env: WorkflowEnvironment, settings: Settings, services: Services
) -> None:
    # A platform account the bank refuses to give a statement of (422): a failure for good.
    refused = settings.model_copy(update={"bank_platform_account": "not-an-account"})
    task_queue = new_task_queue()
    client = time_skipping_env.client
    sessions = services.sessions
    async with services.worker(client, refused, task_queue):
        handle = await client.start_workflow(
            ReconciliationWorkflow.run, id=f"recon-{uuid.uuid4().hex[:8]}", task_queue=task_queue
        )
        try:
            now = (await time_skipping_env.get_current_time()).astimezone(CHINA)
            first_run = datetime.combine(now.date(), time(1, 0), tzinfo=CHINA)
            if first_run <= now:
                first_run += timedelta(days=1)
            await skip_time(time_skipping_env, first_run - now + timedelta(days=1, minutes=5))
            days = [(first_run + timedelta(days=n - 1)).date().isoformat() for n in (0, 1)]

            async def reported() -> list[Notification] | None:
                with sessions() as session:
                    found = session.scalars(
                        select(Notification).where(
                            Notification.kind == "bank_reconciliation_failed",
                            Notification.subject_id.in_(days),
                        )
                    ).all()
                assert len(found) == 2, [n.subject_id for n in found]
                return list(found)

            failures = await eventually(reported, what="both days reported")
            assert all("account number" in n.message for n in failures)
            assert all(n.org_id == OPERATOR_ORG_ID and n.role == "finance" for n in failures)
            await record_history(handle, "bank_reconciliation_day_failed")
        finally:
            await terminate_all(client, [handle.id])
