"""Ed25519 e-contract signatures: the signed statement, signing, and verification.

A signature is made over a *statement*, never over raw bytes a caller supplies: canonical JSON
(sorted keys, no whitespace, UTF-8, ``ensure_ascii=False``) naming the contract, the SHA-256 of
its PDF, the signing user, organisation and credit code, the time, the key id, the algorithm and
a fixed ``purpose``. The purpose means an organisation's contract key can only ever produce
something that reads as an e-contract signature, whatever else a bug might hand it. ``signed_at``
is written in UTC with microseconds and a ``Z`` suffix (``2026-03-01T08:00:00.000000Z``):
PostgreSQL ``timestamptz`` keeps microseconds, so a Signature reloaded from the database renders
the same statement it was signed with.

How this meets 《电子签名法》 Art. 13 (a reliable electronic signature):
- creation data exclusive to the signer: each organisation has its own Ed25519 key pair; the
  private key belongs to that organisation alone;
- under the signer's control when signing: the platform holds the private key encrypted
  (AES-256-GCM, security.keys) and uses it only when an authenticated member of that
  organisation with the signing role signs, so the statement names that user;
- a later change to the signature is detectable: any edit to the statement or the value fails
  Ed25519 verification, and the statement's fields must equal the Signature's;
- a later change to the document is detectable: the statement carries the PDF's SHA-256, which
  :func:`verify` compares with the hash of the stored file.

What it does not do: no RFC 3161 trusted timestamp (``signed_at`` is the platform's clock), and
no CA-issued certificate binds the key to the organisation; the platform publishes the public
keys by key id instead. Looking the public key up by ``Signature.key_id`` is the caller's job.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from contracts.sourcing import Signature

PURPOSE = "tradeflow.e-contract.signature.v1"
ALGORITHM = "Ed25519"
KEY_BYTES = 32
SIGNATURE_BYTES = 64
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# The Signature fields a statement repeats, besides "purpose"; "signed_at" is compared as text.
_FIELDS = (
    "contract_id",
    "document_sha256",
    "signer_user_id",
    "signer_org_id",
    "signer_credit_code",
    "signed_at",
    "key_id",
    "algorithm",
)


@dataclass(frozen=True, slots=True)
class SigningKeyPair:
    """One organisation's signing key; the private half is kept out of repr and logs."""

    key_id: str
    private_key_b64: str = field(repr=False)  # raw 32-byte Ed25519 private key
    public_key_b64: str  # raw 32-byte Ed25519 public key


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """The verdict on one signature; ``reasons`` says why it is invalid (empty when valid)."""

    valid: bool
    reasons: tuple[str, ...] = ()


def generate_key_pair(key_id: str) -> SigningKeyPair:
    """A fresh Ed25519 key pair under ``key_id`` (1-64 of letters, digits, '_.-')."""
    if not _KEY_ID.fullmatch(key_id):
        raise ValueError(f"key id {key_id!r} must be 1-64 characters of letters, digits, '_.-'")
    private = Ed25519PrivateKey.generate()
    return SigningKeyPair(
        key_id=key_id,
        private_key_b64=_b64(
            private.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
        ),
        public_key_b64=_b64(
            private.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        ),
    )


def signature_statement(
    *,
    contract_id: str,
    document_sha256: str,
    signer_user_id: str,
    signer_org_id: str,
    signer_credit_code: str,
    signed_at: datetime,
    key_id: str,
) -> str:
    """The canonical JSON a signature covers; the same inputs always give the same text."""
    if not _SHA256.fullmatch(document_sha256):
        raise ValueError("document_sha256 must be 64 lowercase hex digits")
    return _canonical(
        {
            "purpose": PURPOSE,
            "contract_id": contract_id,
            "document_sha256": document_sha256,
            "signer_user_id": signer_user_id,
            "signer_org_id": signer_org_id,
            "signer_credit_code": signer_credit_code,
            "signed_at": _utc_text(signed_at),
            "key_id": key_id,
            "algorithm": ALGORITHM,
        }
    )


