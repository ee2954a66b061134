"""An unexpected error answers 500 and keeps the client's connection open.

Starlette's outermost ``ServerErrorMiddleware`` sends the 500 and then re-raises the error "so
servers can log it"; uvicorn, seeing an exception after the response started, cannot know the
response was complete and closes the connection (``transport.close()``), after first formatting
the traceback. A keep-alive client has meanwhile sent its next request on that connection, which
then fails with "server disconnected". So the error is contained here: logged once, answered by
the app's 500 handler, and not raised further. Only an error that cuts a response already under
way still propagates, since closing the connection is then the only honest end.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import unexpected_problem

log = logging.getLogger("tradeflow.api")


class UnexpectedErrorMiddleware:
    """Pure ASGI, so it sees the real ``send`` and knows whether a response is under way.

    The answer is the app's one 500 problem (``api.errors.unexpected_problem``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = complete = False

        async def watching(message: Message) -> None:
            nonlocal started, complete
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                complete = True
            await send(message)

        try:
            await self._app(scope, receive, watching)
        except Exception as error:
            log.error(
                "unexpected error",
                exc_info=error,
                extra={"method": scope["method"], "path": scope["path"]},
            )
            if complete:
                return  # e.g. a background task after the answer: the client has it whole
            if started:
                raise  # a half-sent response: only closing the connection ends it
            await unexpected_problem(Request(scope, receive))(scope, receive, send)
