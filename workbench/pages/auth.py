"""Signing in and out of the workbench, and choosing its language."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import RedirectResponse, Response

from api.deps import PlatformDep, SessionDep
from api.routes.auth import authenticate, session_token
from contracts.common import Line, Text
from workbench.i18n import Lang
from workbench.pages.common import (
    LANG_COOKIE,
    LOGIN_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    CsrfChecked,
    render,
    safe_next,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)
_YEAR = 365 * 24 * 3600


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.get("/login")
def login_page(request: Request, next: Annotated[Line, Query(max_length=2000)] = "") -> Response:
    """The sign-in form, with a fresh double-submit token for it."""
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", {"next": safe_next(next), "login_csrf": token})
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=1800,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path=PREFIX,
    )
    return response


@router.post("/login")
def login(
    request: Request,
    platform: PlatformDep,
    session: SessionDep,
    email: Annotated[Line, Form(min_length=1, max_length=320)],
    password: Annotated[Text, Form(min_length=1, max_length=1024)],
    login_csrf: Annotated[Line, Form(max_length=100)] = "",
    next: Annotated[Line, Form(max_length=2000)] = "",
) -> Response:
    """Check the credentials the API's way; on success set the session cookie and go on."""
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, login_csrf):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="csrf: reload the sign-in page")
    actor = authenticate(session, email, password, channel="workbench")
    if actor is None:
        return render(
            request,
            "login.html",
            {"next": safe_next(next), "login_csrf": expected, "failed": True, "email": email},
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
    token, ttl = session_token(platform, actor)
    response = RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(ttl.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path=PREFIX,
    )
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout() -> Response:
    """Forget the session cookie."""
    response = RedirectResponse(f"{PREFIX}/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


@router.get("/lang/{lang}")
def choose_language(lang: Lang, next: Annotated[Line, Query(max_length=2000)] = "") -> Response:
    """Remember the chosen language and return to the page it was chosen on."""
    response = RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(LANG_COOKIE, lang.value, max_age=_YEAR, samesite="lax", path=PREFIX)
    return response
