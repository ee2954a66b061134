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
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any, Self, TypedDict, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from sandboxes.faults import CONTROL_PREFIX, Fault, FaultSwitch, InvalidFault, parse_fault

MAX_BODY_BYTES = 1024 * 1024
REQUEST_LOG_SIZE = 10_000
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
    pattern: str  # "/certificates/{number}": each {name} matches one path segment
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
        try:
            fault = parse_fault(request.body, now=time.monotonic())
        except InvalidFault as invalid:
            raise InvalidInput(invalid.field, invalid.rule) from invalid
        self._faults.set(fault)
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
