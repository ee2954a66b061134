"""Argon2id hashing of passwords and of one-time codes, each with a decoy check that keeps the
time a wrong guess takes equal to a right one's."""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

# argon2-cffi's defaults are the RFC 9106 low-memory argon2id profile; needs_rehash() upgrades
# stored hashes when those defaults move.
_hasher = PasswordHasher()
# Recovery codes are random: 40 bits stay behind the hash even once their selector is known
# (``db.second_factor``), so OWASP's minimum argon2id profile (19 MiB, two passes, one lane)
# makes a stolen table costly (0.05 s a check here: up to about 1,600 CPU core-years a code, half
# that on average, less on GPUs) at a fifth of a password's cost, and ten are made at once when a
# user enrols (2.5 s to 0.5 s).
_code_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


def hash_password(password: str) -> str:
    """An argon2id hash string (parameters and salt included)."""
    return _hasher.hash(password)


def hash_code(code: str) -> str:
    """A one-time code's argon2id hash, in the codes' profile; ``verify_password`` checks it (a
    hash names its own parameters)."""
    return _code_hasher.hash(code)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password (or code) matches; a corrupt stored hash raises InvalidHashError."""
    try:
        return _hasher.verify(password_hash, password)
    except VerificationError:
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with parameters other than the current ones."""
    return _hasher.check_needs_rehash(password_hash)


@cache
def _decoy_hash(hasher: PasswordHasher) -> str:
    """A hash of nothing anyone knows, made once a profile: checking it costs a real check."""
    return hasher.hash(secrets.token_urlsafe(32))


def spend_password_check(password: str) -> bool:
    """Spend one real verification when the user does not exist; always False."""
    verify_password(_decoy_hash(_hasher), password)
    return False


def spend_code_check(code: str) -> bool:
    """Spend one verification in the codes' profile when no stored code is a candidate; always
    False."""
    verify_password(_decoy_hash(_code_hasher), code)
    return False
