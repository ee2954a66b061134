"""Incidents: activities still failing past the retry threshold, opened and resolved by workers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import OPERATOR_ORG_ID, Role
from contracts.tasks import NotifyInput
from db.models import Incident
from db.notifications import store_notification
from db.session import transaction


def open_incident(
    sessions: sessionmaker[Session],
    *,
    incident_id: str,
    workflow_id: str,
    activity_type: str,
    attempts: int,
    first_failed_at: datetime,
    last_error: str,
    at: datetime,
) -> None:
    """Open the incident, or bring it up to date; platform ops are told once, when it opens."""
    with transaction(sessions) as session:
        row = {
            "attempts": attempts,
            "last_failed_at": at,
            "last_error": last_error,
            "resolved_at": None,
        }
        opened = session.execute(
            insert(Incident)
            .values(
                id=incident_id,
                workflow_id=workflow_id,
                activity_type=activity_type,
                first_failed_at=first_failed_at,
                **row,
            )
            .on_conflict_do_update(index_elements=[Incident.id], set_=row)
            .returning(Incident.first_failed_at)
        ).scalar_one()
        store_notification(
            session,
            NotifyInput(
                notification_id=f"incident:{incident_id}"[:240],
                org_id=OPERATOR_ORG_ID,
                role=Role.OPS_SUPERVISOR,
                kind="incident_opened",
                subject_type="process",
                subject_id=workflow_id[:120],
                message=(
                    f"{activity_type} for {workflow_id} has failed {attempts} times since "
                    f"{opened:%Y-%m-%d %H:%M} UTC and keeps retrying: {last_error[:500]}"
                ),
            ),
        )


def resolve_incident(
    sessions: sessionmaker[Session],
    *,
    incident_id: str,
    attempts: int,
    at: datetime,
) -> None:
    """The activity succeeded or settled: the incident is over."""
    with transaction(sessions) as session:
        session.execute(
            update(Incident)
            .where(Incident.id == incident_id, Incident.resolved_at.is_(None))
            .values(resolved_at=at, attempts=attempts)
        )
