"""Accreditation paths on the time-skipping server, with real activities and services."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from contracts.accreditation import (
    AccreditationOutcome,
    AccreditationStatus,
    ApplyInput,
    RenewCertificateInput,
    RenewCertificateResult,
)
from contracts.common import Actor
from contracts.tasks import DecideTaskInput, TaskAnswer
from db.models import (
    AccreditationApplication,
    AuditEntry,
    Document,
    HumanTask,
    Notification,
    SupplierAccreditation,
)
from gateways.certification_registry import CertificationRegistryClient
from sandboxes.control import SandboxControl
from settings import Settings
from storage.object_store import ObjectStore, get_verified
from tests.harness import builders as b
from tests.harness.histories import record_history
from tests.harness.temporal import (
    eventually,
    new_task_queue,
    skip_time,
    start_accreditation,
    terminate_all,
)
from worker import build_worker
from workflows.accreditation import AccreditationWorkflow

AccreditationHandle = WorkflowHandle[AccreditationWorkflow, AccreditationOutcome]


@dataclass
class Harness:
    env: WorkflowEnvironment
    client: Client
    task_queue: str
    sessions: sessionmaker[Session]
    store: ObjectStore
    registry: CertificationRegistryClient
    started: list[AccreditationHandle] = field(default_factory=list)

    async def today(self) -> date:
        return (await self.env.get_current_time()).date()

    async def apply(self, app: ApplyInput) -> AccreditationHandle:
        handle = await start_accreditation(self.client, app, task_queue=self.task_queue)
        self.started.append(handle)
        return handle

    async def close(self) -> None:
        """Terminate what is still running: the shared server skips time for every workflow."""
        await terminate_all(self.client, [handle.id for handle in self.started])

    async def application(self, *, risky: bool = False, valid_for: int = 700) -> ApplyInput:
        org = b.make_org(self.sessions)
        today = await self.today()
        certificates = tuple(
            b.register_certificate(
                self.registry,
                holder=org.legal_name,
                standard=standard,
                issued=today - timedelta(days=200),
                expires=today + timedelta(days=valid_for),
            )
            for standard in ("ISO 9001", "ISO 14001")
        )
        years = b.distressed_years(today.year - 1) if risky else b.healthy_years(today.year - 1)
        licence = b.store_document(self.sessions, self.store, org_id=org.id)
        return b.application(
            org=org,
            licence=licence,
            certificates=certificates,
            financials=years,
            submitted_at=await self.env.get_current_time(),
        )

    async def open_task(self, handle: AccreditationHandle, step: str) -> str:
        async def opened() -> str | None:
            view = await handle.query(AccreditationWorkflow.get_status)
            steps = (t for t in view.open_task_ids if t.rsplit(":", 1)[-1].startswith(step))
            task = next(steps, None)
            assert task, f"status {view.status.value} {view.reasons}, open {view.open_task_ids}"
            return task

        return await eventually(opened, what=f"an open {step} task in {handle.id}")

    def row(self, model: type, key: str) -> object:
        with self.sessions() as session:
            return session.get(model, key)


async def decide(
    handle: AccreditationHandle,
    task_id: str,
    actor: Actor,
    outcome: str = "approve",
    comment: str = "",
) -> TaskAnswer:
    answer: TaskAnswer = await handle.execute_update(
        "decide_task",
        DecideTaskInput(task_id=task_id, outcome=outcome, comment=comment, actor=actor),
        result_type=TaskAnswer,
    )
    return answer


async def renew(
    handle: AccreditationHandle, renewal: RenewCertificateInput
) -> RenewCertificateResult:
    result: RenewCertificateResult = await handle.execute_update(
        "submit_renewed_certificate", renewal, result_type=RenewCertificateResult
    )
    return result


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
        harness = Harness(time_skipping_env, client, task_queue, sessions, store, registry)
        yield harness
        await harness.close()


async def test_low_risk_supplier_is_accredited_after_one_review(harness: Harness) -> None:
    app = await harness.application()
    handle = await harness.apply(app)
    task_id = await harness.open_task(handle, "review")

    answer = await decide(handle, task_id, b.compliance_actor())

    assert answer.process_status == AccreditationStatus.ACCREDITED
    assert answer.message == "accredited as tier_1"
    with harness.sessions() as session:
        standing = session.get(SupplierAccreditation, app.supplier_org_id)
        assert (
            standing is not None and standing.status == "accredited" and standing.tier == "tier_1"
        )
        assert standing.expires_on == min(c.expiry_date for c in app.certificates)
        task = session.get(HumanTask, task_id)
        assert (
            task is not None
            and task.status == "decided"
            and task.decided_by == "usr_test_compliance"
        )
        document = session.get(Document, standing.certificate_document_id)
        assert document is not None
        actions = session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.target_id.in_([app.application_id, task_id, app.supplier_org_id])
            )
        ).all()
    assert {
        "accreditation.applied",
        "task.opened",
        "task.decided",
        "accreditation.standing_changed",
    } <= set(actions)
    pdf = PdfReader(io.BytesIO(get_verified(harness.store, document.sha256)))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert app.legal_name in text and "供应商资质认证证书" in text and app.credit_code in text
    await record_history(handle, "accreditation_low_risk")


async def test_hard_failures_reject_without_asking_anyone(harness: Harness) -> None:
    app = await harness.application()
    unknown = app.certificates[0].model_copy(update={"number": "CN-NOT-IN-REGISTRY-1"})
    app = app.model_copy(update={"certificates": (unknown,), "financials": app.financials[1:]})
    handle = await harness.apply(app)

    outcome = await handle.result()

    assert outcome.status == AccreditationStatus.REJECTED
    assert any(str(app.financials[0].year - 1) in reason for reason in outcome.reasons)
    assert any("certificate" in reason.lower() for reason in outcome.reasons)
    with harness.sessions() as session:
        assert (
            session.scalars(select(HumanTask).where(HumanTask.workflow_id == handle.id)).all() == []
        )
    await record_history(handle, "accreditation_hard_failure")


async def test_review_escalates_after_72_hours_and_lapses_after_14_days(harness: Harness) -> None:
    handle = await harness.apply(await harness.application())
    task_id = await harness.open_task(handle, "review")

    await skip_time(harness.env, timedelta(hours=73))

    async def escalated() -> HumanTask:
        task = harness.row(HumanTask, task_id)
        assert isinstance(task, HumanTask)
        assert task.role == "ops_supervisor"
        return task

    assert (await eventually(escalated, what="the review escalated")).escalated_at is not None
    with pytest.raises(WorkflowUpdateFailedError) as rejected:
        await decide(handle, task_id, b.compliance_actor())
    assert isinstance(rejected.value.cause, ApplicationError)
    assert rejected.value.cause.type == "WrongRole"

    outcome = await handle.result()  # unlocks time skipping up to the 14-day lapse

    assert outcome.status == AccreditationStatus.LAPSED
    task = harness.row(HumanTask, task_id)
    assert isinstance(task, HumanTask) and task.status == "expired"


async def test_escalated_task_is_decided_by_the_supervisor(harness: Harness) -> None:
    handle = await harness.apply(await harness.application())
    task_id = await harness.open_task(handle, "review")
    await skip_time(harness.env, timedelta(hours=73))

    async def decided() -> TaskAnswer:
        try:
            return await decide(handle, task_id, b.supervisor_actor())
        except WorkflowUpdateFailedError as refused:  # not escalated yet
            raise AssertionError(f"refused: {refused.cause}") from refused

    answer = await eventually(decided, what="the supervisor's decision")
    assert answer.process_status == AccreditationStatus.ACCREDITED


async def test_high_risk_needs_a_second_different_approver(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
) -> None:
    task_queue = new_task_queue()
    client = time_skipping_env.client
    # No cache: every activation replays the whole history, so non-determinism would show here.
    async with build_worker(
        client,
        settings=settings,
        sessions=sessions,
        store=store,
        registry=registry,
        task_queue=task_queue,
        max_cached_workflows=0,
    ):
        harness = Harness(time_skipping_env, client, task_queue, sessions, store, registry)
        handle = await harness.apply(await harness.application(risky=True))
        first_task = await harness.open_task(handle, "review")
        first = b.compliance_actor("usr_first")

        answer = await decide(handle, first_task, first)
        assert answer.process_status == AccreditationStatus.AWAITING_SECOND_APPROVAL

        second_task = await harness.open_task(handle, "second-review")
        with pytest.raises(WorkflowUpdateFailedError) as same_person:
            await decide(handle, second_task, first)
        assert isinstance(same_person.value.cause, ApplicationError)
        assert same_person.value.cause.type == "SameApprover"

        answer = await decide(handle, second_task, b.compliance_actor("usr_second"))
        assert answer.process_status == AccreditationStatus.ACCREDITED
        assert answer.message == "accredited as tier_3"
        await record_history(handle, "accreditation_four_eyes")
        await harness.close()


async def test_rejection_needs_a_reason_and_ends_the_application(harness: Harness) -> None:
    handle = await harness.apply(await harness.application())
    task_id = await harness.open_task(handle, "review")
    with pytest.raises(WorkflowUpdateFailedError) as no_reason:
        await decide(handle, task_id, b.compliance_actor(), outcome="reject")
    assert isinstance(no_reason.value.cause, ApplicationError)
    assert no_reason.value.cause.type == "MalformedDecision"

    answer = await decide(
        handle, task_id, b.compliance_actor(), "reject", "licence scan unreadable"
    )

    assert answer.process_status == AccreditationStatus.REJECTED
    outcome = await handle.result()
    assert outcome.reasons == ("rejected by compliance: licence scan unreadable",)


async def test_expiry_suspends_and_verified_renewals_reinstate_months_later(
    harness: Harness,
) -> None:
    app = await harness.application(valid_for=90)
    handle = await harness.apply(app)
    await decide(handle, await harness.open_task(handle, "review"), b.compliance_actor())

    await skip_time(harness.env, timedelta(days=61))  # 30 days before the certificates expire

    async def reminded() -> list[str]:
        with harness.sessions() as session:
            kinds = session.scalars(
                select(Notification.kind).where(Notification.org_id == app.supplier_org_id)
            ).all()
        assert kinds.count("certificate_expiring") == 2, kinds
        return list(kinds)

    await eventually(reminded, what="two expiry reminders")

    await skip_time(harness.env, timedelta(days=31))  # past expiry, nothing renewed

    async def standing(status: str) -> SupplierAccreditation:
        row = harness.row(SupplierAccreditation, app.supplier_org_id)
        assert isinstance(row, SupplierAccreditation)
        assert row.status == status
        return row

    await eventually(lambda: standing("suspended"), what="the standing suspended")
    row_status = harness.row(AccreditationApplication, app.application_id)
    assert isinstance(row_status, AccreditationApplication) and row_status.status == "suspended"

    supplier = app.submitted_by
    today = await harness.today()
    renewals = [
        b.register_certificate(
            harness.registry,
            holder=app.legal_name,
            standard=claim.standard,
            issued=today - timedelta(days=1),
            expires=today + timedelta(days=3 * 365 - 10),
        )
        for claim in app.certificates
    ]
    first = await renew(handle, RenewCertificateInput(certificate=renewals[0], actor=supplier))
    assert first.accepted
    assert (
        await handle.query(AccreditationWorkflow.get_status)
    ).status == AccreditationStatus.SUSPENDED

    second = await renew(handle, RenewCertificateInput(certificate=renewals[1], actor=supplier))

    assert second.accepted and second.expires_on == min(r.expiry_date for r in renewals)
    row = await eventually(lambda: standing("accredited"), what="the standing reinstated")
    assert row.expires_on == second.expires_on
    await record_history(handle, "accreditation_renewal")


async def test_renewal_that_fails_verification_is_refused_with_reasons(harness: Harness) -> None:
    app = await harness.application()
    handle = await harness.apply(app)
    await decide(handle, await harness.open_task(handle, "review"), b.compliance_actor())
    today = await harness.today()
    suspended = b.register_certificate(
        harness.registry,
        holder=app.legal_name,
        issued=today - timedelta(days=1),
        expires=today + timedelta(days=900),
        status="Suspended",
    )

    result = await renew(
        handle, RenewCertificateInput(certificate=suspended, actor=app.submitted_by)
    )

    assert not result.accepted
    assert any("suspended" in reason.lower() for reason in result.reasons)
    with pytest.raises(WorkflowUpdateFailedError):
        await renew(
            handle, RenewCertificateInput(certificate=suspended, actor=b.compliance_actor())
        )


async def test_yearly_financial_review_then_continue_as_new(harness: Harness) -> None:
    app = await harness.application(valid_for=3 * 365 - 250)
    handle = await harness.apply(app)
    await decide(handle, await harness.open_task(handle, "review"), b.compliance_actor())
    first_run = (await handle.describe()).run_id

    await skip_time(harness.env, timedelta(days=366))
    review_day = (await harness.env.get_current_time()).date()

    async def review_task() -> str | None:
        with harness.sessions() as session:
            return session.scalar(
                select(HumanTask.id).where(
                    HumanTask.workflow_id == handle.id,
                    HumanTask.kind == "accreditation_financial_review",
                    HumanTask.status == "open",
                )
            )

    task_id = await eventually(review_task, what="an open yearly financial review")
    answer = await decide(handle, task_id, b.compliance_actor(), outcome="keep")
    assert answer.process_status == AccreditationStatus.ACCREDITED

    async def continued() -> str:
        description = await handle.describe()
        assert description.run_id != first_run, f"first run still {description.status}"
        return description.run_id

    await eventually(continued, what="a run continued as new")
    latest: AccreditationHandle = harness.client.get_workflow_handle(
        handle.id, result_type=AccreditationOutcome
    )
    view = await latest.query(AccreditationWorkflow.get_status)
    assert view.accreditation is not None
    assert view.accreditation.next_financial_review > review_day


async def test_a_rejected_supplier_can_apply_again_with_a_fresh_review(harness: Harness) -> None:
    app = await harness.application()
    first = await harness.apply(app)
    first_task = await harness.open_task(first, "review")
    await decide(first, first_task, b.compliance_actor(), "reject", "incomplete licence")
    # The rejected process ends without a timer, so its result needs no time skipped. Awaiting
    # it with auto-skipping lets the server jump to its next timer the moment the workflow is
    # done (the test server's ten-year default execution timeout), and the copied certificates
    # and statements below would then have expired, so no review would open.
    with harness.env.auto_time_skipping_disabled():
        await first.result()

    again = app.model_copy(
        update={
            "application_id": f"{app.application_id}-2",
            "submitted_at": await harness.env.get_current_time(),
        }
    )
    second = await harness.apply(again)
    second_task = await harness.open_task(second, "review")

    assert second_task != first_task
    task = harness.row(HumanTask, second_task)
    assert isinstance(task, HumanTask) and task.status == "open"
    answer = await decide(second, second_task, b.compliance_actor())
    assert answer.process_status == AccreditationStatus.ACCREDITED


async def test_a_registry_refusal_ends_the_application_with_the_reason(
    harness: Harness, registry_control: SandboxControl
) -> None:
    app = await harness.application()
    registry_control.set_fault(mode="error", status=403, paths=["/certificates"])
    handle = await harness.apply(app)

    outcome = await handle.result()

    assert outcome.status == AccreditationStatus.REJECTED
    assert outcome.reasons[0].startswith("automatic checks could not complete")
    with harness.sessions() as session:
        row = session.get(AccreditationApplication, app.application_id)
        assert row is not None and row.status == "rejected" and row.reasons == list(outcome.reasons)


async def test_certificates_expire_on_time_while_a_yearly_review_is_open(harness: Harness) -> None:
    app = await harness.application(valid_for=370)
    handle = await harness.apply(app)
    await decide(handle, await harness.open_task(handle, "review"), b.compliance_actor())

    await skip_time(harness.env, timedelta(days=366))
    review = await harness.open_task(handle, "financial-review")
    await skip_time(harness.env, timedelta(days=6))  # past expiry, review still undecided

    async def suspended() -> SupplierAccreditation:
        row = harness.row(SupplierAccreditation, app.supplier_org_id)
        assert isinstance(row, SupplierAccreditation)
        assert row.status == "suspended"
        return row

    await eventually(suspended, what="the standing suspended at expiry")
    assert review in (await handle.query(AccreditationWorkflow.get_status)).open_task_ids
