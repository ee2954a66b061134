"""The audit routes over HTTP: unsealed entries listed, verification incremental (each call
from the last verified checkpoint, never the whole chain) or by a bounded range."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import OPERATOR_ORG_ID, Role
from db.models import AuditEntry, Organisation
from security.audit_checkpoints import checkpoint_signer_from_settings
from settings import Settings
from stack.audit_sealer import checkpoint_now
from storage.object_store import ObjectStore
from tests.harness import listings
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller


@pytest.fixture
async def admin(
    api_url: str, settings: Settings, sessions: sessionmaker[Session]
) -> AsyncIterator[TokenCaller]:
    with sessions() as session:
        operator = session.get_one(Organisation, OPERATOR_ORG_ID)
    caller = TokenCaller(api_url, settings.jwt_secret, s.member(sessions, operator, Role.ADMIN))
    yield caller
    await caller.http.aclose()


async def test_entries_are_listed_before_and_after_sealing(
    admin: TokenCaller, e2e_settings: Settings, sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    target = f"audit-api-{uuid.uuid4().hex}"
    listings.audit_entries(sessions, admin.member.actor, target, 3)
    listed = (await admin.http.get("/audit/entries", params={"target_id": target})).json()
    assert [e["seq"] for e in listed] == [None] * 3
    assert [e["id"] for e in listed] == sorted(e["id"] for e in listed)
    signer = checkpoint_signer_from_settings(e2e_settings)  # the API's key
    checkpoint_now(sessions, store=store, signer=signer)
    sealed = (await admin.http.get("/audit/entries", params={"target_id": target})).json()
    assert [e["id"] for e in sealed] == [e["id"] for e in listed]
    assert all(e["seq"] and e["hash"] for e in sealed)


async def test_verification_goes_on_from_the_last_verified_checkpoint(
    admin: TokenCaller, e2e_settings: Settings, sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    listings.audit_entries(sessions, admin.member.actor, f"audit-api-{uuid.uuid4().hex}", 5)
    signer = checkpoint_signer_from_settings(e2e_settings)
    head = checkpoint_now(sessions, store=store, signer=signer)
    first = (await admin.http.get("/audit/verify")).json()
    assert first["intact"] is True and first["problem"] is None, first
    assert first["verified_to"] == head and first["anchored_to"] == head
    with sessions() as session:
        assert first["entries"] == session.scalar(select(func.count()).select_from(AuditEntry))
        assert first["unsealed"] == 0
    again = (await admin.http.get("/audit/verify")).json()
    assert again["intact"] is True and again["rows_read"] == 0  # nothing new since
    listings.audit_entries(sessions, admin.member.actor, f"audit-api-{uuid.uuid4().hex}", 2)
    newer = checkpoint_now(sessions, store=store, signer=signer)
    step = (await admin.http.get("/audit/verify")).json()
    assert step["intact"] is True and step["verified_from"] == head + 1
    assert step["rows_read"] == newer - head


async def test_a_range_is_verified_on_request_and_a_half_range_refused(
    admin: TokenCaller, e2e_settings: Settings, sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    listings.audit_entries(sessions, admin.member.actor, f"audit-api-{uuid.uuid4().hex}", 4)
    head = checkpoint_now(
        sessions, store=store, signer=checkpoint_signer_from_settings(e2e_settings)
    )
    ranged = (
        await admin.http.get("/audit/verify", params={"first": head - 1, "last": head})
    ).json()
    assert ranged["intact"] is True and ranged["verified_to"] == head, ranged
    for params in ({"first": 1}, {"first": 3, "last": 2}):
        answer = await admin.http.get("/audit/verify", params=params)
        assert answer.status_code == 422, answer.text
        body = answer.json()
        assert [e["field"] for e in body.get("errors") or body["detail"]] == ["last"]
