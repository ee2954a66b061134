"""The inbox's rows: the open task a REST command decides on a person's behalf, and closing a
task (its process's decision or expiry, or its process found ended with the task still open)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.common import SYSTEM_ACTOR
from contracts.tasks import CloseTaskInput, TaskStatus
from db.audit_log import append_audit
from db.models import HumanTask


def open_task(
    session: Session,
    *,
    subject_id: str,
    kind: str,
    org_id: str,
    details: Mapping[str, str] | None = None,
) -> HumanTask | None:
    """The organisation's open task of ``kind`` on the subject, with these ``details``."""
    query = (
        select(HumanTask)
        .where(HumanTask.subject_id == subject_id)
        .where(HumanTask.kind == kind)
        .where(HumanTask.org_id == org_id)
        .where(HumanTask.status == TaskStatus.OPEN.value)
    )
    for key, value in (details or {}).items():
        query = query.where(HumanTask.details[key].astext == value)
    return session.scalars(query).first()


def close_task_row(session: Session, close: CloseTaskInput, *, reason: str | None = None) -> bool:
    """Record the decision (or the expiry, or the cancellation) and audit it once; False when
    the task was closed already. ``reason``: why, when no decision says it."""
    row = session.get(HumanTask, close.task_id, with_for_update=True)
    if row is None:
        raise ValueError(f"unknown task {close.task_id}")
    if row.status != TaskStatus.OPEN.value:
        return False
    row.status = close.status.value
    actor = SYSTEM_ACTOR
    detail: dict[str, object] = {"status": close.status.value}
    if reason is not None:
        detail["reason"] = reason
    if close.decision is not None:
        actor = close.decision.actor
        row.outcome = close.decision.outcome
        row.comment = close.decision.comment
        row.decided_by = close.decision.actor.user_id
        row.decided_at = close.decision.decided_at
        detail |= {"outcome": close.decision.outcome, "comment": close.decision.comment}
        if close.decision.choices:
            detail["choices"] = dict(close.decision.choices)
    append_audit(
        session,
        actor=actor,
        action=f"task.{close.status.value}",
        target_type="task",
        target_id=row.id,
        detail=detail,
        dedup_key=f"task.closed:{row.id}",
    )
    return True
