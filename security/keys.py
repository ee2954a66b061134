"""AES-256-GCM key ring by key id, and the embedded default's locally generated secrets."""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

if TYPE_CHECKING:
    from settings import Settings

KEY_BYTES = 32
NONCE_BYTES = 12
_TAG_BYTES = 16
# Key ids travel inside "kid:key" specs, column values and payload metadata, so they must not
# contain the separators those formats use.
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_SECRET_NAME = re.compile(r"^[a-z0-9_-]{1,64}$")
_LOCAL_KEY_FILE = "encryption-keys"
_LOCAL_KEY_ID = "local1"


class KeyRingError(Exception):
    """Base class for key ring failures."""


class UnknownKeyId(KeyRingError):
    """The ciphertext names a key id that is not in the ring."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"unknown encryption key id {key_id!r}")
        self.key_id = key_id


class DecryptionFailed(KeyRingError):
    """The ciphertext is malformed, was altered, or was bound to different associated data."""


class KeyRing:
    """Keys by id: the active key encrypts, every key decrypts, so old data survives rotation."""

    def __init__(self, keys: Mapping[str, bytes], *, active: str) -> None:
        for key_id, key in keys.items():
            _check_key_id(key_id)
            if len(key) != KEY_BYTES:
                raise ValueError(f"key {key_id!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES}")
        if active not in keys:
            raise ValueError(f"active key id {active!r} is not among the keys {sorted(keys)}")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._active = active

    @classmethod
    def parse(cls, spec: str, *, active: str) -> KeyRing:
        """Build a ring from ``"kid1:<base64 32 bytes>,kid2:<base64>"``."""
        keys: dict[str, bytes] = {}
        entries = [entry.strip() for entry in spec.split(",") if entry.strip()]
        if not entries:
            raise ValueError("encryption key spec is empty; expected 'kid:<base64 key>,...'")
        for entry in entries:
            key_id, sep, encoded = entry.partition(":")
            key_id = key_id.strip()
            if not sep:
                raise ValueError(f"key entry {key_id!r} has no ':' between key id and key")
            _check_key_id(key_id)
            if key_id in keys:
                raise ValueError(f"duplicate key id {key_id!r} in encryption key spec")
            try:
                key = base64.b64decode(encoded.strip(), validate=True)
            except binascii.Error as exc:
                raise ValueError(f"key {key_id!r} is not valid base64: {exc}") from None
            if len(key) != KEY_BYTES:
                raise ValueError(f"key {key_id!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES}")
            keys[key_id] = key
        return cls(keys, active=active)

    @property
    def active_key_id(self) -> str:
        return self._active

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._ciphers)

    def encrypt(self, plaintext: bytes, *, aad: bytes = b"") -> tuple[str, bytes]:
        """Encrypt with the active key; returns (key id, nonce || ciphertext+tag)."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._active].encrypt(nonce, plaintext, aad)
        return self._active, nonce + sealed

    def decrypt(self, key_id: str, blob: bytes, *, aad: bytes = b"") -> bytes:
        """Decrypt a blob made by :meth:`encrypt` under ``key_id`` with the same ``aad``."""
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownKeyId(key_id)
        if len(blob) < NONCE_BYTES + _TAG_BYTES:
            raise DecryptionFailed(f"ciphertext is {len(blob)} bytes, shorter than nonce and tag")
        try:
            return cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
        except InvalidTag:
            raise DecryptionFailed(
                f"ciphertext under key {key_id!r} failed authentication"
            ) from None

    def __repr__(self) -> str:
        return f"KeyRing(key_ids={sorted(self._ciphers)}, active={self._active!r})"


def _check_key_id(key_id: str) -> None:
    if not _KEY_ID.fullmatch(key_id):
        raise ValueError(f"key id {key_id!r} must be 1-64 characters of letters, digits, '_.-'")


def generate_key_spec(key_id: str) -> str:
    """A fresh ``"kid:<base64 key>"`` entry to append to the key spec."""
    _check_key_id(key_id)
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode('ascii')}"


def keyring_from_settings(settings: Settings) -> KeyRing:
    """The configured ring, or outside production the data folder's generated one."""
    if settings.encryption_keys.strip():
        active = settings.active_key_id.strip()
        if not active:
            raise ValueError("TRADEFLOW_ACTIVE_KEY_ID must name one of TRADEFLOW_ENCRYPTION_KEYS")
        return KeyRing.parse(settings.encryption_keys, active=active)
    if settings.environment == "production":
        raise ValueError("TRADEFLOW_ENCRYPTION_KEYS must be set in production")
    spec, active = load_or_create_local_keyring(settings.data_dir)
    return KeyRing.parse(spec, active=active)


def jwt_secret_from_settings(settings: Settings) -> str:
    """The configured JWT secret, or outside production the data folder's generated one."""
    if settings.jwt_secret.strip():
        return settings.jwt_secret
    if settings.environment == "production":
        raise ValueError("TRADEFLOW_JWT_SECRET must be set in production")
    return load_or_create_local_secret(settings.data_dir, "jwt-secret")


def load_or_create_local_keyring(data_dir: Path) -> tuple[str, str]:
    """Key spec and active id from data_dir/secrets, generating a key on first use."""
    spec = _load_or_create(
        data_dir, _LOCAL_KEY_FILE, lambda: generate_key_spec(_LOCAL_KEY_ID) + "\n"
    )
    entries = [line.strip() for line in spec.splitlines() if line.strip()]
    if not entries:
        raise ValueError(f"{data_dir / 'secrets' / _LOCAL_KEY_FILE} holds no keys")
    # One entry a line; the last line is the newest key, so appending a line rotates.
    active = entries[-1].partition(":")[0].strip()
    return ",".join(entries), active


def load_or_create_local_secret(data_dir: Path, name: str) -> str:
    """A random secret stored as data_dir/secrets/<name>, generated on first use."""
    if not _SECRET_NAME.fullmatch(name):
        raise ValueError(f"secret name {name!r} must be 1-64 characters of a-z, 0-9, '_-'")
    secret = _load_or_create(data_dir, name, lambda: secrets.token_urlsafe(48) + "\n").strip()
    if not secret:
        raise ValueError(f"{data_dir / 'secrets' / name} is empty")
    return secret


def _load_or_create(data_dir: Path, name: str, make: Callable[[], str]) -> str:
    directory = data_dir / "secrets"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = directory / name
    if not target.exists():
        # Write a private temp file and hard-link it into place: the link either wins whole or
        # fails because another process got there first, so nobody reads a half-written key.
        temp = directory / f".{name}.{secrets.token_hex(8)}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(make())
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(temp, target)
        finally:
            temp.unlink(missing_ok=True)
    return target.read_text(encoding="ascii")
