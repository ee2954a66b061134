"""The shared base of adapters to external HTTP systems: one client, failures sorted in two.

``ExternalSystemUnavailable`` (connection errors, timeouts, 5xx, 429) is worth retrying;
``ExternalSystemRejected`` (any other 4xx) is the system's considered answer and is final.
There is deliberately no retry loop here: retries belong to the Temporal activity retry
policies (workflows/policies.py), which back off durably and show every attempt in the history.
With tracing on (stack/tracing.py) each call is a client span, its ``traceparent`` sent along.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from types import TracebackType
from typing import Any, Protocol, Self

import httpx

from stack.tracing import outbound_span, record_status


class ExternalSystemError(Exception):
    """A call to an external system did not get the answer it needed."""

    def __init__(self, message: str, *, system: str) -> None:
        super().__init__(message)
        self.system = system


class ExternalSystemUnavailable(ExternalSystemError):
    """The system could not answer now (unreachable, timed out, 5xx, 429): retry later."""


class ExternalSystemRejected(ExternalSystemError):
    """The system refused the request (4xx): asking again the same way will not help."""

    def __init__(self, message: str, *, system: str, status: int, reason: str) -> None:
        super().__init__(message, system=system)
        self.status = status
        self.reason = reason


def _is_unavailable(status: int) -> bool:
    # 429 asks us to come back later, which is what a retry policy does.
    return status >= 500 or status == 429


def response_reason(response: httpx.Response) -> str:
    """The reason a system gave in its error body, as one short line."""
    try:
        body = response.json()
    except ValueError:
        return " ".join(response.text.split())[:200] or response.reason_phrase
    if not isinstance(body, dict):
        return str(body)[:200]
    reason = next(
        (str(body[k]) for k in ("reason", "error", "message", "detail") if body.get(k)),
        response.reason_phrase,
    )
    if body.get("field"):
        reason += f" ({body['field']}: {body.get('rule', 'invalid')})"
    return reason[:200]


class _Closable(Protocol):
    def close(self) -> None: ...


class AdapterClient:
    """Base of everything that talks to an external system through an HTTP client it holds
    (``_http``): closed with ``close()`` or at the end of a ``with`` block."""

    _http: _Closable

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class HttpAdapter(AdapterClient):
    """An httpx client bound to one external system's base URL, with connect and read timeouts."""

    _http: httpx.Client

    def __init__(
        self,
        base_url: str,
        *,
        system: str,
        timeout_s: float,
        connect_timeout_s: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.system = system
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s or timeout_s),
            transport=transport,
            headers={"Accept": "application/json"},
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
        passthrough: Collection[int] = (),
        extra_headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request; statuses in ``passthrough`` are returned for the caller to read."""
        headers = {**(extra_headers or {})}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        call = f"{method} {path}"
        with outbound_span(
            system=self.system, method=method, base_url=self.base_url, headers=headers
        ) as span:
            try:
                response = self._http.request(
                    method, path, params=params, json=json, headers=headers
                )
            except httpx.TimeoutException as timed_out:
                raise ExternalSystemUnavailable(
                    f"{self.system} timed out on {call}: {type(timed_out).__name__}",
                    system=self.system,
                ) from timed_out
            except (httpx.NetworkError, httpx.RemoteProtocolError) as failed:
                raise ExternalSystemUnavailable(
                    f"{self.system} unreachable on {call}: {type(failed).__name__}: {failed}",
                    system=self.system,
                ) from failed
            record_status(span, response.status_code)
        status = response.status_code
        if status < 400 or status in passthrough:
            return response
        reason = response_reason(response)
        if _is_unavailable(status):
            raise ExternalSystemUnavailable(
                f"{self.system} answered {status} to {call}: {reason}", system=self.system
            )
        raise ExternalSystemRejected(
            f"{self.system} rejected {call}: {status} {reason}",
            system=self.system,
            status=status,
            reason=reason,
        )


def response_body(response: httpx.Response) -> object:
    """The answer's JSON, or its text when it is not JSON (an error page, say)."""
    try:
        return response.json()
    except ValueError:
        return response.text
