"""Mounts the workbench on the API's app: its pages, its assets and its HTML error pages.

The workbench is served by the API process on the API's own dependencies (one database pool, one
Temporal client, one rule of access); only its answers differ: pages instead of JSON, a redirect
to sign-in instead of a 401, an error page in both languages instead of a problem document.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from workbench.page_headers import PageHeadersMiddleware
from workbench.pages import (
    auth,
    catalogue,
    catalogue_actions,
    catalogue_imports,
    dashboard,
    documents,
    inbox,
    notifications,
    processes,
    registers,
    registers_live,
    registers_trade,
    regulator,
    tasks,
)
from workbench.pages.common import PREFIX, SignInNeeded, render

STATIC = Path(__file__).parent / "static"
PAGES = (
    auth,
    inbox,
    tasks,
    processes,
    documents,
    registers,
    registers_trade,
    registers_live,
    regulator,
    dashboard,
    notifications,
    catalogue,
    catalogue_actions,
    catalogue_imports,
)


# Pages load nothing from elsewhere and run no script of anyone's; styles may be inline (a
# page's own <style>, SVG charts' style attributes). No framing: a decision button cannot be
# clickjacked. Pages carry other organisations' business: no shared cache keeps them.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' "
    "'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def install_workbench(app: FastAPI) -> None:
    """Call after ``api.errors.install_error_handlers``: on workbench paths its handlers' problem
    documents become pages."""
    for module in PAGES:
        app.include_router(module.router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="workbench-static")
    app.add_middleware(PageHeadersMiddleware, headers=PAGE_HEADERS, prefix=PREFIX)
    for error_type, handler in list(app.exception_handlers.items()):
        app.add_exception_handler(error_type, _as_page(handler))

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, needed: SignInNeeded) -> Response:
        return RedirectResponse(
            f"{PREFIX}/login?next={quote(needed.next_url, safe='')}",
            status_code=status.HTTP_303_SEE_OTHER,
        )


def _as_page(handler: Callable[..., Any]) -> Callable[[Request, Exception], Awaitable[Response]]:
    """The API's handler, whose problem document a workbench page shows as an error page (in
    both languages, with the status): one mapping of failures to statuses for API and pages."""

    async def handle(request: Request, error: Exception) -> Response:
        answer = handler(request, error)
        response: Response = await answer if inspect.isawaitable(answer) else answer
        if not request.url.path.startswith(PREFIX + "/"):
            return response
        problem = json.loads(bytes(response.body)) if response.body else {}
        # On a thread: the header reads its counts from the database.
        page = await run_in_threadpool(
            render,
            request,
            "error.html",
            {"status": response.status_code, "detail": problem.get("detail", "")},
            status_code=response.status_code,
        )
        if "retry-after" in response.headers:
            page.headers["Retry-After"] = response.headers["retry-after"]
        return page

    return handle
