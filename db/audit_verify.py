"""Verifying the audit chain without reading all of it: ranges between signed checkpoints.

A range ``[first, last]`` is re-hashed from the checkpoint before ``first`` (its signed head is
where the range's first entry must point) to the checkpoint at or after ``last`` (whose signed
head the range's end must reach), so it reads the range plus at most about two checkpoint
intervals, whatever the chain's length. One entry is a range of one. The newest entries beyond
the newest checkpoint are checked against the chain alone; deleting entries (and their rows in
``audit_checkpoints``) is caught by comparing the database with the latest checkpoint published
to the object store, outside the database. ``verify_incremental`` is ``GET /audit/verify``:
from the last checkpoint it verified, at most ``max_rows`` entries a call.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db import audit_checkpoints as checkpoints
from db.audit_log import chain_rows, fields_of
from db.models import AuditCheckpoint, AuditEntry
from security.audit_chain import GENESIS_HASH, AuditFields, first_broken
from security.audit_checkpoints import CheckpointVerifier
from storage.object_store import ObjectStore


@dataclass(frozen=True)
class Report:
    """What a verification covered and found. ``anchored_to`` is the signed checkpoint the
    range's end was checked against (None: past the newest, checked by the chain alone)."""

    intact: bool
    first: int
    last: int
    rows_read: int
    anchored_from: int
    anchored_to: int | None
    first_broken_seq: int | None = None
    problem: str | None = None
    # The hashes of the entries asked to be kept, as the verification read them.
    kept: tuple[tuple[int, str], ...] = ()


def head_seq(session: Session) -> int:
    return session.scalar(select(func.max(AuditEntry.seq))) or 0


def _broken(report: Report, seq: int | None, problem: str) -> Report:
    return replace(report, intact=False, first_broken_seq=seq, problem=problem)


def verify_range(
    session: Session,
    verifier: CheckpointVerifier,
    *,
    first: int,
    last: int,
    keeping: Collection[int] = (),
) -> Report:
    """Re-hash ``first..last`` (clamped to the sealed head) between its two signed checkpoints;
    the hashes of the entries ``keeping`` names are in the report's ``kept``."""
    if first < 1 or last < first:
        raise ValueError(f"not a range of entries: {first}..{last}")
    lower = checkpoints.at_or_before(session, first - 1)
    upper = checkpoints.at_or_after(session, last)
    start = lower.tree_size + 1 if lower else 1
    end = upper.tree_size if upper else min(last, head_seq(session))
    report = Report(True, first, min(last, end), 0, start - 1, upper.tree_size if upper else None)
    for anchor in (lower, upper):
        if anchor is not None and not verifier.valid(checkpoints.signed(anchor)):
            return _broken(report, None, f"checkpoint {anchor.tree_size}'s signature is forged")
    if end < start:
        return report
    read = 0
    last_seen: tuple[int, str] = (start - 1, lower.head_hash if lower else GENESIS_HASH)
    kept: list[tuple[int, str]] = []
    wanted = set(keeping)

    def entries() -> Iterator[tuple[AuditFields, str, str]]:
        nonlocal read, last_seen
        for row in chain_rows(session, first=start, last=end):
            read += 1
            last_seen = (row.seq or 0, row.hash or "")
            if last_seen[0] in wanted:
                kept.append(last_seen)
            yield fields_of(row), row.prev_hash or "", row.hash or ""

    broken = first_broken(entries(), start_prev_hash=last_seen[1])
    report = replace(report, rows_read=read, kept=tuple(kept))
    if broken is not None:
        return _broken(report, broken, f"entry {broken} does not hash onto the one before it")
    if last_seen[0] != end:
        return _broken(report, last_seen[0] + 1, f"entries {last_seen[0] + 1}..{end} are missing")
    if upper is not None and last_seen[1] != upper.head_hash:
        return _broken(report, end, f"entry {end} is not the head signed by checkpoint {end}")
    return report


def verify_entry(session: Session, verifier: CheckpointVerifier, seq: int) -> Report:
    return verify_range(session, verifier, first=seq, last=seq)


