"""Audit-log test helpers: a fresh chain of its own (a database and a store prefix), appends."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import Actor, Role
from db.audit_log import append_audit
from db.session import make_engine, make_session_factory, transaction
from security.audit_checkpoints import CheckpointSigner
from tests.harness.postgres import fresh_database

ACTOR = Actor(user_id="usr_auditor", org_id="org_x", roles=(Role.ADMIN,))
# A fixed, test-only seed: the checkpoints of a test run are signed with it.
TEST_SIGNER = CheckpointSigner(hashlib.sha256(b"test-only audit checkpoint key").digest())


@dataclass(frozen=True)
class Log:
    """One audit chain: its database (sessions, url) and its checkpoints' place in the store."""

    sessions: sessionmaker[Session]
    url: str
    prefix: str


@contextmanager
def fresh_log(database_url: str, workdir: Path, *, pool_size: int = 5) -> Iterator[Log]:
    """A new migrated database on the session's server, so a test may damage its chain."""
    server = make_url(database_url).set(database="postgres").render_as_string(hide_password=False)
    with fresh_database(workdir, server_url=server) as url:
        engine = make_engine(url, pool_size=pool_size)
        try:
            yield Log(make_session_factory(engine), url, f"audit-test-{uuid.uuid4().hex[:8]}")
        finally:
            engine.dispose()


def switched_off(session: Session, sql: str, params: dict[str, object]) -> None:
    """What a superuser can do: switch the append-only trigger off, change rows, switch it on."""
    session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete"))
    session.execute(text(sql), params)
    session.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete"))


def append(sessions: sessionmaker[Session], n: int, *, per_transaction: int = 1) -> list[int]:
    """``n`` entries, ``per_transaction`` a commit; their ids."""
    ids = []
    for start in range(0, n, per_transaction):
        with transaction(sessions) as session:
            for i in range(start, min(n, start + per_transaction)):
                entry_id = append_audit(
                    session,
                    actor=ACTOR,
                    action="price.changed",
                    target_type="quote",
                    target_id=f"q_{uuid.uuid4().hex[:6]}",
                    detail={"from": "10.00", "to": f"{11 + i}.00", "currency": "CNY"},
                )
                ids.append(entry_id)
    return ids
