"""Audit hash chain: canonical encoding, hashes, and detection of tampering."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from security.audit_chain import (
    GENESIS_HASH,
    AuditFields,
    canonical_bytes,
    entry_hash,
    first_broken,
)

Entry = tuple[AuditFields, str, str]


def _fields(seq: int, **detail: object) -> AuditFields:
    return AuditFields(
        seq=seq,
        at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC) + timedelta(minutes=seq),
        actor_user_id="user-1",
        actor_org_id="org-1",
        action="rfq.award",
        target_type="rfq",
        target_id=f"rfq-{seq}",
        detail=detail or {"n": seq},
    )


def _chain(count: int) -> list[Entry]:
    entries: list[Entry] = []
    prev = GENESIS_HASH
    for seq in range(1, count + 1):
        fields = _fields(seq)
        digest = entry_hash(prev, fields)
        entries.append((fields, prev, digest))
        prev = digest
    return entries


def test_canonical_bytes_exact() -> None:
    fields = AuditFields(
        seq=7,
        at=datetime(2025, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))),
        actor_user_id="u",
        actor_org_id="o",
        action="a",
        target_type="t",
        target_id="x",
        detail={"z": 1, "a": ["Zoë", None, True]},
    )
    assert (
        canonical_bytes(fields)
        == (
            '{"action":"a","actor_org_id":"o","actor_user_id":"u",'
            '"at":"2025-01-02T03:04:05.000000+00:00",'
            '"detail":{"a":["Zoë",null,true],"z":1},"seq":7,"target_id":"x","target_type":"t"}'
        ).encode()
    )


def test_same_instant_in_other_zone_hashes_the_same() -> None:
    utc = _fields(1)
    shifted = dataclasses.replace(utc, at=utc.at.astimezone(timezone(timedelta(hours=-5))))
    assert entry_hash(GENESIS_HASH, utc) == entry_hash(GENESIS_HASH, shifted)


def test_entry_hash_definition() -> None:
    fields = _fields(1)
    expected = hashlib.sha256(b"0" * 64 + b"\n" + canonical_bytes(fields)).hexdigest()
    assert entry_hash(GENESIS_HASH, fields) == expected
    assert entry_hash("f" * 64, fields) != expected


def test_rejects_naive_time_and_non_json_detail() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        dataclasses.replace(_fields(1), at=datetime(2025, 1, 1))
    with pytest.raises(TypeError):
        canonical_bytes(_fields(1, when=datetime(2025, 1, 1, tzinfo=UTC)))
    with pytest.raises(ValueError):
        canonical_bytes(_fields(1, ratio=float("nan")))


def test_clean_chain() -> None:
    assert first_broken(_chain(5)) is None
    assert first_broken([]) is None


def test_tampered_detail() -> None:
    entries = _chain(5)
    fields, prev, digest = entries[2]
    entries[2] = (dataclasses.replace(fields, detail={"n": 999}), prev, digest)
    assert first_broken(entries) == 3


def test_tampered_and_rehashed_entry_breaks_the_next_link() -> None:
    entries = _chain(5)
    fields, prev, _ = entries[2]
    forged = dataclasses.replace(fields, detail={"n": 999})
    entries[2] = (forged, prev, entry_hash(prev, forged))
    assert first_broken(entries) == 4


def test_deleted_middle_entry() -> None:
    entries = _chain(5)
    del entries[2]
    assert first_broken(entries) == 4


def test_deleted_first_entry() -> None:
    assert first_broken(_chain(5)[1:]) == 2


def test_reordered() -> None:
    entries = _chain(5)
    entries[1], entries[2] = entries[2], entries[1]
    assert first_broken(entries) == 3


def test_window_verification() -> None:
    entries = _chain(6)
    assert first_broken(entries[3:], start_prev_hash=entries[2][2]) is None
    assert first_broken(entries[3:], start_prev_hash=entries[1][2]) == 4
