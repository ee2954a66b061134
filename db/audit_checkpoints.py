"""The audit chain's signed checkpoints: their rows, and their copies in the object store.

Each checkpoint is a row of ``audit_checkpoints`` and, once published, two objects:
``audit/checkpoints/<tree size, 20 digits>.json`` and ``audit/checkpoints/latest.json``. The
latest object is what a verifier trusts over the database: someone able to delete the newest
entries and checkpoint rows still cannot make the published head shrink without the signing key
(and in production the bucket keeps versions, so an overwrite is visible too).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AuditCheckpoint
from security.audit_checkpoints import Checkpoint, SignedCheckpoint
from storage.object_store import ObjectNotFound, ObjectStore

CHECKPOINT_PREFIX = "audit/checkpoints"
_JSON = "application/json"


def checkpoint_key(tree_size: int, *, prefix: str = CHECKPOINT_PREFIX) -> str:
    return f"{prefix}/{tree_size:020d}.json"


def latest_key(*, prefix: str = CHECKPOINT_PREFIX) -> str:
    return f"{prefix}/latest.json"


def signed(row: AuditCheckpoint) -> SignedCheckpoint:
    return SignedCheckpoint(
        Checkpoint(row.tree_size, row.head_hash, row.at), row.key_id, row.signature
    )


def record(session: Session, checkpoint: SignedCheckpoint) -> AuditCheckpoint:
    row = AuditCheckpoint(
        tree_size=checkpoint.checkpoint.tree_size,
        head_hash=checkpoint.checkpoint.head_hash,
        at=checkpoint.checkpoint.at,
        key_id=checkpoint.key_id,
        signature=checkpoint.signature,
    )
    session.add(row)
    session.flush()
    return row


def newest(session: Session) -> AuditCheckpoint | None:
    query = select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)
    return session.scalars(query).first()


def at_or_before(session: Session, tree_size: int) -> AuditCheckpoint | None:
    query = (
        select(AuditCheckpoint)
        .where(AuditCheckpoint.tree_size <= tree_size)
        .order_by(AuditCheckpoint.tree_size.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def at_or_after(session: Session, tree_size: int) -> AuditCheckpoint | None:
    query = (
        select(AuditCheckpoint)
        .where(AuditCheckpoint.tree_size >= tree_size)
        .order_by(AuditCheckpoint.tree_size)
        .limit(1)
    )
    return session.scalars(query).first()


def publish_pending(
    session: Session, store: ObjectStore, *, prefix: str = CHECKPOINT_PREFIX
) -> int:
    """Write the unpublished checkpoints to the store, oldest first, then point ``latest`` at
    the newest when it is among them: checkpoints signed later inside an old stretch
    (``stack/audit_divider.py``) are older heads. The caller holds the sealer's lock, so
    ``latest`` never moves backwards."""
    rows = session.scalars(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.published_at.is_(None))
        .order_by(AuditCheckpoint.tree_size)
    ).all()
    for row in rows:
        store.put(
            checkpoint_key(row.tree_size, prefix=prefix), signed(row).to_json(), content_type=_JSON
        )
    head = newest(session)
    if rows and head is not None and rows[-1].tree_size == head.tree_size:
        store.put(latest_key(prefix=prefix), signed(rows[-1]).to_json(), content_type=_JSON)
    if rows:
        now = datetime.now(UTC)
        for row in rows:
            row.published_at = now
        session.flush()
    return len(rows)


def latest_published(
    store: ObjectStore, *, prefix: str = CHECKPOINT_PREFIX
) -> SignedCheckpoint | None:
    """The newest checkpoint in the store, None before the first; ValueError if unreadable."""
    try:
        data = store.get(latest_key(prefix=prefix))
    except ObjectNotFound:
        return None
    return SignedCheckpoint.from_json(data)