def sign(
    pair_private_key_b64: str,
    *,
    contract_id: str,
    document_sha256: str,
    signer_user_id: str,
    signer_org_id: str,
    signer_credit_code: str,
    signed_at: datetime,
    key_id: str,
) -> Signature:
    """Sign the statement with the organisation's private key; bad input raises ValueError."""
    private = Ed25519PrivateKey.from_private_bytes(
        _decode(pair_private_key_b64, KEY_BYTES, "private key")
    )
    statement = signature_statement(
        contract_id=contract_id,
        document_sha256=document_sha256,
        signer_user_id=signer_user_id,
        signer_org_id=signer_org_id,
        signer_credit_code=signer_credit_code,
        signed_at=signed_at,
        key_id=key_id,
    )
    return Signature(
        contract_id=contract_id,
        document_sha256=document_sha256,
        signer_user_id=signer_user_id,
        signer_org_id=signer_org_id,
        signer_credit_code=signer_credit_code,
        signed_at=signed_at,
        key_id=key_id,
        algorithm=ALGORITHM,
        value=_b64(private.sign(statement.encode("utf-8"))),
        statement=statement,
    )


def verify(
    signature: Signature, public_key_b64: str, *, document_sha256: str | None = None
) -> SignatureCheck:
    """Check the statement, the Ed25519 value and, when given, the document's current hash.

    Never raises on malformed input: every problem found becomes a reason.
    """
    reasons: list[str] = []
    if signature.algorithm != ALGORITHM:
        reasons.append(f"algorithm is {signature.algorithm!r}, not {ALGORITHM}")
    reasons += _statement_reasons(signature)
    reasons += _crypto_reasons(signature, public_key_b64)
    if document_sha256 is not None and document_sha256 != signature.document_sha256:
        reasons.append(
            "document hash differs from the signed hash: the document was changed after signing"
        )
    return SignatureCheck(valid=not reasons, reasons=tuple(reasons))


def _statement_reasons(signature: Signature) -> list[str]:
    try:
        parsed: Any = json.loads(signature.statement)
    except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        return ["statement is not valid JSON"]
    if not isinstance(parsed, dict):
        return ["statement is not a JSON object"]
    reasons: list[str] = []
    if parsed.get("purpose") != PURPOSE:
        reasons.append(f"statement purpose is {parsed.get('purpose')!r}, not {PURPOSE!r}")
    expected = {"purpose", *_FIELDS}
    if unknown := sorted(set(parsed) - expected):
        reasons.append(f"statement has unexpected fields {unknown}")
    try:
        signed_at = _utc_text(signature.signed_at)
    except ValueError as exc:
        reasons.append(str(exc))
        signed_at = None
    for name in _FIELDS:
        if name not in parsed:
            reasons.append(f"statement lacks {name}")
            continue
        ours = signed_at if name == "signed_at" else getattr(signature, name)
        if ours is not None and parsed[name] != ours:
            reasons.append(f"{name} in the statement differs from the signature's {name}")
    if not reasons and signature.statement != _canonical(parsed):
        reasons.append("statement is not in canonical form")
    return reasons


def _crypto_reasons(signature: Signature, public_key_b64: str) -> list[str]:
    try:
        public = Ed25519PublicKey.from_public_bytes(
            _decode(public_key_b64, KEY_BYTES, "public key")
        )
        value = _decode(signature.value, SIGNATURE_BYTES, "signature value")
    except ValueError as exc:
        return [str(exc)]
    try:
        message = signature.statement.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no signer could have produced it
        return ["statement is not encodable as UTF-8"]
    try:
        public.verify(value, message)
    except InvalidSignature:
        return [
            "Ed25519 signature does not verify with this public key: "
            "the statement was changed or a different key signed it"
        ]
    return []


def _canonical(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("signed_at must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _decode(text: str, size: int, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not valid base64") from None
    if len(raw) != size:
        raise ValueError(f"{what} is {len(raw)} bytes; Ed25519 needs {size}")
    return raw
