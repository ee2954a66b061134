"""The faults a sandbox applies on request: what one is, how it is switched, how it is parsed."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Literal, TypedDict, cast

# Faults never apply under this prefix, so a faulted sandbox can still be switched back.
CONTROL_PREFIX = "/_sandbox/"
FaultMode = Literal["off", "error", "timeout", "slow"]
_MODES: tuple[FaultMode, ...] = ("off", "error", "timeout", "slow")
_FAULT_FIELDS = {"mode", "status", "delay_s", "count", "seconds", "paths"}


class InvalidFault(ValueError):
    """A fault description broke a rule; the server answers it 422 naming the field."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class FaultView(TypedDict):
    mode: FaultMode
    status: int | None
    delay_s: float | None
    remaining: int | None  # requests the fault still applies to; None: no count limit
    expires_in_s: float | None
    paths: list[str] | None  # None: every path outside the control API


@dataclass(frozen=True)
class Fault:
    mode: FaultMode
    status: int
    delay_s: float
    remaining: int | None
    deadline: float | None  # time.monotonic() value
    paths: tuple[str, ...] | None

    def applies_to(self, path: str) -> bool:
        if self.paths is None:
            return True
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in self.paths)

    def view(self, now: float) -> FaultView:
        return FaultView(
            mode=self.mode,
            status=self.status,
            delay_s=self.delay_s,
            remaining=self.remaining,
            expires_in_s=None if self.deadline is None else round(self.deadline - now, 3),
            paths=None if self.paths is None else list(self.paths),
        )


_OFF = FaultView(
    mode="off", status=None, delay_s=None, remaining=None, expires_in_s=None, paths=None
)


class FaultSwitch:
    """The one fault a sandbox applies; counts and expiry are settled under one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fault: Fault | None = None

    def set(self, fault: Fault | None) -> None:
        with self._lock:
            self._fault = fault

    def take(self, path: str) -> Fault | None:
        """The fault to apply to this request, using up one of its count."""
        with self._lock:
            fault = self._live(time.monotonic())
            if fault is None or not fault.applies_to(path):
                return None
            if fault.remaining is not None:
                left = fault.remaining - 1
                self._fault = replace(fault, remaining=left) if left > 0 else None
            return fault

    def view(self) -> FaultView:
        with self._lock:
            now = time.monotonic()
            fault = self._live(now)
            return _OFF if fault is None else fault.view(now)

    def _live(self, now: float) -> Fault | None:
        fault = self._fault
        if fault is not None and fault.deadline is not None and now >= fault.deadline:
            self._fault = None
        return self._fault


def parse_fault(body: Any, *, now: float) -> Fault | None:
    """Validate a ``POST /_sandbox/faults`` body; None means switch faults off."""
    if not isinstance(body, dict):
        raise InvalidFault("body", "must be a JSON object")
    unknown = sorted(set(body) - _FAULT_FIELDS)
    if unknown:
        raise InvalidFault(unknown[0], "unknown field")
    mode = body.get("mode")
    if mode not in _MODES:
        raise InvalidFault("mode", "must be one of " + ", ".join(_MODES))
    if mode == "off":
        return None
    status = body.get("status", 503)
    if not _is_int(status) or not 400 <= status <= 599:
        raise InvalidFault("status", "must be an integer HTTP error status, 400 to 599")
    delay_s = body.get("delay_s", 2.0)
    if not _is_number(delay_s) or not 0 <= delay_s <= 600:
        raise InvalidFault("delay_s", "must be a number of seconds, 0 to 600")
    count = body.get("count")
    if count is not None and (not _is_int(count) or count < 1):
        raise InvalidFault("count", "must be a positive integer")
    seconds = body.get("seconds")
    if seconds is not None and (not _is_number(seconds) or seconds <= 0):
        raise InvalidFault("seconds", "must be a positive number")
    paths = body.get("paths")
    if paths is not None and (
        not isinstance(paths, list)
        or not paths
        or not all(isinstance(p, str) and p.startswith("/") for p in paths)
        or any(p.startswith(CONTROL_PREFIX) for p in paths)
    ):
        raise InvalidFault("paths", "must be a non-empty list of paths starting with /")
    return Fault(
        mode=cast(FaultMode, mode),
        status=status,
        delay_s=float(delay_s),
        remaining=count,
        deadline=None if seconds is None else now + float(seconds),
        paths=None if paths is None else tuple(paths),
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
