"""Appending to and verifying the tamper-evident audit log."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from contracts.common import Actor
from db.models import AuditEntry
from security.audit_chain import GENESIS_HASH, AuditFields, entry_hash, first_broken

# Serialises appends so two writers never chain onto the same predecessor.
_APPEND_LOCK = 7_431_001


def append_audit(
    session: Session,
    *,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str,
    detail: Mapping[str, Any] | None = None,
    dedup_key: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add an entry inside the caller's transaction, so it commits with the change it records."""
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _APPEND_LOCK})
    if dedup_key is not None:
        existing = session.scalar(select(AuditEntry).where(AuditEntry.dedup_key == dedup_key))
        if existing is not None:
            return existing
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    fields = AuditFields(
        seq=seq,
        at=(at or datetime.now(UTC)).astimezone(UTC),
        actor_user_id=actor.user_id,
        actor_org_id=actor.org_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        detail=dict(detail or {}),
    )
    entry = AuditEntry(
        seq=seq,
        at=fields.at,
        actor_user_id=fields.actor_user_id,
        actor_org_id=fields.actor_org_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        detail=dict(fields.detail),
        dedup_key=dedup_key,
        prev_hash=prev_hash,
        hash=entry_hash(prev_hash, fields),
    )
    session.add(entry)
    session.flush()
    return entry


def _chain(session: Session) -> Iterator[tuple[AuditFields, str, str]]:
    rows = session.execute(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)
    ).scalars()
    for row in rows:
        fields = AuditFields(
            seq=row.seq,
            at=row.at,
            actor_user_id=row.actor_user_id,
            actor_org_id=row.actor_org_id,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            detail=row.detail,
        )
        yield fields, row.prev_hash, row.hash


def first_broken_entry(session: Session) -> int | None:
    """The sequence number of the first entry that breaks the chain, or None if it is intact."""
    return first_broken(_chain(session))


def main() -> int:
    """``python -m db.audit_log``: verify the chain of the configured database; exit 1 if broken."""
    from sqlalchemy import func

    from db.session import make_engine, make_session_factory
    from settings import get_settings

    sessions = make_session_factory(make_engine(get_settings().database_url, pool_size=1))
    with sessions() as session:
        broken = first_broken_entry(session)
        count = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    if broken is None:
        print(f"audit log intact: {count} entries")
        return 0
    print(f"audit log BROKEN at entry {broken} (of {count})")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())


def audit_once(
    session: Session, actor: Actor, action: str, target_id: str, detail: Mapping[str, Any]
) -> None:
    """An event that happens once per target (``rfq.created``, ``order.cancelled``): a retried
    activity logs it once. The target type is the action's first word."""
    append_audit(
        session,
        actor=actor,
        action=action,
        target_type=action.split(".")[0],
        target_id=target_id,
        detail=detail,
        dedup_key=f"{action}:{target_id}",
    )
