"""A task whose process ended while it was open: deciding it answers 409 saying how the process
ended, and closes the task (cancelled, audited), so it leaves the inbox. Found by a durability
review: a catalogue import's two writers could each open an attention task, and ops ending one
failed the import with the other still open, its decision awaited by nobody."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from contracts.common import Role
from db.models import AuditEntry, HumanTask
from settings import Settings
from tests.harness import builders as b
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller
from tests.harness.temporal import new_task_queue


def open_task(sessions: sessionmaker[Session], caller: TokenCaller, workflow_id: str) -> str:
    return b.open_task(
        sessions,
        org_id=caller.org_id,
        role=Role.BUYER,
        workflow_id=workflow_id,
        kind="ended_process_test",
        title="A task of a process that ended",
    )


async def test_deciding_a_task_whose_process_ended_closes_it(
    api_url: str,
    e2e_settings: Settings,
    sessions: sessionmaker[Session],
    dev_env: WorkflowEnvironment,
) -> None:
    buyer = TokenCaller(
        api_url, e2e_settings.jwt_secret, s.member(sessions, s.buyer_org(sessions), Role.BUYER)
    )
    # A process that ran and was terminated (no worker ever took it), and one never heard of.
    ended = await dev_env.client.start_workflow(
        "NoWorkerRunsThis", id=f"ended-{uuid.uuid4().hex[:8]}", task_queue=new_task_queue()
    )
    await ended.terminate(reason="the test ends it")
    for workflow_id, how in ((ended.id, "has ended (terminated)"), ("Gone:never-was", "is gone")):
        task_id = open_task(sessions, buyer, workflow_id)
        answer = await buyer.http.post(f"/tasks/{task_id}/decision", json={"outcome": "done"})
        assert answer.status_code == 409, answer.text
        assert answer.json()["detail"].startswith(f"this task's process {how}")
        inbox = await buyer.http.get("/tasks", params={"subject_id": task_id})
        assert inbox.json() == []
        with sessions() as session:
            row = session.get(HumanTask, task_id)
            assert row is not None and row.status == "cancelled"
            (entry,) = session.scalars(
                select(AuditEntry).where(AuditEntry.target_id == task_id)
            ).all()
            assert entry.action == "task.cancelled"
            assert entry.detail["reason"] == f"its process {how}"
        again = await buyer.http.post(f"/tasks/{task_id}/decision", json={"outcome": "done"})
        assert again.status_code == 409
        assert again.json()["detail"].endswith("and the task was closed already")
