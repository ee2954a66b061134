"""Argon2id hashing, verification, rehash detection and the unknown-user decoy check."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError

from security import passwords
from security.passwords import hash_password, needs_rehash, verify_password


def test_hash_and_verify() -> None:
    stored = hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert verify_password(stored, "correct horse battery staple") is True
    assert verify_password(stored, "correct horse battery stapler") is False
    assert verify_password(stored, "") is False


def test_salted() -> None:
    assert hash_password("same") != hash_password("same")


def test_corrupt_hash_raises_rather_than_passing_as_a_wrong_password() -> None:
    with pytest.raises(InvalidHashError):
        verify_password("not-a-hash", "pw")


def test_needs_rehash() -> None:
    assert needs_rehash(hash_password("pw")) is False
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("pw")
    assert verify_password(weak, "pw") is True
    assert needs_rehash(weak) is True


def test_unknown_user_check_runs_a_real_verification(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same work as a real login (no timing shortcut to reveal unknown emails), checked by
    counting argon2 verifications rather than by timing: tests never assert a time."""
    calls: list[str] = []
    real_verify = passwords.verify_password

    def counting(password_hash: str, password: str) -> bool:
        calls.append(password_hash)
        return real_verify(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    assert passwords.spend_password_check("guess") is False
    assert passwords.spend_password_check("pw") is False
    assert len(calls) == 2 and calls[0].startswith("$argon2id$")
    assert not needs_rehash(calls[0])  # the decoy uses the current, full-cost parameters
