"""A stdlib HTTP base for sandboxes of external systems, with faults that tests switch on.

Like a payment provider's test mode: a subclass declares its JSON routes, and every sandbox
also answers a control API under ``/_sandbox/`` to make it fail on purpose (error answers,
dropped connections, slow answers) and to count the calls it received.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any, Literal, Self, TypedDict, cast
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

CONTROL_PREFIX = "/_sandbox/"
MAX_BODY_BYTES = 1024 * 1024
REQUEST_LOG_SIZE = 10_000
FaultMode = Literal["off", "error", "timeout", "slow"]
_MODES: tuple[FaultMode, ...] = ("off", "error", "timeout", "slow")
_FAULT_FIELDS = {"mode", "status", "delay_s", "count", "seconds", "paths"}
_log = logging.getLogger("tradeflow.sandbox")


@dataclass(frozen=True)
class SandboxRequest:
    method: str
    path: str
    params: dict[str, str]  # from the route pattern, URL-decoded
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: Any  # parsed JSON; None when the request carried no body


@dataclass(frozen=True)
class SandboxResponse:
    status: int
    body: Any


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str  # "/certificates/{number}": a placeholder matches one path segment
    handler: Callable[[SandboxRequest], SandboxResponse]


class InvalidInput(Exception):
    """Raised by a route handler; answered 422 naming the field and the rule it broke."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class LoggedRequest(TypedDict):
    method: str
    path: str
    query: str
    time: str
    idempotency_key: str | None
    fault: str | None  # the fault mode applied to this request, if any


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
        raise InvalidInput("body", "must be a JSON object")
    unknown = sorted(set(body) - _FAULT_FIELDS)
    if unknown:
        raise InvalidInput(unknown[0], "unknown field")
    mode = body.get("mode")
    if mode not in _MODES:
        raise InvalidInput("mode", "must be one of " + ", ".join(_MODES))
    if mode == "off":
        return None
    status = body.get("status", 503)
    if not _is_int(status) or not 400 <= status <= 599:
        raise InvalidInput("status", "must be an integer HTTP error status, 400 to 599")
    delay_s = body.get("delay_s", 2.0)
    if not _is_number(delay_s) or not 0 <= delay_s <= 600:
        raise InvalidInput("delay_s", "must be a number of seconds, 0 to 600")
    count = body.get("count")
    if count is not None and (not _is_int(count) or count < 1):
        raise InvalidInput("count", "must be a positive integer")
    seconds = body.get("seconds")
    if seconds is not None and (not _is_number(seconds) or seconds <= 0):
        raise InvalidInput("seconds", "must be a positive number")
    paths = body.get("paths")
    if paths is not None and (
        not isinstance(paths, list)
        or not paths
        or not all(isinstance(p, str) and p.startswith("/") for p in paths)
        or any(p.startswith(CONTROL_PREFIX) for p in paths)
    ):
        raise InvalidInput("paths", "must be a non-empty list of paths starting with /")
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


_Compiled = list[tuple[str, re.Pattern[str], Callable[[SandboxRequest], SandboxResponse]]]


def _compile(routes: Sequence[Route]) -> _Compiled:
    compiled: _Compiled = []
    for route in routes:
        parts = re.split(r"\{(\w+)\}", route.pattern)
        regex = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts)
        )
        compiled.append((route.method, re.compile(f"^{regex}$"), route.handler))
    return compiled


