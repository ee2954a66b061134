"""One order loan, from the supplier's application to its last repayment (or its write-off).

Against lending on fake orders (刷单), no money moves before the buyer has confirmed the
receivable (确权): its finance confirms the amount, the due date and that nothing is disputed.
The application is first checked (accredited, the order live, within the advance rate and the
supplier's credit limit, no other loan on the order, the parties not related); the credit
assessment then grades the supplier over platform data and prices the loan; platform finance
approves (two different people above the threshold); the supplier accepts the offer before it
lapses. Until approval the supplier may withdraw. Then the money (``workflows.loan_money``): the
financing is registered with the receivables registry, the bank pays out exactly once, and the
buyer's payments on the order, passed on by the order workflow (signal ``repay``), repay the
loan first (penalty, interest, fee, then principal), the rest going on to the supplier. Reminders
go out before the due date; past it the loan is overdue, accrues penalty interest and finance
gets a collections task; a write-off needs a second finance approver. Repaid, the registration
is released.

Updates: ``withdraw_loan``, ``decide_task`` (inherited). Signal: ``repay``. Query: ``get_status``.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.common import OPERATOR_ORG_ID, Role, money_text
    from contracts.finance import (
        APPROVAL_TASK,
        CONFIRMATION_TASK,
        OFFER_TASK,
        CreditAssessment,
        EligibilityCheck,
        LoanInput,
        LoanOutcome,
        LoanStatus,
        LoanView,
        ReleaseInput,
        WithdrawInput,
    )
    from contracts.tasks import DecideTaskInput, TaskSpec
    from workflows import policies
    from workflows.human_tasks import Abandoned
    from workflows.loan_money import LoanMoney
    from workflows.loan_state import refused

WITHDRAWABLE = frozenset(
    {LoanStatus.APPLIED, LoanStatus.AWAITING_CONFIRMATION, LoanStatus.UNDER_REVIEW}
)


@workflow.defn
class LoanWorkflow(LoanMoney):
    @workflow.init
    def __init__(self, loan: LoanInput) -> None:
        super().__init__(loan)

    @workflow.run
    async def run(self, loan: LoanInput) -> LoanOutcome:
        check = await policies.call("record_loan", loan, EligibilityCheck, policy=policies.DATABASE)
        if check.problems:
            reason = "; ".join(f"{field}: {rule}" for field, rule in check.problems)
            return await self._end(LoanStatus.REFUSED, f"not eligible: {reason}")
        try:
            if not await self._confirm_receivable(check):
                return await self._end(self._status, self._reason)
            assessment = await self._assess()
            if assessment.declined:
                return await self._end(
                    LoanStatus.REJECTED,
                    "declined by the credit assessment: " + _reasons(assessment),
                )
            approvers = await self._approve(assessment)
            if approvers is None:
                return await self._end(LoanStatus.REJECTED, self._reason)
            # A withdrawal accepted while the last approval was still being recorded ends the
            # loan here, before the offer.
            if not await self._offer(assessment, approvers):
                return await self._end(self._status, self._reason)
        except Abandoned:
            withdrawal = self._withdrawal
            why = withdrawal.reason if withdrawal is not None and withdrawal.reason else "no reason"
            return await self._end(LoanStatus.WITHDRAWN, f"withdrawn by the supplier: {why}")
        registration = await self._register()
        if registration.problem:
            outcome = await self._end(LoanStatus.REFUSED, registration.problem)
            await self._pass_on()
            return outcome
        if not await self._disburse():
            await policies.run("release_registration", ReleaseInput(loan_id=self._loan_id))
            outcome = await self._end(LoanStatus.CANCELLED, self._reason)
            await self._pass_on()
            return outcome
        await self._collect()
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._written_off:
            await self._report_recoveries()
            return LoanOutcome(
                loan_id=self._loan_id, status=LoanStatus.WRITTEN_OFF, reason=self._reason
            )
        await policies.run("release_registration", ReleaseInput(loan_id=self._loan_id))
        outcome = await self._end(LoanStatus.REPAID, "repaid in full; the registration is released")
        await self._pass_on()  # payments that came while it ended: nothing owed, the supplier's
        return outcome

    # -- before any money moves -----------------------------------------------------------

    async def _confirm_receivable(self, check: EligibilityCheck) -> bool:
        """The buyer's finance confirms the receivable (确权); False when it did not."""
        app = self._application
        await self._set(LoanStatus.AWAITING_CONFIRMATION)
        spec = self._task(
            CONFIRMATION_TASK,
            Role.FINANCE,
            app.buyer_org_id,
            title=f"确权 Confirm the receivable of order {app.order_id}",
            summary=(
                f"Your supplier asks to finance order {app.order_id}. Confirm that you owe it "
                f"{money_text(check.unpaid_value.amount, check.unpaid_value.currency)}, due on "
                f"{check.receivable_due_on.isoformat()}, that nothing on the order is disputed, "
                "and that you will pay it into the platform's supervised account; the loan is "
                "repaid from that payment first. Or reject, giving the reason."
            ),
            outcomes=("confirm", "reject"),
            details={
                "order_id": app.order_id,
                "amount": str(check.unpaid_value.amount),
                "currency": check.unpaid_value.currency,
                "due_on": check.receivable_due_on.isoformat(),
            },
        )
        expires = workflow.now() + timedelta(days=self._loan.confirm_within_days)
        decision = await self.ask("confirmation", spec, expires_at=expires)
        if decision is None:
            self._status = LoanStatus.LAPSED
            self._reason = "the buyer did not confirm the receivable in time"
            return False
        if decision.outcome == "reject":
            self.reply(decision, process_status=LoanStatus.REJECTED, message="loan refused")
            self._status = LoanStatus.REJECTED
            self._reason = f"the buyer did not confirm the receivable: {decision.comment}"
            return False
        self.reply(decision, process_status=LoanStatus.UNDER_REVIEW, message="receivable confirmed")
        return True

    async def _assess(self) -> CreditAssessment:
        await self._set(LoanStatus.UNDER_REVIEW)
        assessment = await policies.call(
            "assess_loan", self._loan, CreditAssessment, policy=policies.DATABASE
        )
        self._terms = assessment.terms
        return assessment

    async def _approve(self, assessment: CreditAssessment) -> tuple[str, ...] | None:
        """Platform finance's approvers (two different people above the threshold); None
        when one rejected."""
        terms = assessment.terms
        needed = 2 if terms.principal.amount > self._loan.two_approvers_above else 1
        approvers: tuple[str, ...] = ()
        for round_ in range(1, needed + 1):
            spec = self._task(
                APPROVAL_TASK,
                Role.FINANCE,
                OPERATOR_ORG_ID,
                title=f"Approve loan {self._loan_id} ({round_} of {needed})",
                summary=self._approval_summary(assessment, needed),
                outcomes=("approve", "reject"),
                details={"grade": assessment.grade, "flags": ", ".join(assessment.flags)},
                excluded_user_ids=approvers,
            )
            decision = await self.ask(f"approval-{round_}", spec)
            if decision is None:  # no expiry is set: a decision always comes
                raise ApplicationError("approval ended undecided", non_retryable=True)
            if decision.outcome == "reject":
                self.reply(decision, process_status=LoanStatus.REJECTED, message="loan rejected")
                self._reason = f"rejected by finance ({decision.actor.user_id}): {decision.comment}"
                return None
            approvers += (decision.actor.user_id,)
            more = round_ < needed
            self.reply(
                decision,
                process_status=LoanStatus.UNDER_REVIEW if more else LoanStatus.OFFERED,
                message="approved; a second approver decides next" if more else "approved",
            )
        return approvers

    def _approval_summary(self, assessment: CreditAssessment, needed: int) -> str:
        app, terms = self._application, assessment.terms
        flags = f" Flags: {', '.join(assessment.flags)}." if assessment.flags else ""
        return (
            f"{money_text(terms.principal.amount, terms.principal.currency)} for "
            f"{terms.term_days} days against order {app.order_id} (supplier "
            f"{app.supplier_org_id}, buyer {app.buyer_org_id}; the buyer has confirmed the "
            f"receivable). Grade {assessment.grade} (score {assessment.score}): fee "
            f"{terms.fee_rate:%} ({money_text(terms.fee.amount, terms.fee.currency)}), "
            f"interest {terms.interest_rate:%} a year {terms.day_count}, effective APR "
            f"{assessment.effective_apr:%}. Reasons: {_reasons(assessment)}.{flags} "
            + ("Two different approvers are needed. " if needed == 2 else "")
            + "Approving moves money: it needs your second factor."
        )

    async def _offer(self, assessment: CreditAssessment, approvers: tuple[str, ...]) -> bool:
        """The supplier accepts the approved offer before it lapses; False when it did not."""
        terms = assessment.terms
        await self._set(LoanStatus.OFFERED, approved_by=approvers)
        spec = self._task(
            OFFER_TASK,
            Role.SUPPLIER,
            self._application.supplier_org_id,
            title=f"Loan offer {self._loan_id}",
            summary=(
                f"{money_text(terms.principal.amount, terms.principal.currency)} for "
                f"{terms.term_days} days from the payout: fee "
                f"{money_text(terms.fee.amount, terms.fee.currency)} ({terms.fee_rate:%}), "
                f"interest {terms.interest_rate:%} a year ({terms.day_count}), penalty interest "
                f"{terms.penalty_rate:%} a year on overdue principal; effective APR "
                f"{assessment.effective_apr:%}. Repaid first from the buyer's payment on order "
                f"{self._application.order_id}. Accept within {self._loan.offer_valid_days} "
                "day(s), or decline."
            ),
            outcomes=("accept", "decline"),
        )
        expires = workflow.now() + timedelta(days=self._loan.offer_valid_days)
        decision = await self.ask("offer", spec, expires_at=expires)
        if decision is None:
            self._status, self._reason = LoanStatus.LAPSED, "the offer lapsed unaccepted"
            return False
        if decision.outcome == "decline":
            self.reply(decision, process_status=LoanStatus.WITHDRAWN, message="offer declined")
            self._status = LoanStatus.WITHDRAWN
            self._reason = f"the supplier declined the offer: {decision.comment}"
            return False
        self.reply(decision, process_status=LoanStatus.REGISTERING, message="offer accepted")
        return True

    # -- withdrawal -----------------------------------------------------------------------

    @workflow.update
    async def withdraw_loan(self, request: WithdrawInput) -> LoanView:
        self._withdrawal = request
        return self.get_status()

    @withdraw_loan.validator
    def validate_withdraw_loan(self, request: WithdrawInput) -> None:
        actor = self._application
        if request.actor.org_id != actor.supplier_org_id or not request.actor.has_any(
            Role.SUPPLIER, Role.FINANCE
        ):
            raise refused("only the applicant may withdraw its loan", "WrongRole")
        if self._withdrawal is not None or self._status not in WITHDRAWABLE:
            raise refused(
                f"the loan is {self._status.value}: it can be withdrawn only before approval",
                "NotReady",
            )

    def abandoned(self) -> bool:
        return self._withdrawal is not None or self._repaid

    def choices_problem(self, spec: TaskSpec, decision: DecideTaskInput) -> str | None:
        if decision.outcome == "write_off" and not decision.comment.strip():
            return "comment: write_off must give its reason"
        return super().choices_problem(spec, decision)


def _reasons(assessment: CreditAssessment) -> str:
    return "; ".join(assessment.reasons) or "none given"
