"""The audit chain's signed checkpoints: their rows, and their copies in the object store.

Each checkpoint is a row of ``audit_checkpoints`` and, once published, two objects:
``audit/checkpoints/<tree size, 20 digits>.json`` and ``audit/checkpoints/latest.json``. The
latest object is what a verifier trusts over the database: someone able to delete the newest
entries and checkpoint rows still cannot make the published head shrink without the signing key
(and in production the bucket keeps versions, so an overwrite is visible too).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AuditCheckpoint
from security.audit_checkpoints import Checkpoint, SignedCheckpoint
from storage.object_store import ObjectNotFound, ObjectStore

CHECKPOINT_PREFIX = "audit/checkpoints"
_JSON = "application/json"

log = logging.getLogger("tradeflow.worker")


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
    """Write the unpublished checkpoints to the store, oldest first, and move ``latest`` up to
    the newest checkpoint once it is published; how many were published. A checkpoint the store
    already holds is never overwritten, as the store's copy is the evidence outside the
    database: the same head (signed again inside an old stretch, ``stack/audit_divider.py``)
    counts as published, another is logged and left unpublished. The caller holds the sealer's
    lock, so ``latest`` never moves backwards."""
    rows = session.scalars(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.published_at.is_(None))
        .order_by(AuditCheckpoint.tree_size)
    ).all()
    now = datetime.now(UTC)
    published = 0
    for row in rows:
        key = checkpoint_key(row.tree_size, prefix=prefix)
        try:
            there: SignedCheckpoint | None = SignedCheckpoint.from_json(store.get(key))
        except ObjectNotFound:
            there = None
        except ValueError:
            log.error("checkpoint %d in the store is unreadable: left as it is", row.tree_size)
            continue
        if there is None:
            store.put(key, signed(row).to_json(), content_type=_JSON)
        elif there.checkpoint.head_hash != row.head_hash:
            log.error("checkpoint %d in the store signs another head: left as it is", row.tree_size)
            continue
        row.published_at = now
        published += 1
    head = newest(session)
    if published and head is not None and head.published_at is not None:
        try:
            latest = latest_published(store, prefix=prefix)
        except ValueError:
            log.error("the latest checkpoint in the store is unreadable: left as it is")
        else:
            if latest is None or latest.checkpoint.tree_size < head.tree_size:
                store.put(latest_key(prefix=prefix), signed(head).to_json(), content_type=_JSON)
    session.flush()
    return published


def latest_published(
    store: ObjectStore, *, prefix: str = CHECKPOINT_PREFIX
) -> SignedCheckpoint | None:
    """The newest checkpoint in the store, None before the first; ValueError if unreadable."""
    try:
        data = store.get(latest_key(prefix=prefix))
    except ObjectNotFound:
        return None
    return SignedCheckpoint.from_json(data)
