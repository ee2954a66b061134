"""Inbox rows and notifications for the shared human-task mechanism (PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from contracts.common import SYSTEM_ACTOR
from contracts.tasks import (
    CloseTaskInput,
    EscalateTaskInput,
    NotifyInput,
    OpenTaskInput,
    TaskStatus,
)
from db.audit_log import append_audit
from db.models import HumanTask
from db.notifications import store_notification
from db.session import transaction
from db.tasks import close_task_row


class HumanTaskActivities:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @activity.defn(name="open_task")
    def open_task(self, task: OpenTaskInput) -> None:
        """Insert the inbox row; the task id comes from workflow and step, so a retry is a no-op."""
        spec = task.spec
        with transaction(self._sessions) as session:
            inserted = session.execute(
                insert(HumanTask)
                .values(
                    id=task.task_id,
                    workflow_id=task.workflow_id,
                    kind=spec.kind,
                    role=spec.role.value,
                    org_id=spec.org_id,
                    subject_type=spec.subject_type,
                    subject_id=spec.subject_id,
                    title=spec.title,
                    summary=spec.summary,
                    outcomes=list(spec.outcomes),
                    document_ids=list(spec.document_ids),
                    details=dict(spec.details),
                    excluded_user_ids=list(spec.excluded_user_ids),
                    status=TaskStatus.OPEN.value,
                    due_at=task.due_at,
                    expires_at=task.expires_at,
                )
                .on_conflict_do_nothing(index_elements=[HumanTask.id])
                .returning(HumanTask.id)
            ).first()
            if inserted is not None:
                append_audit(
                    session,
                    actor=SYSTEM_ACTOR,
                    action="task.opened",
                    target_type="task",
                    target_id=task.task_id,
                    detail={"role": spec.role.value, "kind": spec.kind},
                    dedup_key=f"task.opened:{task.task_id}",
                )

    @activity.defn(name="escalate_task")
    def escalate_task(self, escalation: EscalateTaskInput) -> None:
        """Reassign the task to the escalation role; repeating it changes nothing more."""
        with transaction(self._sessions) as session:
            row = session.get(HumanTask, escalation.task_id, with_for_update=True)
            if row is None or row.status != TaskStatus.OPEN.value:
                return
            if row.escalated_at is None:
                row.escalated_at = datetime.now(UTC)
            previous, row.role = row.role, escalation.to_role.value
            previous_org = row.org_id
            if escalation.to_org_id is not None:
                row.org_id = escalation.to_org_id
            append_audit(
                session,
                actor=SYSTEM_ACTOR,
                action="task.escalated",
                target_type="task",
                target_id=row.id,
                detail={
                    "from_role": previous,
                    "to_role": escalation.to_role.value,
                    "from_org": previous_org,
                    "to_org": row.org_id,
                },
                dedup_key=f"task.escalated:{row.id}",
            )

    @activity.defn(name="close_task")
    def close_task(self, close: CloseTaskInput) -> None:
        """Record the decision (or the expiry) and audit it once."""
        with transaction(self._sessions) as session:
            close_task_row(session, close)

    @activity.defn(name="notify")
    def notify(self, notice: NotifyInput) -> None:
        """Store a notification under its id; a retry finds it already there."""
        with transaction(self._sessions) as session:
            store_notification(session, notice)
