"""Bearer API keys of external systems: where a key comes from, how it is sent, how a refusal
is reported.

A refused key (401/403) is ``ApiKeyRefused``, an ``ExternalSystemUnavailable``: a wrong or
revoked key is configuration an operator can fix while the calls wait, so they keep retrying and
every refusal is logged at ERROR naming the variable to fix (never the key).
"""

from __future__ import annotations

import logging

import httpx

from gateways.http_adapter import ExternalSystemUnavailable, HttpAdapter
from security.keys import load_or_create_local_secret
from settings import Settings


class ApiKeyRefused(ExternalSystemUnavailable):
    """The system refused our credentials (401/403): retried until the key is fixed."""

    def __init__(self, message: str, *, system: str, status: int) -> None:
        super().__init__(message, system=system)
        self.status = status


def api_key_from_settings(
    settings: Settings, *, configured: str, secret_name: str, variable: str
) -> str:
    """The configured key, or outside production the data folder's generated ``secret_name``."""
    if configured.strip():
        return configured.strip()
    if settings.environment == "production":
        raise ValueError(f"{variable} must be set in production")
    return load_or_create_local_secret(settings.data_dir, secret_name)


def refuse_on_auth_failure(
    response: httpx.Response, *, system: str, variable: str, log: logging.Logger
) -> None:
    """Raise ``ApiKeyRefused`` (logged at ERROR) when the answer refused our key."""
    status = response.status_code
    if status not in (401, 403):
        return
    call = f"{response.request.method} {response.request.url.path}"
    log.error(
        "%s refused the API key (%s) on %s: fix %s; calls wait and retry until then",
        system,
        status,
        call,
        variable,
    )
    raise ApiKeyRefused(
        f"{system} refused the API key ({status}) on {call}", system=system, status=status
    )


class BearerTransport(httpx.BaseTransport):
    """Adds the API key to every request (the shared adapter sends no credentials itself)."""

    def __init__(self, inner: httpx.BaseTransport, api_key: str) -> None:
        self._inner = inner
        self._authorization = f"Bearer {api_key}"

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["Authorization"] = self._authorization
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def bearer_adapter(
    base_url: str,
    *,
    system: str,
    api_key: str,
    timeout_s: float,
    transport: httpx.BaseTransport | None = None,
) -> HttpAdapter:
    """An adapter to ``system`` that sends ``api_key`` as a bearer token with every request."""
    if not api_key.strip():
        raise ValueError(f"the {system} client needs an API key")
    return HttpAdapter(
        base_url,
        system=system,
        timeout_s=timeout_s,
        transport=BearerTransport(transport or httpx.HTTPTransport(), api_key.strip()),
    )
