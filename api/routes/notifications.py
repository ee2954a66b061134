"""Notifications for the caller's organisation and roles, and the caller's own in-app inbox (the
workbench's bell: what notification rules delivered in-app to them, with an unread count)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Row, Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from api.deps import CurrentActor, SessionDep, not_found
from api.pagination import (
    NEXT_PAGE_HEADERS,
    Keyset,
    Listing,
    Page,
    ascending,
    descending,
    on,
    paged,
)
from api.params import IdPath
from contracts.common import Actor, Line
from contracts.notifications import Channel
from db.models import Notification
from db.notification_rules import NotificationDelivery, NotificationRule, ProcessEvent

router = APIRouter(prefix="/notifications", tags=["notifications"])
NEWEST_FIRST = Keyset(
    "notifications", (descending(Notification.created_at), ascending(Notification.id))
)


class NotificationView(BaseModel):
    id: str
    kind: str
    subject_type: str
    subject_id: str
    message: str
    created_at: datetime


VIEWS = Listing(NotificationView)


@router.get("", response_model=VIEWS.response_model, responses=NEXT_PAGE_HEADERS)
def notifications(
    actor: CurrentActor,
    session: SessionDep,
    page: Annotated[Page, paged(NEWEST_FIRST)],
    kind: Annotated[Line | None, Query(max_length=60)] = None,
) -> Response:
    """Newest first, a page at a time (the ``Link`` header's next)."""
    rows = page.rows(session, notifications_query(actor, kind))
    return VIEWS.answer_rows(page, rows, session=session)


def notifications_query(actor: Actor, kind: str | None) -> Select[tuple[Notification]]:
    """The organisation's notifications for the caller's roles, of one kind or all: the list's
    query, which migration 0017's indexes serve (organisation, kind, then newest first)."""
    query = (
        select(Notification)
        .where(Notification.org_id == actor.org_id)
        .where(or_(Notification.role.is_(None), Notification.role.in_(actor.roles)))
    )
    if kind:
        query = query.where(Notification.kind == kind)
    return query


class InboxItem(BaseModel):
    id: str
    event_type: str
    subject_type: str
    subject_id: str
    message: str
    rule: str | None  # the rule's name; None once the rule is deleted
    created_at: datetime
    read_at: datetime | None


class Inbox(BaseModel):
    unread: int
    items: list[InboxItem]


def _mine(actor: Actor) -> ColumnElement[bool]:
    return and_(
        NotificationDelivery.recipient_user_id == actor.user_id,
        NotificationDelivery.org_id == actor.org_id,
        NotificationDelivery.channel == Channel.IN_APP.value,
    )


# Newest first; the deliveries' own key (a row also holds its event and its rule's name).
DELIVERED_NEWEST_FIRST = Keyset(
    "notifications-inbox",
    on(
        "NotificationDelivery",
        descending(NotificationDelivery.created_at),
        ascending(NotificationDelivery.id),
    ),
)


def inbox_query(actor: Actor) -> Select[Any]:
    """The caller's in-app deliveries, each with its event and its rule's name (None once the
    rule is deleted); the order is the page's, ``DELIVERED_NEWEST_FIRST``."""
    return (
        select(NotificationDelivery, ProcessEvent, NotificationRule.name)
        .join(ProcessEvent, ProcessEvent.id == NotificationDelivery.event_id)
        .outerjoin(NotificationRule, NotificationRule.id == NotificationDelivery.rule_id)
        .where(_mine(actor))
    )


def inbox(session: Session, actor: Actor, rows: Sequence[Row[Any]]) -> Inbox:
    """A page of ``inbox_query``'s rows as the inbox shows them, with how many are unread."""
    items = [
        InboxItem(
            id=delivery.id,
            event_type=event.event_type,
            subject_type=event.subject_type,
            subject_id=event.subject_id,
            message=event.message,
            rule=rule,
            created_at=delivery.created_at,
            read_at=delivery.read_at,
        )
        for delivery, event, rule in rows
    ]
    return Inbox(unread=unread_count(session, actor), items=items)


def unread_query(actor: Actor) -> Select[tuple[int]]:
    """The count of the caller's unread in-app deliveries (the bell's number), to be asked
    alone or inside another statement (the workbench's header)."""
    return (
        select(func.count())
        .select_from(NotificationDelivery)
        .where(_mine(actor), NotificationDelivery.read_at.is_(None))
    )


def unread_count(session: Session, actor: Actor) -> int:
    """How many of the caller's in-app deliveries are unread."""
    return session.scalar(unread_query(actor)) or 0


def mark_read(session: Session, actor: Actor, delivery_id: str) -> None:
    """Mark one of the caller's in-app deliveries read (again: no change); commits."""
    found = session.execute(
        update(NotificationDelivery)
        .where(NotificationDelivery.id == delivery_id, _mine(actor))
        .values(read_at=func.coalesce(NotificationDelivery.read_at, datetime.now(UTC)))
        .returning(NotificationDelivery.id)
    ).first()
    if found is None:
        raise not_found("notification")
    session.commit()


@router.get("/inbox", responses=NEXT_PAGE_HEADERS)
def my_inbox(
    actor: CurrentActor,
    session: SessionDep,
    page: Annotated[Page, paged(DELIVERED_NEWEST_FIRST, default=50, maximum=200)],
) -> Inbox:
    """What notification rules delivered to me in-app, newest first, and the unread count."""
    return inbox(session, actor, page.records(session, inbox_query(actor)))


@router.post("/inbox/{delivery_id}/read", status_code=status.HTTP_204_NO_CONTENT)
def read(delivery_id: IdPath, actor: CurrentActor, session: SessionDep) -> None:
    """Mark one of my in-app notifications read."""
    mark_read(session, actor, delivery_id)
