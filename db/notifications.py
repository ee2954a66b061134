"""Storing a notification: under its id, so whoever writes it again finds it already there."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from contracts.tasks import NotifyInput
from db.models import Notification


def store_notification(session: Session, notice: NotifyInput) -> None:
    session.execute(
        insert(Notification)
        .values(
            id=notice.notification_id,
            org_id=notice.org_id,
            role=notice.role.value if notice.role else None,
            kind=notice.kind,
            subject_type=notice.subject_type,
            subject_id=notice.subject_id,
            message=notice.message,
        )
        .on_conflict_do_nothing(index_elements=[Notification.id])
    )
