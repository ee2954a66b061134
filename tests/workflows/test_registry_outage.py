"""The certification registry fails for a while: the checks retry and the application goes on."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from gateways.certification_registry import CertificationRegistryClient
from sandboxes.control import SandboxControl
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness import builders as b
from tests.harness.temporal import eventually, new_task_queue, start_accreditation
from worker import build_worker
from workflows.accreditation import AccreditationWorkflow


async def test_registry_outage_delays_but_does_not_fail_the_checks(
    dev_env: WorkflowEnvironment,
    settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
    registry_control: SandboxControl,
) -> None:
    app = b.one_certificate_application(sessions, store, registry)
    claim = app.certificates[0]
    registry_control.set_fault(mode="error", status=503, seconds=5, paths=["/certificates"])
    task_queue = new_task_queue()
    async with build_worker(
        dev_env.client,
        settings=settings,
        sessions=sessions,
        store=store,
        registry=registry,
        task_queue=task_queue,
    ):
        handle = await start_accreditation(dev_env.client, app, task_queue=task_queue)

        async def reviewing() -> bool | None:
            view = await handle.query(AccreditationWorkflow.get_status)
            return True if view.open_task_ids else None

        await eventually(reviewing, attempts=300, interval=0.1)
        view = await handle.query(AccreditationWorkflow.get_status)
        await handle.terminate("test done")

    assert view.report is not None and view.report.certificates[0].passed
    failed = [r for r in registry_control.requests() if claim.number in r["path"]]
    assert len(failed) >= 2  # at least one refused attempt before the one that passed
