"""The notification tables: the outbox of process events, organisations' rules, and deliveries.

The tables live on ``db.models.Base`` (``db.models`` imports this module at its end).

- ``process_events`` is a transactional outbox: a process event is inserted in the transaction
  that records what happened (a notification stored, an order's status moved), under an id
  derived from its source, so a retried activity records it once. ``relayed_at`` is set once
  the worker's relay has started its ``NotificationWorkflow``.
- ``notification_rules``: an organisation's rule; the webhook's signing secret is encrypted
  with the column key ring (``EncryptedString``), since the platform must sign with it.
- ``notification_deliveries``: one row an event, channel and recipient; its unique ``key`` is
  what makes delivery exactly once (a second matching rule finds the row already there, and a
  resent e-mail or webhook carries the same key). For in-app, the row is the message itself.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from db.models import Base
from security.columns import EncryptedString


class ProcessEvent(Base):
    """Something that happened in a process, waiting (``relayed_at`` None) for the relay."""

    __tablename__ = "process_events"
    __table_args__ = (
        Index(
            "ix_process_events_unrelayed",
            "occurred_at",
            postgresql_where=text("relayed_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    source: Mapped[str] = mapped_column(String(300))  # what the id was derived from
    event_type: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(120))
    # The organisations whose rules may match: those the event concerns.
    org_ids: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    message: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now())
    relayed_at: Mapped[datetime | None]


class NotificationRule(Base):
    """When an event of ``event_type`` meets ``conditions``, tell the recipients by channel."""

    __tablename__ = "notification_rules"
    __table_args__ = (Index("ix_notification_rules_org_event", "org_id", "event_type"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(120))
    event_type: Mapped[str] = mapped_column(String(60))
    # contracts.notifications.Condition as JSON, money amounts as strings.
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    recipient_roles: Mapped[list[str]] = mapped_column(ARRAY(String(30)))
    recipient_user_ids: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    channels: Mapped[list[str]] = mapped_column(ARRAY(String(10)))
    webhook_url: Mapped[str | None] = mapped_column(Text)
    webhook_secret: Mapped[str | None] = mapped_column(EncryptedString("webhook_secret"))
    active: Mapped[bool]
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class NotificationDelivery(Base):
    """One event told to one recipient by one channel (a webhook's recipient is its rule)."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        Index("ix_notification_deliveries_inbox", "recipient_user_id", "channel", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("process_events.id"), index=True)
    # The rule that planned it; a deleted rule leaves its deliveries (a pending webhook of it
    # then fails: its address and secret went with it).
    rule_id: Mapped[str | None] = mapped_column(
        ForeignKey("notification_rules.id", ondelete="SET NULL")
    )
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    channel: Mapped[str] = mapped_column(String(10))
    recipient_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    delivered_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]


def event_id_for(source: str) -> str:
    """The event's id, from what recorded it: the same source always gives the same id."""
    return "evt_" + hashlib.sha256(source.encode("utf-8")).hexdigest()[:32]


def delivery_id_for(key: str) -> str:
    return "dlv_" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def record_event(
    session: Session,
    *,
    source: str,
    event_type: str,
    subject_type: str,
    subject_id: str,
    org_ids: list[str],
    message: str,
) -> str:
    """Insert the event inside the caller's transaction, once per ``source``; its id."""
    event_id = event_id_for(source)
    session.execute(
        insert(ProcessEvent)
        .values(
            id=event_id,
            source=source[:300],
            event_type=event_type[:60],
            subject_type=subject_type[:40],
            subject_id=subject_id[:120],
            org_ids=sorted(set(org_ids)),
            message=message,
        )
        .on_conflict_do_nothing(index_elements=[ProcessEvent.id])
    )
    return event_id
