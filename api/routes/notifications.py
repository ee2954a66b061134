"""Notifications for the caller's organisation and roles."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import or_, select

from api.deps import CurrentActor, SessionDep
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Page, ascending, descending, paged
from contracts.common import Line
from db.models import Notification

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


@router.get("", responses=NEXT_PAGE_HEADERS)
def notifications(
    actor: CurrentActor,
    session: SessionDep,
    page: Annotated[Page, paged(NEWEST_FIRST)],
    kind: Annotated[Line | None, Query(max_length=60)] = None,
) -> list[NotificationView]:
    """Newest first, a page at a time (the ``Link`` header's next)."""
    query = (
        select(Notification)
        .where(Notification.org_id == actor.org_id)
        .where(or_(Notification.role.is_(None), Notification.role.in_(actor.roles)))
    )
    if kind:
        query = query.where(Notification.kind == kind)
    return [
        NotificationView.model_validate(n, from_attributes=True) for n in page.rows(session, query)
    ]
