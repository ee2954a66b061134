"""Ed25519 contract signatures: the canonical statement, signing and every way to fail verify."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.sourcing import Signature
from security.signatures import (
    PURPOSE,
    SigningKeyPair,
    generate_key_pair,
    sign,
    signature_statement,
    verify,
)

PDF_SHA256 = hashlib.sha256(b"%PDF-1.7 contract CT-2026-000981").hexdigest()
SIGNED_AT = datetime(2026, 3, 1, 16, 5, 9, 123456, tzinfo=timezone(timedelta(hours=8)))
KEY_ID = "org_supplier_7.k1"


def _statement(
    *,
    signed_at: datetime = SIGNED_AT,
    document_sha256: str = PDF_SHA256,
    signer_user_id: str = "usr_王芳",
) -> str:
    return signature_statement(
        contract_id="CT-2026-000981",
        document_sha256=document_sha256,
        signer_user_id=signer_user_id,
        signer_org_id="org_supplier_7",
        signer_credit_code="91320500MA1XYZ1234",
        signed_at=signed_at,
        key_id=KEY_ID,
    )


def _sign(private_key_b64: str) -> Signature:
    return sign(
        private_key_b64,
        contract_id="CT-2026-000981",
        document_sha256=PDF_SHA256,
        signer_user_id="usr_王芳",
        signer_org_id="org_supplier_7",
        signer_credit_code="91320500MA1XYZ1234",
        signed_at=SIGNED_AT,
        key_id=KEY_ID,
    )


def _canonical(document: dict[str, object]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.fixture(scope="module")
def pair() -> SigningKeyPair:
    return generate_key_pair(KEY_ID)


@pytest.fixture(scope="module")
def signature(pair: SigningKeyPair) -> Signature:
    return _sign(pair.private_key_b64)


def test_round_trip_is_valid(pair: SigningKeyPair, signature: Signature) -> None:
    check = verify(signature, pair.public_key_b64, document_sha256=PDF_SHA256)
    assert check.valid, check.reasons
    assert check.reasons == ()
    assert signature.algorithm == "Ed25519"
    assert len(base64.b64decode(signature.value)) == 64
    assert signature.statement == _statement()


def test_the_key_pair_is_raw_32_byte_keys_and_keeps_the_private_half_out_of_repr(
    pair: SigningKeyPair,
) -> None:
    assert len(base64.b64decode(pair.private_key_b64)) == 32
    assert len(base64.b64decode(pair.public_key_b64)) == 32
    assert pair.private_key_b64 not in repr(pair)
    assert generate_key_pair("k2").public_key_b64 != pair.public_key_b64


def test_a_bad_key_id_is_refused() -> None:
    with pytest.raises(ValueError, match="key id"):
        generate_key_pair("org:k1")


def test_statement_is_canonical_json_with_a_fixed_purpose() -> None:
    statement = _statement()
    assert statement == (
        '{"algorithm":"Ed25519","contract_id":"CT-2026-000981",'
        f'"document_sha256":"{PDF_SHA256}","key_id":"org_supplier_7.k1",'
        '"purpose":"tradeflow.e-contract.signature.v1",'
        '"signed_at":"2026-03-01T08:05:09.123456Z",'
        '"signer_credit_code":"91320500MA1XYZ1234","signer_org_id":"org_supplier_7",'
        '"signer_user_id":"usr_王芳"}'
    )
    assert json.loads(statement)["purpose"] == PURPOSE


def test_statement_does_not_depend_on_argument_order_or_the_signers_time_zone() -> None:
    reordered = signature_statement(
        key_id=KEY_ID,
        signed_at=SIGNED_AT.astimezone(UTC),
        signer_credit_code="91320500MA1XYZ1234",
        signer_org_id="org_supplier_7",
        signer_user_id="usr_王芳",
        document_sha256=PDF_SHA256,
        contract_id="CT-2026-000981",
    )
    assert reordered.encode() == _statement().encode()
    assert _statement(signer_user_id="usr_李强") != _statement()


def test_statement_refuses_a_naive_time_and_a_malformed_hash() -> None:
    with pytest.raises(ValueError, match="timezone"):
        _statement(signed_at=datetime(2026, 3, 1))
    with pytest.raises(ValueError, match="hex"):
        _statement(document_sha256=PDF_SHA256.upper())


def test_a_signature_read_back_in_another_zone_still_verifies(
    pair: SigningKeyPair, signature: Signature
) -> None:
    reloaded = signature.model_copy(update={"signed_at": SIGNED_AT.astimezone(UTC)})
    assert verify(reloaded, pair.public_key_b64).valid


def test_a_changed_signing_time_is_invalid(pair: SigningKeyPair, signature: Signature) -> None:
    later = SIGNED_AT + timedelta(days=1)
    # The Signature's field edited, the signed statement left alone.
    edited = signature.model_copy(update={"signed_at": later})
    check = verify(edited, pair.public_key_b64)
    assert not check.valid
    assert check.reasons == ("signed_at in the statement differs from the signature's signed_at",)
    # Both edited consistently: the statement no longer matches the Ed25519 value.
    restated = edited.model_copy(update={"statement": _statement(signed_at=later)})
    check = verify(restated, pair.public_key_b64)
    assert not check.valid
    assert any("does not verify" in reason for reason in check.reasons)


def test_a_changed_document_is_invalid_with_the_reason(
    pair: SigningKeyPair, signature: Signature
) -> None:
    other = hashlib.sha256(b"%PDF-1.7 contract CT-2026-000981, price edited").hexdigest()
    check = verify(signature, pair.public_key_b64, document_sha256=other)
    assert not check.valid
    assert check.reasons == (
        "document hash differs from the signed hash: the document was changed after signing",
    )


def test_a_different_public_key_is_invalid(signature: Signature) -> None:
    check = verify(signature, generate_key_pair("imposter").public_key_b64)
    assert not check.valid
    assert len(check.reasons) == 1 and "does not verify" in check.reasons[0]


def test_a_statement_with_another_purpose_is_invalid(pair: SigningKeyPair) -> None:
    # Signed with the right key, but the statement is not an e-contract signature.
    signature = _sign(pair.private_key_b64)
    statement = _canonical(json.loads(signature.statement) | {"purpose": "tradeflow.login.v1"})
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(pair.private_key_b64))
    value = base64.b64encode(key.sign(statement.encode())).decode()
    forged = signature.model_copy(update={"statement": statement, "value": value})
    check = verify(forged, pair.public_key_b64)
    assert not check.valid
    assert check.reasons == (
        "statement purpose is 'tradeflow.login.v1', not 'tradeflow.e-contract.signature.v1'",
    )


@pytest.mark.parametrize(
    ("update", "public_key", "expected"),
    [
        ({"value": "not base64 at all!"}, None, "signature value is not valid base64"),
        ({"value": base64.b64encode(b"short").decode()}, None, "signature value is 5 bytes"),
        ({"value": "签名"}, None, "signature value is not valid base64"),
        ({}, base64.b64encode(b"x" * 31).decode(), "public key is 31 bytes"),
        ({}, "%%%", "public key is not valid base64"),
        ({"statement": "{not json"}, None, "statement is not valid JSON"),
        ({"statement": "[1, 2]"}, None, "statement is not a JSON object"),
        ({"statement": "[" * 100_000}, None, "statement is not valid JSON"),
        ({"statement": '{"a":"\ud800"}'}, None, "statement is not encodable as UTF-8"),
        ({"algorithm": "RSA"}, None, "algorithm is 'RSA', not Ed25519"),
        ({"signed_at": datetime(2026, 3, 1)}, None, "signed_at must be timezone-aware"),
    ],
)
def test_garbage_is_invalid_without_raising(
    pair: SigningKeyPair,
    signature: Signature,
    update: dict[str, object],
    public_key: str | None,
    expected: str,
) -> None:
    check = verify(signature.model_copy(update=update), public_key or pair.public_key_b64)
    assert not check.valid
    assert any(reason.startswith(expected) for reason in check.reasons), check.reasons


def test_a_statement_missing_or_adding_fields_is_invalid(
    pair: SigningKeyPair, signature: Signature
) -> None:
    document = json.loads(signature.statement)
    del document["key_id"]
    document["amount"] = "1.00"
    statement = _canonical(document)
    check = verify(signature.model_copy(update={"statement": statement}), pair.public_key_b64)
    assert not check.valid
    assert "statement lacks key_id" in check.reasons
    assert "statement has unexpected fields ['amount']" in check.reasons


def test_sign_refuses_a_malformed_private_key() -> None:
    with pytest.raises(ValueError, match="private key is 16 bytes"):
        _sign(base64.b64encode(b"k" * 16).decode())


def test_a_reformatted_statement_is_invalid(pair: SigningKeyPair, signature: Signature) -> None:
    # Same fields, different bytes: what was signed is exactly the canonical text, nothing else.
    spaced = json.dumps(json.loads(signature.statement), sort_keys=True, ensure_ascii=False)
    check = verify(signature.model_copy(update={"statement": spaced}), pair.public_key_b64)
    assert not check.valid
    assert "statement is not in canonical form" in check.reasons
