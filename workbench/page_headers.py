"""The workbench pages' security and caching headers, added to every page's answer.

Pure ASGI, not ``app.middleware("http")``: installed on the whole app, it sees every API request
too, and Starlette's ``BaseHTTPMiddleware`` ran each of them in a task of its own with the
response streamed back through a memory channel; here an API request costs a path check.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class PageHeadersMiddleware:
    """Adds ``headers`` (unless the page set its own) to answers under ``prefix``/, except its
    static files."""

    def __init__(self, app: ASGIApp, *, headers: Mapping[str, str], prefix: str) -> None:
        self._app = app
        self._headers = dict(headers)
        self._pages = prefix + "/"
        self._static = prefix + "/static/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or not path.startswith(self._pages)
            or path.startswith(self._static)
        ):
            await self._app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer = MutableHeaders(scope=message)
                for name, value in self._headers.items():
                    answer.setdefault(name, value)
            await send(message)

        await self._app(scope, receive, with_headers)
