"""Argon2id password hashing, with a decoy check that keeps login timing equal for unknown users."""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

# argon2-cffi's defaults are the RFC 9106 low-memory argon2id profile; needs_rehash() upgrades
# stored hashes when those defaults move.
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash string (parameters and salt included)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches; a corrupt stored hash raises InvalidHashError."""
    try:
        return _hasher.verify(password_hash, password)
    except VerificationError:
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with parameters other than the current ones."""
    return _hasher.check_needs_rehash(password_hash)


@cache
def _decoy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(32))


def spend_password_check(password: str) -> bool:
    """Spend one real verification when the user does not exist; always False."""
    verify_password(_decoy_hash(), password)
    return False
