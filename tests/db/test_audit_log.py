"""The audit log on PostgreSQL: appends that never wait on each other, sealed into one chain;
append-only in the database; tampering, truncation and forged checkpoints named."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from db.audit_log import append_audit, first_broken_entry
from db.audit_verify import verify_all, verify_entry, verify_incremental, verify_range
from db.models import AuditCheckpoint, AuditEntry
from db.session import transaction
from security.audit_checkpoints import Checkpoint, CheckpointSigner
from stack.audit_sealer import CheckpointPolicy, seal_pending
from storage.object_store import ObjectStore
from tests.harness.audit import ACTOR, TEST_SIGNER, Log, append, fresh_log, switched_off

VERIFIER = TEST_SIGNER.verifier()


@pytest.fixture
def log(database_url: str, tmp_path: Path) -> Iterator[Log]:
    with fresh_log(database_url, tmp_path, pool_size=20) as fresh:
        yield fresh


def seal_all(log: Log, store: ObjectStore, *, every: int = 1000) -> None:
    policy = CheckpointPolicy(every=every, seconds=3600)
    while seal_pending(
        log.sessions, store=store, signer=TEST_SIGNER, policy=policy, prefix=log.prefix
    ):
        pass


def seqs(sessions: sessionmaker[Session]) -> list[int | None]:
    with sessions() as session:
        return list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))


def test_entries_are_appended_unsealed_and_sealed_into_one_chain(
    log: Log, store: ObjectStore
) -> None:
    append(log.sessions, 3)
    assert seqs(log.sessions) == [None, None, None]
    seal_all(log, store)
    with log.sessions() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        assert [r.seq for r in rows] == [1, 2, 3] and [r.id for r in rows] == sorted(
            r.id for r in rows
        )
        assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash
        assert first_broken_entry(session) is None
        assert verify_all(session, VERIFIER, store, prefix=log.prefix).intact


def test_concurrent_appends_are_all_sealed_into_one_intact_chain(
    log: Log, store: ObjectStore
) -> None:
    """16 writers and 2 sealers at once: every entry gets exactly one place, no gaps."""
    writers, each = 16, 40
    done = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            append(log.sessions, each)
        except BaseException as error:  # reported below, not lost in the thread
            failures.append(error)

    def seal() -> None:
        try:
            while not done.is_set():
                seal_all(log, store, every=100)
        except BaseException as error:
            failures.append(error)

    sealers = [threading.Thread(target=seal) for _ in range(2)]
    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in sealers + threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    for thread in sealers:
        thread.join()
    assert failures == []
    seal_all(log, store)
    assert seqs(log.sessions) == list(range(1, writers * each + 1))
    with log.sessions() as session:
        report = verify_all(session, VERIFIER, store, prefix=log.prefix)
        assert report.intact and report.rows_read == writers * each, report
        assert (session.scalar(select(func.count()).select_from(AuditCheckpoint)) or 0) >= 5


def test_an_entry_committed_after_a_later_one_was_sealed_is_sealed_too(
    log: Log, store: ObjectStore
) -> None:
    with log.sessions() as slow, slow.begin():
        early = append_audit(slow, actor=ACTOR, action="a.slow", target_type="t", target_id="1")
        (late,) = append(log.sessions, 1)
        assert early < late
        seal_all(log, store)  # sees only the committed, later entry
        assert seqs(log.sessions) == [1]  # the open one is invisible, so not sealed
    seal_all(log, store)
    with log.sessions() as session:
        placed = dict(session.execute(select(AuditEntry.id, AuditEntry.seq)).tuples().all())
        assert placed == {late: 1, early: 2}
        assert verify_all(session, VERIFIER, store, prefix=log.prefix).intact


def test_a_dedup_key_logs_an_event_once_even_from_concurrent_writers(log: Log) -> None:
    key = f"once:{uuid.uuid4().hex}"
    start = threading.Barrier(8)
    ids: list[int] = []

    def log_it() -> None:
        start.wait()
        with transaction(log.sessions) as session:
            entry_id = append_audit(
                session,
                actor=ACTOR,
                action="task.decided",
                target_type="task",
                target_id="t",
                dedup_key=key,
            )
            ids.append(entry_id)

    threads = [threading.Thread(target=log_it) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with log.sessions() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.dedup_key == key)).all()
    assert len(rows) == 1 and ids == [rows[0].id] * 8


def test_database_refuses_to_change_delete_or_reseal_entries(log: Log, store: ObjectStore) -> None:
    (unsealed,) = append(log.sessions, 1)
    with pytest.raises(DBAPIError, match="append-only"), transaction(log.sessions) as session:
        session.execute(
            text("UPDATE audit_log SET action = 'forged' WHERE id = :i"), {"i": unsealed}
        )
    seal_all(log, store)
    for statement in (
        "UPDATE audit_log SET action = 'forged' WHERE id = :i",
        "UPDATE audit_log SET seq = 7, prev_hash = hash WHERE id = :i",  # sealed twice
        "DELETE FROM audit_log WHERE id = :i",
    ):
        with pytest.raises(DBAPIError, match="append-only"), transaction(log.sessions) as session:
            session.execute(text(statement), {"i": unsealed})


def test_a_tampered_entry_is_named_by_range_and_full_verification(
    log: Log, store: ObjectStore
) -> None:
    append(log.sessions, 30, per_transaction=10)
    seal_all(log, store, every=10)
    with transaction(log.sessions) as session:
        switched_off(
            session,
            "UPDATE audit_log SET detail = CAST(:d AS jsonb) WHERE seq = 17",
            {"d": json.dumps({"from": "10.00", "to": "1.00", "currency": "CNY"})},
        )
    with log.sessions() as session:
        assert first_broken_entry(session) == 17
        assert verify_all(session, VERIFIER, store, prefix=log.prefix).first_broken_seq == 17
        assert verify_entry(session, VERIFIER, 17).first_broken_seq == 17
        assert verify_range(session, VERIFIER, first=22, last=24).intact  # another interval


def test_deleting_the_newest_entries_is_detected_against_the_signed_checkpoint(
    log: Log, store: ObjectStore
) -> None:
    append(log.sessions, 20, per_transaction=5)
    seal_all(log, store, every=5)
    with transaction(log.sessions) as session:
        # The newest entries and every trace of them in the database.
        switched_off(session, "DELETE FROM audit_log WHERE seq > 12", {})
        session.execute(text("DELETE FROM audit_checkpoints WHERE tree_size > 12"))
    with log.sessions() as session:
        assert first_broken_entry(session) is None  # the chain alone cannot tell
        report = verify_all(session, VERIFIER, store, prefix=log.prefix)
        assert not report.intact and "published" in (report.problem or ""), report
        incremental = verify_incremental(session, VERIFIER, store, prefix=log.prefix)
        assert not incremental.intact and "database ends at 12" in (incremental.problem or "")


def test_a_forged_checkpoint_is_rejected(log: Log, store: ObjectStore) -> None:
    append(log.sessions, 10, per_transaction=5)
    seal_all(log, store, every=5)
    impostor = CheckpointSigner(b"\x07" * 32)
    with transaction(log.sessions) as session:
        head = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == 10))
        assert head is not None
        forged = impostor.sign(Checkpoint(8, head, datetime.now(UTC)))
        session.execute(text("DELETE FROM audit_checkpoints WHERE tree_size = 10"))
        session.add(
            AuditCheckpoint(
                tree_size=8,
                head_hash=head,
                at=forged.checkpoint.at,
                key_id=VERIFIER.key_id,
                signature=forged.signature,
            )
        )
    with log.sessions() as session:
        report = verify_range(session, VERIFIER, first=7, last=8)
        assert not report.intact and "forged" in (report.problem or "")
    store.put(f"{log.prefix}/latest.json", forged.to_json(), content_type="application/json")
    with log.sessions() as session:
        problem = verify_all(session, VERIFIER, store, prefix=log.prefix).problem
        assert problem is not None and "forged" in problem


def test_range_and_entry_verification_read_a_bounded_number_of_rows(
    log: Log, store: ObjectStore
) -> None:
    append(log.sessions, 2000, per_transaction=200)
    seal_all(log, store, every=100)
    with log.sessions() as session:
        one = verify_entry(session, VERIFIER, 1234)
        assert one.intact and one.anchored_to is not None and one.rows_read <= 2 * 100, one
        span = verify_range(session, VERIFIER, first=500, last=700)
        assert span.intact and span.rows_read <= 200 + 2 * 100, span
        assert verify_all(session, VERIFIER, store, prefix=log.prefix).rows_read == 2000


def test_incremental_verification_resumes_where_it_stopped(log: Log, store: ObjectStore) -> None:
    append(log.sessions, 100, per_transaction=50)
    seal_all(log, store, every=10)
    append(log.sessions, 3)
    seal_all(log, store, every=10)  # 103: three past the newest checkpoint
    steps = []
    with log.sessions() as session:
        while True:
            report = verify_incremental(session, VERIFIER, store, max_rows=35, prefix=log.prefix)
            session.commit()
            assert report.intact and report.rows_read <= 35 + 10, report
            steps.append(report.last)
            if report.last >= 103 or len(steps) > 10:
                break
    assert steps == [30, 60, 90, 103]


def test_a_batch_says_whether_more_may_be_pending(log: Log, store: ObjectStore) -> None:
    """The worker's sealer goes on at once only after a full batch; after one that took what
    was pending it waits for its poll, so a trickle of appends is sealed a poll's worth at a
    time, not a few entries a transaction."""
    append(log.sessions, 5)
    seal = [
        seal_pending(log.sessions, store=store, signer=TEST_SIGNER, batch=3, prefix=log.prefix)
        for _ in range(3)
    ]
    assert [(s.count, s.full, bool(s)) for s in seal] == [
        (3, True, True),
        (2, False, True),
        (0, False, False),
    ]
