"""SQLAlchemy column type storing strings AES-256-GCM encrypted and bound to their purpose."""

from __future__ import annotations

import base64
import binascii

from sqlalchemy.engine import Dialect
from sqlalchemy.types import Text, TypeDecorator

from security.keys import DecryptionFailed, KeyRing

_VERSION = "v1"

# TypeDecorators are built at import time by the model classes and SQLAlchemy gives them no
# injection point, so the ring is installed once per process at startup (API, worker, tests).
_installed: KeyRing | None = None


class ColumnKeyRingMissing(RuntimeError):
    """An encrypted column was read or written before install_column_keyring() was called."""


def install_column_keyring(keyring: KeyRing | None) -> None:
    """Set the ring every EncryptedString column uses in this process (None removes it)."""
    global _installed
    _installed = keyring


def installed_column_keyring() -> KeyRing | None:
    """The ring currently installed (tests restore it after swapping their own in)."""
    return _installed


def _keyring() -> KeyRing:
    if _installed is None:
        raise ColumnKeyRingMissing(
            "no key ring installed for encrypted columns; "
            "call security.columns.install_column_keyring() at process startup"
        )
    return _installed


class EncryptedString(TypeDecorator[str]):
    """Text stored as ``v1:<kid>:<base64 nonce||ct>``; not searchable, since nonces are random."""

    impl = Text
    cache_ok = True

    def __init__(self, purpose: str) -> None:
        if not purpose or ":" in purpose:
            raise ValueError(f"column purpose {purpose!r} must be non-empty and contain no ':'")
        super().__init__()
        self.purpose = purpose
        # The purpose is the associated data, so a value copied into another column fails.
        self._aad = f"tradeflow:column:{purpose}".encode()

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        key_id, blob = _keyring().encrypt(value.encode("utf-8"), aad=self._aad)
        return f"{_VERSION}:{key_id}:{base64.b64encode(blob).decode('ascii')}"

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        version, _, rest = value.partition(":")
        key_id, sep, encoded = rest.partition(":")
        if version != _VERSION or not sep:
            raise DecryptionFailed(f"{self.purpose} column value is not in the {_VERSION} format")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise DecryptionFailed(f"{self.purpose} column value is not valid base64") from None
        return _keyring().decrypt(key_id, blob, aad=self._aad).decode("utf-8")

    def __repr__(self) -> str:
        return f"EncryptedString({self.purpose!r})"
