"""Reading the inbox: the open task a REST command decides on a person's behalf."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.tasks import TaskStatus
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
