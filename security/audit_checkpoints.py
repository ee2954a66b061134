"""Signed checkpoints of the audit chain: its size, head hash and time, signed with Ed25519.

A checkpoint is what transparency logs call a signed tree head. Published outside the database
(the object store, and each e-waybill filing hands the latest to the regulator), it lets a
verifier notice what a hash chain alone cannot: the newest entries deleted together with
everything in the database that pointed at them. The signing key is ``TRADEFLOW_AUDIT_SIGNING_KEY``
(base64 of a 32-byte Ed25519 seed); outside production, when unset, the seed is derived from the
data folder's generated secret ``secrets/audit-signing-key``, the way the other dev keys are made.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from security.keys import load_or_create_local_secret

if TYPE_CHECKING:
    from settings import Settings

LOG_ID = "tradeflow-audit-v1"
SEED_BYTES = 32


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The head of the chain after ``tree_size`` entries (``seq`` 1..tree_size)."""

    tree_size: int
    head_hash: str
    at: datetime

    def signed_bytes(self) -> bytes:
        """What the signature covers: sorted-key JSON naming the log, so a signature from
        another log or format cannot be replayed here."""
        document = {
            "log": LOG_ID,
            "tree_size": self.tree_size,
            "head_hash": self.head_hash,
            "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"),
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("ascii")


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    key_id: str
    signature: str  # base64

    def to_json(self) -> bytes:
        """The published form: the checkpoint's fields, the key id and the signature."""
        return json.dumps(self.document(), sort_keys=True, indent=1).encode("ascii")

    def document(self) -> dict[str, Any]:
        return {
            "log": LOG_ID,
            "tree_size": self.checkpoint.tree_size,
            "head_hash": self.checkpoint.head_hash,
            "at": self.checkpoint.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "key_id": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, data: bytes) -> SignedCheckpoint:
        """Parse a published checkpoint; ValueError when it is not one (the signature is
        checked by :meth:`CheckpointVerifier.valid`, not here)."""
        try:
            document = json.loads(data)
            if document["log"] != LOG_ID:
                raise ValueError(f"checkpoint of another log: {document['log']!r}")
            at = datetime.fromisoformat(document["at"])
            size, head = document["tree_size"], document["head_hash"]
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise ValueError("tree_size is not a count")
            if not isinstance(head, str) or len(head) != 64:
                raise ValueError("head_hash is not a sha256 hex digest")
            return cls(Checkpoint(size, head, at), str(document["key_id"]), document["signature"])
        except (KeyError, TypeError, json.JSONDecodeError) as error:
            raise ValueError(f"not a signed checkpoint: {error}") from None


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


class CheckpointVerifier:
    """Checks signatures with the public key alone: what an auditor or the regulator holds."""

    def __init__(self, public_key: Ed25519PublicKey) -> None:
        self._public = public_key
        self.key_id = key_id_of(public_key)

    @property
    def public_key_b64(self) -> str:
        raw = self._public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode("ascii")

    def valid(self, signed: SignedCheckpoint) -> bool:
        if signed.key_id != self.key_id:
            return False
        try:
            signature = base64.b64decode(signed.signature, validate=True)
            self._public.verify(signature, signed.checkpoint.signed_bytes())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True


class CheckpointSigner(CheckpointVerifier):
    """Signs checkpoints (the sealer); verifies them like any verifier."""

    def __init__(self, seed: bytes) -> None:
        if len(seed) != SEED_BYTES:
            raise ValueError(f"an Ed25519 seed is {SEED_BYTES} bytes, not {len(seed)}")
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        super().__init__(self._private.public_key())

    def sign(self, checkpoint: Checkpoint) -> SignedCheckpoint:
        signature = self._private.sign(checkpoint.signed_bytes())
        return SignedCheckpoint(
            checkpoint, self.key_id, base64.b64encode(signature).decode("ascii")
        )

    def verifier(self) -> CheckpointVerifier:
        return CheckpointVerifier(self._public)


def checkpoint_signer_from_settings(settings: Settings) -> CheckpointSigner:
    """The configured key, or outside production one derived from the data folder's secret."""
    configured = settings.audit_signing_key.strip()
    if configured:
        try:
            seed = base64.b64decode(configured, validate=True)
        except binascii.Error as error:
            raise ValueError(f"TRADEFLOW_AUDIT_SIGNING_KEY is not base64: {error}") from None
        return CheckpointSigner(seed)
    if settings.environment == "production":
        raise ValueError("TRADEFLOW_AUDIT_SIGNING_KEY must be set in production")
    secret = load_or_create_local_secret(settings.data_dir, "audit-signing-key")
    return CheckpointSigner(hashlib.sha256(secret.encode("ascii")).digest())
