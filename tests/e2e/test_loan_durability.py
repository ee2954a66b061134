"""The bank fails every way it can while a loan is paid out (503s, a timeout, then a payment it
books but whose answer never arrives) and the worker process waiting for that answer is killed
(SIGKILL): once another worker takes over, the loan is paid out exactly once by the bank's own
record, booked once in the ledger, the ledger balances, and the day's reconciliation with the
bank's statement finds no difference.

Dev server and real worker processes: a SIGKILLed attempt is only retried once its worker's
beats stop for the heartbeat timeout (``contracts.liveness``), which the time-skipping server
would skip past instead of proving. A database and a bank of the module's own
(``tests.harness.loans``), so the day's reconciliation compares this loan's movements and nothing
else.
"""

from __future__ import annotations

import contextlib
import signal
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from contracts.common import OPERATOR_ORG_ID, Money, Role
from contracts.finance import LoanApplication, LoanInput, LoanStatus, loan_workflow_id
from contracts.fulfilment import OrderStatus
from db.finance import Journal, Loan
from db.models import HumanTask, Order
from gateways.bank import BankClient
from gateways.receivables_registry import ReceivablesRegistryClient
from sandboxes.bank import BankControl, BankSandbox
from sandboxes.faults import FaultMode
from settings import Settings
from storage.object_store import ObjectStore
from tests.conftest import TEST_BANK_KEY
from tests.harness import loans as lo
from tests.harness import orders as o
from tests.harness import sourcing as s
from tests.harness.postgres import rows
from tests.harness.temporal import eventually, new_task_queue
from tests.workflows.test_order import decide
from workflows.loan import LoanWorkflow

pytestmark = pytest.mark.long(seconds=45)  # handed out first: see tests/conftest.py

# The worker's bank client gives up after this long; the sandbox's timeouts are set past it.
CLIENT_TIMEOUT_S = 2.0
PAYMENTS = "/payments"


loan_database = lo.loan_database
sessions = lo.own_sessions
loan_bank = lo.loan_bank
bank_control = lo.bank_control


async def open_task(sessions: sessionmaker[Session], subject_id: str, kind: str) -> HumanTask:
    async def opened() -> HumanTask | None:
        found = rows(sessions, HumanTask, subject_id=subject_id, kind=kind, status="open")
        return found[0] if found else None

    return await eventually(opened, what=f"an open {kind} task", attempts=400, interval=0.1)


async def loan_reaches(
    sessions: sessionmaker[Session], loan_id: str, status: LoanStatus, attempts: int = 400
) -> Loan:
    async def reached() -> Loan | None:
        found = rows(sessions, Loan, id=loan_id)
        assert found, "no loan row yet"
        assert found[0].status == status.value, f"{found[0].status}: {found[0].status_reason}"
        loan: Loan = found[0]
        return loan

    return await eventually(reached, what=f"loan {status.value}", attempts=attempts, interval=0.25)


async def order_confirmed(sessions: sessionmaker[Session], order_id: str) -> Order:
    """The order once its confirmation is recorded: a loan may be taken on it from then."""

    async def confirmed() -> Order | None:
        (row,) = rows(sessions, Order, id=order_id)
        assert row.status != OrderStatus.AWAITING_CONFIRMATION.value, row.status
        found: Order = row
        return found

    return await eventually(confirmed, what="the order confirmed", attempts=400, interval=0.1)


def payout_faults(control: BankControl, loan_id: str) -> list[str | None]:
    """The fault each payment order under the loan's key met, oldest first (None: it reached
    the bank)."""
    return [
        r["fault"]
        for r in control.requests(path_prefix=PAYMENTS)
        if r["method"] == "POST" and r["idempotency_key"] == loan_id
    ]


async def until_a_payout_meets(control: BankControl, loan_id: str, mode: FaultMode) -> None:
    async def met() -> bool | None:
        return True if mode in payout_faults(control, loan_id) else None

    await eventually(met, what=f"a payout meeting {mode}", attempts=400, interval=0.05)


async def payout_in_flight(handle: WorkflowHandle[Any, Any]) -> int | None:
    """The attempt number of a ``disburse_loan`` a worker started and has not answered."""
    pending = (await handle.describe()).raw_description.pending_activities
    started = [
        a.attempt
        for a in pending
        if a.activity_type.name == "disburse_loan"
        and a.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
    ]
    return started[0] if started else None


