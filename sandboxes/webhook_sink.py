"""Sandbox of a webhook receiver (an enterprise chat bot, say): records what arrives.

``POST /hooks/{name}`` keeps the request's exact body and its headers and answers 200;
``GET /hooks/{name}`` lists what arrived, oldest first, so a test (or a person trying a rule
under ``make up``) can check the ``X-Tradeflow-Signature`` over the exact bytes; ``DELETE``
empties it. The control API's faults make it fail on purpose (503s, a time-out) like the other
sandboxes. Kept in memory only.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandboxes.http_sandbox import Route, SandboxRequest, SandboxResponse, SandboxServer


class WebhookSinkSandbox(SandboxServer):
    name = "webhook-sink"

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, data_dir: Path | None = None
    ) -> None:
        super().__init__(host=host, port=port)
        self._lock = threading.Lock()
        self._received: dict[str, list[dict[str, Any]]] = {}
        # The route handler sees the parsed JSON; the raw bytes (what was signed) come this way.
        self._raw = threading.local()

    def routes(self) -> Sequence[Route]:
        return (
            Route("POST", "/hooks/{name}", self._receive),
            Route("GET", "/hooks/{name}", self._list),
            Route("DELETE", "/hooks/{name}", self._clear),
        )

    def dispatch(
        self, *, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> SandboxResponse | None:
        self._raw.body = body
        return super().dispatch(method=method, target=target, headers=headers, body=body)

    def _receive(self, request: SandboxRequest) -> SandboxResponse:
        raw: bytes = getattr(self._raw, "body", b"")
        entry = {
            "headers": request.headers,
            "body": raw.decode("utf-8", "replace"),
            "received_at": datetime.now(UTC).isoformat(),
        }
        with self._lock:
            self._received.setdefault(request.params["name"], []).append(entry)
        return SandboxResponse(200, {"received": True})

    def _list(self, request: SandboxRequest) -> SandboxResponse:
        with self._lock:
            found = list(self._received.get(request.params["name"], []))
        return SandboxResponse(200, {"deliveries": found})

    def _clear(self, request: SandboxRequest) -> SandboxResponse:
        with self._lock:
            cleared = len(self._received.pop(request.params["name"], []))
        return SandboxResponse(200, {"cleared": cleared})