def published_problem(
    session: Session,
    verifier: CheckpointVerifier,
    store: ObjectStore,
    *,
    prefix: str = checkpoints.CHECKPOINT_PREFIX,
) -> str | None:
    """What the database lacks compared with the latest published checkpoint, or None."""
    try:
        published = checkpoints.latest_published(store, prefix=prefix)
    except ValueError as error:
        return f"the published checkpoint is unreadable: {error}"
    if published is None:
        return None
    if not verifier.valid(published):
        return "the published checkpoint's signature is forged"
    size = published.checkpoint.tree_size
    stored = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == size))
    if stored is None:
        return f"entries up to {size} were published but the database ends at {head_seq(session)}"
    if stored != published.checkpoint.head_hash:
        return f"entry {size} is not the head the published checkpoint signed"
    return None


def verify_incremental(
    session: Session,
    verifier: CheckpointVerifier,
    store: ObjectStore,
    *,
    max_rows: int = 100_000,
    prefix: str = checkpoints.CHECKPOINT_PREFIX,
) -> Report:
    """Verify on from the newest checkpoint verified before, about ``max_rows`` entries at most,
    and check the published head; an intact range's checkpoints are marked verified (the
    caller commits)."""
    problem = published_problem(session, verifier, store, prefix=prefix)
    done = session.scalar(
        select(func.max(AuditCheckpoint.tree_size)).where(AuditCheckpoint.verified_at.isnot(None))
    )
    start = (done or 0) + 1
    head = head_seq(session)
    newest = checkpoints.newest(session)
    within = checkpoints.at_or_before(session, start - 1 + max_rows)
    if newest is not None and newest.tree_size >= start and head - start < max_rows:
        last = head  # all the rest fits: through the newest checkpoint and the tail after it
    elif within is not None and within.tree_size >= start:
        last = within.tree_size
    else:
        after = checkpoints.at_or_after(session, start)
        last = after.tree_size if after is not None else head
    if last < start:
        report = Report(True, start, start - 1, 0, start - 1, None)
    else:
        report = verify_range(session, verifier, first=start, last=last)
    if problem is not None:
        return replace(report, intact=False, problem=problem)
    if report.intact and last >= start:
        session.execute(
            update(AuditCheckpoint)
            .where(AuditCheckpoint.tree_size <= last, AuditCheckpoint.verified_at.is_(None))
            .values(verified_at=datetime.now(UTC))
        )
    return report


def verify_all(
    session: Session,
    verifier: CheckpointVerifier,
    store: ObjectStore | None,
    *,
    prefix: str = checkpoints.CHECKPOINT_PREFIX,
) -> Report:
    """Every entry re-hashed, every checkpoint's signature and head checked, and the published
    head (the CLI: reads everything)."""
    signed = {row.tree_size: row for row in session.scalars(select(AuditCheckpoint))}
    for row in signed.values():
        if not verifier.valid(checkpoints.signed(row)):
            return Report(False, 1, 0, 0, 0, None, None, f"checkpoint {row.tree_size} is forged")
    head = head_seq(session)
    report = Report(True, 1, head, 0, 0, max(signed, default=None))
    if signed and max(signed) > head:
        return _broken(report, head + 1, f"entries {head + 1}..{max(signed)} were checkpointed")
    read = 0
    mismatch: int | None = None

    def entries() -> Iterator[tuple[AuditFields, str, str]]:
        nonlocal read, mismatch
        for row in chain_rows(session):
            read += 1
            anchor = signed.get(row.seq or 0)
            if anchor is not None and anchor.head_hash != row.hash and mismatch is None:
                mismatch = row.seq
            yield fields_of(row), row.prev_hash or "", row.hash or ""

    broken = first_broken(entries())
    report = replace(report, rows_read=read)
    if broken is not None:
        return _broken(report, broken, f"entry {broken} does not hash onto the one before it")
    if read != head:
        return _broken(report, None, f"{head - read} entries are missing below {head}")
    if mismatch is not None:
        return _broken(report, mismatch, f"entry {mismatch} is not its checkpoint's head")
    problem = published_problem(session, verifier, store, prefix=prefix) if store else None
    return report if problem is None else _broken(report, None, problem)
