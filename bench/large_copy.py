"""The large dataset's rows that need Python: the audit chain's hashes and the encrypted columns.

Both go in by ``COPY ... FROM STDIN`` in batches, the fastest way rows reach PostgreSQL.

- The audit log: entries hashed one onto the other with ``security.audit_chain.entry_hash``,
  sealed (``seq``, ``prev_hash``, ``hash``) as the sealer leaves them, so the chain verifies
  from the genesis hash; the identity column continues after the last.
- Accreditation: a supplier's application (licence number encrypted), two certificates (their
  numbers encrypted), two years of statements and its standing, each encrypted value written by
  the column's own type (``security.columns.EncryptedString``) with the installed key ring, so
  the API decrypts them as it would any other.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from bench.large_data import BUYER, REGULATOR, YEARS, Sizes
from security.audit_chain import GENESIS_HASH, AuditFields, entry_hash
from security.columns import EncryptedString

BATCH = 50_000
ACTIONS = (
    ("order.created", "order"),
    ("order.confirmed", "order"),
    ("order.delivered", "order"),
    ("invoice.issued", "invoice"),
    ("rfq.created", "rfq"),
    ("quote.submitted", "quote"),
    ("contract.signed", "contract"),
    ("regulator.listed", "waybills"),
    ("task.decided", "task"),
)


def copy_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """COPY the rows into the table in batches; how many went in."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
    count, buffer = 0, io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> None:
        buffer.seek(0)
        cursor = raw.cursor()
        try:
            cursor.copy_expert(statement, buffer)
        finally:
            cursor.close()
        buffer.seek(0)
        buffer.truncate()

    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
        count += 1
        if count % BATCH == 0:
            flush()
    flush()
    return count


