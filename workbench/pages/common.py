"""What every workbench page shares: who is signed in, CSRF, the language and rendering.

Signing in puts the same signed token the API hands out into an HttpOnly, SameSite=Strict cookie;
``page_actor`` turns it back into the caller exactly as the API's bearer dependency does
(``api.deps.actor_for_token``), so a deactivated user is out at once and every page then asks the
API's own access functions (``visible_task``, the order, RFQ and loan access rules...) what the
caller may see. Nothing here decides access itself.

Every form that changes something carries a CSRF token: an HMAC of the session token under the
platform's secret, so it is bound to this sign-in and cannot be forged or replayed by another
site (SameSite=Strict already keeps the cookie off cross-site posts; the token is the second
lock for browsers that ignore it). Sign-in, before any session exists, uses a random token in a
short-lived cookie of its own (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from psycopg2.extensions import TRANSACTION_STATUS_INERROR
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from api.deps import PlatformDep, SessionDep, actor_for_token, is_operator, reads_elsewhere
from api.routes.notifications import unread_query
from api.routes.tasks import tasks_of
from contracts.common import Actor, Line, Role
from db.models import HumanTask, Organisation, User
from workbench.i18n import Lang, both, china_time, money, process_label, translator
from workbench.terms import term

SESSION_COOKIE = "tf_session"
LANG_COOKIE = "tf_lang"
LOGIN_COOKIE = "tf_login"
PREFIX = "/workbench"
templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")
templates.env.filters["cst"] = china_time
templates.env.filters["cst_day"] = lambda moment: china_time(moment, with_time=False)
templates.env.filters["money"] = money
templates.env.globals["both"] = both


class SignInNeeded(Exception):
    """No trusted session: the page answers with a redirect to sign-in, then back."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def page_actor(request: Request, platform: PlatformDep, session: SessionDep) -> Actor:
    """The signed-in caller, as the API's bearer dependency would resolve them."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInNeeded(_here(request))
    try:
        actor = actor_for_token(platform, session, token)
    except HTTPException as refused:
        if refused.status_code == status.HTTP_401_UNAUTHORIZED:
            raise SignInNeeded(_here(request)) from None
        raise
    request.state.actor = actor
    if reads_elsewhere(request.scope.get("route"), page_actor):
        session.close()  # as ``api.deps.get_actor`` does: the page holds one connection at a time
    else:
        request.state.session = session  # the header's counts read on it (``navigation``)
    return actor


PageActor = Annotated[Actor, Depends(page_actor)]


def _here(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def safe_next(next_url: str | None) -> str:
    """Only a path of the workbench itself: never an open redirect to another site."""
    if next_url and next_url.startswith(PREFIX + "/") and not next_url.startswith("//"):
        return next_url
    return PREFIX + "/"


def csrf_token(secret: str, session_token: str) -> str:
    return hmac.new(secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def check_csrf(
    request: Request, platform: PlatformDep, csrf: Annotated[Line, Form(max_length=100)] = ""
) -> None:
    """Refuse (403) a form post whose CSRF token is not this session's."""
    token = request.cookies.get(SESSION_COOKIE, "")
    expected = csrf_token(platform.jwt_secret, token)
    if not token or not hmac.compare_digest(csrf, expected):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="csrf: stale or missing form token")


CsrfChecked = Depends(check_csrf)


def lang_of(request: Request) -> Lang:
    """The language chosen on the page, else the browser's, else Chinese."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in (Lang.ZH.value, Lang.EN.value):
        return Lang(chosen)
    accept = request.headers.get("accept-language", "").lower()
    if accept.startswith("en"):
        return Lang.EN
    return Lang.ZH


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    """A page in the caller's language, with the navigation for who is signed in."""
    lang = lang_of(request)
    platform = request.app.state.platform
    actor: Actor | None = getattr(request.state, "actor", None)
    values: dict[str, Any] = {
        "request": request,
        "lang": lang.value,
        "t": translator(lang),
        "process_label": partial(process_label, lang),
        "term": partial(term, lang),
        "actor": actor,
        "csrf": csrf_token(platform.jwt_secret, request.cookies.get(SESSION_COOKIE, "")),
        "here": _here(request),
        "nav": navigation(request, actor) if actor is not None else None,
    }
    values.update(context or {})
    return templates.TemplateResponse(request, template, values, status_code=status_code)


def navigation(request: Request, actor: Actor) -> dict[str, Any]:
    """Who is signed in, the open-task counts per process and the unread notifications, for
    every page's header. The user is the row authentication read (the session holds it); the
    rest is one statement: asked apart (the organisation's row loaded, the counts, the bell),
    they were three round trips and an ORM load."""
    process = func.split_part(HumanTask.workflow_id, ":", 1).label("process")
    per_process = (
        select(process, func.count().label("open"))
        .where(*tasks_of(actor), HumanTask.status == "open")
        .group_by(process)
        .subquery()
    )
    counts = select(
        func.json_agg(
            aggregate_order_by(
                func.json_build_array(per_process.c.process, per_process.c.open),
                per_process.c.process,
            )
        )
    )
    header = select(
        select(Organisation.legal_name).where(Organisation.id == actor.org_id).scalar_subquery(),
        counts.scalar_subquery(),
        unread_query(actor).scalar_subquery(),
    )
    with _reading(request) as session:
        user = session.get(User, actor.user_id)
        org_name, counted, unread = session.execute(header).one()
    task_counts = [(name, count) for name, count in counted or ()]
    return {
        "user_name": user.full_name if user else actor.user_id,
        "org_name": org_name or actor.org_id,
        "is_operator": is_operator(actor),
        "is_regulator": actor.has_any(Role.REGULATOR),
        "task_counts": task_counts,
        "open_total": sum(count for _, count in task_counts),
        "unread": unread,
    }


@contextmanager
def _reading(request: Request) -> Iterator[Session]:
    """The page's own session, where its transaction can still read: a second one held a
    second connection for every page (a pool half as deep under load, a ping and the user's
    row read again); a fresh one when the page's is closed (an error page) or failed."""
    shared: Session | None = getattr(request.state, "session", None)
    if shared is not None and _can_read(shared):
        with shared.no_autoflush:  # what the page left unflushed stays the page's
            yield shared
        return
    with request.app.state.platform.sessions() as fresh:
        yield fresh


def _can_read(session: Session) -> bool:
    """Whether the page's session is still in its transaction and the transaction can read:
    an error page renders after the request's dependencies have closed it, and a session
    begun again there would be closed by nothing (its connection lost to the pool)."""
    transaction = session.get_transaction()
    if transaction is None or not transaction.is_active:
        return False
    # A failed statement leaves SQLAlchemy's transaction active and PostgreSQL's aborted.
    dbapi = session.connection().connection.dbapi_connection
    return dbapi is not None and dbapi.info.transaction_status != TRANSACTION_STATUS_INERROR
