"""Codec server for the Temporal Web UI: it decrypts payloads so ops staff can read them."""

from __future__ import annotations

import ipaddress
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from api.deps import PlatformDep, is_operator
from contracts.common import Actor, Line
from security.keys import KeyRingError
from security.oidc import JwksUnavailable, oidc_verifier
from security.payload_codec import EncryptionCodec, decode_payloads_json, encode_payloads_json
from security.tokens import InvalidToken, decode_token
from settings import Settings

log = logging.getLogger("tradeflow.api.codec")
router = APIRouter(prefix="/codec", tags=["temporal codec"])
_bearer = HTTPBearer(auto_error=False)


def _authorised(
    request: Request,
    platform: PlatformDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Ops staff with a platform token or, in production, the Web UI's own sign-in token (its
    identity provider's, in the ops group); in the embedded default only, the local Web UI on
    loopback."""
    settings = platform.settings
    if credentials is not None:
        token = credentials.credentials
        if _platform_operator(token, platform.jwt_secret) or _ui_operator(token, settings):
            return
    client = request.client.host if request.client else ""
    if (
        settings.codec_allow_loopback_ui
        and request.headers.get("origin") in settings.temporal_ui_origins
        and _is_loopback(client)
    ):
        return
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="codec access needs an ops token")


def _platform_operator(token: str, secret: str) -> bool:
    try:
        claims = decode_token(token, secret=secret)
    except InvalidToken:
        return False
    return is_operator(Actor(user_id=claims.sub, org_id=claims.org, roles=claims.roles))


def _ui_operator(token: str, settings: Settings) -> bool:
    verifier = oidc_verifier(settings)
    if verifier is None:
        return False
    try:
        subject = verifier.ops_subject(token)
    except InvalidToken as refused:
        log.info("codec refused a Web UI sign-in", extra={"reason": refused.reason})
        return False
    except JwksUnavailable as error:
        log.warning("identity provider keys unavailable", extra={"error": str(error)})
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="the sign-in token cannot be checked now: the identity provider's keys "
            "are unavailable",
        ) from None
    log.info("codec opened by a Web UI sign-in", extra={"subject": subject})
    return True


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


Authorised = Annotated[None, Depends(_authorised)]


# Temporal's JSON form of a payload: metadata and data as base64. Temporal caps a payload at
# 2 MB, so its base64 stays under 3 MB.
Base64 = Annotated[Line, Field(max_length=3_000_000, pattern=r"^[A-Za-z0-9+/=_-]*$")]


class PayloadJson(BaseModel):
    metadata: dict[Annotated[Line, Field(max_length=256)], Base64] = Field(
        default_factory=dict, max_length=64
    )
    data: Base64 = ""


class Payloads(BaseModel):
    """The codec-server request and answer: ``{"payloads": [...]}``."""

    payloads: list[PayloadJson] = Field(max_length=1000)


@router.post("/encode")
async def encode(_: Authorised, platform: PlatformDep, body: Payloads) -> Payloads:
    """Encrypt payloads (Temporal codec-server JSON)."""
    return await _apply(encode_payloads_json, platform, body)


@router.post("/decode")
async def decode(_: Authorised, platform: PlatformDep, body: Payloads) -> Payloads:
    """Decrypt payloads (Temporal codec-server JSON)."""
    return await _apply(decode_payloads_json, platform, body)


async def _apply(operation: Any, platform: PlatformDep, body: Payloads) -> Payloads:
    try:
        result = Payloads.model_validate(
            await operation(EncryptionCodec(platform.keyring), body.model_dump(exclude_unset=True))
        )
    except (ValueError, KeyRingError) as bad:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(bad)) from None
    return result
