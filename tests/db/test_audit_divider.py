"""A stretch of the audit chain no checkpoint divided (``stack/audit_divider.py``) gets one
every ``every`` entries once it is verified intact, so an entry in it is verified from a few
of them; a broken stretch, or one closed by a forged checkpoint, gets none."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from db import audit_checkpoints
from db.audit_verify import verify_all, verify_entry, verify_incremental, verify_range
from db.models import AuditCheckpoint, AuditEntry
from db.session import transaction
from security.audit_checkpoints import Checkpoint, CheckpointSigner
from stack import audit_divider
from stack.audit_divider import divide_stretches, long_stretches
from stack.audit_sealer import CheckpointPolicy, seal_pending
from storage.object_store import ObjectStore
from tests.harness.audit import TEST_SIGNER, Log, append, fresh_log, switched_off

VERIFIER = TEST_SIGNER.verifier()


@pytest.fixture
def log(database_url: str, tmp_path: Path, store: ObjectStore) -> Iterator[Log]:
    """1,200 entries sealed under a policy of a checkpoint every 10,000: one at the head
    alone, as an old chain's first checkpoint covers all of it."""
    with fresh_log(database_url, tmp_path) as fresh:
        append(fresh.sessions, 1200, per_transaction=400)
        policy = CheckpointPolicy(every=10_000, seconds=3600)
        while seal_pending(
            fresh.sessions, store=store, signer=TEST_SIGNER, policy=policy, prefix=fresh.prefix
        ):
            pass
        yield fresh


def tree_sizes(log: Log) -> list[int]:
    with log.sessions() as session:
        query = select(AuditCheckpoint.tree_size).order_by(AuditCheckpoint.tree_size)
        return list(session.scalars(query))


def divide(log: Log, store: ObjectStore, every: int = 100) -> int:
    return divide_stretches(
        log.sessions, store=store, signer=TEST_SIGNER, every=every, prefix=log.prefix
    )


def test_a_long_stretch_is_divided_and_its_entries_verify_from_a_few(
    log: Log, store: ObjectStore
) -> None:
    with log.sessions() as session:
        assert verify_entry(session, VERIFIER, 555).rows_read == 1200  # the whole stretch
        assert long_stretches(session, 100) == [(0, 1200)]
    assert divide(log, store) == 11
    assert tree_sizes(log) == [*range(100, 1200, 100), 1200]
    assert divide(log, store) == 0  # nothing left to divide
    with log.sessions() as session:
        assert long_stretches(session, 100) == []
        one = verify_entry(session, VERIFIER, 555)
        assert one.intact and (one.anchored_from, one.anchored_to, one.rows_read) == (500, 600, 100)
        assert verify_all(session, VERIFIER, store, prefix=log.prefix).intact
        # Each new checkpoint is published; the latest is still the head.
        for size in (100, 1100):
            key = audit_checkpoints.checkpoint_key(size, prefix=log.prefix)
            assert json.loads(store.get(key))["tree_size"] == size
        latest = audit_checkpoints.latest_published(store, prefix=log.prefix)
        assert latest is not None and latest.checkpoint.tree_size == 1200
        steps = []
        for _ in range(5):
            report = verify_incremental(session, VERIFIER, store, max_rows=450, prefix=log.prefix)
            session.commit()
            assert report.intact and report.rows_read <= 450, report
            steps.append(report.last)
    assert steps[:3] == [400, 800, 1200]


def test_only_the_stretches_longer_than_the_policy_are_divided(
    log: Log, store: ObjectStore
) -> None:
    append(log.sessions, 250, per_transaction=250)
    policy = CheckpointPolicy(every=100, seconds=3600)
    while seal_pending(
        log.sessions, store=store, signer=TEST_SIGNER, policy=policy, prefix=log.prefix
    ):
        pass
    assert tree_sizes(log) == [1200, 1300, 1400]  # the sealer's own: 1,450 not yet due
    assert divide(log, store) == 11
    assert tree_sizes(log) == [*range(100, 1500, 100)]


