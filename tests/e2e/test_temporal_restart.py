"""The Temporal server restarts (same SQLite file) mid-review: the process and its task survive."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from contracts.accreditation import (
    AccreditationOutcome,
    AccreditationStatus,
)
from gateways.certification_registry import CertificationRegistryClient
from security.keys import KeyRing
from security.payload_codec import data_converter
from settings import Settings
from stack.temporal import ORG_ID, SUBJECT_ID, dev_server_path
from storage.object_store import ObjectStore
from tests.harness import builders as b
from tests.harness.api_server import free_port
from tests.harness.temporal import approve, new_task_queue, open_review_task, start_accreditation
from worker import build_worker
from workflows.accreditation import AccreditationWorkflow


async def start_server(db_file: Path, port: int, keyring: KeyRing) -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(
        port=port,
        dev_server_existing_path=str(dev_server_path()),
        dev_server_database_filename=str(db_file),
        data_converter=data_converter(keyring),
        search_attributes=[ORG_ID, SUBJECT_ID],
        dev_server_log_level="error",
    )


async def test_review_survives_a_temporal_server_restart(
    tmp_path: Path,
    keyring: KeyRing,
    settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
) -> None:
    db_file, port = tmp_path / "temporal.db", free_port()
    app = b.one_certificate_application(sessions, store, registry)
    task_queue = new_task_queue()

    before = await start_server(db_file, port, keyring)
    async with build_worker(
        before.client,
        settings=settings,
        sessions=sessions,
        store=store,
        registry=registry,
        task_queue=task_queue,
    ):
        handle = await start_accreditation(before.client, app, task_queue=task_queue)

        task_id = await open_review_task(handle)
    await before.shutdown()

    after = await start_server(db_file, port, keyring)
    try:
        async with build_worker(
            after.client,
            settings=settings,
            sessions=sessions,
            store=store,
            registry=registry,
            task_queue=task_queue,
        ):
            resumed: WorkflowHandle[AccreditationWorkflow, AccreditationOutcome] = (
                after.client.get_workflow_handle(handle.id, result_type=AccreditationOutcome)
            )
            answer = await approve(resumed, task_id, b.compliance_actor())
            assert answer.process_status == AccreditationStatus.ACCREDITED
            await resumed.terminate("test finished")
    finally:
        await after.shutdown()
