"""The bell and the organisation's notification rules.

The bell lists the caller's in-app deliveries (``GET /notifications/inbox``'s function); the
rules page lists, adds and deletes the organisation's rules through the API's own functions
(``save_rule`` validates and audits exactly as ``POST /notification-rules`` does). A rule is
written in a plain form: the event type is chosen first (the page reloads with that type's
fields), then up to three conditions, recipients by role or by member, and channels.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from api.deps import PlatformDep, SessionDep, read_then_release
from api.errors import summary
from api.pagination import Keyset
from api.params import IdPath
from api.platform import Platform
from api.routes.notification_rules import (
    delete_rule,
    event_catalogue,
    list_rules,
    may_manage,
    save_rule,
)
from api.routes.notifications import DELIVERED_NEWEST_FIRST, inbox, inbox_query, mark_read
from contracts.common import Actor, Line, Role
from contracts.notifications import Channel, RuleBody
from db.models import User
from workbench.pages.common import PREFIX, CsrfChecked, PageActor, render
from workbench.pages.paging import Cursor, page_rows

router = APIRouter(prefix=PREFIX, include_in_schema=False)
CONDITION_ROWS = 3
BELL_SHOWN = 100
# The API inbox's order under a name of its own: the API's cursors are not the page's.
BELL_ORDER = Keyset("bell", DELIVERED_NEWEST_FIRST.keys)


@router.get("/notifications", response_class=HTMLResponse)
def bell(
    request: Request, actor: PageActor, session: SessionDep, cursor: Cursor = None
) -> HTMLResponse:
    """My in-app notifications, newest first, unread marked; a hundred a page, paged as
    ``GET /notifications/inbox``."""
    shown = page_rows(request, session, BELL_ORDER, inbox_query(actor), cursor, size=BELL_SHOWN)
    return render(
        request,
        "notifications.html",
        {
            "inbox": inbox(session, actor, shown.rows),
            "next_url": shown.next_url,
            "first_url": shown.first_url,
        },
    )


@router.post("/notifications/{delivery_id}/read", dependencies=[CsrfChecked])
def read(
    delivery_id: IdPath,
    actor: PageActor,
    session: SessionDep,
    back: Annotated[Line, Form(max_length=2000)] = "",
) -> Response:
    """Mark one read and return to the bell's page it was marked on."""
    mark_read(session, actor, delivery_id)
    bell = f"{PREFIX}/notifications"
    return RedirectResponse(back if _is_page_of(back, bell) else bell, status_code=303)


def _is_page_of(address: str, path: str) -> bool:
    """``address`` is ``path`` itself or one of its pages (never another site or page)."""
    return address == path or address.startswith(path + "?")


@router.get("/notification-rules", response_class=HTMLResponse)
def rules_page(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    event_type: Annotated[Line, Query(max_length=60)] = "",
) -> HTMLResponse:
    """The organisation's rules, and the form to add one (for those who may)."""
    return _rules_page(request, actor, session, event_type=event_type)


def _rules_page(
    request: Request,
    actor: Actor,
    session: SessionDep,
    *,
    event_type: str,
    status_code: int = 200,
    **extra: Any,
) -> HTMLResponse:
    catalogue = {event.event_type: event for event in event_catalogue()}
    chosen = catalogue.get(event_type) or next(iter(catalogue.values()))
    members = session.execute(
        select(User.id, User.full_name, User.email)
        .where(User.org_id == actor.org_id, User.active)
        .order_by(User.full_name)
    ).all()
    return render(
        request,
        "notification_rules.html",
        {
            "rules": list_rules(session, actor),
            "may_manage": may_manage(session, actor),
            "catalogue": list(catalogue.values()),
            "chosen": chosen,
            "condition_rows": range(CONDITION_ROWS),
            "roles": [role.value for role in Role],
            "members": members,
            "channels": [channel.value for channel in Channel],
            "names": {user_id: name for user_id, name, _ in members},
            **extra,
        },
        status_code=status_code,
    )


@router.post("/notification-rules", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def add_rule(
    request: Request, actor: PageActor, session: SessionDep, platform: PlatformDep
) -> HTMLResponse:
    """Save a rule through the API's own validation; a refusal shows on the form, naming the
    field and the rule it broke."""
    form = await request.form()
    # Saved and the page rendered on a thread: the database is not read on the event loop.
    return await read_then_release(
        session, lambda saving: _add_rule(request, actor, saving, platform, form)
    )


def _add_rule(
    request: Request, actor: Actor, session: Session, platform: Platform, form: FormData
) -> HTMLResponse:
    event_type = str(form.get("event_type", ""))
    try:
        body = RuleBody.model_validate(_rule_body(form))
        saved = save_rule(
            session,
            actor,
            body,
            allow_loopback_webhooks=platform.settings.webhook_allow_loopback,
        )
    except ValidationError as error:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()[:5]]
        return _rules_page(
            request, actor, session, event_type=event_type, status_code=422, problems=problems
        )
    except HTTPException as refused:
        if refused.status_code != 422:
            raise
        detail: Any = refused.detail  # invalid() answers a list of {field, rule}
        problems = [summary(detail)] if isinstance(detail, list) else [str(detail)]
        return _rules_page(
            request, actor, session, event_type=event_type, status_code=422, problems=problems
        )
    return _rules_page(request, actor, session, event_type=event_type, saved=saved)


@router.post("/notification-rules/{rule_id}/delete", dependencies=[CsrfChecked])
def remove_rule(rule_id: IdPath, actor: PageActor, session: SessionDep) -> Response:
    """Delete one of the organisation's rules."""
    delete_rule(session, actor, rule_id)
    return RedirectResponse(f"{PREFIX}/notification-rules", status_code=303)


def _rule_body(form: FormData) -> dict[str, Any]:
    """The form's fields as the API's rule body: conditions' values typed by their field's type
    (money with its currency), empty condition rows left out."""
    types = {event.event_type: event.fields for event in event_catalogue()}.get(
        str(form.get("event_type", "")), {}
    )
    conditions = []
    for i in range(CONDITION_ROWS):
        field = str(form.get(f"field_{i}", ""))
        raw = str(form.get(f"value_{i}", "")).strip()
        if not field or not raw:
            continue
        value: Any = raw
        kind = types.get(field)
        if kind in ("money", "number", "days"):
            value = _number(raw)
        if kind == "money":
            value = {"amount": value, "currency": str(form.get(f"currency_{i}", "CNY"))}
        conditions.append({"field": field, "op": str(form.get(f"op_{i}", "")), "value": value})
    return {
        "name": str(form.get("name", "")),
        "event_type": str(form.get("event_type", "")),
        "conditions": conditions,
        "recipient_roles": [str(v) for v in form.getlist("recipient_roles")],
        "recipient_user_ids": [str(v) for v in form.getlist("recipient_user_ids")],
        "channels": [str(v) for v in form.getlist("channels")],
        "webhook_url": str(form.get("webhook_url", "")).strip() or None,
    }


def _number(raw: str) -> Decimal | str:
    """A typed number; what is not one stays text, for the rule's own check to name."""
    try:
        return Decimal(raw.replace(",", ""))
    except InvalidOperation:
        return raw
