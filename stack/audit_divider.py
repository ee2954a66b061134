"""Dividing the audit chain's long stretches, run by the worker beside the sealer.

The sealer checkpoints its entries every ``policy.every`` (``stack/audit_sealer.py``), so a
range is verified by reading about that many entries past it. Two kinds of stretch have no
checkpoint inside them: the entries chained before migration 0016, whose first checkpoint covers
them all, and a chain that was written without a sealer running (``make seed-large``'s), which
the sealer checkpoints at its head alone. Verifying one entry there read the whole stretch (47-57
s at 2 million entries), and ``GET /audit/verify`` did so at every call until it got past it.

Each such stretch is re-hashed once between its two signed checkpoints (``verify_range``, the
verification ``GET /audit/verify`` does) and, only if it is intact, a checkpoint is signed every
``every`` entries inside it. They are as trustworthy as the two around them: an entry changed in
the stretch would have broken its link or its hash, or the chain would not reach the signed head
above. The heads signed are the hashes that verification read, never read again after it. A
broken stretch, or one whose checkpoints' signatures are forged, gets none: it is
logged, and verification names it as before. New checkpoints are published to the object store
beside the others; ``latest.json`` keeps pointing at the newest.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from db import audit_checkpoints
from db.audit_verify import verify_range
from db.models import AuditCheckpoint
from db.session import transaction
from security.audit_checkpoints import Checkpoint, CheckpointSigner
from stack.audit_sealer import SEAL_LOCK, publish
from stack.polling import poll_until_stopped
from storage.object_store import ObjectStore

log = logging.getLogger("tradeflow.worker")

_LONG_STRETCHES = text(
    "SELECT lower, upper FROM (SELECT lag(tree_size, 1, 0) OVER (ORDER BY tree_size) AS lower, "
    "tree_size AS upper FROM audit_checkpoints) AS s WHERE upper - lower > :every ORDER BY upper"
)


def long_stretches(session: Session, every: int) -> list[tuple[int, int]]:
    """The stretches ``(lower, upper]`` between consecutive checkpoints (0: the chain's start)
    holding more than ``every`` entries, oldest first."""
    return [(int(lo), int(up)) for lo, up in session.execute(_LONG_STRETCHES, {"every": every})]


def _divide(
    sessions: sessionmaker[Session], signer: CheckpointSigner, lower: int, upper: int, every: int
) -> int:
    """Checkpoints signed inside ``(lower, upper]``; 0 when it is broken or already divided."""
    wanted = range(lower + every, upper, every)
    with sessions() as session:
        # The heads signed are the hashes this verification read and found intact, not read
        # again: someone able to switch the append-only trigger off could change them between.
        report = verify_range(session, signer, first=lower + 1, last=upper, keeping=wanted)
    if not report.intact or report.anchored_to != upper:
        log.error(
            "the audit chain's entries %d..%d were left undivided: %s",
            lower + 1,
            upper,
            report.problem or "no signed checkpoint closes them",
        )
        return 0
    signed = 0
    with transaction(sessions) as session:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEAL_LOCK})
        done = set(
            session.scalars(
                select(AuditCheckpoint.tree_size).where(
                    AuditCheckpoint.tree_size > lower, AuditCheckpoint.tree_size < upper
                )
            )
        )
        now = datetime.now(UTC)
        for seq, head in report.kept:
            if seq not in done:
                audit_checkpoints.record(session, signer.sign(Checkpoint(seq, head, now)))
                signed += 1
    return signed


def divide_stretches(
    sessions: sessionmaker[Session],
    *,
    store: ObjectStore,
    signer: CheckpointSigner,
    every: int,
    skip: set[tuple[int, int]] | None = None,
    prefix: str = audit_checkpoints.CHECKPOINT_PREFIX,
) -> int:
    """Divide every long stretch but those in ``skip`` (to which a broken one is added) and
    publish the new checkpoints; how many were signed."""
    skip = set() if skip is None else skip
    with sessions() as session:
        stretches = [s for s in long_stretches(session, every) if s not in skip]
    signed = 0
    for lower, upper in stretches:
        try:
            divided = _divide(sessions, signer, lower, upper, every)
        except Exception:  # the others may still be divided, and those signed published
            log.exception("dividing the audit chain's entries %d..%d failed", lower + 1, upper)
            continue
        if not divided:
            skip.add((lower, upper))
        signed += divided
    if signed:
        publish(sessions, store, prefix=prefix)
    return signed


async def divide_forever(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    signer: CheckpointSigner,
    stop: asyncio.Event,
    poll_s: float,
    *,
    every: int,
) -> None:
    """Look for long stretches every ``poll_s`` until ``stop``: the sealer may checkpoint an
    old chain's head only after this started. A failure is logged and tried at the next poll;
    a broken stretch is not re-read until the worker restarts."""
    broken: set[tuple[int, int]] = set()

    async def step() -> bool:  # every stretch it found is divided or broken: wait for a poll
        signed = await asyncio.to_thread(
            divide_stretches, sessions, store=store, signer=signer, every=every, skip=broken
        )
        if signed:
            log.info("the audit chain's long stretches got %d checkpoints", signed)
        return False

    await poll_until_stopped(stop, poll_s, step, doing="dividing the audit chain")
