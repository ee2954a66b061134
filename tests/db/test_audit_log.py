"""The audit log on PostgreSQL: append-only in the database, and tampering is named."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import Actor, Role
from db.audit_log import append_audit, first_broken_entry
from db.models import AuditEntry
from db.session import transaction

ACTOR = Actor(user_id="usr_auditor", org_id="org_x", roles=(Role.ADMIN,))


def _append(sessions: sessionmaker[Session], n: int) -> list[int]:
    seqs = []
    for i in range(n):
        with transaction(sessions) as session:
            entry = append_audit(
                session,
                actor=ACTOR,
                action="price.changed",
                target_type="quote",
                target_id=f"q_{uuid.uuid4().hex[:6]}",
                detail={"from": "10.00", "to": f"{11 + i}.00", "currency": "CNY"},
            )
            seqs.append(entry.seq)
    return seqs


def test_entries_chain_and_verify(sessions: sessionmaker[Session]) -> None:
    seqs = _append(sessions, 3)
    with sessions() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.seq.in_(seqs)).order_by(AuditEntry.seq)
        ).all()
        assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash
        assert first_broken_entry(session) is None


def test_dedup_key_logs_a_retried_event_once(sessions: sessionmaker[Session]) -> None:
    key = f"once:{uuid.uuid4().hex}"
    for _ in range(2):
        with transaction(sessions) as session:
            append_audit(
                session,
                actor=ACTOR,
                action="task.decided",
                target_type="task",
                target_id="t",
                dedup_key=key,
            )
    with sessions() as session:
        assert (
            len(session.scalars(select(AuditEntry).where(AuditEntry.dedup_key == key)).all()) == 1
        )


def test_database_refuses_to_change_or_delete_entries(sessions: sessionmaker[Session]) -> None:
    (seq,) = _append(sessions, 1)
    for statement in (
        "UPDATE audit_log SET action = 'forged' WHERE seq = :seq",
        "DELETE FROM audit_log WHERE seq = :seq",
    ):
        with pytest.raises(DBAPIError, match="append-only"), transaction(sessions) as session:
            session.execute(text(statement), {"seq": seq})


def test_tampering_past_the_trigger_is_named_by_verification(
    sessions: sessionmaker[Session],
) -> None:
    """A superuser can switch the trigger off; the hash chain still gives the change away."""
    seqs = _append(sessions, 3)
    target = seqs[1]
    with sessions() as session:
        original = session.scalar(select(AuditEntry.detail).where(AuditEntry.seq == target))

    def rewrite(detail: object) -> None:
        with transaction(sessions) as session:
            session.execute(
                text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete")
            )
            session.execute(
                text("UPDATE audit_log SET detail = CAST(:d AS jsonb) WHERE seq = :seq"),
                {"d": json.dumps(detail), "seq": target},
            )
            session.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete"))

    rewrite({"from": "10.00", "to": "1.00", "currency": "CNY"})
    try:
        with sessions() as session:
            assert first_broken_entry(session) == target
    finally:
        rewrite(original)
    with sessions() as session:
        assert first_broken_entry(session) is None
