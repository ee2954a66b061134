"""A process that cannot go on asks ops, and an outage shows as an incident.

Real activities on real PostgreSQL: an RFQ whose buyer organisation is missing fails its first
write with a foreign-key violation, which retrying cannot cure. The worker classifies it as a
``PermanentFailure``; the workflow opens a ``process_attention`` task for platform ops and waits.
Retrying before the cause is fixed asks again; once the organisation exists, retrying goes on.
Ending needs a reason and fails the process visibly.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.failures import RetryWatch
from contracts.attention import ATTENTION_TASK_KIND, ENDED_BY_OPS, PERMANENT_FAILURE
from contracts.common import OPERATOR_ORG_ID, OrgKind
from contracts.sourcing import BuyerActionInput, RfqInput, RfqStatus, rfq_workflow_id
from db.models import HumanTask, Incident, Notification, Organisation, Rfq
from db.seed import seed_demo
from db.session import transaction
from gateways.certification_registry import CertificationRegistryClient
from sandboxes.control import SandboxControl
from settings import Settings
from stack.temporal import runtime_with_metrics
from storage.object_store import ObjectStore
from tests.harness import builders as b
from tests.harness import sourcing as s
from tests.harness.api_server import free_port
from tests.harness.histories import record_history
from tests.harness.postgres import rows
from tests.harness.temporal import (
    eventually,
    new_task_queue,
    open_review_task,
    refusal,
    start_accreditation,
    terminate_all,
)
from tests.workflows import test_sourcing
from tests.workflows.test_sourcing import Harness, decide
from worker import build_worker
from workflows.rfq import RfqWorkflow

# The sourcing tests' ``harness`` fixture (a worker on the time-skipping server, RFQ helpers).
sourcing_harness = test_sourcing.harness


async def _rfq_of_a_missing_buyer(harness: Harness) -> tuple[RfqInput, str]:
    buyer = harness.buyer()
    (supplier,) = harness.suppliers(1)
    missing = f"org_test_missing_{uuid.uuid4().hex[:8]}"
    rfq = s.rfq(buyer, [supplier.org], now=await harness.now())
    return rfq.model_copy(update={"buyer_org_id": missing}), missing


async def _attention_task(harness: Harness, workflow_id: str, *, not_id: str = "") -> HumanTask:
    async def opened() -> HumanTask | None:
        with harness.sessions() as session:
            return session.scalars(
                select(HumanTask)
                .where(HumanTask.subject_id == workflow_id)
                .where(HumanTask.kind == ATTENTION_TASK_KIND)
                .where(HumanTask.status == "open")
                .where(HumanTask.id != not_id)
            ).first()

    return await eventually(opened, attempts=400)


async def test_a_step_that_fails_for_good_asks_ops_who_retry_once_the_cause_is_fixed(
    sourcing_harness: Harness,
) -> None:
    harness = sourcing_harness
    rfq, missing = await _rfq_of_a_missing_buyer(harness)
    handle = await harness.start(rfq)
    workflow_id = rfq_workflow_id(rfq.rfq_id)

    task = await _attention_task(harness, workflow_id)
    assert (task.org_id, task.role) == (OPERATOR_ORG_ID, "ops_supervisor")
    assert task.outcomes == ["retry", "skip", "end"]
    assert task.details["activity"] == "record_rfq"
    assert task.details["error"].startswith(f"{PERMANENT_FAILURE}: IntegrityError")
    assert "ForeignKeyViolation" in task.details["error"] and missing in task.details["error"]
    assert harness.rows(Rfq, id=rfq.rfq_id) == []

    ops = b.supervisor_actor()
    # Retrying before the cause is fixed fails the same way and asks again.
    answer = await decide(harness.client, workflow_id, task.id, ops, "retry")
    assert (answer.process_status, answer.message) == ("retry", "record_rfq retried")
    second = await _attention_task(harness, workflow_id, not_id=task.id)

    with transaction(harness.sessions) as session:
        session.add(
            Organisation(
                id=missing,
                kind=OrgKind.BUYER.value,
                legal_name="补建的采购方",
                name_en="Buyer added by ops",
                credit_code=b.unique_credit_code(),
            )
        )
    await decide(harness.client, workflow_id, second.id, ops, "retry")

    async def recorded() -> Rfq | None:
        found = harness.rows(Rfq, id=rfq.rfq_id)
        return found[0] if found else None

    assert (await eventually(recorded, attempts=400)).status == RfqStatus.OPEN.value
    decided = [t.status for t in harness.rows(HumanTask, subject_id=workflow_id)]
    assert decided == ["decided", "decided"]

    buyer_actor = rfq.created_by.model_copy(update={"org_id": missing})
    await handle.execute_update(
        RfqWorkflow.cancel_rfq, BuyerActionInput(actor=buyer_actor, reason="test done")
    )
    assert (await handle.result()).status == RfqStatus.CANCELLED
    await record_history(handle, "rfq_attention_retried_run_id")


async def test_ops_may_end_a_process_that_cannot_go_on_giving_the_reason(
    sourcing_harness: Harness,
) -> None:
    harness = sourcing_harness
    rfq, _ = await _rfq_of_a_missing_buyer(harness)
    handle = await harness.start(rfq)
    workflow_id = rfq_workflow_id(rfq.rfq_id)
    task = await _attention_task(harness, workflow_id)
    ops = b.supervisor_actor()

    with pytest.raises(WorkflowUpdateFailedError) as unreasoned:
        await decide(harness.client, workflow_id, task.id, ops, "end")
    assert refusal(unreasoned) == ("MalformedDecision", "comment: end must give its reason")
    answer = await decide(
        harness.client, workflow_id, task.id, ops, "end", comment="buyer closed its account"
    )
    assert answer.process_status == "ended"

    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == ENDED_BY_OPS
    assert "buyer closed its account" in cause.message
    await record_history(handle, "rfq_attention_ended_run_id")


async def test_an_outage_past_the_threshold_is_an_incident_until_the_step_succeeds(
    dev_env: WorkflowEnvironment,
    settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
    registry_control: SandboxControl,
) -> None:
    with transaction(sessions) as session:
        seed_demo(session)  # platform ops, whom the incident notifies
    app = b.one_certificate_application(sessions, store, registry)
    registry_control.set_fault(mode="error", status=503, count=3, paths=["/certificates"])
    port = free_port()
    runtime = runtime_with_metrics(port)
    assert runtime is not None
    watch = RetryWatch(sessions, runtime.metric_meter, incident_attempts=3)
    task_queue = new_task_queue()
    async with build_worker(
        dev_env.client,
        settings=settings,
        sessions=sessions,
        store=store,
        registry=registry,
        task_queue=task_queue,
        watch=watch,
    ):
        handle = await start_accreditation(dev_env.client, app, task_queue=task_queue)

        async def incident() -> Incident | None:
            found = rows(sessions, Incident, workflow_id=handle.id)
            return found[0] if found else None

        opened = await eventually(incident, attempts=600, interval=0.05)
        assert opened.activity_type == "verify_certificate"
        assert opened.attempts >= 3 and "503" in opened.last_error
        # The fourth attempt comes 8 s after the third: meanwhile /metrics shows it retrying.
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert 'tradeflow_activities_retrying{activity_type="verify_certificate"' in metrics
        retrying = [
            line
            for line in metrics.splitlines()
            if line.startswith('tradeflow_activities_retrying{activity_type="verify_certificate"')
        ]
        assert [line.rsplit(" ", 1)[1] for line in retrying] == ["1"]
        await open_review_task(handle)
        await terminate_all(dev_env.client, [handle.id])

    (resolved,) = rows(sessions, Incident, workflow_id=handle.id)
    assert resolved.resolved_at is not None
    assert watch.retrying() == {}
    (notice,) = rows(sessions, Notification, id=f"incident:{resolved.id}")
    assert (notice.org_id, notice.role, notice.kind) == (
        OPERATOR_ORG_ID,
        "ops_supervisor",
        "incident_opened",
    )
    assert timedelta(0) <= resolved.resolved_at - resolved.first_failed_at
