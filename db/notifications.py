"""Storing a notification: under its id, so whoever writes it again finds it already there.

Every stored notification is also a process event (``db.notification_rules``'s outbox), in the
same transaction, so organisations' notification rules can act on it; the news that a rule's
delivery failed is the one exception (a rule on it, failing too, would feed itself).
"""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from contracts.notifications import DELIVERY_FAILED_KIND
from contracts.tasks import NotifyInput
from db.models import Notification
from db.notification_rules import record_event


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
    if notice.kind != DELIVERY_FAILED_KIND:
        record_event(
            session,
            source=f"notification:{notice.notification_id}",
            event_type=notice.kind,
            subject_type=notice.subject_type,
            subject_id=notice.subject_id,
            org_ids=[notice.org_id],
            message=notice.message,
        )