def _audit_rows(
    total: int, sizes: Sizes, seed: int, progress: Callable[[int], None]
) -> Iterable[list[Any]]:
    """Sealed entries hashed one onto the other. The canonical bytes are formatted directly
    (the fields' shape is fixed), a hundred times faster than building each entry; every
    thousandth is checked against ``security.audit_chain.entry_hash`` itself, so the chain is
    the real formula's or the seed stops."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=YEARS * 365)
    step = timedelta(days=YEARS * 365) / total
    prev = GENESIS_HASH
    for seq in range(1, total + 1):
        action, target_type = ACTIONS[rng.randrange(len(ACTIONS))]
        regulator = action.startswith("regulator.")
        org = REGULATOR if regulator else BUYER if rng.random() < 0.02 else _buyer(rng, sizes)
        target = f"{target_type}_{rng.randrange(sizes.orders)}"
        user = f"usr_{rng.randrange(10_000)}"
        at = (start + step * seq).replace(microsecond=rng.randrange(1_000_000))
        stamp = at.isoformat(timespec="microseconds")
        n = seq % 97
        canonical = (
            f'{{"action":"{action}","actor_org_id":"{org}","actor_user_id":"{user}",'
            f'"at":"{stamp}","detail":{{"n":{n},"note":"large"}},"seq":{seq},'
            f'"target_id":"{target}","target_type":"{target_type}"}}'
        ).encode()
        digest = hashlib.sha256(prev.encode() + b"\n" + canonical).hexdigest()
        if seq % 1000 == 1:
            fields = AuditFields(
                seq, at, user, org, action, target_type, target, {"n": n, "note": "large"}
            )
            if entry_hash(prev, fields) != digest:
                raise AssertionError(f"entry {seq}: the seed's hash is not entry_hash's")
        yield [
            seq,
            seq,
            stamp,
            user,
            org,
            action,
            target_type,
            target,
            f'{{"n": {n}, "note": "large"}}',
            None,
            prev,
            digest,
        ]
        prev = digest
        if seq % 1_000_000 == 0:
            progress(seq)


def _buyer(rng: random.Random, sizes: Sizes) -> str:
    return f"org_buyer_{1 + rng.randrange(sizes.buyers):06d}"


def write_audit(
    conn: Connection, sizes: Sizes, *, seed: int, progress: Callable[[int], None]
) -> int:
    """``sizes.audit`` sealed entries chained from the genesis hash (an empty log's start)."""
    columns = [
        "id",
        "seq",
        "at",
        "actor_user_id",
        "actor_org_id",
        "action",
        "target_type",
        "target_id",
        "detail",
        "dedup_key",
        "prev_hash",
        "hash",
    ]
    count = copy_rows(conn, "audit_log", columns, _audit_rows(sizes.audit, sizes, seed, progress))
    conn.execute(
        text(
            "SELECT setval(pg_get_serial_sequence('audit_log', 'id'), (SELECT max(id) FROM "
            "audit_log))"
        )
    )
    return count


def write_accreditation(conn: Connection, sizes: Sizes, *, seed: int) -> None:
    """Every supplier's application, certificates, statements and standing."""
    rng = random.Random(seed)
    # The models' own column types, so the values are sealed as the API would seal them.
    licence = EncryptedString("licence_number")
    number = EncryptedString("certificate_number")
    dialect = conn.dialect
    now = datetime.now(UTC)
    orgs = [f"org_supplier_{i:06d}" for i in range(1, sizes.suppliers + 1)]
    documents = (
        [
            f"doc_lic_{org}",
            org,
            "licence",
            "0" * 64,
            f"k/{org}",
            "licence.pdf",
            "application/pdf",
            1024,
            "usr_large",
            now.isoformat(),
        ]
        for org in orgs
    )
    copy_rows(
        conn,
        "documents",
        [
            "id",
            "org_id",
            "kind",
            "sha256",
            "object_key",
            "filename",
            "content_type",
            "size",
            "created_by",
            "created_at",
        ],
        documents,
    )
    states = ("accredited",) * 17 + ("suspended", "rejected", "under_review")

    def applications() -> Iterable[list[Any]]:
        for i, org in enumerate(orgs, 1):
            submitted = now - timedelta(
                days=rng.randrange(YEARS * 365), seconds=rng.randrange(86400)
            )
            status = states[rng.randrange(len(states))]
            yield [
                f"app_l{i}",
                org,
                f"accreditation:{org}",
                status,
                f"第{i}号化工有限公司",
                f"9S{i:016d}",
                licence.process_bind_param(f"LIC-{i:08d}", dialect),
                f"doc_lic_{org}",
                "{化工原料}",
                "B",
                "{}",
                "usr_large",
                submitted.isoformat(),
                None if status == "under_review" else (submitted + timedelta(days=3)).isoformat(),
                submitted.isoformat(),
            ]

    copy_rows(
        conn,
        "accreditation_applications",
        [
            "id",
            "supplier_org_id",
            "workflow_id",
            "status",
            "legal_name",
            "credit_code",
            "licence_number",
            "licence_document_id",
            "product_categories",
            "risk_band",
            "reasons",
            "submitted_by",
            "submitted_at",
            "decided_at",
            "updated_at",
        ],
        applications(),
    )

    def certificates() -> Iterable[list[Any]]:
        for i in range(1, sizes.suppliers + 1):
            for position, standard in enumerate(("ISO9001", "ISO14001")):
                yield [
                    f"app_l{i}",
                    position,
                    standard,
                    number.process_bind_param(f"{standard}-{i:08d}", dialect),
                    "中国质量认证中心",
                    "CNAS",
                    "化工原料的生产",
                    date(2025, 1, 1).isoformat(),
                    date(2028, 1, 1).isoformat(),
                    "t",
                    "{}",
                ]

    copy_rows(
        conn,
        "application_certificates",
        [
            "application_id",
            "position",
            "standard",
            "number",
            "certification_body",
            "accreditation_body",
            "scope",
            "issue_date",
            "expiry_date",
            "passed",
            "check_reasons",
        ],
        certificates(),
    )
    figures = json.dumps({"revenue": "12000000.00", "net_income": "900000.00"})
    copy_rows(
        conn,
        "financial_statements",
        ["application_id", "year", "currency", "figures"],
        (
            [f"app_l{i}", year, "CNY", figures]
            for i in range(1, sizes.suppliers + 1)
            for year in (2024, 2025)
        ),
    )
    # Off for this one statement: the catalogue price log's trigger takes each supplier's lock
    # (migration 0026) to log the products of its offers, of which there are none yet, and
    # 100,000 suppliers' locks in one transaction overflow PostgreSQL's lock table.
    logging = "supplier_accreditations_insert_prices"
    conn.execute(text(f"ALTER TABLE supplier_accreditations DISABLE TRIGGER {logging}"))
    conn.execute(
        text(
            "INSERT INTO supplier_accreditations (supplier_org_id, application_id, status, tier, "
            "risk_band, score, accredited_at, expires_on, certificate_document_id, status_reason, "
            "revision, updated_at) SELECT supplier_org_id, id, status, "
            "(ARRAY['A','B','C'])[1 + abs(hashtext(id)) % 3], 'B', 70 + abs(hashtext(id)) % 30, "
            "submitted_at, (submitted_at + interval '3 years')::date, licence_document_id, '', 0, "
            "submitted_at FROM accreditation_applications WHERE id LIKE 'app_l%' "
            "AND status IN ('accredited', 'suspended')"
        )
    )
    conn.execute(text(f"ALTER TABLE supplier_accreditations ENABLE TRIGGER {logging}"))
