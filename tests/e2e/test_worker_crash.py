"""A worker process killed (SIGKILL) mid-activity: its step times out on its heartbeat, another
worker takes over, and nothing happens twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.enums.v1 import TimeoutType
from temporalio.testing import WorkflowEnvironment

from contracts.accreditation import (
    AccreditationStatus,
)
from db.models import AccreditationApplication, AuditEntry, Document, SupplierAccreditation
from gateways.certification_registry import CertificationRegistryClient
from sandboxes.control import SandboxControl
from settings import Settings
from storage.object_store import ObjectStore
from tests.conftest import TEST_JWT_SECRET, TEST_KEY_SPEC
from tests.harness import builders as b
from tests.harness.temporal import (
    approve,
    eventually,
    new_task_queue,
    open_review_task,
    start_accreditation,
)

pytestmark = pytest.mark.long(seconds=30)  # handed out first: see tests/conftest.py
ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def worker_process(
    settings: Settings, temporal_address: str, task_queue: str
) -> Iterator[subprocess.Popen[bytes]]:
    env = dict(
        os.environ,
        TRADEFLOW_ENVIRONMENT="test",
        DATABASE_URL=settings.database_url,
        TRADEFLOW_TEMPORAL_ADDRESS=temporal_address,
        TRADEFLOW_TASK_QUEUE=task_queue,
        TRADEFLOW_OBJECT_STORE="s3",
        TRADEFLOW_S3_ENDPOINT_URL=settings.s3_endpoint_url or "",
        TRADEFLOW_S3_BUCKET=settings.s3_bucket,
        TRADEFLOW_ENCRYPTION_KEYS=TEST_KEY_SPEC,
        TRADEFLOW_ACTIVE_KEY_ID="test1",
        TRADEFLOW_JWT_SECRET=TEST_JWT_SECRET,
        TRADEFLOW_CERTIFICATION_REGISTRY_URL=settings.certification_registry_url,
    )
    process = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


async def test_killed_worker_is_replaced_and_the_application_completes_once(
    dev_env: WorkflowEnvironment,
    settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
    registry_control: SandboxControl,
) -> None:
    app = b.one_certificate_application(sessions, store, registry)
    claim = app.certificates[0]
    address = dev_env.client.service_client.config.target_host
    task_queue = new_task_queue()
    client = dev_env.client
    # The registry answers slowly, so the first worker dies with the check in flight.
    registry_control.set_fault(mode="slow", delay_s=5.0, count=1, paths=["/certificates"])
    handle = await start_accreditation(client, app, task_queue=task_queue)
    with worker_process(settings, address, task_queue) as first:

        async def lookup_in_flight() -> bool | None:
            pending = (await handle.describe()).raw_description.pending_activities
            started = [
                a
                for a in pending
                if a.activity_type.name == "verify_certificate" and a.HasField("last_started_time")
            ]
            # Started is not enough: the request must have reached the registry (held there
            # by the slow fault), or the kill lands before it and no attempt is lost.
            sent = [
                r
                for r in registry_control.requests(path_prefix="/certificates")
                if claim.number in r["path"]
            ]
            return True if started and sent else None

        await eventually(lookup_in_flight, attempts=300, interval=0.1)
        first.send_signal(signal.SIGKILL)
        first.wait()

    async def why_retried() -> int | None:
        """How the killed attempt timed out, once the check's next attempt is scheduled."""
        pending = (await handle.describe()).raw_description.pending_activities
        retried = [a for a in pending if a.activity_type.name == "verify_certificate"]
        if not retried or retried[0].attempt < 2:
            return None
        return int(retried[0].last_failure.timeout_failure_info.timeout_type)

    # No worker beats for it any more: it times out on its heartbeat (15 s), not on its
    # start-to-close timeout (30 s), while no worker runs at all.
    assert (
        await eventually(why_retried, attempts=600, interval=0.1)
        == TimeoutType.TIMEOUT_TYPE_HEARTBEAT
    )

    with worker_process(settings, address, task_queue):
        task_id = await open_review_task(handle)
        answer = await approve(handle, task_id, b.compliance_actor())
        assert answer.process_status == AccreditationStatus.ACCREDITED
        await handle.terminate("test finished")

    org_id = app.supplier_org_id
    with sessions() as session:

        def count(model: type, *where: object) -> int:
            return session.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]

        assert (
            count(AccreditationApplication, AccreditationApplication.supplier_org_id == org_id) == 1
        )
        assert (
            count(Document, Document.org_id == org_id, Document.kind == "accreditation_certificate")
            == 1
        )
        assert count(SupplierAccreditation, SupplierAccreditation.supplier_org_id == org_id) == 1
        assert (
            count(
                AuditEntry,
                AuditEntry.action == "accreditation.applied",
                AuditEntry.target_id == app.application_id,
            )
            == 1
        )
    lookups = [
        r
        for r in registry_control.requests(path_prefix="/certificates")
        if claim.number in r["path"]
    ]
    assert len(lookups) >= 2  # the killed attempt and its retry