def test_a_tampered_stretch_gets_no_checkpoint_and_verification_names_the_entry(
    log: Log, store: ObjectStore
) -> None:
    with transaction(log.sessions) as session:
        switched_off(
            session,
            "UPDATE audit_log SET detail = CAST(:d AS jsonb) WHERE seq = 777",
            {"d": json.dumps({"from": "10.00", "to": "1.00", "currency": "CNY"})},
        )
    assert divide(log, store) == 0
    assert tree_sizes(log) == [1200]
    with log.sessions() as session:
        assert verify_entry(session, VERIFIER, 10).first_broken_seq == 777


def test_a_stretch_closed_by_a_forged_checkpoint_gets_none(log: Log, store: ObjectStore) -> None:
    """Someone able to write the database adds a checkpoint of their own over the entries: the
    divider does not sign heads on its word."""
    impostor = CheckpointSigner(b"\x07" * 32)
    with transaction(log.sessions) as session:
        session.execute(text("DELETE FROM audit_checkpoints"))
        head = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == 1200))
        assert head is not None
        forged = impostor.sign(Checkpoint(1200, head, datetime.now(UTC)))
        audit_checkpoints.record(session, forged)
    assert divide(log, store) == 0
    assert tree_sizes(log) == [1200]


def test_the_worker_divides_on_each_poll_and_reads_a_broken_stretch_once(
    log: Log, store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    with transaction(log.sessions) as session:
        switched_off(session, "UPDATE audit_log SET action = 'forged' WHERE seq = 3", {})
    read: list[tuple[int, int]] = []
    polls: list[int] = []
    divide_one, divide_all = audit_divider._divide, audit_divider.divide_stretches

    def counted(*args: Any) -> int:
        read.append((args[2], args[3]))
        return divide_one(*args)

    async def three_polls() -> None:
        loop, stop = asyncio.get_running_loop(), asyncio.Event()

        def polled(*args: Any, **kwargs: Any) -> int:
            polls.append(len(read))
            if len(polls) == 3:
                loop.call_soon_threadsafe(stop.set)
            return divide_all(*args, **kwargs)

        monkeypatch.setattr(audit_divider, "divide_stretches", polled)
        await audit_divider.divide_forever(log.sessions, store, TEST_SIGNER, stop, 0.0, every=100)

    monkeypatch.setattr(audit_divider, "_divide", counted)
    asyncio.run(three_polls())
    assert polls == [0, 1, 1] and read == [(0, 1200)]


def test_the_heads_signed_are_those_the_verification_read(
    log: Log, store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entry 200 is changed just after the stretch was verified, its trigger switched off: its
    checkpoint signs the hash that was verified, so the change shows."""
    with log.sessions() as session:
        verified = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == 200))
    verify = verify_range

    def then_changed(*args: Any, **kwargs: Any) -> Any:
        report = verify(*args, **kwargs)
        with transaction(log.sessions) as session:
            sql = "UPDATE audit_log SET hash = :h WHERE seq = 200"
            switched_off(session, sql, {"h": "f" * 64})
        return report

    monkeypatch.setattr(audit_divider, "verify_range", then_changed)
    assert divide(log, store) == 11
    with log.sessions() as session:
        signed = session.get(AuditCheckpoint, 200)
        assert signed is not None and signed.head_hash == verified
        assert verify_entry(session, VERIFIER, 150).first_broken_seq is not None


def test_a_checkpoint_the_store_holds_is_never_overwritten(log: Log, store: ObjectStore) -> None:
    """The store already holds checkpoints 100 (another head: someone rewrote the chain and its
    rows since) and 200 (the same head, signed before): neither object changes; 200 counts as
    published, 100 stays unpublished."""
    with log.sessions() as session:
        head_200 = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == 200))
    assert head_200 is not None
    before = datetime(2026, 1, 1, tzinfo=UTC)
    held = {
        100: TEST_SIGNER.sign(Checkpoint(100, "a" * 64, before)).to_json(),
        200: TEST_SIGNER.sign(Checkpoint(200, head_200, before)).to_json(),
    }
    for size, body in held.items():
        key = audit_checkpoints.checkpoint_key(size, prefix=log.prefix)
        store.put(key, body, content_type="application/json")
    assert divide(log, store) == 11
    for size, body in held.items():
        assert store.get(audit_checkpoints.checkpoint_key(size, prefix=log.prefix)) == body
    with log.sessions() as session:
        unpublished = session.scalars(
            select(AuditCheckpoint.tree_size).where(AuditCheckpoint.published_at.is_(None))
        ).all()
    assert unpublished == [100]
