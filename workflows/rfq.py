"""A request for quotation, from invitation to signed contracts.

Orchestrates: record the RFQ and invite the suppliers; take quotes, revisions and declines until
the deadline (which the buyer may extend, or close early once every invited supplier has
answered); no quote by then and the RFQ lapses. Otherwise rank the quotes and ask the buyer to
award each line (as recommended, or line by line, split across suppliers). Each awarded supplier
gets one contract, run as a child workflow through finance approval and both signatures. A
contract refused or not signed in time hands its lines back: the buyer is asked again, with the
failed supplier excluded, so the next-ranked quote can win.

Updates: ``submit_quote``, ``decline_rfq``, ``extend_deadline``, ``close_early``, ``cancel_rfq``,
``decide_task`` (inherited: the award). Query: ``get_status``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.accreditation import AccreditationStatus
    from contracts.common import Role
    from contracts.sourcing import (
        BuyerActionInput,
        Comparison,
        ContractOutcome,
        ContractStatus,
        ContractWorkflowInput,
        DeclineInput,
        ExtendDeadlineInput,
        Party,
        Quote,
        QuoteReceipt,
        QuoteStatus,
        RankInput,
        RecordDeclineInput,
        RecordQuoteInput,
        RfqInput,
        RfqStatus,
        RfqStatusInput,
        RfqView,
        Standings,
        StandingsInput,
        SubmitQuoteInput,
        contract_workflow_id,
    )
    from contracts.tasks import DecideTaskInput, NotifyInput, TaskSpec
    from rules import awards as award_rules
    from workflows import policies
    from workflows.contract import ContractWorkflow
    from workflows.human_tasks import HumanTaskWorkflow, process_key

AWARD_WINDOW = timedelta(days=14)
AWARD_TASK = "rfq_award"
SHOWN_OFFERS = 3


def _refused(message: str, kind: str) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


@workflow.defn
class RfqWorkflow(HumanTaskWorkflow):
    @workflow.init
    def __init__(self, rfq: RfqInput) -> None:
        super().__init__()
        self._rfq = rfq
        self._status = RfqStatus.OPEN
        self._deadline = rfq.quote_deadline
        self._deadline_moved = False
        self._closing = False
        self._cancel_reason: str | None = None
        # Updates may arrive while the RFQ's row is still being written: they wait for it.
        self._recorded = False
        self._invited = {s.org_id: s for s in rfq.suppliers}
        self._revisions: dict[str, list[Quote]] = {}  # every revision, newest last
        self._declined: dict[str, str] = {}
        self._contract_ids: list[str] = []
        # Award state: what the award task's validator checks choices against.
        self._pending: list[str] = [line.line_id for line in rfq.lines]
        self._offers: dict[str, set[str]] = {}
        self._excluded: dict[str, set[str]] = {}

    @workflow.run
    async def run(self, rfq: RfqInput) -> RfqView:
        await policies.run("record_rfq", rfq)
        self._recorded = True
        await self._notify_suppliers(
            "rfq_invitation",
            f"You are invited to quote on RFQ {rfq.rfq_id} ({rfq.title}) "
            f"until {self._deadline.isoformat()}.",
        )
        await self._take_quotes()
        if self._cancel_reason is not None:
            return await self._finish(RfqStatus.CANCELLED, self._cancel_reason, tell_suppliers=True)
        quotes = self._active_quotes()
        if not quotes:
            return await self._finish(RfqStatus.LAPSED, "no quotes by the deadline")
        closed_at = workflow.now()
        await self._set_status(RfqStatus.EVALUATING)
        standings = await policies.call(
            "load_standings",
            StandingsInput(supplier_org_ids=tuple(sorted(q.supplier_org_id for q in quotes))),
            Standings,
            policy=policies.DATABASE,
        )
        eligible = {s.org_id for s in standings.suppliers if s.eligible}
        self._offers = {
            line.line_id: {
                q.supplier_org_id
                for q in quotes
                if q.supplier_org_id in eligible
                and any(
                    ql.line_id == line.line_id and line.quantity >= ql.min_order_quantity
                    for ql in q.terms.lines
                )
            }
            for line in rfq.lines
        }
        executed = await self._award(closed_at, standings)
        if executed:
            unawarded = f"; {len(self._pending)} line(s) not awarded" if self._pending else ""
            return await self._finish(
                RfqStatus.COMPLETED, f"{executed} contract(s) executed{unawarded}"
            )
        return await self._finish(RfqStatus.LAPSED, "no contract was executed")

    @workflow.query
    def get_status(self) -> RfqView:
        return RfqView(
            rfq_id=self._rfq.rfq_id,
            status=self._status,
            quote_deadline=self._deadline,
            answered=tuple(sorted(set(self._revisions) | set(self._declined))),
            contract_ids=tuple(self._contract_ids),
            open_task_ids=self.open_task_ids(),
        )

    # -- quoting --------------------------------------------------------------------------

    async def _take_quotes(self) -> None:
        """Until the deadline (which may move), an early close or a cancellation."""
        while not self._closing:
            remaining = self._deadline - workflow.now()
            if remaining <= timedelta(0):
                break
            self._deadline_moved = False
            try:
                await workflow.wait_condition(
                    lambda: self._closing or self._deadline_moved, timeout=remaining
                )
            except TimeoutError:
                break
        self._closing = True
        # A quote accepted just before the deadline is still being recorded.
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.update
    async def submit_quote(self, request: SubmitQuoteInput) -> QuoteReceipt:
        # Re-checked here: two revisions validated in one activation both saw the old state.
        self._check_revision(request)
        supplier = request.actor.org_id
        history = self._revisions.setdefault(supplier, [])
        revision = len(history) + 1
        quote = Quote(
            quote_id=f"{self._rfq.rfq_id}:{supplier}:r{revision}",
            rfq_id=self._rfq.rfq_id,
            supplier_org_id=supplier,
            revision=revision,
            terms=request.terms,
            submitted_by=request.actor.user_id,
            submitted_at=workflow.now(),
        )
        history.append(quote)
        self._declined.pop(supplier, None)
        await workflow.wait_condition(lambda: self._recorded)
        await policies.run("record_quote", RecordQuoteInput(quote=quote))
        return QuoteReceipt(
            quote_id=quote.quote_id,
            revision=revision,
            status=QuoteStatus.ACTIVE,
            submitted_at=quote.submitted_at,
        )

    @submit_quote.validator
    def validate_submit_quote(self, request: SubmitQuoteInput) -> None:
        self._check_open(request.actor.org_id)
        if request.standing != AccreditationStatus.ACCREDITED:
            raise _refused(
                f"supplier {request.actor.org_id} is {request.standing or 'not accredited'}: "
                "only accredited suppliers may quote",
                "NotAccredited",
            )
        self._check_revision(request)
        problem = self._terms_problem(request)
        if problem is not None:
            raise _refused(problem, "Malformed")

    @workflow.update
    async def decline_rfq(self, request: DeclineInput) -> QuoteReceipt:
        supplier = request.actor.org_id
        self._declined[supplier] = request.reason
        revisions = self._revisions.get(supplier, [])
        now = workflow.now()
        await workflow.wait_condition(lambda: self._recorded)
        await policies.run(
            "record_decline",
            RecordDeclineInput(
                rfq_id=self._rfq.rfq_id,
                supplier_org_id=supplier,
                reason=request.reason,
                declined_by=request.actor.user_id,
                declined_at=now,
            ),
        )
        return QuoteReceipt(
            quote_id=revisions[-1].quote_id if revisions else "",
            revision=len(revisions),
            status=QuoteStatus.DECLINED,
            submitted_at=now,
        )

    @decline_rfq.validator
    def validate_decline_rfq(self, request: DeclineInput) -> None:
        self._check_open(request.actor.org_id)
        if request.actor.org_id in self._declined:
            raise _refused("this RFQ is already declined", "Malformed")

    @workflow.update
    async def extend_deadline(self, request: ExtendDeadlineInput) -> RfqView:
        self._deadline = request.new_deadline
        self._deadline_moved = True
        await workflow.wait_condition(lambda: self._recorded)
        await self._set_status(RfqStatus.OPEN, deadline=request.new_deadline)
        await self._notify_suppliers(
            "rfq_deadline_extended",
            f"RFQ {self._rfq.rfq_id}: quotes now close at {request.new_deadline.isoformat()}.",
            step=request.new_deadline.isoformat(),
        )
        return self.get_status()

    @extend_deadline.validator
    def validate_extend_deadline(self, request: ExtendDeadlineInput) -> None:
        self._check_buyer(request.actor.org_id, request.actor.roles)
        self._check_quoting()
        if request.new_deadline <= self._deadline:
            raise _refused(
                f"new_deadline: must be after the current deadline {self._deadline.isoformat()}",
                "Malformed",
            )

    @workflow.update
    async def close_early(self, request: BuyerActionInput) -> RfqView:
        self._closing = True
        return self.get_status()

    @close_early.validator
    def validate_close_early(self, request: BuyerActionInput) -> None:
        self._check_buyer(request.actor.org_id, request.actor.roles)
        self._check_quoting()
        waiting = sorted(set(self._invited) - set(self._revisions) - set(self._declined))
        if waiting:
            raise _refused(
                f"not every invited supplier has answered: {len(waiting)} still may quote "
                "(the RFQ closes early only once all have quoted or declined)",
                "NotAllAnswered",
            )

    @workflow.update
    async def cancel_rfq(self, request: BuyerActionInput) -> RfqView:
        self._cancel_reason = f"cancelled by the buyer: {request.reason}"
        self._closing = True
        return self.get_status()

    @cancel_rfq.validator
    def validate_cancel_rfq(self, request: BuyerActionInput) -> None:
        self._check_buyer(request.actor.org_id, request.actor.roles)
        self._check_quoting()
        if not request.reason.strip():
            raise _refused("reason: a cancellation must give its reason", "Malformed")

    def _check_open(self, supplier: str) -> None:
        self._check_quoting()
        if supplier not in self._invited:
            raise _refused(f"supplier {supplier} is not invited to this RFQ", "NotInvited")

    def _check_quoting(self) -> None:
        if self._closing or workflow.now() >= self._deadline:
            raise _refused(
                f"quoting closed: the deadline was {self._deadline.isoformat()}", "QuotingClosed"
            )

    def _check_buyer(self, org_id: str, roles: tuple[Role, ...]) -> None:
        if org_id != self._rfq.buyer_org_id or Role.BUYER not in roles:
            raise _refused("only the buyer who issued this RFQ may do this", "WrongRole")

    def _check_revision(self, request: SubmitQuoteInput) -> None:
        revisions = self._revisions.get(request.actor.org_id, [])
        current = len(revisions) or None
        if request.replaces_revision != current:
            seen = request.replaces_revision or "none"
            raise _refused(
                f"replaces_revision: your quote is at revision {current or 'none'}, "
                f"you revised {seen}; reload it and revise again",
                "StaleRevision",
            )

    def _terms_problem(self, request: SubmitQuoteInput) -> str | None:
        terms = request.terms
        known = {line.line_id for line in self._rfq.lines}
        seen: set[str] = set()
        for i, line in enumerate(terms.lines):
            where = f"terms.lines.{i}"
            if line.line_id not in known:
                return f"{where}.line_id: {line.line_id} is not a line of this RFQ"
            if line.line_id in seen:
                return f"{where}.line_id: {line.line_id} is quoted twice"
            seen.add(line.line_id)
            minimums = [b.min_quantity for b in line.price_breaks]
            if minimums != sorted(set(minimums)):
                return f"{where}.price_breaks: min_quantity must rise strictly"
        if terms.valid_until < self._deadline.date():
            return (
                f"terms.valid_until: must be on or after the quote deadline "
                f"{self._deadline.date().isoformat()}"
            )
        if terms.delivery_date is not None and terms.delivery_date < workflow.now().date():
            return "terms.delivery_date: must not be in the past"
        return None

    def _active_quotes(self) -> list[Quote]:
        return [
            history[-1]
            for supplier, history in sorted(self._revisions.items())
            if supplier not in self._declined
        ]

    # -- award ----------------------------------------------------------------------------

    async def _award(self, closed_at: datetime, standings: Standings) -> int:
        """Award rounds until every line has an executed contract, is left out, or has no
        eligible quote left; the number of executed contracts."""
        executed = 0
        round_number = 0
        while self._pending:
            round_number += 1
            ranking = await policies.call(
                "rank_quotes",
                RankInput(
                    rfq_id=self._rfq.rfq_id,
                    as_of=closed_at.date(),
                    line_ids=tuple(self._pending),
                    standings=standings,
                    exclude={k: tuple(sorted(v)) for k, v in self._excluded.items()},
                    top=SHOWN_OFFERS,
                ),
                Comparison,
                policy=policies.DATABASE,
            )
            recommended = {
                line.line_id: line.offers[0].supplier_org_id
                for line in ranking.lines
                if line.offers
            }
            if not recommended:
                break
            decision = await self.ask(f"award-{round_number}", self._award_spec(ranking))
            if decision is None:
                break
            if decision.outcome == "close":
                self.reply(decision, process_status=RfqStatus.COMPLETED, message="closed")
                break
            awards = decision.choices or recommended
            for line_id, supplier in awards.items():
                if supplier == award_rules.NO_AWARD:
                    self._pending.remove(line_id)
            contracts = self._draft(awards, decision.actor.user_id, decision.decided_at)
            await self._set_status(RfqStatus.AWARDING)
            self.reply(
                decision,
                process_status=RfqStatus.AWARDING,
                message="contracts drafted: " + ", ".join(c.terms.contract_id for c in contracts),
            )
            outcomes = await asyncio.gather(*(self._run_contract(c) for c in contracts))
            for contract, outcome in zip(contracts, outcomes, strict=True):
                lines = [line.line_id for line in contract.terms.lines]
                if outcome.status == ContractStatus.EXECUTED:
                    executed += 1
                    self._pending = [p for p in self._pending if p not in lines]
                    continue
                for line_id in lines:
                    self._excluded.setdefault(line_id, set()).add(contract.terms.supplier.org_id)
                await self._notify_buyer(
                    "contract_failed",
                    f"Contract {outcome.contract_id} {outcome.status.value}: {outcome.reason}. "
                    "Its lines can be awarded to the next-ranked quote.",
                    step=outcome.contract_id,
                )
            if self._pending:
                await self._set_status(RfqStatus.EVALUATING)
        return executed

    def choices_problem(self, spec: TaskSpec, decision: DecideTaskInput) -> str | None:
        if spec.kind != AWARD_TASK or decision.outcome != "award":
            return super().choices_problem(spec, decision)
        return award_rules.award_problem(
            decision.choices,
            pending=self._pending,
            offers=self._offers,
            excluded=self._excluded,
        )

    def _award_spec(self, ranking: Comparison) -> TaskSpec:
        rfq = self._rfq
        details: dict[str, str] = {"rfq_id": rfq.rfq_id, "currency": rfq.currency}
        recommended: list[str] = []
        for line in ranking.lines:
            if not line.offers:
                details[f"line:{line.line_id}"] = "no eligible quote left"
                continue
            best = line.offers[0]
            recommended.append(f"{line.line_id} → {best.supplier_org_id}")
            details[f"line:{line.line_id}"] = " | ".join(
                f"#{o.rank} {o.supplier_org_id}: landed {o.landed_cost} {rfq.currency}, "
                f"score {o.score}"
                for o in line.offers
            )
        return TaskSpec(
            kind=AWARD_TASK,
            role=Role.BUYER,
            org_id=rfq.buyer_org_id,
            subject_type="rfq",
            subject_id=rfq.rfq_id,
            title=f"Award RFQ {rfq.rfq_id}: {rfq.title}",
            summary=(
                f"{len(ranking.lines)} line(s) to award. Recommended: {'; '.join(recommended)}. "
                "Decide 'award' with no choices to award as recommended, or give choices "
                "{line_id: supplier_org_id or 'none'}; 'close' stops awarding."
            ),
            outcomes=("award", "close"),
            details=details,
            expire_after=AWARD_WINDOW,
        )

    def _draft(
        self, awards: dict[str, str], awarded_by: str, at: datetime
    ) -> list[ContractWorkflowInput]:
        contracts = []
        active = {q.supplier_org_id: q for q in self._active_quotes()}
        for supplier_id, line_ids in award_rules.by_supplier(awards).items():
            invited = self._invited[supplier_id]
            contract_id = f"{self._rfq.rfq_id}-C{len(self._contract_ids) + 1}"
            self._contract_ids.append(contract_id)
            terms = award_rules.draft_contract(
                contract_id=contract_id,
                rfq=self._rfq,
                quote=active[supplier_id],
                line_ids=line_ids,
                supplier=Party(
                    org_id=supplier_id,
                    legal_name=invited.legal_name,
                    credit_code=invited.credit_code,
                ),
                awarded_by=awarded_by,
                awarded_at=at,
            )
            contracts.append(ContractWorkflowInput(terms=terms))
        return contracts

    async def _run_contract(self, contract: ContractWorkflowInput) -> ContractOutcome:
        result: ContractOutcome = await workflow.execute_child_workflow(
            ContractWorkflow.run,
            contract,
            id=contract_workflow_id(contract.terms.contract_id),
        )
        return result

    # -- records and notices --------------------------------------------------------------

    async def _set_status(
        self, status: RfqStatus, *, reason: str = "", deadline: datetime | None = None
    ) -> None:
        self._status = status
        await policies.run(
            "set_rfq_status",
            RfqStatusInput(
                rfq_id=self._rfq.rfq_id, status=status, reason=reason, quote_deadline=deadline
            ),
        )

    async def _finish(
        self, status: RfqStatus, reason: str, *, tell_suppliers: bool = False
    ) -> RfqView:
        await self._set_status(status, reason=reason)
        await self._notify_buyer(f"rfq_{status.value}", f"RFQ {self._rfq.rfq_id}: {reason}.")
        if tell_suppliers:
            await self._notify_suppliers(
                f"rfq_{status.value}", f"RFQ {self._rfq.rfq_id}: {reason}."
            )
        return self.get_status()

    async def _notify_buyer(self, kind: str, message: str, *, step: str = "") -> None:
        await self.notify(self._notice(self._rfq.buyer_org_id, Role.BUYER, kind, message, step))

    async def _notify_suppliers(self, kind: str, message: str, *, step: str = "") -> None:
        await asyncio.gather(
            *(
                self.notify(self._notice(org_id, Role.SUPPLIER, kind, message, step))
                for org_id in sorted(self._invited)
            )
        )

    def _notice(self, org_id: str, role: Role, kind: str, message: str, step: str) -> NotifyInput:
        return NotifyInput(
            notification_id=process_key(f"{kind}:{org_id}:{step}"),
            org_id=org_id,
            role=role,
            kind=kind,
            subject_type="rfq",
            subject_id=self._rfq.rfq_id,
            message=message,
        )
