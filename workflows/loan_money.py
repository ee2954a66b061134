"""A loan's money: its registration, the payout, and its repayment from the buyer's payments
on the order, with reminders, collections and a four-eyes write-off. Part of ``workflows.loan``.

The payout's idempotency key is the loan id (``activities.loans``): a retried or replayed step
finds the bank's payment and books nothing twice; only finance's retry after the bank refused
makes a new payment. Payments arrive as ``repay`` signals from the order workflow and are applied
one at a time, each once (by the order's payment id).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import time, timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.common import OPERATOR_ORG_ID, Role, money_text
    from contracts.finance import (
        COLLECTIONS_TASK,
        DISBURSEMENT_REJECTED_TASK,
        WRITE_OFF_TASK,
        DisburseInput,
        Disbursement,
        EligibilityCheck,
        LoanStatus,
        RegisterInput,
        Registration,
        Repayment,
        RepaymentInput,
        WriteOffInput,
    )
    from contracts.tasks import NotifyInput, TaskDecision
    from workflows import policies
    from workflows.human_tasks import Abandoned, process_key
    from workflows.loan_state import CHINA, LoanState, china_time

REMIND_AT = time(9, 0)
# Past due and unpaid, finance is asked again after each round of chasing.
COLLECTIONS_ROUND = timedelta(days=7)


class LoanMoney(LoanState):
    """Registration, payout and repayment steps of the loan workflow."""

    async def _register(self) -> Registration:
        """Check the loan once more, now that the order's payments come to it, and register
        the financing; ``problem`` when either refuses."""
        await self._set(LoanStatus.REGISTERING)
        check = await policies.call(
            "check_loan", self._loan, EligibilityCheck, policy=policies.DATABASE
        )
        if check.problems:
            reasons = "; ".join(f"{field}: {rule}" for field, rule in check.problems)
            return Registration(problem=f"no longer eligible before the payout: {reasons}")
        terms = self._contracted()
        due = (workflow.now() + timedelta(days=terms.term_days)).astimezone(CHINA).date()
        return await policies.call(
            "register_receivable",
            RegisterInput(loan_id=self._loan_id, terms=terms, due_on=due),
            Registration,
            policy=policies.EXTERNAL,
        )

    async def _disburse(self) -> bool:
        """Pay out once; a bank refusal goes to finance, who retry (a new payment) or cancel."""
        terms = self._contracted()
        attempt = 1
        while True:
            await self._set(LoanStatus.DISBURSING)
            paid = await policies.call(
                "disburse_loan",
                DisburseInput(loan_id=self._loan_id, attempt=attempt, terms=terms),
                Disbursement,
                policy=policies.EXTERNAL,
            )
            if paid.settled and paid.value_date is not None:
                self._due_on = paid.value_date + timedelta(days=terms.term_days)
                self._outstanding = terms.principal.amount + terms.fee.amount
                self._status = LoanStatus.DISBURSED
                await self._tell_supplier(
                    "loan_disbursed",
                    f"{money_text(terms.principal.amount, terms.principal.currency)} paid out on "
                    f"{paid.value_date.isoformat()}; due on {self._due_on.isoformat()}",
                )
                return True
            await self._set(LoanStatus.DISBURSEMENT_REJECTED, reason=paid.reason)
            decision = await self.ask(
                f"disbursement-{attempt}",
                self._task(
                    DISBURSEMENT_REJECTED_TASK,
                    Role.FINANCE,
                    OPERATOR_ORG_ID,
                    title=f"The bank refused the payout of loan {self._loan_id}",
                    summary=(
                        f"Payout {attempt} was refused: {paid.reason}. Once the supplier's "
                        "account is put right, retry (a new payment); or cancel the loan, "
                        "giving the reason (the registration is released)."
                    ),
                    outcomes=("retry", "cancel"),
                ),
            )
            if decision is None:  # no expiry is set: a decision always comes
                raise ApplicationError("payout decision ended undecided", non_retryable=True)
            if decision.outcome == "cancel":
                self.reply(decision, process_status=LoanStatus.CANCELLED, message="cancelled")
                self._reason = f"cancelled by finance after the bank refused: {decision.comment}"
                return False
            self.reply(decision, process_status=LoanStatus.DISBURSING, message="paying again")
            attempt += 1

    # -- repayment --------------------------------------------------------------------------

    @workflow.signal
    def repay(self, payment: RepaymentInput) -> None:
        """A buyer's payment on the financed order (sent by the order workflow)."""
        if payment.payment_id not in self._seen_payments:
            self._seen_payments.add(payment.payment_id)
            self._payments.append(payment)

    async def _collect(self) -> None:
        """Apply the buyer's payments until repaid, reminding before the due date and chasing
        after it, until repaid or written off."""
        due_on = self._due_on
        if due_on is None:
            raise ApplicationError("collecting a loan that was not paid out", non_retryable=True)
        moments = [
            (china_time(due_on - timedelta(days=days), REMIND_AT), f"reminder-{days}")
            for days in sorted(self._loan.reminder_days_before, reverse=True)
            if days > 0
        ]
        moments.append((china_time(due_on + timedelta(days=1)), "overdue"))
        moments = [(at, what) for at, what in moments if at > workflow.now()] or moments[-1:]
        chasing: asyncio.Task[None] | None = None
        while not (self._repaid or self._written_off):
            # A moment already past (a step that waited days for ops, say) is acted on at
            # once: waiting for a payment then would leave the loan never overdue.
            timeout = moments[0][0] - workflow.now() if moments else None
            if timeout is None or timeout > timedelta(0):
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: bool(self._payments) or self._written_off or self._repaid,
                        timeout=timeout,
                    )
            await self._apply_payments()
            if moments and workflow.now() >= moments[0][0] and not self._repaid:
                _, what = moments.pop(0)
                if what == "overdue":
                    chasing = asyncio.create_task(self._chase())
                    await self._overdue()
                else:
                    await self._remind()
        if chasing is not None:
            await chasing

    async def _apply_payments(self) -> None:
        """Apply the payments received, one at a time and each once: the collection loop and
        a write-off both call this, so a write-off waits for a payment being applied."""
        async with self._payment_lock:
            while self._payments and not self._written_off:
                payment = self._payments.pop(0)
                repayment = await policies.call(
                    "apply_repayment", payment, Repayment, policy=policies.DATABASE
                )
                if repayment.remitted > 0:
                    await policies.run("remit_to_supplier", payment, policy=policies.EXTERNAL)
                self._outstanding = repayment.outstanding
                self._repaid = repayment.outstanding <= 0
                currency = repayment.currency
                costs = repayment.fee + repayment.interest + repayment.penalty
                await self._tell_supplier(
                    f"loan_repayment:{payment.payment_id}",
                    f"the buyer paid {money_text(payment.amount.amount, currency)}: "
                    f"{money_text(repayment.principal, currency)} principal, "
                    f"{money_text(costs, currency)} fee and interest; "
                    f"{money_text(repayment.remitted, currency)} paid on to you; "
                    f"{money_text(repayment.outstanding, currency)} still owed",
                )

    async def _pass_on(self) -> None:
        """Payments that came for a loan that ended before its payout, or while it ended
        repaid, are all the supplier's: booked through the supervised account and paid on."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._apply_payments()

    async def _report_recoveries(self) -> None:
        """Payments that came while the loan was being written off: a recovery the ledger has no
        journal for yet, so platform finance is told to book it."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        for payment in self._payments:
            await self.notify(
                NotifyInput(
                    notification_id=process_key(f"loan_recovery:{payment.payment_id}"),
                    org_id=OPERATOR_ORG_ID,
                    role=Role.FINANCE,
                    kind="loan_recovery",
                    subject_type="loan",
                    subject_id=self._loan_id,
                    message=(
                        f"Loan {self._loan_id} is written off; the buyer's payment "
                        f"{payment.payment_id} of "
                        f"{money_text(payment.amount.amount, payment.amount.currency)} "
                        f"(reference {payment.reference}) came after: book it as a recovery."
                    ),
                )
            )
        self._payments.clear()

    async def _remind(self) -> None:
        terms, due_on = self._contracted(), self._due_on
        owed = money_text(self._outstanding or Decimal(0), terms.principal.currency)
        message = f"{owed} is due on {due_on.isoformat() if due_on else '?'}"
        await self._tell_supplier(f"loan_reminder:{workflow.now().date()}", message)
        await self.notify(
            NotifyInput(
                notification_id=process_key(f"buyer_reminder:{workflow.now().date()}"),
                org_id=self._application.buyer_org_id,
                role=Role.FINANCE,
                kind="loan_reminder",
                subject_type="order",
                subject_id=self._application.order_id,
                message=(
                    f"Order {self._application.order_id} is financed: pay it into the "
                    f"platform's supervised account; the loan on it falls due on "
                    f"{due_on.isoformat() if due_on else '?'}."
                ),
            )
        )

    async def _overdue(self) -> None:
        await self._set(LoanStatus.OVERDUE, reason="past its due date unpaid")
        await self._tell_supplier(
            "loan_overdue", "the loan is overdue: penalty interest accrues on the principal"
        )

    async def _chase(self) -> None:
        """Collections: finance chases until the loan is repaid or two people write it off."""
        round_ = 0
        while not (self._repaid or self._written_off):
            round_ += 1
            try:
                decision = await self.ask(
                    f"collections-{round_}",
                    self._task(
                        COLLECTIONS_TASK,
                        Role.FINANCE,
                        OPERATOR_ORG_ID,
                        title=f"Collect overdue loan {self._loan_id}",
                        summary=(
                            f"Due on {self._due_on}, "
                            f"{money_text(self._outstanding or Decimal(0), self._currency)} "
                            "owed before penalty interest. Chase the buyer (order "
                            f"{self._application.order_id}) and the supplier, then keep "
                            "collecting (asked again in 7 days), or propose a write-off with "
                            "the reason (a second approver decides)."
                        ),
                        outcomes=("keep_collecting", "write_off"),
                    ),
                )
            except Abandoned:
                return
            if decision is None:
                continue
            if decision.outcome == "keep_collecting":
                self.reply(decision, process_status=LoanStatus.OVERDUE, message="collecting")
                await self._pause(COLLECTIONS_ROUND)
                continue
            self.reply(decision, process_status=LoanStatus.OVERDUE, message="write-off proposed")
            if await self._write_off(decision):
                return

    async def _pause(self, length: timedelta) -> None:
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._repaid, timeout=length)

    async def _write_off(self, proposal: TaskDecision) -> bool:
        try:
            decision = await self.ask(
                f"write-off-{proposal.task_id[-8:]}",
                self._task(
                    WRITE_OFF_TASK,
                    Role.FINANCE,
                    OPERATOR_ORG_ID,
                    title=f"Write off loan {self._loan_id}?",
                    summary=(
                        f"{proposal.actor.user_id} proposes to write off "
                        f"{money_text(self._outstanding or Decimal(0), self._currency)} plus "
                        f"accrued interest: {proposal.comment}. A different approver decides."
                    ),
                    outcomes=("approve", "reject"),
                    excluded_user_ids=(proposal.actor.user_id,),
                ),
            )
        except Abandoned:
            return True
        if decision is None:
            return False
        if decision.outcome == "reject":
            self.reply(decision, process_status=LoanStatus.OVERDUE, message="still collecting")
            return False
        await self._apply_payments()  # payments that came first still repay
        if self._repaid:
            self.reply(decision, process_status=LoanStatus.REPAID, message="repaid meanwhile")
            return True
        self._reason = (
            f"written off by {proposal.actor.user_id} and {decision.actor.user_id}: "
            f"{proposal.comment}"
        )
        # Not skippable: the loan is written off only once the ledger says so.
        await policies.call(
            "write_off_loan",
            WriteOffInput(
                loan_id=self._loan_id,
                decided_by=(proposal.actor.user_id, decision.actor.user_id),
                reason=proposal.comment,
            ),
            type(None),
            policy=policies.DATABASE,
        )
        self._written_off = True
        self._status = LoanStatus.WRITTEN_OFF
        self.reply(decision, process_status=LoanStatus.WRITTEN_OFF, message="written off")
        await self._tell_supplier("loan_written_off", self._reason)
        return True
