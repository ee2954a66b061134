"""Hash chain of the tamper-evident audit log: canonical encoding, entry hashes, verification."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditFields:
    """The hashed content of one audit entry; ``detail`` must be plain JSON values."""

    seq: int
    at: datetime
    actor_user_id: str
    actor_org_id: str
    action: str
    target_type: str
    target_id: str
    detail: Mapping[str, Any]

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("audit entry time must be timezone-aware")


def canonical_bytes(fields: AuditFields) -> bytes:
    """Sorted-key, whitespace-free UTF-8 JSON; stable across a database round trip."""
    document = {
        "seq": fields.seq,
        # PostgreSQL timestamptz keeps microseconds and forgets the zone, so hash UTC at that
        # precision and a reloaded entry encodes identically.
        "at": fields.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_user_id": fields.actor_user_id,
        "actor_org_id": fields.actor_org_id,
        "action": fields.action,
        "target_type": fields.target_type,
        "target_id": fields.target_id,
        "detail": dict(fields.detail),
    }
    # No default= hook: a datetime or Decimal in detail would come back from JSONB as a string
    # and hash differently, so it is refused here instead. NaN is refused because JSONB is.
    text = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def entry_hash(prev_hash: str, fields: AuditFields) -> str:
    """sha256 hex of ``prev_hash + "\\n" + canonical_bytes(fields)``."""
    return hashlib.sha256(prev_hash.encode("utf-8") + b"\n" + canonical_bytes(fields)).hexdigest()


def first_broken(
    entries: Iterable[tuple[AuditFields, str, str]], *, start_prev_hash: str = GENESIS_HASH
) -> int | None:
    """Seq of the first entry not linked to its predecessor or not rehashing; None when intact.

    Entries are (fields, prev_hash, hash) in chain order. ``start_prev_hash`` is what the first
    entry must point at: the genesis hash for a whole chain, or the hash of the entry before a
    verified window. Truncation of the newest entries is invisible here; compare the last hash
    with one recorded elsewhere to catch it.
    """
    expected_prev = start_prev_hash
    for fields, prev_hash, stored_hash in entries:
        if prev_hash != expected_prev or entry_hash(prev_hash, fields) != stored_hash:
            return fields.seq
        expected_prev = stored_hash
    return None
