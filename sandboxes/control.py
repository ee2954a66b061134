"""Typed client for the ``/_sandbox/`` control API that every sandbox answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import httpx

from gateways.http_adapter import AdapterClient
from sandboxes.faults import FaultMode, FaultView
from sandboxes.http_sandbox import LoggedRequest


class SandboxControlError(RuntimeError):
    """The control API refused a request (a bad fault description, usually)."""


class SandboxControl(AdapterClient):
    """Typed client for a sandbox's ``/_sandbox/`` control API."""

    _http: httpx.Client

    def __init__(self, base_url: str, *, timeout_s: float = 5.0) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)

    def health(self) -> dict[str, str]:
        return cast(dict[str, str], self._call("GET", "/_sandbox/health"))

    def set_fault(
        self,
        *,
        mode: FaultMode,
        status: int = 503,
        delay_s: float = 2.0,
        count: int | None = None,
        seconds: float | None = None,
        paths: Sequence[str] | None = None,
    ) -> FaultView:
        """Replace the current fault; ``count`` and ``seconds`` bound it, else it lasts."""
        body: dict[str, Any] = {"mode": mode, "status": status, "delay_s": delay_s}
        if count is not None:
            body["count"] = count
        if seconds is not None:
            body["seconds"] = seconds
        if paths is not None:
            body["paths"] = list(paths)
        return cast(FaultView, self._call("POST", "/_sandbox/faults", body))

    def fault(self) -> FaultView:
        return cast(FaultView, self._call("GET", "/_sandbox/faults"))

    def clear_faults(self) -> None:
        self._call("POST", "/_sandbox/faults", {"mode": "off"})

    def requests(self, *, path_prefix: str = "") -> list[LoggedRequest]:
        """Requests received outside the control API, oldest first."""
        logged = cast(list[LoggedRequest], self._call("GET", "/_sandbox/requests")["requests"])
        return [r for r in logged if r["path"].startswith(path_prefix)]

    def clear_requests(self) -> None:
        self._call("DELETE", "/_sandbox/requests")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, path, json=body)
        if response.is_error:
            raise SandboxControlError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()