async def test_a_loan_is_paid_out_once_through_bank_faults_and_a_killed_worker(
    dev_env: WorkflowEnvironment,
    settings: Settings,
    loan_database: str,
    loan_bank: BankSandbox,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    bank_control: BankControl,
    receivables_registry: ReceivablesRegistryClient,
) -> None:
    client = dev_env.client
    task_queue = new_task_queue()
    worker_settings = settings.model_copy(
        update={
            "database_url": loan_database,
            "temporal_address": client.service_client.config.target_host,
            "task_queue": task_queue,
            "bank_url": loan_bank.url,
            "bank_timeout_s": CLIENT_TIMEOUT_S,
        }
    )
    who = o.parties(sessions, store)
    account = lo.with_bank_account(sessions, who.supplier.org.id)
    approver = s.member(sessions, s.org_row(sessions, OPERATOR_ORG_ID), Role.FINANCE).actor
    terms = o.executed_contract(sessions, who, now=datetime.now(UTC), lines=(lo.CARTONS,))
    handles: list[WorkflowHandle[Any, Any]] = []
    try:
        with lo.worker_process(worker_settings) as first:
            # -- a confirmed order, and a loan against it up to the offer --------------------
            order = await o.start_order(client, terms, task_queue=task_queue)
            handles.append(order)
            order_id = order.id.removeprefix("Order:")
            confirming = await open_task(sessions, order_id, "order_confirmation")
            await decide(order, confirming.id, who.supplier.actor, "confirm")
            row = await order_confirmed(sessions, order_id)
            principal = (row.total_amount * Decimal("0.6")).quantize(lo.CENT)
            loan_id = f"loan-durable-{order_id[-8:]}"
            loan = await client.start_workflow(
                LoanWorkflow.run,
                LoanInput(
                    application=LoanApplication(
                        loan_id=loan_id,
                        order_id=order_id,
                        supplier_org_id=who.supplier.org.id,
                        buyer_org_id=who.buyer.org.id,
                        amount=Money(amount=principal, currency="CNY"),
                        term_days=30,
                        applied_by=who.supplier.actor,
                        applied_at=datetime.now(UTC),
                    )
                ),
                id=loan_workflow_id(loan_id),
                task_queue=task_queue,
            )
            handles.append(loan)
            confirmation = await open_task(sessions, loan_id, "loan_receivable_confirmation")
            await decide(loan, confirmation.id, who.finance.actor, "confirm")
            approval = await open_task(sessions, loan_id, "loan_approval")
            await decide(loan, approval.id, approver, "approve")
            offer = await open_task(sessions, loan_id, "loan_offer")

            # -- the payout: 503s, then a timeout, then a payment booked whose answer the
            # worker never gets, because it is killed waiting for it.
            # Armed first: it strikes only once a payment gets past the faults below, and
            # holds the booked payment's answer longer than the worker waits.
            bank_control.accept_then_fail(
                mode="timeout", delay_s=CLIENT_TIMEOUT_S * 4, count=1, paths=[PAYMENTS]
            )
            # The bank is down (bounded, in case the payout never comes) ...
            bank_control.set_fault(mode="error", status=503, seconds=60, paths=[PAYMENTS])
            await decide(loan, offer.id, who.supplier.actor, "accept")
            await until_a_payout_meets(bank_control, loan_id, "error")
            # ... then it stops answering once ...
            bank_control.set_fault(
                mode="timeout", delay_s=CLIENT_TIMEOUT_S + 0.5, count=1, paths=[PAYMENTS]
            )
            await until_a_payout_meets(bank_control, loan_id, "timeout")

            # ... and the next payment is booked; the worker dies waiting for the answer.
            async def booked_in_flight() -> int | None:
                if bank_control.after_accept_applied() < 1:
                    return None
                return await payout_in_flight(loan)

            killed_attempt = await eventually(
                booked_in_flight, what="a booked payout in flight", attempts=400, interval=0.05
            )
            first.send_signal(signal.SIGKILL)
            first.wait()
        # The killed attempt was still in flight: the bank holds the payment, the ledger not.
        assert await payout_in_flight(loan) == killed_attempt
        with BankClient(loan_bank.url, api_key=TEST_BANK_KEY, timeout_s=5.0) as bank:
            booked = bank.find_payment(loan_id)
            assert booked is not None and booked.settled and booked.value_date is not None
            assert (booked.payee_account, booked.amount) == (account, principal)
            assert rows(sessions, Journal, loan_id=loan_id) == []
            (waiting,) = rows(sessions, Loan, id=loan_id)
            assert (waiting.status, waiting.payment_id) == (LoanStatus.DISBURSING.value, None)

            with lo.worker_process(worker_settings):
                # Retried once the killed attempt's heartbeat timeout passes: the retry
                # pays again under the loan id and the bank answers the payment it booked.
                paid = await loan_reaches(sessions, loan_id, LoanStatus.DISBURSED, attempts=320)

            # -- exactly once, by the bank's own record and in the ledger ---------------------
            assert (paid.payment_id, paid.disbursed_on) == (booked.payment_id, booked.value_date)
            assert paid.principal_owed == principal and paid.fee_owed > 0
            day = booked.value_date
            statement = bank.statement(worker_settings.bank_platform_account, day)
            assert [(e.payment_id, e.amount) for e in statement.under_key(loan_id)] == [
                (booked.payment_id, -principal)
            ]
            assert len(statement.entries) == 1  # nothing else left the supervised account
            assert bank_control.balance(account) == principal
            faults = payout_faults(bank_control, loan_id)
            assert faults[0] == "error" and "timeout" in faults
            # The booked payment whose answer was lost, and the retry's replay of it.
            assert faults[faults.index("timeout") + 1 :] == [None, None], faults
            journals = rows(sessions, Journal, loan_id=loan_id)
            assert sorted(j.kind for j in journals) == ["disbursement", "fee"]
            (payout,) = [j for j in journals if j.kind == "disbursement"]
            assert payout.bank_reference == booked.payment_id and payout.booked_on == day
            assert lo.ledger_total(sessions) == 0
            result = lo.reconcile(sessions, worker_settings, bank, receivables_registry, day)
            assert (result.matched, result.differences) == (1, ())
    finally:
        for handle in handles:
            with contextlib.suppress(RPCError):
                await handle.terminate("test finished")
