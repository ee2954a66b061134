"""Notifications for the caller's organisation and roles."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import or_, select

from api.deps import CurrentActor, SessionDep
from db.models import Notification

router = APIRouter(prefix="/notifications", tags=["notifications"])


class NotificationView(BaseModel):
    id: str
    kind: str
    subject_type: str
    subject_id: str
    message: str
    created_at: datetime


@router.get("")
def notifications(
    actor: CurrentActor,
    session: SessionDep,
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[NotificationView]:
    """Newest first."""
    query = (
        select(Notification)
        .where(Notification.org_id == actor.org_id)
        .where(or_(Notification.role.is_(None), Notification.role.in_(actor.roles)))
        .order_by(Notification.created_at.desc())
        .limit(limit)
    )
    if kind:
        query = query.where(Notification.kind == kind)
    return [
        NotificationView.model_validate(n, from_attributes=True) for n in session.scalars(query)
    ]
