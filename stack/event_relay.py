"""The relay from the outbox of process events to notification workflows, run by the worker.

Every ``poll_s`` it reads the events not yet relayed, oldest first, and starts one
``NotificationWorkflow`` an event under ``notification:<event id>`` with duplicates rejected,
then marks the event relayed. Several workers may relay at once, and a worker may die between
starting a workflow and marking its event: the workflow id makes the second start answer
"already started", which counts as relayed, so an event is never planned twice. An event that
no active rule of its organisations could match (wrong type) is marked relayed without a
workflow, so the outbox costs nothing where no one has rules.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from contracts.notifications import NotificationInput, notification_workflow_id
from db.notification_rules import NotificationRule, ProcessEvent
from db.session import transaction
from stack.polling import poll_until_stopped
from workflows.notification import NotificationWorkflow

BATCH = 100


def pending_events(sessions: sessionmaker[Session]) -> tuple[list[str], list[str]]:
    """Events not relayed yet, oldest first: (those some active rule may match, the rest)."""
    ruled = exists().where(
        NotificationRule.org_id == ProcessEvent.org_ids.any_(),
        NotificationRule.event_type == ProcessEvent.event_type,
        NotificationRule.active,
    )
    with transaction(sessions) as session:
        rows = session.execute(
            select(ProcessEvent.id, ruled.label("ruled"))
            .where(ProcessEvent.relayed_at.is_(None))
            .order_by(ProcessEvent.occurred_at, ProcessEvent.id)
            .limit(BATCH)
        ).all()
    return [r.id for r in rows if r.ruled], [r.id for r in rows if not r.ruled]


def mark_relayed(sessions: sessionmaker[Session], event_ids: list[str]) -> None:
    if not event_ids:
        return
    with transaction(sessions) as session:
        session.execute(
            update(ProcessEvent)
            .where(ProcessEvent.id.in_(event_ids), ProcessEvent.relayed_at.is_(None))
            .values(relayed_at=datetime.now(UTC))
        )


async def relay_once(client: Client, sessions: sessionmaker[Session], *, task_queue: str) -> int:
    """Relay one batch; how many events it settled."""
    ruled, unruled = await asyncio.to_thread(pending_events, sessions)
    for event_id in ruled:
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await client.start_workflow(
                NotificationWorkflow.run,
                NotificationInput(event_id=event_id),
                id=notification_workflow_id(event_id),
                task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
    await asyncio.to_thread(mark_relayed, sessions, ruled + unruled)
    return len(ruled) + len(unruled)


async def relay_events(
    client: Client,
    sessions: sessionmaker[Session],
    *,
    task_queue: str,
    stop: asyncio.Event,
    poll_s: float,
) -> None:
    """Relay until ``stop`` is set; a failure (database or Temporal away) is logged and the
    next poll tries again, since the events wait in the outbox meanwhile."""

    async def step() -> bool:  # a full batch: more may be waiting
        return await relay_once(client, sessions, task_queue=task_queue) >= BATCH

    await poll_until_stopped(stop, poll_s, step, doing="the notification relay")
