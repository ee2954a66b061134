"""Appending to and verifying the tamper-evident audit log.

``append_audit`` inserts an entry unsealed in the caller's transaction and never waits on another
writer: there is no chain head to read, so no lock. The sealer (``stack/audit_sealer.py``) gives
committed entries their ``seq`` and hashes later, in batches; ``db.audit_verify`` verifies a range
against the signed checkpoints without reading the whole chain, and this module's CLI
(``python -m db.audit_log``) still re-hashes every entry.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from contracts.common import Actor
from db.models import AuditEntry
from security.audit_chain import AuditFields, canonical_bytes, first_broken

# Text, not ``postgresql.insert``: SQLAlchemy 2.0 compiles that construct afresh at every
# execution (it has no cache key, sqlalchemy/sqlalchemy#10445), which cost every audited write
# about 0.4 ms, more than the lock the unsealed append replaced (bench.audit).
_APPEND = text(
    "INSERT INTO audit_log (at, actor_user_id, actor_org_id, action, target_type, target_id, "
    "detail, dedup_key) VALUES (:at, :actor_user_id, :actor_org_id, :action, :target_type, "
    ":target_id, :detail, :dedup_key) ON CONFLICT (dedup_key) DO NOTHING RETURNING id"
).bindparams(
    bindparam("at", type_=AuditEntry.__table__.c.at.type),
    bindparam("detail", type_=AuditEntry.__table__.c.detail.type),
)


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
) -> int:
    """Add an entry inside the caller's transaction, so it commits with the change it records;
    its id. With a ``dedup_key`` already logged (or being logged by a transaction still open,
    which this one then waits for: only writers of the same key wait), the existing entry's."""
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    content = {"detail": dict(detail or {})}
    # Refuse now what could never be hashed (a datetime or Decimal in detail), not at sealing.
    canonical_bytes(
        AuditFields(
            0, moment, actor.user_id, actor.org_id, action, target_type, target_id, **content
        )
    )
    values = {
        "at": moment,
        "actor_user_id": actor.user_id,
        "actor_org_id": actor.org_id,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "dedup_key": dedup_key,
        **content,
    }
    # A statement of its own, not the ORM's: pending ORM changes are flushed at commit, not
    # here (audit_log has no foreign keys to need them first).
    entry_id = session.scalar(_APPEND, values)
    if entry_id is None:  # the key was logged before: the conflict wrote nothing
        query = select(AuditEntry.id).where(AuditEntry.dedup_key == dedup_key)
        entry_id = session.execute(query).scalar_one()
    return int(entry_id)


class EntryRow(Protocol):
    """An audit entry's columns: an ``AuditEntry`` or a plain row read by :func:`chain_rows`."""

    @property
    def id(self) -> int: ...
    @property
    def seq(self) -> int | None: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor_user_id(self) -> str: ...
    @property
    def actor_org_id(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def target_type(self) -> str: ...
    @property
    def target_id(self) -> str: ...
    @property
    def detail(self) -> dict[str, Any]: ...
    @property
    def prev_hash(self) -> str | None: ...
    @property
    def hash(self) -> str | None: ...


def fields_of(row: EntryRow, *, seq: int | None = None) -> AuditFields:
    """The hashed content of an entry: sealed, or about to be sealed at ``seq``."""
    place = row.seq if seq is None else seq
    if place is None:
        raise ValueError(f"audit entry {row.id} is not sealed yet")
    return AuditFields(
        seq=place,
        at=row.at,
        actor_user_id=row.actor_user_id,
        actor_org_id=row.actor_org_id,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        detail=row.detail,
    )


def chain_rows(session: Session, *, first: int = 1, last: int | None = None) -> Iterator[EntryRow]:
    """Sealed entries with ``first <= seq <= last`` in chain order, streamed as plain rows (not
    ORM objects: verification reads many and tracks none)."""
    query = select(*AuditEntry.__table__.columns).where(AuditEntry.seq >= first)
    if last is not None:
        query = query.where(AuditEntry.seq <= last)
    rows = session.execute(query.order_by(AuditEntry.seq).execution_options(yield_per=2000))
    yield from cast("Iterator[EntryRow]", rows)


def _chain(session: Session) -> Iterator[tuple[AuditFields, str, str]]:
    for row in chain_rows(session):
        yield fields_of(row), row.prev_hash or "", row.hash or ""


def first_broken_entry(session: Session) -> int | None:
    """The sequence number of the first sealed entry that breaks the chain, or None if intact.

    Reads every entry: the CLI's full check. The API verifies ranges (``db.audit_verify``)."""
    return first_broken(_chain(session))


def main() -> int:
    """``python -m db.audit_log``: verify every entry of the configured database, its signed
    checkpoints and the latest one published; exit 1 if anything is broken."""
    from db.audit_verify import verify_all
    from db.session import make_engine, make_session_factory
    from security.audit_checkpoints import checkpoint_signer_from_settings
    from settings import get_settings
    from storage.object_store import object_store_from_settings

    settings = get_settings()
    sessions = make_session_factory(make_engine(settings.database_url, pool_size=1))
    verifier = checkpoint_signer_from_settings(settings).verifier()
    with sessions() as session:
        report = verify_all(session, verifier, object_store_from_settings(settings))
        unsealed = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.seq.is_(None))
        )
    if report.intact:
        print(f"audit log intact: {report.rows_read} entries sealed, {unsealed} not yet")
        return 0
    print(f"audit log BROKEN: {report.problem} (of {report.rows_read} sealed entries)")
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