class SandboxServer:
    """Base of a sandbox: subclasses override ``name`` and ``routes()``."""

    name = "sandbox"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._faults = FaultSwitch()
        self._log_lock = threading.Lock()
        self._requests: deque[LoggedRequest] = deque(maxlen=REQUEST_LOG_SIZE)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._routes: _Compiled = []
        self._control_routes = _compile(
            [
                Route("GET", "/_sandbox/health", self._health),
                Route("GET", "/_sandbox/faults", self._get_fault),
                Route("POST", "/_sandbox/faults", self._set_fault),
                Route("GET", "/_sandbox/requests", self._list_requests),
                Route("DELETE", "/_sandbox/requests", self._clear_requests),
            ]
        )

    def routes(self) -> Sequence[Route]:
        """The system's own API."""
        return ()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{self.name} sandbox is not running")
        host, port = self._server.server_address[:2]
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else str(host)
        return f"http://{shown}:{port}"

    def start(self) -> Self:
        """Bind and serve from a background thread; ``url`` is valid afterwards."""
        if self._server is not None:
            raise RuntimeError(f"{self.name} sandbox is already running")
        self._routes = _compile(self.routes())
        self._stopping.clear()
        self._server = _Server((self._host, self._port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.name}-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes requests held by a timeout or slow fault
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def run_foreground(self) -> None:
        """Serve until SIGTERM or SIGINT, announcing the URL on one line for a supervisor."""
        stop_requested = False

        # The handler only sets a flag: stopping the server from inside it could deadlock.
        def request_stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stop_requested
            stop_requested = True

        previous = {
            sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            self.start()
            print(f"{self.name} sandbox listening on {self.url}", flush=True)
            while not stop_requested:
                time.sleep(0.2)
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def dispatch(
        self, *, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> SandboxResponse | None:
        """Answer one request; None means drop the connection without an answer."""
        split = urlsplit(target)
        if split.path.startswith(CONTROL_PREFIX):
            return self._route(self._control_routes, method, split.path, split.query, headers, body)
        fault = self._faults.take(split.path)
        self._record(method, split.path, split.query, headers, fault)
        if fault is not None:
            if fault.mode == "error":
                failure = {"error": "sandbox_fault", "status": fault.status}
                return SandboxResponse(fault.status, failure)
            self._stopping.wait(fault.delay_s)
            if fault.mode == "timeout":
                return None
        return self._route(self._routes, method, split.path, split.query, headers, body)

    def _route(
        self,
        routes: _Compiled,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        raw_body: bytes,
    ) -> SandboxResponse:
        path_known = False
        for route_method, regex, handler in routes:
            match = regex.match(path)
            if match is None:
                continue
            path_known = True
            if route_method != method:
                continue
            try:
                body = json.loads(raw_body) if raw_body.strip() else None
            except ValueError:
                return SandboxResponse(400, {"error": "invalid_json"})
            request = SandboxRequest(
                method=method,
                path=path,
                params={k: unquote(v) for k, v in match.groupdict().items()},
                query=dict(parse_qsl(query)),
                headers=headers,
                body=body,
            )
            try:
                return handler(request)
            except InvalidInput as invalid:
                return SandboxResponse(
                    422, {"error": "invalid", "field": invalid.field, "rule": invalid.rule}
                )
            except Exception:
                _log.exception("%s sandbox failed on %s %s", self.name, method, path)
                return SandboxResponse(500, {"error": "internal"})
        if path_known:
            return SandboxResponse(405, {"error": "method_not_allowed"})
        return SandboxResponse(404, {"error": "no_route"})

    def _record(
        self, method: str, path: str, query: str, headers: dict[str, str], fault: Fault | None
    ) -> None:
        entry = LoggedRequest(
            method=method,
            path=path,
            query=query,
            time=datetime.now(UTC).isoformat(),
            idempotency_key=headers.get("idempotency-key"),
            fault=None if fault is None else fault.mode,
        )
        with self._log_lock:
            self._requests.append(entry)

    def _health(self, request: SandboxRequest) -> SandboxResponse:
        return SandboxResponse(200, {"status": "ok", "sandbox": self.name})

    def _get_fault(self, request: SandboxRequest) -> SandboxResponse:
        return SandboxResponse(200, self._faults.view())

    def _set_fault(self, request: SandboxRequest) -> SandboxResponse:
        self._faults.set(parse_fault(request.body, now=time.monotonic()))
        return SandboxResponse(200, self._faults.view())

    def _list_requests(self, request: SandboxRequest) -> SandboxResponse:
        with self._log_lock:
            return SandboxResponse(200, {"requests": list(self._requests)})

    def _clear_requests(self, request: SandboxRequest) -> SandboxResponse:
        with self._log_lock:
            cleared = len(self._requests)
            self._requests.clear()
        return SandboxResponse(200, {"cleared": cleared})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        super().__init__(address, _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    server_version = "TradeflowSandbox/1"
    timeout = 30  # a client that stalls mid-request must not hold a thread for ever

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _serve(self) -> None:
        sandbox = cast(_Server, self.server).sandbox
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True
            self._answer(SandboxResponse(400, {"error": "bad_content_length"}))
            return
        response = sandbox.dispatch(
            method=self.command,
            target=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        if response is None:
            self.close_connection = True
            return
        self._answer(response)

    def _answer(self, response: SandboxResponse) -> None:
        payload = json.dumps(response.body, ensure_ascii=False).encode("utf-8")
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("%s " + format, self.address_string(), *args)


class SandboxControlError(RuntimeError):
    """The control API refused a request (a bad fault description, usually)."""


class SandboxControl:
    """Typed client for a sandbox's ``/_sandbox/`` control API."""

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

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, path, json=body)
        if response.is_error:
            raise SandboxControlError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()
