"""The audit sealer, run by the worker: committed entries get their place in the hash chain.

Appends (``db.audit_log.append_audit``) insert entries unsealed and never wait on each other.
Every ``poll_s`` the sealer takes the unsealed entries it can see, which are committed ones,
oldest id first, and under one short advisory lock a batch gives each the next ``seq``, the head's
hash as ``prev_hash`` and its own hash (``security.audit_chain.entry_hash``, the formula the
entries before migration 0016 were hashed with, so the chain stays one chain). Sealing picks
"unsealed" rows, not "ids past the last sealed", so an entry whose transaction commits after a
later id was sealed is sealed in the next batch. Only sealers take the lock, so several workers
may run one each: they take turns, and a row is sealed once (the trigger refuses a second seal).

After a batch, every ``policy.every`` sealed entries or ``policy.seconds`` (whichever first),
the head is checkpointed: signed (Ed25519) and recorded, then published to the object store.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from db import audit_checkpoints
from db.audit_log import fields_of
from db.models import AuditEntry
from db.session import transaction
from security.audit_chain import GENESIS_HASH, entry_hash
from security.audit_checkpoints import Checkpoint, CheckpointSigner
from stack.polling import poll_until_stopped
from storage.object_store import ObjectStore

# Held by a sealer for one batch (not by appends): sealers take turns at the chain's head.
SEAL_LOCK = 7_431_002
BATCH = 2000

_SEAL = text(
    "UPDATE audit_log AS a SET seq = s.seq, prev_hash = s.prev_hash, hash = s.hash "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:seqs AS bigint[]), CAST(:prevs AS text[]), "
    "CAST(:hashes AS text[])) AS s(id, seq, prev_hash, hash) "
    "WHERE a.id = s.id AND a.seq IS NULL"
)


@dataclass(frozen=True)
class CheckpointPolicy:
    """Checkpoint once this many entries were sealed since the last, or this long after it."""

    every: int = 1000
    seconds: float = 60.0


def _head(session: Session) -> tuple[int, str]:
    row = session.execute(
        text("SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1")
    ).first()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)


def _seal_batch(session: Session, seq: int, head: str, *, batch: int) -> tuple[int, int, str]:
    """Seal up to ``batch`` entries after ``seq``; (how many, the new head's seq, its hash)."""
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.seq.is_(None)).order_by(AuditEntry.id).limit(batch)
    ).all()
    ids, seqs, prevs, hashes = [], [], [], []
    for row in rows:
        seq += 1
        sealed = entry_hash(head, fields_of(row, seq=seq))
        ids.append(row.id)
        seqs.append(seq)
        prevs.append(head)
        hashes.append(sealed)
        head = sealed
    if ids:
        session.execute(_SEAL, {"ids": ids, "seqs": seqs, "prevs": prevs, "hashes": hashes})
    return len(ids), seq, head


def _maybe_checkpoint(
    session: Session, signer: CheckpointSigner, policy: CheckpointPolicy, seq: int, head: str
) -> bool:
    last = audit_checkpoints.newest(session)
    now = datetime.now(UTC)
    if seq == 0 or (last is not None and last.tree_size >= seq):
        return False
    due = (
        last is None
        or seq - last.tree_size >= policy.every
        or now - last.at >= timedelta(seconds=policy.seconds)
    )
    if due:
        audit_checkpoints.record(session, signer.sign(Checkpoint(seq, head, now)))
    return due


@dataclass(frozen=True)
class Sealed:
    """What a batch sealed: how many entries, and whether it was full (more may be pending:
    the sealer goes on at once, else it waits for its next poll). True when it sealed any."""

    count: int
    full: bool

    def __bool__(self) -> bool:
        return self.count > 0


def seal_pending(
    sessions: sessionmaker[Session],
    *,
    store: ObjectStore,
    signer: CheckpointSigner,
    policy: CheckpointPolicy = CheckpointPolicy(),
    batch: int = BATCH,
    prefix: str = audit_checkpoints.CHECKPOINT_PREFIX,
) -> Sealed:
    """Seal one batch, checkpoint if due, publish unpublished checkpoints."""
    with transaction(sessions) as session:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEAL_LOCK})
        seq, head = _head(session)
        last = audit_checkpoints.newest(session)
        # A batch stops at the next checkpoint's size, so a backlog is checkpointed every
        # ``policy.every`` entries too, and a verified range never reads more than that between.
        room = policy.every - (seq - (last.tree_size if last else 0))
        limit = min(batch, room) if room > 0 else batch
        count, seq, head = _seal_batch(session, seq, head, batch=limit)
        _maybe_checkpoint(session, signer, policy, seq, head)
    # Published after the commit: the store never holds a head the database may not have.
    publish(sessions, store, prefix=prefix)
    return Sealed(count, count == limit)


def publish(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    *,
    prefix: str = audit_checkpoints.CHECKPOINT_PREFIX,
) -> None:
    """Publish the committed checkpoints not yet in the store, under the sealers' lock."""
    with transaction(sessions) as session:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEAL_LOCK})
        audit_checkpoints.publish_pending(session, store, prefix=prefix)


def checkpoint_now(
    sessions: sessionmaker[Session],
    *,
    store: ObjectStore,
    signer: CheckpointSigner,
    prefix: str = audit_checkpoints.CHECKPOINT_PREFIX,
) -> int:
    """Seal everything pending and checkpoint the head whatever the policy; the tree size."""
    while seal_pending(sessions, store=store, signer=signer, prefix=prefix):
        pass
    with transaction(sessions) as session:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEAL_LOCK})
        seq, head = _head(session)
        _maybe_checkpoint(session, signer, CheckpointPolicy(every=1, seconds=0.0), seq, head)
        audit_checkpoints.publish_pending(session, store, prefix=prefix)
    return seq


async def seal_forever(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    signer: CheckpointSigner,
    stop: asyncio.Event,
    poll_s: float,
    *,
    policy: CheckpointPolicy = CheckpointPolicy(),
) -> None:
    """Seal until ``stop`` is set; a failure (database or store away) is logged and the next
    poll tries again: the entries wait unsealed meanwhile, and unpublished checkpoints too."""

    async def step() -> bool:
        # On at once only after a full batch: under a steady trickle of appends, sealing each
        # time whatever came since the last (a few entries, two transactions each time) cost
        # the writers more than the lock this sealer replaced (bench.audit).
        sealed = await asyncio.to_thread(
            partial(seal_pending, sessions, store=store, signer=signer, policy=policy)
        )
        return sealed.full

    await poll_until_stopped(stop, poll_s, step, doing="the audit sealer")
