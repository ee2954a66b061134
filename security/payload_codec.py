"""Temporal payload encryption (AES-256-GCM by key id) and the codec-server JSON translation."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import temporalio.converter
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.contrib.pydantic import pydantic_data_converter

from security.keys import DecryptionFailed, KeyRing

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
# Binds payload ciphertexts to this use, so an encrypted column value cannot be replayed as one.
_AAD = b"tradeflow:temporal-payload"


class EncryptionCodec(temporalio.converter.PayloadCodec):
    """Wraps each serialized payload in AES-256-GCM under the ring's active key."""

    def __init__(self, keyring: KeyRing) -> None:
        self._keyring = keyring

    # Encryption below is synchronous on purpose: AES-GCM over payloads of a few kilobytes takes
    # microseconds, far less than handing each one to a thread would cost.
    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decrypt(payload) for payload in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        key_id, blob = self._keyring.encrypt(payload.SerializeToString(), aad=_AAD)
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id.encode("ascii")},
            data=blob,
        )

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        raw_key_id = payload.metadata.get(KEY_ID_METADATA)
        if raw_key_id is None:
            raise DecryptionFailed(f"encrypted payload has no {KEY_ID_METADATA!r} metadata")
        key_id = raw_key_id.decode("ascii", errors="replace")
        original = Payload()
        original.ParseFromString(self._keyring.decrypt(key_id, payload.data, aad=_AAD))
        return original


def data_converter(keyring: KeyRing) -> temporalio.converter.DataConverter:
    """The project's one converter: pydantic (carries Decimal) plus payload encryption."""
    return dataclasses.replace(pydantic_data_converter, payload_codec=EncryptionCodec(keyring))


async def encode_payloads_json(
    codec: temporalio.converter.PayloadCodec, body: dict[str, Any]
) -> dict[str, Any]:
    """Codec-server ``/encode``: Temporal's JSON ``{"payloads": [...]}`` in and out."""
    return _to_json(await codec.encode(_from_json(body)))


async def decode_payloads_json(
    codec: temporalio.converter.PayloadCodec, body: dict[str, Any]
) -> dict[str, Any]:
    """Codec-server ``/decode``: Temporal's JSON ``{"payloads": [...]}`` in and out."""
    return _to_json(await codec.decode(_from_json(body)))


def _from_json(body: dict[str, Any]) -> list[Payload]:
    try:
        message = json_format.ParseDict(body, Payloads())
    except json_format.ParseError as exc:
        raise ValueError(f"not a Temporal payloads document: {exc}") from None
    return list(message.payloads)


def _to_json(payloads: Sequence[Payload]) -> dict[str, Any]:
    document: dict[str, Any] = json_format.MessageToDict(Payloads(payloads=payloads))
    # MessageToDict drops empty repeated fields; the codec-server format always has the list.
    document.setdefault("payloads", [])
    return document
