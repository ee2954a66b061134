"""The audit log for admins: read entries and verify the hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, select

from api.deps import AdminActor, SessionDep
from db.audit_log import first_broken_entry
from db.models import AuditEntry

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditView(BaseModel):
    seq: int
    at: datetime
    actor_user_id: str
    actor_org_id: str
    action: str
    target_type: str
    target_id: str
    detail: dict[str, Any]
    hash: str


class ChainReport(BaseModel):
    intact: bool
    entries: int
    first_broken_seq: int | None


@router.get("/entries")
def entries(
    _: AdminActor,
    session: SessionDep,
    target_id: str | None = None,
    action: str | None = None,
    after_seq: int = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AuditView]:
    """Entries in order, filterable by target and action."""
    query = select(AuditEntry).where(AuditEntry.seq > after_seq).order_by(AuditEntry.seq)
    if target_id:
        query = query.where(AuditEntry.target_id == target_id)
    if action:
        query = query.where(AuditEntry.action == action)
    return [
        AuditView.model_validate(row, from_attributes=True)
        for row in session.scalars(query.limit(limit))
    ]


@router.get("/verify")
def verify(_: AdminActor, session: SessionDep) -> ChainReport:
    """Recompute the hash chain and name the first broken entry."""
    broken = first_broken_entry(session)
    count = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    return ChainReport(intact=broken is None, entries=count, first_broken_seq=broken)
