"""The audit log for admins: read entries and verify the hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, select

from api.deps import AdminActor, SessionDep
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Page, ascending, paged
from api.params import MAX_INT8
from contracts.common import Line
from db.audit_log import first_broken_entry
from db.models import AuditEntry

router = APIRouter(prefix="/audit", tags=["audit"])
IN_ORDER = Keyset("audit", (ascending(AuditEntry.seq),))


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


@router.get("/entries", responses=NEXT_PAGE_HEADERS)
def entries(
    _: AdminActor,
    session: SessionDep,
    page: Annotated[Page, paged(IN_ORDER, default=200, maximum=1000)],
    target_id: Annotated[Line | None, Query(max_length=200)] = None,
    action: Annotated[Line | None, Query(max_length=60)] = None,
    after_seq: Annotated[int, Query(ge=0, le=MAX_INT8, description="start after this entry")] = 0,
) -> list[AuditView]:
    """Entries in order, filterable by target and action, a page at a time (the ``Link``
    header's next)."""
    query = select(AuditEntry).where(AuditEntry.seq > after_seq)
    if target_id:
        query = query.where(AuditEntry.target_id == target_id)
    if action:
        query = query.where(AuditEntry.action == action)
    return [
        AuditView.model_validate(row, from_attributes=True) for row in page.rows(session, query)
    ]


@router.get("/verify")
def verify(_: AdminActor, session: SessionDep) -> ChainReport:
    """Recompute the hash chain and name the first broken entry."""
    broken = first_broken_entry(session)
    count = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    return ChainReport(intact=broken is None, entries=count, first_broken_seq=broken)
