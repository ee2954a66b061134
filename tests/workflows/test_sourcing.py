"""RFQ and e-contract paths on the time-skipping server, with real activities and services.

The module has a time-skipping server of its own (test_order's module fixture): executed
contracts start orders, and what another module leaves on a shared server can hold its clock.
An RFQ's end is waited for without ``result()``'s time skipping (see ``Harness.ended``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.e_contracts import signature_of
from contracts.common import Actor, Role
from contracts.fulfilment import order_id_for, order_workflow_id
from contracts.sourcing import (
    ApprovalChain,
    ApprovalLevel,
    BuyerActionInput,
    DeclineInput,
    ExtendDeadlineInput,
    QuoteReceipt,
    QuoteTerms,
    RfqInput,
    RfqStatus,
    RfqView,
    SubmitQuoteInput,
    contract_workflow_id,
    rfq_workflow_id,
)
from contracts.tasks import DecideTaskInput, TaskAnswer
from db.models import (
    AuditEntry,
    Contract,
    ContractSignature,
    HumanTask,
    Notification,
    QuoteRecord,
    Rfq,
    RfqInvitation,
    SigningKey,
)
from gateways.certification_registry import CertificationRegistryClient
from security.signatures import verify
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness import sourcing as s
from tests.harness.histories import record_history
from tests.harness.postgres import rows
from tests.harness.temporal import eventually, new_task_queue, refusal, skip_time, terminate_all
from tests.workflows.test_order import time_skipping_env
from worker import build_worker
from workflows.order import OrderWorkflow
from workflows.rfq import RfqWorkflow

__all__ = ["time_skipping_env"]  # the fixture: a server for this module alone

RfqHandle = WorkflowHandle[RfqWorkflow, RfqView]


@dataclass
class Harness:
    env: WorkflowEnvironment
    client: Client
    task_queue: str
    sessions: sessionmaker[Session]
    store: ObjectStore
    started: list[RfqHandle] = field(default_factory=list)

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def start(self, rfq: RfqInput) -> RfqHandle:
        handle = await self.client.start_workflow(
            RfqWorkflow.run, rfq, id=rfq_workflow_id(rfq.rfq_id), task_queue=self.task_queue
        )
        self.started.append(handle)
        return handle

    async def ended(self, handle: RfqHandle) -> RfqView:
        """The RFQ's view once its process has ended. Not a bare ``result()``: on the
        time-skipping server, awaiting a result unlocks the clock, which then jumps to any
        timer on the server (an order's escalation, a run's ten-year timeout) while the test
        goes on; here the clock moves only by ``skip_time``."""

        async def over() -> bool | None:
            described = await handle.describe()
            return True if described.status != WorkflowExecutionStatus.RUNNING else None

        # Up to a minute: the suite's two processes may share one free core.
        await eventually(over, what=f"the end of {handle.id}", attempts=1200)
        with self.env.auto_time_skipping_disabled():
            return await handle.result()  # already in the history: no wait, no skipping

    async def close(self) -> None:
        """Terminate what still runs, each once it has settled (see ``terminate_all``): the
        executed contracts' orders (they outlive their contract) and the contracts by name
        before their RFQ, whose end would otherwise terminate its contracts unsettled."""
        for handle in self.started:
            rfq_id = handle.id.removeprefix("Rfq:")
            contracts = [c.id for c in self.rows(Contract, rfq_id=rfq_id)]
            orders = [order_workflow_id(order_id_for(c)) for c in contracts]
            contract_ids = [contract_workflow_id(c) for c in contracts]
            await terminate_all(self.client, [*orders, *contract_ids, handle.id])

    def buyer(self) -> s.Member:
        return s.member(self.sessions, s.buyer_org(self.sessions), Role.BUYER)

    def suppliers(self, n: int, **kwargs: Any) -> list[s.Member]:
        return [
            s.member(
                self.sessions,
                s.accredited_supplier(self.sessions, self.store, **kwargs),
                Role.SUPPLIER,
            )
            for _ in range(n)
        ]

    async def terms(self, rfq: RfqInput, **kwargs: Any) -> QuoteTerms:
        return s.quote_terms(valid_until=rfq.quote_deadline.date() + timedelta(days=30), **kwargs)

    async def task(self, subject_id: str, kind: str, org_id: str) -> HumanTask:
        def probe() -> HumanTask | None:
            with self.sessions() as session:
                return session.scalars(
                    select(HumanTask)
                    .where(HumanTask.subject_id == subject_id)
                    .where(HumanTask.kind == kind)
                    .where(HumanTask.org_id == org_id)
                    .where(HumanTask.status == "open")
                ).first()

        async def opened() -> HumanTask | None:
            return probe()

        return await eventually(opened, attempts=400)

    async def contract_reaches(self, contract_id: str, status: str) -> Contract:
        async def probe() -> Contract | None:
            rows = self.rows(Contract, id=contract_id)
            return rows[0] if rows and rows[0].status == status else None

        return await eventually(probe, attempts=400)

    def rows(self, model: type[Any], **where: Any) -> list[Any]:
        return rows(self.sessions, model, **where)


async def quote(
    handle: RfqHandle,
    actor: Actor,
    terms: QuoteTerms,
    *,
    replaces: int | None = None,
    standing: str = "accredited",
) -> QuoteReceipt:
    receipt: QuoteReceipt = await handle.execute_update(
        RfqWorkflow.submit_quote,
        SubmitQuoteInput(terms=terms, replaces_revision=replaces, actor=actor, standing=standing),
    )
    return receipt


async def decide(
    client: Client,
    workflow_id: str,
    task_id: str,
    actor: Actor,
    outcome: str,
    *,
    comment: str = "",
    choices: dict[str, str] | None = None,
) -> TaskAnswer:
    answer: TaskAnswer = await client.get_workflow_handle(workflow_id).execute_update(
        "decide_task",
        DecideTaskInput(
            task_id=task_id, outcome=outcome, comment=comment, choices=choices or {}, actor=actor
        ),
        result_type=TaskAnswer,
    )
    return answer


@pytest.fixture
async def harness(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
) -> AsyncIterator[Harness]:
    task_queue = new_task_queue()
    client = time_skipping_env.client
    async with build_worker(
        client,
        settings=settings,
        sessions=sessions,
        store=store,
        registry=registry,
        task_queue=task_queue,
    ):
        harness = Harness(time_skipping_env, client, task_queue, sessions, store)
        yield harness
        await harness.close()


async def sign_both(
    harness: Harness, contract_id: str, buyer: s.Member, supplier: s.Member
) -> None:
    workflow_id = contract_workflow_id(contract_id)
    for party in (buyer, supplier):
        task = await harness.task(contract_id, "contract_signature", party.org.id)
        await decide(
            harness.client,
            workflow_id,
            task.id,
            party.actor,
            "sign",
            choices={"document_sha256": task.details["document_sha256"]},
        )


async def test_an_rfq_without_quotes_lapses_at_the_deadline_and_tells_the_buyer(
    harness: Harness,
) -> None:
    buyer = harness.buyer()
    (supplier,) = harness.suppliers(1)
    rfq = s.rfq(buyer, [supplier.org], now=await harness.now())
    handle = await harness.start(rfq)
    await skip_time(harness.env, rfq.quote_deadline - await harness.now() + timedelta(minutes=1))
    view = await harness.ended(handle)
    assert view.status == RfqStatus.LAPSED
    (row,) = harness.rows(Rfq, id=rfq.rfq_id)
    assert (row.status, row.status_reason) == ("lapsed", "no quotes by the deadline")
    notices = harness.rows(Notification, subject_id=rfq.rfq_id, org_id=buyer.org.id)
    assert [n.kind for n in notices] == ["rfq_lapsed"]
    invitations = harness.rows(Notification, subject_id=rfq.rfq_id, org_id=supplier.org.id)
    assert [n.kind for n in invitations] == ["rfq_invitation"]


async def test_quotes_are_refused_with_reasons(harness: Harness) -> None:
    buyer = harness.buyer()
    invited, stranger = harness.suppliers(2)
    rfq = s.rfq(buyer, [invited.org], now=await harness.now())
    handle = await harness.start(rfq)
    terms = await harness.terms(rfq)

    with pytest.raises(WorkflowUpdateFailedError) as uninvited:
        await quote(handle, stranger.actor, terms)
    assert refusal(uninvited)[0] == "NotInvited"

    unknown_line = terms.model_copy(
        update={"lines": (terms.lines[0].model_copy(update={"line_id": "L9"}),)}
    )
    with pytest.raises(WorkflowUpdateFailedError) as malformed:
        await quote(handle, invited.actor, unknown_line)
    assert refusal(malformed) == (
        "Malformed",
        "terms.lines.0.line_id: L9 is not a line of this RFQ",
    )

    short_validity = terms.model_copy(
        update={"valid_until": rfq.quote_deadline.date() - timedelta(days=1)}
    )
    with pytest.raises(WorkflowUpdateFailedError) as expired:
        await quote(handle, invited.actor, short_validity)
    assert refusal(expired)[1].startswith("terms.valid_until: must be on or after")

    with pytest.raises(WorkflowUpdateFailedError) as suspended:
        await quote(handle, invited.actor, terms, standing="suspended")
    assert refusal(suspended) == (
        "NotAccredited",
        f"supplier {invited.org.id} is suspended: only accredited suppliers may quote",
    )

    first = await quote(handle, invited.actor, terms)
    assert first.revision == 1
    with pytest.raises(WorkflowUpdateFailedError) as duplicate:
        await quote(handle, invited.actor, terms)  # a second "first" quote
    assert refusal(duplicate)[0] == "StaleRevision"

    await skip_time(harness.env, timedelta(days=3, minutes=1))  # past the deadline
    with pytest.raises(WorkflowUpdateFailedError) as late:
        await quote(handle, invited.actor, terms, replaces=1)
    kind, message = refusal(late)
    assert kind == "QuotingClosed" and "deadline" in message
    assert len(harness.rows(QuoteRecord, rfq_id=rfq.rfq_id)) == 1


async def test_concurrent_revisions_cannot_overwrite_each_other(harness: Harness) -> None:
    buyer = harness.buyer()
    (supplier,) = harness.suppliers(1)
    rfq = s.rfq(buyer, [supplier.org], now=await harness.now())
    handle = await harness.start(rfq)
    await quote(handle, supplier.actor, await harness.terms(rfq))

    # Two people of the supplier revise revision 1 at once: one wins, the other must reload.
    results = await asyncio.gather(
        quote(handle, supplier.actor, await harness.terms(rfq, price_l1="8.80"), replaces=1),
        quote(handle, supplier.actor, await harness.terms(rfq, price_l1="8.70"), replaces=1),
        return_exceptions=True,
    )
    receipts = [r for r in results if isinstance(r, QuoteReceipt)]
    errors = [r for r in results if isinstance(r, WorkflowUpdateFailedError)]
    assert [r.revision for r in receipts] == [2] and len(errors) == 1
    assert isinstance(errors[0].cause, ApplicationError)
    assert errors[0].cause.type == "StaleRevision"

    rows = sorted(harness.rows(QuoteRecord, rfq_id=rfq.rfq_id), key=lambda r: r.revision)
    assert [(r.revision, r.status) for r in rows] == [(1, "superseded"), (2, "active")]


async def test_extension_moves_the_deadline_and_early_close_needs_every_answer(
    harness: Harness,
) -> None:
    buyer = harness.buyer()
    first, second = harness.suppliers(2)
    rfq = s.rfq(buyer, [first.org, second.org], now=await harness.now())
    handle = await harness.start(rfq)
    new_deadline = rfq.quote_deadline + timedelta(days=2)

    with pytest.raises(WorkflowUpdateFailedError) as not_buyer:
        await handle.execute_update(
            RfqWorkflow.extend_deadline,
            ExtendDeadlineInput(new_deadline=new_deadline, actor=first.actor),
        )
    assert refusal(not_buyer)[0] == "WrongRole"
    view = await handle.execute_update(
        RfqWorkflow.extend_deadline,
        ExtendDeadlineInput(new_deadline=new_deadline, actor=buyer.actor),
    )
    assert view.quote_deadline == new_deadline
    (extended,) = harness.rows(AuditEntry, action="rfq.deadline_extended", target_id=rfq.rfq_id)
    assert extended.detail["to"] == new_deadline.isoformat()

    await skip_time(harness.env, timedelta(days=4))  # past the first deadline, before the new one
    await quote(handle, first.actor, await harness.terms(rfq))
    close = BuyerActionInput(actor=buyer.actor)
    with pytest.raises(WorkflowUpdateFailedError) as waiting:
        await handle.execute_update(RfqWorkflow.close_early, close)
    assert refusal(waiting)[0] == "NotAllAnswered"

    await handle.execute_update(
        RfqWorkflow.decline_rfq, DeclineInput(reason="no stock this quarter", actor=second.actor)
    )
    await handle.execute_update(RfqWorkflow.close_early, close)
    award = await harness.task(rfq.rfq_id, "rfq_award", buyer.org.id)
    assert "L1 → " + first.org.id in award.summary
    (invitation,) = harness.rows(RfqInvitation, rfq_id=rfq.rfq_id, supplier_org_id=second.org.id)
    assert (invitation.status, invitation.decline_reason) == ("declined", "no stock this quarter")
    (row,) = harness.rows(Rfq, id=rfq.rfq_id)
    assert row.status == "evaluating" and row.quote_deadline == new_deadline


async def test_split_award_makes_one_contract_per_supplier_and_both_sign(harness: Harness) -> None:
    buyer = harness.buyer()
    cheap_l1, cheap_l2 = harness.suppliers(2)
    rfq = s.rfq(buyer, [cheap_l1.org, cheap_l2.org], now=await harness.now())
    handle = await harness.start(rfq)
    await quote(handle, cheap_l1.actor, await harness.terms(rfq, price_l1="8.00", price_l2="190"))
    await quote(handle, cheap_l2.actor, await harness.terms(rfq, price_l1="9.90", price_l2="120"))
    await handle.execute_update(RfqWorkflow.close_early, BuyerActionInput(actor=buyer.actor))

    award = await harness.task(rfq.rfq_id, "rfq_award", buyer.org.id)
    wid = rfq_workflow_id(rfq.rfq_id)
    with pytest.raises(WorkflowUpdateFailedError) as bad_choice:
        await decide(
            harness.client, wid, award.id, buyer.actor, "award", choices={"L3": cheap_l1.org.id}
        )
    assert refusal(bad_choice)[1].startswith("choices.L3: not a line awaiting award")
    answer = await decide(harness.client, wid, award.id, buyer.actor, "award")  # as recommended
    assert answer.process_status == "awarding"
    first_id, second_id = f"{rfq.rfq_id}-C1", f"{rfq.rfq_id}-C2"

    # Small contracts (under 100,000 CNY): no finance step, straight to signatures.
    await harness.contract_reaches(first_id, "awaiting_signatures")
    await harness.contract_reaches(second_id, "awaiting_signatures")
    contracts = {c.id: c for c in harness.rows(Contract, rfq_id=rfq.rfq_id)}
    by_supplier = {c.supplier_org_id: c for c in contracts.values()}
    assert [line["line_id"] for line in by_supplier[cheap_l1.org.id].terms["lines"]] == ["L1"]
    assert [line["line_id"] for line in by_supplier[cheap_l2.org.id].terms["lines"]] == ["L2"]

    # A signer must name the hash of the document it read.
    contract = by_supplier[cheap_l1.org.id]
    task = await harness.task(contract.id, "contract_signature", buyer.org.id)
    with pytest.raises(WorkflowUpdateFailedError) as wrong_hash:
        await decide(
            harness.client,
            contract.workflow_id,
            task.id,
            buyer.actor,
            "sign",
            choices={"document_sha256": "0" * 64},
        )
    assert refusal(wrong_hash)[1].startswith("choices.document_sha256:")

    await sign_both(harness, by_supplier[cheap_l1.org.id].id, buyer, cheap_l1)
    await sign_both(harness, by_supplier[cheap_l2.org.id].id, buyer, cheap_l2)
    view = await harness.ended(handle)
    assert view.status == RfqStatus.COMPLETED and len(view.contract_ids) == 2

    for row in harness.rows(Contract, rfq_id=rfq.rfq_id):
        assert row.status == "executed"
        # Each executed contract has become an order waiting for its supplier's confirmation.
        order = await harness.client.get_workflow_handle(
            order_workflow_id(order_id_for(row.id))
        ).query(OrderWorkflow.get_status)
        assert (order.contract_id, order.status) == (row.id, "awaiting_confirmation")
        signatures = harness.rows(ContractSignature, contract_id=row.id)
        assert {sig.signer_org_id for sig in signatures} == {buyer.org.id, row.supplier_org_id}
        for sig in signatures:
            (key,) = harness.rows(SigningKey, id=sig.key_id)
            assert verify(
                signature_of(sig), key.public_key, document_sha256=row.document_sha256
            ).valid
    await record_history(handle, "rfq_split_award")
    await record_history(
        harness.client.get_workflow_handle(contract_workflow_id(first_id)), "contract_executed"
    )


async def test_finance_approves_level_by_level_in_the_buyer_currency_and_a_refusal_re_awards(
    harness: Harness,
) -> None:
    """A USD award converts at the recorded rate against a CNY chain of two levels; each level
    is a different finance approver, never the awarding buyer. A refusal hands the line to the
    next-ranked supplier."""
    buyer = harness.buyer()
    finance = s.member(harness.sessions, buyer.org, Role.FINANCE)
    finance_2 = s.member(harness.sessions, buyer.org, Role.FINANCE)
    best, runner_up = harness.suppliers(2)
    now = await harness.now()
    s.set_approval_chain(
        harness.sessions,
        buyer.org.id,
        ApprovalChain(
            currency="CNY",
            levels=(ApprovalLevel(above=Decimal(50_000)), ApprovalLevel(above=Decimal(100_000))),
        ),
    )
    s.record_rate(harness.sessions, "USD", "CNY", "7.10", now.date())
    rfq = s.rfq(buyer, [best.org, runner_up.org], now=now, currency="USD")
    handle = await harness.start(rfq)
    # L1: 1000 L at the 500+ break; best 14.50, runner-up 15.50 USD.
    await quote(handle, best.actor, await harness.terms(rfq, price_l1="15.00", line_ids=("L1",)))
    await quote(
        handle, runner_up.actor, await harness.terms(rfq, price_l1="16.00", line_ids=("L1",))
    )
    await handle.execute_update(RfqWorkflow.close_early, BuyerActionInput(actor=buyer.actor))
    wid = rfq_workflow_id(rfq.rfq_id)
    award = await harness.task(rfq.rfq_id, "rfq_award", buyer.org.id)
    await decide(harness.client, wid, award.id, buyer.actor, "award")

    contract_id = f"{rfq.rfq_id}-C1"
    first = await harness.task(contract_id, "contract_approval", buyer.org.id)
    # goods 1000 x 14.50 = 14,500.00; logistics 300.00; tax 13% of 14,800 = 1,924.00
    # total 16,724.00 USD x 7.10 = 118,740.40 CNY: above both levels.
    assert first.details["amount_in_chain_currency"] == "118740.40"
    assert buyer.actor.user_id in first.excluded_user_ids
    with pytest.raises(WorkflowUpdateFailedError):  # the buyer has no finance role here
        await decide(
            harness.client, contract_workflow_id(contract_id), first.id, buyer.actor, "approve"
        )
    answer = await decide(
        harness.client, contract_workflow_id(contract_id), first.id, finance.actor, "approve"
    )
    assert answer.process_status == "awaiting_approval"
    second = await harness.task(contract_id, "contract_approval", buyer.org.id)
    with pytest.raises(WorkflowUpdateFailedError) as same_person:
        await decide(
            harness.client, contract_workflow_id(contract_id), second.id, finance.actor, "approve"
        )
    assert refusal(same_person)[0] == "SameApprover"
    await decide(
        harness.client,
        contract_workflow_id(contract_id),
        second.id,
        finance_2.actor,
        "reject",
        comment="over this quarter's budget with this supplier",
    )
    refused = await harness.contract_reaches(contract_id, "rejected")
    assert refused.fx_rate is not None and refused.fx_rate["rate"] == "7.10000000"
    assert refused.amount_in_chain_currency == Decimal("118740.40")

    # The line comes back; the refused supplier is excluded, the runner-up recommended.
    again = await harness.task(rfq.rfq_id, "rfq_award", buyer.org.id)
    assert again.id != award.id and f"L1 → {runner_up.org.id}" in again.summary
    with pytest.raises(WorkflowUpdateFailedError) as excluded:
        await decide(
            harness.client, wid, again.id, buyer.actor, "award", choices={"L1": best.org.id}
        )
    assert "already failed" in refusal(excluded)[1]
    await decide(harness.client, wid, again.id, buyer.actor, "close")
    view = await harness.ended(handle)
    assert view.status == RfqStatus.LAPSED
    await record_history(handle, "rfq_refused_then_closed")
    await record_history(
        harness.client.get_workflow_handle(contract_workflow_id(contract_id)),
        "contract_refused_at_level_2",
    )


async def test_unsigned_contract_lapses_and_the_next_ranked_quote_can_win(
    harness: Harness,
) -> None:
    buyer = harness.buyer()
    silent, runner_up = harness.suppliers(2)
    rfq = s.rfq(buyer, [silent.org, runner_up.org], now=await harness.now())
    handle = await harness.start(rfq)
    await quote(handle, silent.actor, await harness.terms(rfq, price_l1="8.00"))
    await quote(handle, runner_up.actor, await harness.terms(rfq, price_l1="8.50", price_l2="160"))
    await skip_time(harness.env, timedelta(days=3, minutes=1))  # the deadline closes quoting
    wid = rfq_workflow_id(rfq.rfq_id)
    award = await harness.task(rfq.rfq_id, "rfq_award", buyer.org.id)
    await decide(harness.client, wid, award.id, buyer.actor, "award")
    contract_id = f"{rfq.rfq_id}-C1"
    await harness.contract_reaches(contract_id, "awaiting_signatures")
    buyer_task = await harness.task(contract_id, "contract_signature", buyer.org.id)
    await decide(
        harness.client,
        contract_workflow_id(contract_id),
        buyer_task.id,
        buyer.actor,
        "sign",
        choices={"document_sha256": buyer_task.details["document_sha256"]},
    )

    await skip_time(harness.env, timedelta(days=5, minutes=1))  # the supplier never signs
    lapsed = await harness.contract_reaches(contract_id, "lapsed")
    assert lapsed.status_reason.startswith(silent.org.legal_name + " did not sign by")
    again = await harness.task(rfq.rfq_id, "rfq_award", buyer.org.id)
    assert f"L1 → {runner_up.org.id}" in again.summary
    assert f"L2 → {runner_up.org.id}" in again.summary
    await decide(harness.client, wid, again.id, buyer.actor, "award")
    await sign_both(harness, f"{rfq.rfq_id}-C2", buyer, runner_up)
    view = await harness.ended(handle)
    assert view.status == RfqStatus.COMPLETED
    statuses = {c.id: c.status for c in harness.rows(Contract, rfq_id=rfq.rfq_id)}
    assert statuses == {contract_id: "lapsed", f"{rfq.rfq_id}-C2": "executed"}
    await record_history(handle, "rfq_re_awarded_after_lapse")


async def test_a_declined_signature_ends_the_contract_and_cancels_the_other_task(
    harness: Harness,
) -> None:
    buyer = harness.buyer()
    (supplier,) = harness.suppliers(1)
    rfq = s.rfq(buyer, [supplier.org], now=await harness.now())
    handle = await harness.start(rfq)
    await quote(handle, supplier.actor, await harness.terms(rfq))
    await handle.execute_update(RfqWorkflow.close_early, BuyerActionInput(actor=buyer.actor))
    award = await harness.task(rfq.rfq_id, "rfq_award", buyer.org.id)
    await decide(harness.client, rfq_workflow_id(rfq.rfq_id), award.id, buyer.actor, "award")
    contract_id = f"{rfq.rfq_id}-C1"
    task = await harness.task(contract_id, "contract_signature", supplier.org.id)
    with pytest.raises(WorkflowUpdateFailedError) as no_reason:
        await decide(
            harness.client, contract_workflow_id(contract_id), task.id, supplier.actor, "decline"
        )
    assert refusal(no_reason)[0] == "MalformedDecision"
    await decide(
        harness.client,
        contract_workflow_id(contract_id),
        task.id,
        supplier.actor,
        "decline",
        comment="price of acetone rose since we quoted",
    )
    lapsed = await harness.contract_reaches(contract_id, "lapsed")
    assert "declined to sign: price of acetone rose" in lapsed.status_reason
    buyer_tasks = harness.rows(HumanTask, subject_id=contract_id, org_id=buyer.org.id)
    assert [t.status for t in buyer_tasks] == ["cancelled"]
    await record_history(
        harness.client.get_workflow_handle(contract_workflow_id(contract_id)),
        "contract_declined_signature",
    )
    # Nobody else quoted: nothing left to award, the RFQ ends without a contract.
    view = await harness.ended(handle)
    assert view.status == RfqStatus.LAPSED


async def test_a_supplier_suspended_before_the_close_is_not_recommended(
    harness: Harness,
) -> None:
    buyer = harness.buyer()
    suspended, sound = harness.suppliers(2)
    rfq = s.rfq(buyer, [suspended.org, sound.org], now=await harness.now(), sealed=True)
    handle = await harness.start(rfq)
    await quote(handle, suspended.actor, await harness.terms(rfq, price_l1="5.00", price_l2="90"))
    await quote(handle, sound.actor, await harness.terms(rfq))
    s.set_standing(harness.sessions, suspended.org.id, "suspended")
    await handle.execute_update(RfqWorkflow.close_early, BuyerActionInput(actor=buyer.actor))
    award = await harness.task(rfq.rfq_id, "rfq_award", buyer.org.id)
    assert f"L1 → {sound.org.id}" in award.summary and suspended.org.id not in award.summary
    with pytest.raises(WorkflowUpdateFailedError) as ineligible:
        await decide(
            harness.client,
            rfq_workflow_id(rfq.rfq_id),
            award.id,
            buyer.actor,
            "award",
            choices={"L1": suspended.org.id},
        )
    assert "has no eligible quote" in refusal(ineligible)[1]
