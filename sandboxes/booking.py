"""A base for sandboxes of systems that book writes under idempotency keys (the regulator, the
bank, the receivables registry).

What they share, in one place:

- an after-accept fault (``POST /_sandbox/<name>/accept-then-fail``, a fault as the shared
  switch takes it) that strikes after a write was booked: the caller sees an error or a
  dropped connection although the system holds the write, the case the idempotency key must
  resolve;
- the sandbox's own control calls under ``/_sandbox/<name>/`` (``control()``);
- the state kept in one JSON file under the data directory, when one is given: written before
  answering (sandboxes.register.save_json, so a crash leaves the old file or the new) and read
  on start, so the system remembers its writes across ``make up`` restarts.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, ClassVar, cast
from urllib.parse import urlsplit

from sandboxes.control import SandboxControl
from sandboxes.faults import (
    CONTROL_PREFIX,
    FaultMode,
    FaultSwitch,
    FaultView,
    InvalidFault,
    parse_fault,
)
from sandboxes.http_sandbox import InvalidInput, SandboxResponse, SandboxServer
from sandboxes.register import save_json

AFTER_ACCEPT = "accept-then-fail"


def no_route() -> SandboxResponse:
    return SandboxResponse(404, {"error": "no_route"})


def not_found(what: str) -> SandboxResponse:
    return SandboxResponse(404, {"error": "not_found", "reason": f"no {what}"})


def idempotency_conflict(key: str, **found: str) -> SandboxResponse:
    """The key was used before for another body: the first booking stands."""
    reason = f"Idempotency-Key {key} was used for another request"
    return SandboxResponse(409, {"error": "idempotency_conflict", "reason": reason, **found})


class BookingSandbox(SandboxServer):
    """Subclasses set ``name`` and ``data_file_name``, implement ``routes()``, ``state()`` and
    ``restore()``, may add ``control()`` calls, and call ``_save()`` under ``_lock`` after
    each booking and ``_restore_saved()`` at the end of their ``__init__``."""

    data_file_name: ClassVar[str] = "state.json"

    def __init__(self, *, data_dir: Path | None, host: str, port: int) -> None:
        super().__init__(host=host, port=port)
        self._lock = threading.Lock()
        self._after_accept = FaultSwitch()
        self._after_accept_applied = 0
        self._data_file = None if data_dir is None else data_dir / self.data_file_name

    @property
    def control_prefix(self) -> str:
        return f"{CONTROL_PREFIX}{self.name}/"

    def state(self) -> dict[str, Any]:
        """Everything to keep across a restart, as JSON."""
        return {}

    def restore(self, document: dict[str, Any]) -> None:
        """Take back what ``state()`` gave; raise KeyError, TypeError or ValueError if damaged."""

    def control(self, method: str, call: str, body: Any) -> SandboxResponse:
        """The sandbox's own control calls (``call`` is the path under ``control_prefix``)."""
        return no_route()

    def dispatch(
        self, *, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> SandboxResponse | None:
        path = urlsplit(target).path
        if path.startswith(self.control_prefix):
            return self._own_control(method, path.removeprefix(self.control_prefix), body)
        response = super().dispatch(method=method, target=target, headers=headers, body=body)
        if (
            response is None
            or method != "POST"
            or path.startswith(CONTROL_PREFIX)  # the shared control calls are never spoiled
            or not 200 <= response.status < 300
        ):
            return response
        fault = self._after_accept.take(path)
        if fault is None:
            return response
        with self._lock:
            self._after_accept_applied += 1
        if fault.mode == "error":
            return SandboxResponse(fault.status, {"error": "sandbox_fault", "status": fault.status})
        self._stopping.wait(fault.delay_s)
        return None if fault.mode == "timeout" else response

    def _own_control(self, method: str, call: str, raw: bytes) -> SandboxResponse:
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            return SandboxResponse(400, {"error": "invalid_json"})
        try:
            if call == AFTER_ACCEPT:
                return self._after_accept_control(method, body)
            return self.control(method, call, body)
        except (InvalidInput, InvalidFault) as invalid:
            return SandboxResponse(
                422, {"error": "invalid", "field": invalid.field, "rule": invalid.rule}
            )

    def _after_accept_control(self, method: str, body: Any) -> SandboxResponse:
        if method == "POST":
            self._after_accept.set(parse_fault(body, now=time.monotonic()))
        elif method != "GET":
            return SandboxResponse(405, {"error": "method_not_allowed"})
        with self._lock:
            applied = self._after_accept_applied
        return SandboxResponse(200, {**self._after_accept.view(), "applied": applied})

    def _save(self) -> None:
        """Keep the state; call under ``_lock``, before answering the booking."""
        if self._data_file is not None:
            save_json(self._data_file, self.state())

    def _restore_saved(self) -> None:
        """A damaged file stops the sandbox: losing bookings would let a key book twice."""
        path = self._data_file
        if path is None or not path.exists():
            return
        try:
            self.restore(json.loads(path.read_text(encoding="utf-8")))
        except (KeyError, TypeError, ValueError) as damaged:
            raise ValueError(
                f"{path}: not a {self.name} sandbox state file: {damaged}"
            ) from damaged


class BookingControl(SandboxControl):
    """The shared control API plus a booking sandbox's after-accept fault."""

    sandbox_name: ClassVar[str] = ""

    def accept_then_fail(
        self,
        *,
        mode: FaultMode = "error",
        status: int = 503,
        delay_s: float = 2.0,
        count: int | None = 1,
        seconds: float | None = None,
        paths: list[str] | None = None,
    ) -> FaultView:
        """After the next ``count`` booked writes (or for ``seconds``): answer ``status``
        (error), drop the connection after ``delay_s`` (timeout), or answer after ``delay_s``
        (slow)."""
        body: dict[str, Any] = {"mode": mode, "status": status, "delay_s": delay_s}
        if count is not None:
            body["count"] = count
        if seconds is not None:
            body["seconds"] = seconds
        if paths is not None:
            body["paths"] = paths
        return cast(FaultView, self._own("POST", AFTER_ACCEPT, body))

    def after_accept_fault(self) -> FaultView:
        return cast(FaultView, self._own("GET", AFTER_ACCEPT))

    def after_accept_applied(self) -> int:
        """How many answers the after-accept fault has spoiled since the sandbox started."""
        return int(self._own("GET", AFTER_ACCEPT)["applied"])

    def clear_accept_then_fail(self) -> None:
        self._own("POST", AFTER_ACCEPT, {"mode": "off"})

    def clear_all_faults(self) -> None:
        """Switch off the shared fault and the after-accept fault alike."""
        self.clear_faults()
        self.clear_accept_then_fail()

    def _own(self, method: str, call: str, body: dict[str, Any] | None = None) -> Any:
        return self._call(method, f"{CONTROL_PREFIX}{self.sandbox_name}/{call}", body)
