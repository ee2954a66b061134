"""One e-contract, from award to execution.

Orchestrates: draft the contract row; render the bilingual PDF and store it by SHA-256; convert
the total into the buyer's approval currency at the recorded rate and ask the buyer's finance role
to approve, level by level, each level a different person (and never the person who awarded);
then both parties sign within the signing window, each signature binding signer, organisation,
time and the document's hash under the organisation's key. Every party signed: executed, and the
order's fulfilment workflow starts. A refusal, a lapse or a declined signature ends the contract
with its reason, which the RFQ uses to offer the lines to the next-ranked supplier.

Updates: ``decide_task`` (inherited: approvals and signatures). Query: ``get_status``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from contracts.common import DocumentRef, Money, Role, money_text
    from contracts.fulfilment import OrderInput, order_id_for, order_workflow_id
    from contracts.sourcing import (
        ApprovalPolicy,
        ApprovalPolicyInput,
        ApprovalRecord,
        ContractOutcome,
        ContractStatus,
        ContractView,
        ContractWorkflowInput,
        FxRate,
        Party,
        RecordContractInput,
        Signature,
        SignContractInput,
    )
    from contracts.tasks import DecideTaskInput, NotifyInput, TaskSpec
    from rules import approvals as approval_rules
    from workflows import policies
    from workflows.human_tasks import HumanTaskWorkflow, process_key
    from workflows.order import OrderWorkflow

APPROVAL_WINDOW = timedelta(days=7)
SIGNATURE_TASK = "contract_signature"
APPROVAL_TASK = "contract_approval"
SIGNATURE_STEPS = ("sign-buyer", "sign-supplier")

# A missing exchange rate will not appear by retrying: the contract ends with the reason.
POLICY_LOOKUP = policies.ActivityPolicy(
    RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=1),
        non_retryable_error_types=["NoExchangeRate"],
    ),
    timedelta(seconds=30),
)


@workflow.defn
class ContractWorkflow(HumanTaskWorkflow):
    @workflow.init
    def __init__(self, input: ContractWorkflowInput) -> None:
        super().__init__()
        self._terms = input.terms
        self._status = ContractStatus.AWAITING_APPROVAL
        self._document: DocumentRef | None = None
        self._sign_by: datetime | None = None
        self._signatures: dict[str, Signature] = {}

    @workflow.run
    async def run(self, input: ContractWorkflowInput) -> ContractOutcome:
        terms = self._terms
        await self._record(ContractStatus.AWAITING_APPROVAL)
        self._document = document = await policies.call(
            "render_contract", terms, DocumentRef, policy=policies.DOCUMENT
        )
        try:
            policy = await policies.call(
                "load_approval_policy",
                ApprovalPolicyInput(buyer_org_id=terms.buyer.org_id, currency=terms.total.currency),
                ApprovalPolicy,
                policy=POLICY_LOOKUP,
            )
        except ActivityError as failure:
            cause = failure.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(failure)
            return await self._end(ContractStatus.REJECTED, f"cannot check approvals: {reason}")
        amount = approval_rules.convert(terms.total, policy.chain.currency, policy.rate)
        approvals = await self._approve(policy, amount, document)
        if isinstance(approvals, str):
            return await self._end(
                ContractStatus.REJECTED, approvals, amount=amount, rate=policy.rate
            )

        self._sign_by = sign_by = workflow.now() + input.sign_within

        async def awaiting_signatures() -> None:
            self._status = ContractStatus.AWAITING_SIGNATURES
            await self._record(
                ContractStatus.AWAITING_SIGNATURES,
                amount=amount,
                rate=policy.rate,
                approvals=approvals,
                sign_by=sign_by,
            )

        failure_reason = await self._collect_signatures(document, sign_by, awaiting_signatures)
        if failure_reason is not None:
            return await self._end(
                ContractStatus.LAPSED,
                failure_reason,
                amount=amount,
                rate=policy.rate,
                approvals=approvals,
            )
        self._status = ContractStatus.EXECUTED
        await self._record(ContractStatus.EXECUTED, approvals=approvals)
        order_id = order_id_for(terms.contract_id)
        # The order outlives this workflow: it runs for weeks after the contract is done.
        await workflow.start_child_workflow(
            OrderWorkflow.run,
            OrderInput(order_id=order_id, contract=terms),
            id=order_workflow_id(order_id),
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        for party in (terms.buyer, terms.supplier):
            await self._notify(
                party.org_id,
                None,
                "contract_executed",
                f"Contract {terms.contract_id} is signed by both parties and executed; "
                f"order {order_id} has started.",
            )
        return ContractOutcome(
            contract_id=terms.contract_id,
            status=ContractStatus.EXECUTED,
            document=document,
            signatures=tuple(self._signatures.values()),
            approvals=approvals,
            amount_in_chain_currency=amount,
        )

    @workflow.query
    def get_status(self) -> ContractView:
        return ContractView(
            contract_id=self._terms.contract_id,
            status=self._status,
            document=self._document,
            sign_by=self._sign_by,
            signed_by=tuple(self._signatures),
            open_task_ids=self.open_task_ids(),
        )

    def choices_problem(self, spec: TaskSpec, decision: DecideTaskInput) -> str | None:
        if spec.kind != SIGNATURE_TASK or decision.outcome != "sign":
            return super().choices_problem(spec, decision)
        document = self._document
        signed = decision.choices.get("document_sha256")
        if document is None or set(decision.choices) != {"document_sha256"}:
            return "choices: a signature gives exactly document_sha256, the hash of the PDF read"
        if signed != document.sha256:
            return (
                f"choices.document_sha256: {signed} is not the hash of this contract's document "
                f"({document.sha256}); download it again and sign what you read"
            )
        return None

    # -- approvals ------------------------------------------------------------------------

    async def _approve(
        self, policy: ApprovalPolicy, amount: Money, document: DocumentRef
    ) -> tuple[ApprovalRecord, ...] | str:
        """The approvals every level above the amount needs; a reason when one is refused."""
        terms = self._terms
        levels = approval_rules.required_levels(amount.amount, policy.chain)
        records: list[ApprovalRecord] = []
        excluded = [terms.awarded_by]
        for number, level in enumerate(levels, start=1):
            threshold = Money(amount=level.above, currency=policy.chain.currency)
            spec = self._approval_spec(
                number, len(levels), threshold, amount, document, tuple(excluded)
            )
            await self._notify(
                terms.buyer.org_id,
                Role.FINANCE,
                "contract_approval",
                f"Contract {terms.contract_id} ({_money(terms.total)}, {_money(amount)}) "
                f"needs your approval, level {number} of {len(levels)}.",
                step=f"approval-{number}",
            )
            decision = await self.ask(f"approval-{number}", spec)
            if decision is None:
                return f"no finance decision at level {number} within {APPROVAL_WINDOW.days} days"
            if decision.outcome == "reject":
                self.reply(
                    decision,
                    process_status=ContractStatus.REJECTED,
                    message="award refused; the RFQ offers the lines again",
                )
                return f"refused by finance at level {number}: {decision.comment}"
            excluded.append(decision.actor.user_id)
            records.append(
                ApprovalRecord(
                    level=number,
                    threshold=threshold,
                    approved_by=decision.actor.user_id,
                    approved_at=decision.decided_at,
                )
            )
            last = number == len(levels)
            self.reply(
                decision,
                process_status=ContractStatus.AWAITING_SIGNATURES
                if last
                else ContractStatus.AWAITING_APPROVAL,
                message="approved; the parties are asked to sign"
                if last
                else f"approved at level {number}; level {number + 1} needs another approver",
            )
        return tuple(records)

    def _approval_spec(
        self,
        number: int,
        levels: int,
        threshold: Money,
        amount: Money,
        document: DocumentRef,
        excluded: tuple[str, ...],
    ) -> TaskSpec:
        terms = self._terms
        converted = "" if amount.currency == terms.total.currency else f" = {_money(amount)}"
        return TaskSpec(
            kind=APPROVAL_TASK,
            role=Role.FINANCE,
            org_id=terms.buyer.org_id,
            subject_type="contract",
            subject_id=terms.contract_id,
            title=f"Approve award {terms.contract_id} (level {number} of {levels})",
            summary=(
                f"{terms.supplier.legal_name}: {_money(terms.total)}{converted}, above the "
                f"level-{number} threshold of {_money(threshold)}. {len(terms.lines)} line(s), "
                f"delivery {terms.delivery_date.isoformat()} to {terms.delivery_place}."
            ),
            document_ids=(document.document_id,),
            details={
                "contract_id": terms.contract_id,
                "rfq_id": terms.rfq_id,
                "supplier_org_id": terms.supplier.org_id,
                "total": str(terms.total.amount),
                "currency": terms.total.currency,
                "amount_in_chain_currency": str(amount.amount),
                "chain_currency": amount.currency,
            },
            excluded_user_ids=excluded,
            expire_after=APPROVAL_WINDOW,
        )

    # -- signatures -----------------------------------------------------------------------

    async def _collect_signatures(
        self,
        document: DocumentRef,
        sign_by: datetime,
        opened: Callable[[], Awaitable[None]],
    ) -> str | None:
        """Both parties sign, in any order; the first refusal or the deadline ends it.
        ``opened`` runs once both signature tasks are in the inbox, so whoever sees the
        contract awaiting signatures finds a task to sign."""
        terms = self._terms
        signers = [
            asyncio.ensure_future(self._signature(terms.buyer, Role.BUYER, document, sign_by)),
            asyncio.ensure_future(
                self._signature(terms.supplier, Role.SUPPLIER, document, sign_by)
            ),
        ]
        await workflow.wait_condition(
            lambda: (
                all(self.in_inbox(step) for step in SIGNATURE_STEPS)
                or any(signer.done() for signer in signers)
            )
        )
        await opened()
        pending = set(signers)
        failure: str | None = None
        while pending and failure is None:
            done, still = await workflow.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            pending = set(still)
            failure = next((r for r in (t.result() for t in done) if r is not None), None)
        for waiting in pending:
            waiting.cancel()
        if pending:
            await workflow.wait(pending)
        return failure

    async def _signature(
        self, party: Party, role: Role, document: DocumentRef, sign_by: datetime
    ) -> str | None:
        """None once ``party`` has signed; else why it did not."""
        terms = self._terms
        step = SIGNATURE_STEPS[0] if role is Role.BUYER else SIGNATURE_STEPS[1]
        await self._notify(
            party.org_id,
            role,
            "contract_to_sign",
            f"Contract {terms.contract_id} awaits your signature by {sign_by.isoformat()}.",
            step=step,
        )
        spec = TaskSpec(
            kind=SIGNATURE_TASK,
            role=role,
            org_id=party.org_id,
            subject_type="contract",
            subject_id=terms.contract_id,
            title=f"Sign contract {terms.contract_id}",
            summary=(
                f"{terms.buyer.legal_name} / {terms.supplier.legal_name}: {_money(terms.total)}. "
                f"Read the PDF, then sign it by its SHA-256 {document.sha256}."
            ),
            outcomes=("sign", "decline"),
            document_ids=(document.document_id,),
            details={"contract_id": terms.contract_id, "document_sha256": document.sha256},
        )
        decision = await self.ask(step, spec, expires_at=sign_by)
        if decision is None:
            return f"{party.legal_name} did not sign by {sign_by.isoformat()}"
        if decision.outcome == "decline":
            self.reply(decision, process_status=ContractStatus.LAPSED, message="declined to sign")
            return f"{party.legal_name} declined to sign: {decision.comment}"
        signature = await policies.call(
            "sign_contract",
            SignContractInput(
                contract_id=terms.contract_id,
                document=document,
                signer=decision.actor,
                signed_at=decision.decided_at,
            ),
            Signature,
            policy=policies.DATABASE,
        )
        self._signatures[party.org_id] = signature
        everyone = len(self._signatures) == 2
        self.reply(
            decision,
            process_status=ContractStatus.EXECUTED if everyone else self._status,
            message="signed; every party has signed, the contract is executed"
            if everyone
            else "signed; waiting for the other party",
        )
        return None

    # -- records --------------------------------------------------------------------------

    async def _end(
        self,
        status: ContractStatus,
        reason: str,
        *,
        amount: Money | None = None,
        rate: FxRate | None = None,
        approvals: tuple[ApprovalRecord, ...] = (),
    ) -> ContractOutcome:
        self._status = status
        terms = self._terms
        await self._record(status, reason=reason, amount=amount, rate=rate, approvals=approvals)
        for party in (terms.buyer, terms.supplier):
            await self._notify(
                party.org_id, None, f"contract_{status.value}", f"{terms.contract_id}: {reason}"
            )
        return ContractOutcome(
            contract_id=terms.contract_id,
            status=status,
            reason=reason,
            document=self._document,
            signatures=tuple(self._signatures.values()),
            approvals=approvals,
            amount_in_chain_currency=amount,
        )

    async def _record(
        self,
        status: ContractStatus,
        *,
        reason: str = "",
        amount: Money | None = None,
        rate: FxRate | None = None,
        approvals: tuple[ApprovalRecord, ...] = (),
        sign_by: datetime | None = None,
    ) -> None:
        await policies.run(
            "record_contract",
            RecordContractInput(
                terms=self._terms,
                status=status,
                at=workflow.now(),
                reason=reason,
                document=self._document,
                sign_by=sign_by,
                amount_in_chain_currency=amount,
                fx_rate=rate,
                approvals=approvals,
            ),
        )

    async def _notify(
        self, org_id: str, role: Role | None, kind: str, message: str, *, step: str = ""
    ) -> None:
        await self.notify(
            NotifyInput(
                notification_id=process_key(f"{kind}:{org_id}:{step}"),
                org_id=org_id,
                role=role,
                kind=kind,
                subject_type="contract",
                subject_id=self._terms.contract_id,
                message=message,
            )
        )


def _money(value: Money) -> str:
    return money_text(value.amount, value.currency)
