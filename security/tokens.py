"""HS256 bearer tokens carrying the user, organisation and roles."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from pydantic import ValidationError

from contracts.common import Frozen, Role

ISSUER = "tradeflow"
AUDIENCE = "tradeflow-api"
_ALGORITHM = "HS256"
# RFC 7518 section 3.2: an HS256 key must be at least as long as the hash output.
_MIN_SECRET_BYTES = 32
# Tolerated clock difference between the issuing and the checking process for "iat".
_IAT_LEEWAY = timedelta(seconds=30)
# Verified tokens remembered: a token a signed-in user, thousands of users a process.
VERIFIED_CACHE_SIZE = 8192


class InvalidToken(Exception):
    """The token cannot be trusted; ``reason`` is a short code safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenClaims(Frozen):
    """The verified claims: user, organisation, roles, lifetime and token id."""

    sub: str
    org: str
    roles: tuple[Role, ...]
    exp: datetime
    iat: datetime
    jti: str


def issue_token(
    *,
    secret: str,
    user_id: str,
    org_id: str,
    roles: tuple[Role, ...],
    ttl: timedelta,
    now: datetime,
) -> str:
    """A signed token valid from ``now`` for ``ttl``."""
    _check_secret(secret)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if ttl <= timedelta(0):
        raise ValueError("ttl must be positive")
    issued = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": user_id,
        "org": org_id,
        "roles": [Role(role).value for role in roles],
        "iat": issued,
        "exp": issued + int(ttl.total_seconds()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def decode_token(token: str, *, secret: str, now: datetime | None = None) -> TokenClaims:
    """Verify signature, issuer, audience and lifetime; raises InvalidToken with a reason."""
    _check_secret(secret)
    moment = now if now is not None else datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    claims = _verified(token, secret)
    # Lifetime is checked here, at every use, against ``now``: callers and tests control the
    # clock, and a token verified while valid is refused once it expires.
    if claims.exp <= moment:
        raise InvalidToken("expired")
    if claims.iat > moment + _IAT_LEEWAY:
        raise InvalidToken("issued in the future")
    return claims


@lru_cache(maxsize=VERIFIED_CACHE_SIZE)
def _verified(token: str, secret: str) -> TokenClaims:
    """The claims of a token whose signature, issuer, audience and claims check out, whatever
    the time. Cached by token and secret: the outcome cannot change for the same pair, and
    verifying (~0.1 ms, most of it PyJWT's checks in Python) was a fixed cost of every request,
    paid again by each layer asking who calls. Only a verified token is kept (a raise is not
    cached), so forged tokens cannot fill the cache; the claims are immutable."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={
                "require": ["exp", "iat", "sub", "iss", "aud"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise InvalidToken("bad signature") from None
    except jwt.InvalidAudienceError:
        raise InvalidToken("wrong audience") from None
    except jwt.InvalidIssuerError:
        raise InvalidToken("wrong issuer") from None
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidToken(f"missing claim {exc.claim}") from None
    except jwt.InvalidTokenError:
        raise InvalidToken("malformed") from None
    return _claims(payload)


def _claims(payload: dict[str, Any]) -> TokenClaims:
    for name in ("exp", "iat"):
        value = payload.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidToken("malformed")
    roles = payload.get("roles")
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise InvalidToken("malformed")
    known = {role.value for role in Role}
    if any(role not in known for role in roles):
        raise InvalidToken("unknown role")
    try:
        claims = TokenClaims(
            sub=payload["sub"],
            org=payload.get("org"),
            roles=tuple(Role(role) for role in roles),
            exp=datetime.fromtimestamp(payload["exp"], UTC),
            iat=datetime.fromtimestamp(payload["iat"], UTC),
            jti=payload.get("jti"),
        )
    except (ValidationError, OverflowError, OSError, ValueError):
        raise InvalidToken("malformed") from None
    return claims


def _check_secret(secret: str) -> None:
    if len(secret.encode("utf-8")) < _MIN_SECRET_BYTES:
        raise ValueError(f"JWT secret must be at least {_MIN_SECRET_BYTES} bytes")
