"""``python -m bench.audit``: audited transactions a second without the global lock, against the
old locking append and against the same transaction with no audit at all, in the same run; and
verifying one entry or one range against verifying the whole chain.

On a migrated database of its own (the embedded PostgreSQL), each transaction inserts one
business row (a scratch table shaped like an order's: an id, a time, a JSON body) and, for the
audited kinds, one audit entry:

- ``unlocked``: ``db.audit_log.append_audit`` (inserted unsealed), with the sealer
  (``stack.audit_sealer.seal_pending``) running beside the writers, as the worker runs it;
- ``locked``: the append before issue 13 (one advisory lock for the rest of the transaction,
  read the head, hash onto it), kept here as the baseline;
- ``bare``: the business row alone.

Each thread count runs the three kinds interleaved (A B C, then C B A, ...) for ``--rounds``
rounds; the table shows the medians. Then a chain of ``--entries`` entries is sealed with a
checkpoint every 1,000, and one entry, one range of 1,000 and the whole chain are verified.
Last, as many entries again are sealed under one checkpoint, as a chain sealed with no sealer
running is, and one entry among them is verified before and after the divider divides them.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bench.services import quiet_logs
from bench.stats import Row, median, print_header, require_counts, table
from contracts.common import SYSTEM_ACTOR
from db.audit_log import append_audit, first_broken_entry
from db.audit_verify import verify_all, verify_entry, verify_range
from db.session import make_engine, make_session_factory, transaction
from security.audit_chain import GENESIS_HASH, AuditFields, entry_hash
from security.audit_checkpoints import CheckpointSigner
from settings import Settings
from stack.audit_divider import divide_stretches
from stack.audit_sealer import CheckpointPolicy, checkpoint_now, seal_pending
from storage.object_store import LocalObjectStore, ObjectStore
from tests.harness.postgres import fresh_database

SIGNER = CheckpointSigner(hashlib.sha256(b"bench-only audit key").digest())
POLICY = CheckpointPolicy(every=1000, seconds=60.0)
SEAL_POLL_S = Settings.model_fields["audit_seal_poll_s"].default  # the worker's
_OLD_LOCK = 7_431_001  # the lock every audited transaction took before issue 13
THREADS = (1, 4, 16)
SCRATCH = "CREATE TABLE bench_orders (id text PRIMARY KEY, at timestamptz, body jsonb)"
Write = Callable[[Session, int], None]


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__)
    parser.add_argument("--transactions", type=int, default=800, help="per run, all threads")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per count")
    parser.add_argument("--entries", type=int, default=200_000, help="chain to verify")
    parser.add_argument("--verifications", type=int, default=20, help="timed entry checks")
    arguments = parser.parse_args(argv)
    require_counts(parser, arguments)
    return arguments


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _business(session: Session, i: int) -> str:
    key = f"ord-{uuid.uuid4().hex}"
    session.execute(
        text("INSERT INTO bench_orders (id, at, body) VALUES (:id, now(), CAST(:b AS jsonb))"),
        {"id": key, "b": f'{{"line": {i}, "qty": "10.00"}}'},
    )
    return key


def _bare(session: Session, i: int) -> None:
    _business(session, i)


def _unlocked(session: Session, i: int) -> None:
    key = _business(session, i)
    append_audit(
        session, actor=SYSTEM_ACTOR, action="order.created", target_type="order", target_id=key
    )


def _locked(session: Session, i: int) -> None:
    """The append as it was: the lock is held until this transaction commits."""
    key = _business(session, i)
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _OLD_LOCK})
    head = session.execute(
        text("SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1")
    ).first()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    at = datetime.now(UTC)
    fields = AuditFields(
        seq, at, SYSTEM_ACTOR.user_id, SYSTEM_ACTOR.org_id, "order.created", "order", key, {}
    )
    session.execute(
        text(
            "INSERT INTO audit_log (seq, at, actor_user_id, actor_org_id, action, target_type, "
            "target_id, detail, prev_hash, hash) VALUES (:seq, :at, :u, :o, 'order.created', "
            "'order', :t, CAST('{}' AS jsonb), :prev, :hash)"
        ),
        {
            "seq": seq,
            "at": at,
            "u": fields.actor_user_id,
            "o": fields.actor_org_id,
            "t": key,
            "prev": prev,
            "hash": entry_hash(prev, fields),
        },
    )


def _drain(
    sessions: sessionmaker[Session], store: ObjectStore, policy: CheckpointPolicy = POLICY
) -> None:
    while seal_pending(sessions, store=store, signer=SIGNER, policy=policy):
        pass


def _run(
    sessions: sessionmaker[Session], store: ObjectStore, write: Write, *, threads: int, total: int
) -> float:
    """Transactions a second: ``total`` transactions over ``threads`` threads (the sealer, when
    the writes are unsealed, runs meanwhile and its backlog is drained inside the time)."""
    each = total // threads
    stop = threading.Event()

    def writer() -> None:
        for i in range(each):
            with transaction(sessions) as session:
                write(session, i)

    def sealer() -> None:  # as the worker's: on at once after a full batch, else at its poll
        while not stop.is_set():
            if not seal_pending(sessions, store=store, signer=SIGNER, policy=POLICY).full:
                stop.wait(SEAL_POLL_S)

    workers = [threading.Thread(target=writer) for _ in range(threads)]
    sealing = threading.Thread(target=sealer) if write is _unlocked else None
    began = time.perf_counter()
    for thread in [*workers, *([sealing] if sealing else [])]:
        thread.start()
    for thread in workers:
        thread.join()
    stop.set()
    if sealing is not None:
        sealing.join()
        _drain(sessions, store)  # every entry in the chain before the clock stops
    return each * threads / (time.perf_counter() - began)


def _throughput(
    sessions: sessionmaker[Session], store: ObjectStore, a: argparse.Namespace
) -> list[Row]:
    kinds: dict[str, Write] = {"unlocked": _unlocked, "locked": _locked, "bare": _bare}
    rows = []
    for threads in THREADS:
        rates: dict[str, list[float]] = {name: [] for name in kinds}
        for round_no in range(a.rounds):
            names = list(kinds) if round_no % 2 == 0 else list(reversed(kinds))
            for name in names:
                rates[name].append(
                    _run(sessions, store, kinds[name], threads=threads, total=a.transactions)
                )
        _say(f"{threads} threads: " + ", ".join(f"{n} {median(r):.0f}/s" for n, r in rates.items()))
        new, old, bare = (median(rates[n]) for n in kinds)
        rows += [
            Row(f"audited tx, {threads} threads: unlocked vs locked", "tx/s", new, old, True),
            Row(f"audited tx, {threads} threads: unlocked vs no audit", "tx/s", new, bare, True),
        ]
    return rows


def _chain(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    entries: int,
    policy: CheckpointPolicy = POLICY,
) -> None:
    """Entries written in bulk (not timed) until there are ``entries``, then sealed."""
    with transaction(sessions) as session:
        have = session.scalar(text("SELECT count(*) FROM audit_log")) or 0
        session.execute(
            text(
                "INSERT INTO audit_log (at, actor_user_id, actor_org_id, action, target_type, "
                "target_id, detail) SELECT now(), 'usr_bench', 'org_bench', 'order.created', "
                "'order', 'ord-' || g, jsonb_build_object('n', g) FROM generate_series(1, :n) g"
            ),
            {"n": max(0, entries - have)},
        )
    began = time.perf_counter()
    _drain(sessions, store, policy)
    _say(f"{entries:,} entries sealed in {time.perf_counter() - began:.0f} s")


def _verification(
    sessions: sessionmaker[Session], store: ObjectStore, a: argparse.Namespace
) -> list[Row]:
    _chain(sessions, store, a.entries)
    verifier = SIGNER.verifier()
    with sessions() as session:
        whole: list[float] = []
        for run in (
            lambda: first_broken_entry(session),
            lambda: verify_all(session, verifier, store),
        ):
            began = time.perf_counter()
            run()
            whole.append((time.perf_counter() - began) * 1000)
        one, span = [], []
        step = max(1, a.entries // a.verifications)
        for seq in range(step // 2 + 1, a.entries, step):
            began = time.perf_counter()
            assert verify_entry(session, verifier, seq).intact
            one.append((time.perf_counter() - began) * 1000)
            last = min(a.entries, seq + 999)
            began = time.perf_counter()
            assert verify_range(session, verifier, first=last - 999, last=last).intact
            span.append((time.perf_counter() - began) * 1000)
    label = f"{a.entries:,} entries"
    return [
        Row(f"verify one entry vs whole chain re-hashed, {label}", "ms", median(one), whole[0]),
        Row(
            f"verify 1,000 entries vs whole chain re-hashed, {label}", "ms", median(span), whole[0]
        ),
        Row(
            f"verify whole chain + checkpoints vs re-hashed alone, {label}",
            "ms",
            whole[1],
            whole[0],
        ),
    ]


def _division(
    sessions: sessionmaker[Session], store: ObjectStore, a: argparse.Namespace
) -> list[Row]:
    """As many entries again, sealed with one checkpoint at their head (as entries chained
    before migration 0016 were, or a chain sealed without a sealer running): one entry among
    them verified before and after ``stack.audit_divider`` divides them, and the division."""
    _chain(sessions, store, 2 * a.entries, CheckpointPolicy(every=10 * a.entries, seconds=3600))
    checkpoint_now(sessions, store=store, signer=SIGNER)
    seqs = [a.entries + a.entries * k // 8 for k in range(1, 8)]

    def one_entry() -> float:
        times = []
        with sessions() as session:
            for seq in seqs:
                began = time.perf_counter()
                assert verify_entry(session, SIGNER, seq).intact
                times.append((time.perf_counter() - began) * 1000)
        return median(times)

    undivided = one_entry()
    began = time.perf_counter()
    signed = divide_stretches(sessions, store=store, signer=SIGNER, every=POLICY.every)
    dividing = (time.perf_counter() - began) * 1000
    assert signed >= a.entries // POLICY.every - 1, signed
    label = f"{a.entries:,} entries under one checkpoint"
    return [
        Row(f"verify one entry, divided vs undivided, {label}", "ms", one_entry(), undivided),
        Row(f"divide them once vs verify one entry undivided, {label}", "ms", dividing, undivided),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    a = _arguments(argv)
    quiet_logs()
    print_header(
        "Tradeflow audit log benchmark",
        f"{a.transactions} transactions a run at {', '.join(map(str, THREADS))} threads, "
        f"{a.rounds} interleaved rounds (medians); verification on {a.entries:,} entries, "
        f"a checkpoint every {POLICY.every:,}",
    )
    with (
        tempfile.TemporaryDirectory(prefix="tradeflow-bench-audit-") as folder,
        fresh_database(Path(folder)) as url,
    ):
        engine = make_engine(url, pool_size=20)
        sessions = make_session_factory(engine)
        store = LocalObjectStore(Path(folder) / "objects")
        with transaction(sessions) as session:
            session.execute(text(SCRATCH))
        rows = _throughput(sessions, store, a)
        rows += _verification(sessions, store, a)
        rows += _division(sessions, store, a)
        engine.dispose()
    print("\n".join(["", *table(rows)]))
    print("ratio = platform time / baseline time; for tx/s, baseline rate / platform rate")


if __name__ == "__main__":
    main()
