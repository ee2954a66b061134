"""Access tokens of the Temporal Web UI's own sign-in (OpenID Connect), checked for the codec.

In production the Web UI signs ops staff in with the organisation's identity provider and, with
``TEMPORAL_CODEC_PASS_ACCESS_TOKEN``, sends that provider's access token to ``/codec``, not a
platform token. Such a token is trusted only when a key of the provider's JWKS signed it with an
asymmetric algorithm, the configured issuer issued it for the configured audience, it has not
expired, and its groups claim names the ops group.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import jwt

from security.tokens import InvalidToken
from settings import Settings

# Asymmetric only: a token "signed" with HS256 and the provider's public key as the secret must
# never pass, nor an unsigned one.
_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
# Tolerated clock difference between the provider and us.
_LEEWAY_S = 30
_JWKS_TIMEOUT_S = 5.0
# The key set is fetched at most this often, so a key the provider drops stops being trusted
# within it; a token naming an unknown key refetches it at most every cooldown.
_JWKS_LIFESPAN_S = 300.0
_JWKS_COOLDOWN_S = 30.0


class JwksUnavailable(Exception):
    """The provider's keys cannot be fetched: no token of it can be checked right now."""


class OidcVerifier:
    """Checks the provider's access tokens and that they name the ops group."""

    def __init__(
        self, *, issuer: str, audience: str, jwks_url: str, groups_claim: str, ops_group: str
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        self._groups_claim = groups_claim
        self._ops_group = ops_group
        self._keys = jwt.PyJWKClient(
            jwks_url,
            lifespan=_JWKS_LIFESPAN_S,
            timeout=_JWKS_TIMEOUT_S,
            cooldown_duration=_JWKS_COOLDOWN_S,
        )

    def ops_subject(self, token: str) -> str:
        """The subject of a valid token naming the ops group; ``InvalidToken`` otherwise."""
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.InvalidTokenError:
            raise InvalidToken("malformed") from None
        if algorithm not in _ALGORITHMS:
            raise InvalidToken("algorithm")
        try:
            key = self._keys.get_signing_key_from_jwt(token)
        except (jwt.PyJWKClientConnectionError, jwt.PyJWKSetError) as error:
            raise JwksUnavailable(str(error)) from None
        except jwt.PyJWTError:
            raise InvalidToken("unknown_key") from None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                issuer=self._issuer,
                audience=self._audience,
                leeway=_LEEWAY_S,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("expired") from None
        except (jwt.InvalidAudienceError, jwt.InvalidIssuerError):
            raise InvalidToken("wrong_party") from None
        except jwt.InvalidTokenError:
            raise InvalidToken("invalid") from None
        if self._ops_group not in _groups(claims, self._groups_claim):
            raise InvalidToken("not_ops")
        return str(claims["sub"])


def _groups(claims: Mapping[str, Any], path: str) -> set[str]:
    """The values at a dotted claim path (``groups``, ``realm_access.roles``): a list or one."""
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {item for item in value if isinstance(item, str)}
    return set()


def oidc_verifier(settings: Settings) -> OidcVerifier | None:
    """The verifier for the configured provider, one a process (its key cache lives in it)."""
    if not settings.oidc_issuer:
        return None
    return _verifier(
        settings.oidc_issuer,
        settings.oidc_audience,
        settings.oidc_jwks_url,
        settings.oidc_groups_claim,
        settings.oidc_ops_group,
    )


@lru_cache(maxsize=4)
def _verifier(
    issuer: str, audience: str, jwks_url: str, groups_claim: str, ops_group: str
) -> OidcVerifier:
    return OidcVerifier(
        issuer=issuer,
        audience=audience,
        jwks_url=jwks_url,
        groups_claim=groups_claim,
        ops_group=ops_group,
    )
