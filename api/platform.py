"""The long-lived objects one API process shares: built in the lifespan, read by dependencies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import TemporalError

from security.keys import KeyRing
from settings import Settings
from stack.temporal import search_attributes
from storage.object_store import ObjectStore

V = TypeVar("V")
LIVE_STATUS_TIMEOUT = timedelta(seconds=3)


@dataclass(frozen=True)
class Platform:
    settings: Settings
    sessions: sessionmaker[Session]
    temporal: Client
    store: ObjectStore
    keyring: KeyRing
    jwt_secret: str

    async def live_status(
        self, workflow_id: str, view: type[V], *, timeout: timedelta = LIVE_STATUS_TIMEOUT
    ) -> V | None:
        """A running process's own view of itself (its ``get_status`` query); None when it
        cannot answer quickly, so the recorded rows answer instead."""
        try:
            answer: V = await self.temporal.get_workflow_handle(workflow_id).query(
                "get_status", result_type=view, rpc_timeout=timeout
            )
        except TemporalError:
            return None
        return answer

    async def start_process(
        self,
        workflow: str,
        arg: object,
        *,
        workflow_id: str,
        org_id: str,
        subject_id: str,
        retry_key: str | None,
    ) -> None:
        """Start the process a request asks for, never a second one under its id; a request
        retried with its ``Idempotency-Key`` (its first answer lost) finds the one it started."""
        await self.temporal.start_workflow(
            workflow,
            arg,
            id=workflow_id,
            task_queue=self.settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING
            if retry_key
            else WorkflowIDConflictPolicy.FAIL,
            search_attributes=search_attributes(org_id, subject_id),
        )
