"""Argon2id hashing, verification, rehash detection and the dummy check."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError

from security.passwords import hash_password, needs_rehash, verify_dummy_password, verify_password


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


def test_dummy_costs_about_one_verification() -> None:
    stored = hash_password("pw")
    assert verify_dummy_password("pw") is False
    real = _best_of(lambda: verify_password(stored, "guess"))
    dummy = _best_of(lambda: verify_dummy_password("guess"))
    # Same argon2 parameters, so close to equal (loose bound for a busy machine); a shortcut
    # that skipped the hash would be about a thousand times faster.
    assert real / 4 < dummy < real * 4


def _best_of(call: Callable[[], object]) -> float:
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        call()
        timings.append(time.perf_counter() - start)
    return min(timings)
