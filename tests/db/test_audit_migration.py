"""Entries chained before migration 0016 (one locked chain) stay verifiable, and the sealed
entries after it continue the same chain."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import select, text

from db.audit_log import first_broken_entry
from db.audit_verify import verify_all, verify_entry
from db.migrate import ROOT
from db.models import AuditEntry
from db.session import transaction
from security.audit_chain import GENESIS_HASH, AuditFields, entry_hash
from stack.audit_sealer import checkpoint_now
from storage.object_store import ObjectStore
from tests.harness.audit import TEST_SIGNER, append, fresh_log

OLD_INSERT = text(
    "INSERT INTO audit_log (seq, at, actor_user_id, actor_org_id, action, target_type, "
    "target_id, detail, dedup_key, prev_hash, hash) VALUES (:seq, :at, 'usr_old', 'org_old', "
    "'order.created', 'order', :target, CAST('{}' AS jsonb), :key, :prev, :hash)"
)


def test_entries_chained_before_the_migration_still_verify(
    database_url: str, store: ObjectStore, tmp_path: Path
) -> None:
    with fresh_log(database_url, tmp_path) as log:
        config = Config(str(ROOT / "alembic.ini"))
        config.set_main_option("script_location", str(ROOT / "migrations"))
        config.set_main_option("sqlalchemy.url", log.url.replace("%", "%%"))
        command.downgrade(config, "0015")  # migration 0016's way back, on an empty log
        prev = GENESIS_HASH
        with transaction(log.sessions) as session:  # as the old locked append wrote them
            for seq in range(1, 6):
                at = datetime.now(UTC)
                fields = AuditFields(
                    seq, at, "usr_old", "org_old", "order.created", "order", f"o{seq}", {}
                )
                hashed = entry_hash(prev, fields)
                values = {"at": at, "target": f"o{seq}", "key": f"k{seq}", "prev": prev}
                session.execute(OLD_INSERT, {"seq": seq, "hash": hashed, **values})
                prev = hashed
        command.upgrade(config, "head")
        new_ids = append(log.sessions, 3)
        assert checkpoint_now(log.sessions, store=store, signer=TEST_SIGNER, prefix=log.prefix) == 8
        with log.sessions() as session:
            placed = session.execute(
                select(AuditEntry.id, AuditEntry.seq).order_by(AuditEntry.seq)
            ).all()
            assert [tuple(p) for p in placed] == [
                *((s, s) for s in range(1, 6)),
                *((i, s) for i, s in zip(new_ids, range(6, 9), strict=True)),
            ]
            assert new_ids[0] == 6  # the identity continues after the old entries
            assert first_broken_entry(session) is None
            assert verify_entry(session, TEST_SIGNER, 3).intact
            assert verify_all(session, TEST_SIGNER, store, prefix=log.prefix).intact
