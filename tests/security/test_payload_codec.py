"""Encrypted Temporal payloads through the full data converter, and the codec-server JSON."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import BaseModel
from temporalio.api.common.v1 import Payload

from security.keys import DecryptionFailed, KeyRing, UnknownKeyId
from security.payload_codec import (
    ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    data_converter,
    decode_payloads_json,
    encode_payloads_json,
)

KEY_A = "a:" + base64.b64encode(b"A" * 32).decode()
KEY_B = "b:" + base64.b64encode(b"B" * 32).decode()


class Quote(BaseModel):
    supplier: str
    unit_price: Decimal
    valid_until: datetime


QUOTE = Quote(
    supplier="Acme Chemicals GmbH",
    unit_price=Decimal("1234.5678"),
    valid_until=datetime(2025, 3, 31, 17, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2))),
)


async def test_round_trip_through_full_converter() -> None:
    converter = data_converter(KeyRing.parse(KEY_A, active="a"))
    payloads = await converter.encode([QUOTE, "rfq-42"])
    assert [p.metadata["encoding"] for p in payloads] == [ENCODING, ENCODING]
    assert [p.metadata[KEY_ID_METADATA] for p in payloads] == [b"a", b"a"]
    for payload in payloads:
        assert b"Acme" not in payload.data
        assert b"1234.5678" not in payload.data
        assert b"rfq-42" not in payload.data
    decoded = await converter.decode(payloads, [Quote, str])
    assert decoded == [QUOTE, "rfq-42"]
    assert decoded[0].unit_price == Decimal("1234.5678")
    assert decoded[0].valid_until == datetime(2025, 3, 31, 15, 30, 15, 123456, tzinfo=UTC)


async def test_inner_payload_is_the_pydantic_json() -> None:
    ring = KeyRing.parse(KEY_A, active="a")
    [outer] = await data_converter(ring).encode([QUOTE])
    [inner] = await EncryptionCodec(ring).decode([outer])
    assert inner.metadata["encoding"] == b"json/plain"
    assert b'"unit_price":"1234.5678"' in inner.data


async def test_rotation_decodes_old_key() -> None:
    [payload] = await data_converter(KeyRing.parse(KEY_A, active="a")).encode([QUOTE])
    rotated = data_converter(KeyRing.parse(f"{KEY_A},{KEY_B}", active="b"))
    assert await rotated.decode([payload], [Quote]) == [QUOTE]
    [fresh] = await rotated.encode([QUOTE])
    assert fresh.metadata[KEY_ID_METADATA] == b"b"


async def test_unknown_key_and_tampering_fail() -> None:
    [payload] = await data_converter(KeyRing.parse(KEY_A, active="a")).encode([QUOTE])
    only_b = data_converter(KeyRing.parse(KEY_B, active="b"))
    with pytest.raises(UnknownKeyId):
        await only_b.decode([payload], [Quote])
    tampered = Payload()
    tampered.CopyFrom(payload)
    tampered.data = payload.data[:-1] + bytes([payload.data[-1] ^ 0x80])
    with pytest.raises(DecryptionFailed):
        await data_converter(KeyRing.parse(KEY_A, active="a")).decode([tampered], [Quote])


async def test_plain_payloads_pass_through_decode() -> None:
    codec = EncryptionCodec(KeyRing.parse(KEY_A, active="a"))
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"hello"')
    assert await codec.decode([plain]) == [plain]


async def test_encrypted_payload_without_key_id_fails() -> None:
    codec = EncryptionCodec(KeyRing.parse(KEY_A, active="a"))
    broken = Payload(metadata={"encoding": ENCODING}, data=b"x" * 40)
    with pytest.raises(DecryptionFailed, match="encryption-key-id"):
        await codec.decode([broken])


async def test_codec_server_json_round_trip() -> None:
    codec = EncryptionCodec(KeyRing.parse(KEY_A, active="a"))
    body = {
        "payloads": [
            {
                "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
                "data": base64.b64encode(b'{"supplier":"Acme"}').decode(),
            }
        ]
    }
    encoded = await encode_payloads_json(codec, body)
    [item] = encoded["payloads"]
    assert base64.b64decode(item["metadata"]["encoding"]) == b"binary/encrypted"
    assert base64.b64decode(item["metadata"]["encryption-key-id"]) == b"a"
    assert b"Acme" not in base64.b64decode(item["data"])
    assert await decode_payloads_json(codec, encoded) == body


async def test_codec_server_json_empty_and_invalid() -> None:
    codec = EncryptionCodec(KeyRing.parse(KEY_A, active="a"))
    assert await encode_payloads_json(codec, {"payloads": []}) == {"payloads": []}
    with pytest.raises(ValueError, match="not a Temporal payloads document"):
        await decode_payloads_json(codec, {"payload": []})
    with pytest.raises(ValueError, match="not a Temporal payloads document"):
        await decode_payloads_json(codec, {"payloads": [{"data": "%%% not base64"}]})
