"""JWT issue and verification: claims, lifetime, signature, issuer, audience, roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from contracts.common import Role
from security.tokens import AUDIENCE, ISSUER, InvalidToken, TokenClaims, decode_token, issue_token

SECRET = "s" * 48
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)


def _issue(**overrides: object) -> str:
    args: dict[str, object] = {
        "secret": SECRET,
        "user_id": "user-1",
        "org_id": "org-9",
        "roles": (Role.BUYER, Role.FINANCE),
        "ttl": timedelta(minutes=60),
        "now": NOW,
    }
    args.update(overrides)
    return issue_token(**args)  # type: ignore[arg-type]


def _forge(claims: dict[str, object], secret: str = SECRET) -> str:
    base: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "org": "org-9",
        "roles": ["buyer"],
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 3600,
        "jti": "j1",
    }
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, secret, algorithm="HS256")


def _reason(token: str, *, secret: str = SECRET, now: datetime = NOW) -> str:
    with pytest.raises(InvalidToken) as info:
        decode_token(token, secret=secret, now=now)
    return info.value.reason


def test_round_trip() -> None:
    claims = decode_token(_issue(), secret=SECRET, now=NOW + timedelta(minutes=59))
    assert isinstance(claims, TokenClaims)
    assert (claims.sub, claims.org) == ("user-1", "org-9")
    assert claims.roles == (Role.BUYER, Role.FINANCE)
    assert claims.iat == NOW
    assert claims.exp == datetime(2025, 6, 1, 13, 0, 0, tzinfo=UTC)
    assert len(claims.jti) == 32
    assert decode_token(_issue(), secret=SECRET, now=NOW).jti != claims.jti


def test_wire_claims() -> None:
    raw = jwt.decode(_issue(), options={"verify_signature": False})
    assert raw["iss"] == "tradeflow"
    assert raw["aud"] == "tradeflow-api"
    assert raw["roles"] == ["buyer", "finance"]
    assert raw["exp"] - raw["iat"] == 3600
    assert jwt.get_unverified_header(_issue())["alg"] == "HS256"


def test_expiry_boundary() -> None:
    token = _issue()
    decode_token(token, secret=SECRET, now=NOW + timedelta(minutes=59, seconds=59))
    assert _reason(token, now=NOW + timedelta(minutes=60)) == "expired"


def test_issued_in_the_future() -> None:
    assert _reason(_issue(), now=NOW - timedelta(minutes=5)) == "issued in the future"
    decode_token(_issue(), secret=SECRET, now=NOW - timedelta(seconds=10))


def test_bad_signature() -> None:
    assert _reason(_issue(), secret="t" * 48) == "bad signature"


def test_malformed() -> None:
    assert _reason("not.a.token") == "malformed"
    assert _reason("") == "malformed"
    assert _reason(_forge({"exp": "tomorrow"})) == "malformed"
    assert _reason(_forge({"org": None})) == "malformed"
    assert _reason(_forge({"roles": "buyer"})) == "malformed"


def test_alg_none_rejected() -> None:
    claims = jwt.decode(_issue(), options={"verify_signature": False})
    unsigned = jwt.encode(claims, "", algorithm="none")
    assert jwt.get_unverified_header(unsigned)["alg"] == "none"
    assert _reason(unsigned) == "malformed"


def test_unknown_role() -> None:
    assert _reason(_forge({"roles": ["buyer", "superuser"]})) == "unknown role"


def test_issuer_audience_and_required_claims() -> None:
    assert _reason(_forge({"iss": "someone-else"})) == "wrong issuer"
    assert _reason(_forge({"aud": "other-api"})) == "wrong audience"
    assert _reason(_forge({"exp": None})) == "missing claim exp"
    assert _reason(_forge({"iat": None})) == "missing claim iat"
    assert _reason(_forge({"sub": None})) == "missing claim sub"


def test_argument_checks() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        _issue(secret="short")
    with pytest.raises(ValueError, match="timezone-aware"):
        _issue(now=datetime(2025, 6, 1, 12, 0))
    with pytest.raises(ValueError, match="positive"):
        _issue(ttl=timedelta(0))
