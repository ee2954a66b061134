"""Each request's id (the client's ``X-Request-ID`` when well formed, else a new one): set for
the logs while the request is served, answered in ``X-Request-ID``, and one log line a request.

Pure ASGI rather than ``app.middleware("http")``: Starlette's ``BaseHTTPMiddleware`` runs the
rest of the app in a task of its own and streams the response back through a memory channel,
which cost more per request than everything this does.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stack.logs import request_id

log = logging.getLogger("tradeflow.api")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        rid = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        started = time.perf_counter()
        status = 0

        async def answering(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        token = request_id.set(rid)
        try:
            await self._app(scope, receive, answering)
        finally:
            request_id.reset(token)
        # Like the middleware this replaces, a request that raised is logged by the error
        # middleware outside this one, not here.
        log.info(
            "request",
            extra={
                "request_id": rid,
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
