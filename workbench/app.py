"""Mounts the workbench on the API's app: its pages, its assets and its HTML error pages.

The workbench is served by the API process on the API's own dependencies (one database pool, one
Temporal client, one rule of access); only its answers differ: pages instead of JSON, a redirect
to sign-in instead of a 401, an error page in both languages instead of a problem document.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request, status
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import RequestResponseEndpoint
from temporalio.client import WorkflowUpdateFailedError

from api.errors import http_problem, update_rejection
from workbench.pages import (
    auth,
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
    """Call after ``api.errors.install_error_handlers``: it wraps the HTTP error handler."""
    for module in PAGES:
        app.include_router(module.router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="workbench-static")
    app.middleware("http")(_page_headers)

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, needed: SignInNeeded) -> Response:
        return RedirectResponse(
            f"{PREFIX}/login?next={quote(needed.next_url, safe='')}",
            status_code=status.HTTP_303_SEE_OTHER,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        if not request.url.path.startswith(PREFIX + "/"):
            return http_problem(request, error)
        return error_page(request, error)

    @app.exception_handler(WorkflowUpdateFailedError)
    async def _update_failed(request: Request, error: WorkflowUpdateFailedError) -> Response:
        rejection = update_rejection(error)
        if not request.url.path.startswith(PREFIX + "/"):
            return http_problem(request, rejection)
        return error_page(request, rejection)


async def _page_headers(request: Request, call_next: RequestResponseEndpoint) -> Response:
    response = await call_next(request)
    if request.url.path.startswith(PREFIX + "/") and not request.url.path.startswith(
        f"{PREFIX}/static/"
    ):
        for name, value in PAGE_HEADERS.items():
            response.headers.setdefault(name, value)
    return response


def error_page(request: Request, error: StarletteHTTPException) -> Response:
    """The refusal as a page: what the API would have said, in words and its status."""
    detail = error.detail
    if isinstance(detail, list):
        detail = "; ".join(f"{d.get('field')}: {d.get('rule')}" for d in detail)
    return render(
        request,
        "error.html",
        {"status": error.status_code, "detail": str(detail)},
        status_code=error.status_code,
    )
