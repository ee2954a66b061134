"""The codec opens to what the Temporal Web UI sends in production: its identity provider's
access token, verified against the provider's keys (a real JWKS served over HTTP here), for ops
staff only; platform tokens and the embedded default's loopback UI keep working."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError
from temporalio.testing import WorkflowEnvironment

from contracts.common import OPERATOR_ORG_ID, Role
from security.oidc import JwksUnavailable, OidcVerifier
from security.tokens import InvalidToken, issue_token
from settings import Settings
from tests.harness.api_server import free_port, running_api

ISSUER = "https://id.example.test/realms/tradeflow"
AUDIENCE = "temporal-ui"
OPS_GROUP = "tradeflow-ops"
KID = "key-1"
PAYLOADS = {
    "payloads": [
        {
            "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
            "data": base64.b64encode(b'{"supplier": "Acme"}').decode(),
        }
    ]
}


class Jwks:
    """A provider's key set served over HTTP on loopback, counting how often it is fetched."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        document = json.dumps({"keys": [public | {"kid": KID, "use": "sig", "alg": "RS256"}]})
        self.fetches = 0
        jwks = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                jwks.fetches += 1
                body = document.encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/certs"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, *, key: Any = None, **changes: Any) -> str:
        """An access token as the provider issues it to an ops member, with ``changes``."""
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "ops-user-1",
            "iat": now,
            "exp": now + timedelta(minutes=5),
            "groups": ["staff", OPS_GROUP],
        }
        claims.update(changes)
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": KID})


@pytest.fixture(scope="module")
def jwks() -> Iterator[Jwks]:
    served = Jwks()
    yield served
    served.server.shutdown()
    served.server.server_close()


@pytest.fixture(scope="module")
def production_like_api(
    settings: Settings, dev_env: WorkflowEnvironment, jwks: Jwks
) -> Iterator[str]:
    configured = settings.model_copy(
        update={
            "temporal_address": dev_env.client.service_client.config.target_host,
            "oidc_issuer": ISSUER,
            "oidc_audience": AUDIENCE,
            "oidc_jwks_url": jwks.url,
            "oidc_ops_group": OPS_GROUP,
        }
    )
    with running_api(configured) as url:
        yield url


def _platform_token(settings: Settings, *, org_id: str, roles: tuple[Role, ...]) -> str:
    return issue_token(
        secret=settings.jwt_secret,
        user_id="usr_codec_test",
        org_id=org_id,
        roles=roles,
        ttl=timedelta(minutes=5),
        now=datetime.now(UTC),
    )


def _post(base: str, path: str, body: dict[str, Any], token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{base}{path}", json=body, headers=headers, timeout=30)


def test_the_ui_sign_in_of_an_ops_member_decodes_payloads(
    production_like_api: str, settings: Settings, jwks: Jwks
) -> None:
    operator = _platform_token(settings, org_id=OPERATOR_ORG_ID, roles=(Role.COMPLIANCE,))
    encoded = _post(production_like_api, "/codec/encode", PAYLOADS, operator)
    assert encoded.status_code == 200  # a platform ops token keeps working
    assert encoded.json() != PAYLOADS

    fetched = jwks.fetches
    for _ in range(3):
        decoded = _post(production_like_api, "/codec/decode", encoded.json(), jwks.token())
        assert decoded.status_code == 200, decoded.text
        assert decoded.json() == PAYLOADS
    assert jwks.fetches - fetched <= 1  # the key set is cached, not fetched for every request


def _hs256_with_public_key(jwks: Jwks) -> str:
    """The classic confusion: HS256 "signed" with the provider's public key as the secret."""

    def segment(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    header = segment(json.dumps({"alg": "HS256", "kid": KID}).encode())
    claims = json.loads(base64.urlsafe_b64decode(jwks.token().split(".")[1] + "=="))
    body = segment(json.dumps(claims).encode())
    public_pem = jwt.algorithms.RSAAlgorithm.to_jwk(jwks.key.public_key()).encode()
    signature = segment(hmac.new(public_pem, header + b"." + body, hashlib.sha256).digest())
    return (header + b"." + body + b"." + signature).decode()


# Each bad token, and the reason the verifier gives for it.
REFUSED: dict[str, tuple[Callable[[Jwks], str], str]] = {
    "expired": (lambda j: j.token(exp=datetime.now(UTC) - timedelta(minutes=5)), "expired"),
    "wrong audience": (lambda j: j.token(aud="another-client"), "wrong_party"),
    "wrong issuer": (lambda j: j.token(iss="https://id.example.test/realms/x"), "wrong_party"),
    "another key": (
        lambda j: j.token(key=rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "invalid",
    ),
    "not in the ops group": (lambda j: j.token(groups=["staff"]), "not_ops"),
    "no groups at all": (lambda j: j.token(groups=None), "not_ops"),
    "no expiry": (lambda j: j.token(exp=None), "invalid"),
    "unsigned": (
        lambda j: jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "x"}, "", "none"),
        "algorithm",
    ),
    "hs256 with the public key": (_hs256_with_public_key, "algorithm"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_token_that_does_not_verify_is_refused(
    production_like_api: str, jwks: Jwks, case: str
) -> None:
    make, reason = REFUSED[case]
    token = make(jwks)
    answer = _post(production_like_api, "/codec/decode", PAYLOADS, token)
    assert answer.status_code == 401
    with pytest.raises(InvalidToken) as refused:
        _verifier(jwks).ops_subject(token)
    assert refused.value.reason == reason


def test_a_platform_token_of_a_non_operator_is_refused(
    production_like_api: str, settings: Settings
) -> None:
    buyer = _platform_token(settings, org_id="org_buyer", roles=(Role.BUYER,))
    assert _post(production_like_api, "/codec/decode", PAYLOADS, buyer).status_code == 401


def test_the_embedded_default_lets_the_local_ui_in_on_loopback(
    settings: Settings, dev_env: WorkflowEnvironment
) -> None:
    embedded = settings.model_copy(
        update={
            "temporal_address": dev_env.client.service_client.config.target_host,
            "codec_allow_loopback_ui": True,
        }
    )
    origin = {"Origin": embedded.temporal_ui_origins[0]}
    with running_api(embedded) as url:
        answer = httpx.post(f"{url}/codec/encode", json=PAYLOADS, headers=origin, timeout=30)
        assert answer.status_code == 200
        assert _post(url, "/codec/encode", PAYLOADS).status_code == 401  # no UI origin


def _verifier(jwks: Jwks, *, groups_claim: str = "groups") -> OidcVerifier:
    return OidcVerifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks_url=jwks.url,
        groups_claim=groups_claim,
        ops_group=OPS_GROUP,
    )


def test_a_groups_claim_can_be_a_nested_path(jwks: Jwks) -> None:
    verifier = _verifier(jwks, groups_claim="realm_access.roles")
    nested = jwks.token(groups=None, realm_access={"roles": [OPS_GROUP]})
    assert verifier.ops_subject(nested) == "ops-user-1"
    with pytest.raises(InvalidToken):
        verifier.ops_subject(jwks.token())  # "groups" is not where this provider puts them


def test_keys_that_cannot_be_fetched_are_reported_not_taken_for_a_bad_token(jwks: Jwks) -> None:
    verifier = OidcVerifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks_url=f"http://127.0.0.1:{free_port()}/certs",
        groups_claim="groups",
        ops_group=OPS_GROUP,
    )
    with pytest.raises(JwksUnavailable):
        verifier.ops_subject(jwks.token())


def test_a_half_configured_sign_in_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="TRADEFLOW_OIDC_JWKS_URL"):
        Settings(oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_ops_group=OPS_GROUP)
