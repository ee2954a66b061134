"""Posting notification webhooks, signed, for enterprise chat bots and the like.

Each POST carries a JSON body and three headers: ``X-Tradeflow-Delivery`` (the delivery's key:
the same on every attempt, so a receiver drops repeats), ``X-Tradeflow-Timestamp`` (Unix
seconds) and ``X-Tradeflow-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>``.
A receiver checks the signature over the exact bytes received and refuses old timestamps.

A 2xx answer is delivered. 408, 429 and 5xx, timeouts and refused connections are worth
retrying (``ExternalSystemUnavailable``); any other 4xx is the receiver's final answer
(``ExternalSystemRejected``). Redirects are not followed: a rule names its one address.
"""

from __future__ import annotations

import hmac
import json
import time
from typing import Any

import httpx

from gateways.http_adapter import (
    AdapterClient,
    ExternalSystemRejected,
    ExternalSystemUnavailable,
    response_reason,
)
from settings import Settings

SYSTEM = "webhook receiver"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Tradeflow-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, "sha256")
    return "sha256=" + mac.hexdigest()


def signature_valid(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver does: compare in constant time."""
    return hmac.compare_digest(signature(secret, timestamp, body), header)


class WebhookClient(AdapterClient):
    _http: httpx.Client

    def __init__(self, *, timeout_s: float, transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout_s), follow_redirects=False, transport=transport
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookClient:
        return cls(timeout_s=settings.webhook_timeout_s)

    def post(self, *, url: str, secret: str, delivery_key: str, payload: dict[str, Any]) -> int:
        """Send the signed payload; the receiver's 2xx status."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Tradeflow-Webhooks/1",
            "X-Tradeflow-Delivery": delivery_key,
            "X-Tradeflow-Timestamp": timestamp,
            "X-Tradeflow-Signature": signature(secret, timestamp, body),
        }
        try:
            response = self._http.post(url, content=body, headers=headers)
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as failed:
            raise ExternalSystemUnavailable(
                f"{SYSTEM} unreachable: {type(failed).__name__}: {failed}", system=SYSTEM
            ) from failed
        status = response.status_code
        if 200 <= status < 300:
            return status
        reason = response_reason(response)
        message = f"{SYSTEM} answered {status}: {reason}"
        if status >= 500 or status in (408, 429) or status < 200:
            raise ExternalSystemUnavailable(message, system=SYSTEM)
        raise ExternalSystemRejected(message, system=SYSTEM, status=status, reason=reason)
