"""The audit log for admins: read entries and verify the hash chain, a bounded part a call."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, select

from api.deps import AdminActor, PlatformDep, SessionDep
from api.errors import invalid
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Page, ascending, paged
from api.params import MAX_INT8
from contracts.common import Line
from db.audit_verify import Report, head_seq, verify_incremental, verify_range
from db.models import AuditEntry
from security.audit_checkpoints import checkpoint_signer_from_settings

router = APIRouter(prefix="/audit", tags=["audit"])
# Insertion order: an entry is listed before the sealer gives it its ``seq``.
IN_ORDER = Keyset("audit", (ascending(AuditEntry.id),))
# A call re-hashes about this many entries at most (plus the checkpoint intervals around them).
VERIFY_MAX_ROWS = 100_000


class AuditView(BaseModel):
    id: int
    seq: int | None
    at: datetime
    actor_user_id: str
    actor_org_id: str
    action: str
    target_type: str
    target_id: str
    detail: dict[str, Any]
    hash: str | None


class ChainReport(BaseModel):
    intact: bool
    entries: int
    unsealed: int
    first_broken_seq: int | None
    problem: str | None
    verified_from: int
    verified_to: int
    rows_read: int
    # The signed checkpoint the verified range ends on; None: past the newest checkpoint.
    anchored_to: int | None


@router.get("/entries", responses=NEXT_PAGE_HEADERS)
def entries(
    _: AdminActor,
    session: SessionDep,
    page: Annotated[Page, paged(IN_ORDER, default=200, maximum=1000)],
    target_id: Annotated[Line | None, Query(max_length=200)] = None,
    action: Annotated[Line | None, Query(max_length=60)] = None,
    after_seq: Annotated[
        int, Query(ge=0, le=MAX_INT8, description="only sealed entries after this one")
    ] = 0,
) -> list[AuditView]:
    """Entries in the order they were written (sealed or not yet), filterable by target and
    action, a page at a time (the ``Link`` header's next)."""
    query = select(AuditEntry)
    if after_seq:
        query = query.where(AuditEntry.seq > after_seq)
    if target_id:
        query = query.where(AuditEntry.target_id == target_id)
    if action:
        query = query.where(AuditEntry.action == action)
    return [
        AuditView.model_validate(row, from_attributes=True) for row in page.rows(session, query)
    ]


@router.get("/verify")
def verify(
    _: AdminActor,
    session: SessionDep,
    platform: PlatformDep,
    first: Annotated[int | None, Query(ge=1, le=MAX_INT8, description="range start")] = None,
    last: Annotated[int | None, Query(ge=1, le=MAX_INT8, description="range end")] = None,
) -> ChainReport:
    """Verify the chain on from the last verified checkpoint (or the range ``first``..``last``)
    against the signed checkpoints, and the database against the latest published one."""
    if (first is None) != (last is None) or (first and last and last < first):
        raise invalid("last", "a range needs first and last, first <= last")
    verifier = checkpoint_signer_from_settings(platform.settings).verifier()
    report: Report
    if first is not None and last is not None:
        if last - first >= VERIFY_MAX_ROWS:
            raise invalid("last", f"at most {VERIFY_MAX_ROWS} entries a call")
        report = verify_range(session, verifier, first=first, last=last)
    else:
        report = verify_incremental(session, verifier, platform.store, max_rows=VERIFY_MAX_ROWS)
        session.commit()  # where the next call resumes
    unsealed = session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.seq.is_(None))
    )
    return ChainReport(
        intact=report.intact,
        entries=head_seq(session) + (unsealed or 0),
        unsealed=unsealed or 0,
        first_broken_seq=report.first_broken_seq,
        problem=report.problem,
        verified_from=report.first,
        verified_to=report.last,
        rows_read=report.rows_read,
        anchored_to=report.anchored_to,
    )
