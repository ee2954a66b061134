"""Incidents for platform ops: steps that keep failing with errors retrying may cure.

An incident opens when an activity has failed ``INCIDENT_ATTEMPTS`` times or for
``INCIDENT_AFTER_SECONDS`` (an external system or the database down) and resolves itself when
the step succeeds. Steps that failed for good are not incidents: they are ``process_attention``
tasks in the ops inbox (``GET /tasks?kind=process_attention``), which ops decide.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import select

from api.deps import SessionDep, require_staff
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Page, ascending, paged
from contracts.common import Actor, Role
from db.models import Incident

router = APIRouter(prefix="/incidents", tags=["incidents"])
OLDEST_FIRST = Keyset("incidents", (ascending(Incident.first_failed_at), ascending(Incident.id)))

OpsActor = Annotated[Actor, Depends(require_staff(Role.OPS_SUPERVISOR, Role.ADMIN))]


class IncidentView(BaseModel):
    id: str
    workflow_id: str
    activity_type: str
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime
    age_seconds: int
    last_error: str
    resolved_at: datetime | None


@router.get("", responses=NEXT_PAGE_HEADERS)
def incidents(
    _: OpsActor,
    session: SessionDep,
    page: Annotated[Page, paged(OLDEST_FIRST)],
    include_resolved: bool = False,
) -> list[IncidentView]:
    """Open incidents, oldest first (with ``include_resolved``, resolved ones too)."""
    query = select(Incident)
    if not include_resolved:
        query = query.where(Incident.resolved_at.is_(None))
    now = datetime.now(UTC)
    return [
        IncidentView(
            id=row.id,
            workflow_id=row.workflow_id,
            activity_type=row.activity_type,
            attempts=row.attempts,
            first_failed_at=row.first_failed_at,
            last_failed_at=row.last_failed_at,
            age_seconds=int(((row.resolved_at or now) - row.first_failed_at).total_seconds()),
            last_error=row.last_error,
            resolved_at=row.resolved_at,
        )
        for row in page.rows(session, query)
    ]
