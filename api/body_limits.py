"""Request bodies are bounded before anything reads them: a 200 MB JSON body was read and
parsed (2.8 s, and its memory) before any check could refuse it.

A body carrying files (``multipart/form-data``) may be as large as ``UPLOADS``: an
accreditation application carries up to 17, each then checked against ``max_upload_bytes`` as
it is read (``api.uploads``). Any other body at most ``MOST``: the largest a client sends (an
RFQ of 200 lines, 2,000 logger readings) is well under 1 MB. A declared ``Content-Length``
past the bound is answered 413 at once; a body sent in chunks is counted as it is read, and
refused once past it, whoever reads it (a route, or the idempotency keys' digest).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem_response

MOST = 8 * 1024 * 1024
UPLOADS = 256 * 1024 * 1024


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request's body is larger than {limit:,} bytes")


class BodyLimitMiddleware:
    """Pure ASGI; outside the idempotency keys, which read a POST's body first."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        files = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        limit = UPLOADS if files else MOST
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refused(scope, receive, send, BodyTooLarge(limit))
            return
        read = 0
        started = False

        async def counted() -> Message:
            nonlocal read
            message = await receive()
            read += len(message.get("body", b""))
            if read > limit:
                raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, counted, watched)
        except BodyTooLarge as refused:
            if started:
                raise
            await _refused(scope, receive, send, refused)


async def _refused(scope: Scope, receive: Receive, send: Send, error: BodyTooLarge) -> None:
    answer = problem_response(error.status_code, error.detail, request=Request(scope))
    await answer(scope, receive, send)
