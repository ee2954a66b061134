"""Recovery codes on real PostgreSQL: a step-up checks the one hash its code's selector picks (a
wrong code one decoy), codes issued before selectors still work once each, and nothing stored
gives a code away."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import db.second_factor as factor
import security.passwords as passwords
from contracts.common import Role
from db.second_factor import RecoveryCode, replace_recovery_codes, spend_recovery_code
from db.session import transaction
from security.passwords import hash_password
from security.totp import new_recovery_codes
from tests.harness import sourcing as s

NOW = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)


# Argon2's parameters as a stored hash names them: the codes' profile (security.passwords).
CODES = "m=19456,t=2,p=1"


@pytest.fixture
def verifies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every argon2 check made, by the code's hashes (``code``) or the decoy (``decoy``), each
    with the parameters of the hash checked against: a decoy costs what a code does."""
    made: list[str] = []

    def counted(kind: str, check: Callable[[str, str], bool]) -> Callable[[str, str], bool]:
        def verify(stored: str, typed: str) -> bool:
            made.append(f"{kind} {stored.split('$')[3]}")
            return check(stored, typed)

        return verify

    monkeypatch.setattr(factor, "verify_password", counted("code", passwords.verify_password))
    monkeypatch.setattr(passwords, "verify_password", counted("decoy", passwords.verify_password))
    return made


def _user(sessions: sessionmaker[Session]) -> str:
    return s.member(sessions, s.buyer_org(sessions), Role.FINANCE).actor.user_id


def test_a_code_is_checked_against_the_one_hash_its_selector_picks(
    sessions: sessionmaker[Session], verifies: list[str]
) -> None:
    user_id = _user(sessions)
    with transaction(sessions) as session:
        codes = replace_recovery_codes(session, user_id)
    with transaction(sessions) as session:
        assert spend_recovery_code(session, user_id, codes[3].upper().replace("-", " "), NOW)
    assert verifies == [f"code {CODES}"]

    verifies.clear()
    with transaction(sessions) as session:
        assert not spend_recovery_code(session, user_id, codes[3], NOW)  # spent
    assert verifies == [f"decoy {CODES}"]

    verifies.clear()
    unused = next(sel for sel in ("zzzz", "yyyy") if not any(c.startswith(sel) for c in codes))
    with transaction(sessions) as session:
        assert not spend_recovery_code(session, user_id, f"{unused}-0000-0000", NOW)
    assert verifies == [f"decoy {CODES}"]  # as long as a code whose selector matched


def test_codes_issued_before_selectors_are_each_checked_and_spent_once(
    sessions: sessionmaker[Session], verifies: list[str]
) -> None:
    user_id = _user(sessions)
    codes = new_recovery_codes(2)
    with transaction(sessions) as session:
        session.add_all(
            RecoveryCode(id=f"rec_{user_id}_{n}", user_id=user_id, code_hash=hash_password(c))
            for n, c in enumerate(codes)
        )
    with transaction(sessions) as session:
        assert spend_recovery_code(session, user_id, codes[1], NOW)
    assert verifies == ["code m=65536,t=3,p=4"] * 2  # hashed as passwords were
    with transaction(sessions) as session:
        assert not spend_recovery_code(session, user_id, codes[1], NOW)
        assert spend_recovery_code(session, user_id, codes[0], NOW)


def test_what_is_stored_holds_a_codes_first_group_and_its_hash_only(
    sessions: sessionmaker[Session],
) -> None:
    user_id = _user(sessions)
    with transaction(sessions) as session:
        codes = replace_recovery_codes(session, user_id)
    with sessions() as session:
        rows = session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user_id)).all()
    assert sorted(row.selector or "" for row in rows) == sorted(c.split("-")[0] for c in codes)
    for row in rows:
        assert row.code_hash.startswith(f"$argon2id$v=19${CODES}$")
        assert not any(c in row.code_hash or c.replace("-", "") in row.code_hash for c in codes)
