"""An organisation's notification rules: read by its members, written by its principal or admin.

The plain functions (``list_rules``, ``save_rule``, ``delete_rule``, ``event_catalogue``) are
what the routes call and what the workbench's pages call too, so both apply one rule of who may
do what and one validation (``rules.notification_rules`` plus the checks needing the database:
recipients must be members of the organisation). A refused rule answers 422 naming the field.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import CurrentActor, PlatformDep, SessionDep, not_found
from api.errors import invalid
from api.params import IdPath
from contracts.common import Actor
from contracts.notifications import Channel, RuleBody
from db.audit_log import append_audit
from db.models import Organisation, User
from db.notification_rules import NotificationRule
from rules.notification_rules import (
    EVENT_TYPES,
    condition_json,
    may_manage_rules,
    rule_problems,
)

router = APIRouter(prefix="/notification-rules", tags=["notifications"])


class RuleView(BaseModel):
    id: str
    name: str
    event_type: str
    conditions: list[dict[str, Any]]  # as stored: money amounts as strings
    recipient_roles: list[str]
    recipient_user_ids: list[str]
    channels: list[str]
    webhook_url: str | None
    active: bool
    created_by: str
    created_at: datetime
    updated_at: datetime


class SavedRule(RuleView):
    # The webhook's signing secret, shown once: when the platform generated it just now.
    webhook_secret: str | None = None


class EventTypeView(BaseModel):
    event_type: str
    subject_type: str
    description: str
    fields: dict[str, str]  # field name -> money | number | days | text


def event_catalogue() -> list[EventTypeView]:
    return [
        EventTypeView(
            event_type=name,
            subject_type=event.subject_type,
            description=event.description,
            fields={field: kind.value for field, kind in event.fields.items()},
        )
        for name, event in sorted(EVENT_TYPES.items())
    ]


def may_manage(session: Session, actor: Actor) -> bool:
    """Whether ``actor`` may write its organisation's rules (pages show the form by it)."""
    org = session.get(Organisation, actor.org_id)
    return org is not None and may_manage_rules(org.kind, actor.roles)


def list_rules(session: Session, actor: Actor) -> list[RuleView]:
    """The caller's organisation's rules, oldest first."""
    rows = session.scalars(
        select(NotificationRule)
        .where(NotificationRule.org_id == actor.org_id)
        .order_by(NotificationRule.created_at, NotificationRule.id)
    )
    return [_view(row) for row in rows]


def save_rule(
    session: Session,
    actor: Actor,
    body: RuleBody,
    *,
    allow_loopback_webhooks: bool,
    rule_id: str | None = None,
) -> SavedRule:
    """Create a rule (``rule_id`` None) or replace one, audited and committed; HTTPException
    (403, 404, or 422 naming the field) when it may not be saved."""
    _require_manager(session, actor)
    row = None
    if rule_id is not None:
        row = session.get(NotificationRule, rule_id, with_for_update=True)
        if row is None or row.org_id != actor.org_id:
            raise not_found("notification rule")
    problems = rule_problems(body, allow_loopback_webhooks=allow_loopback_webhooks)
    if problems:
        raise invalid(problems[0].field, f"{problems[0].rule} (rule {body.name!r})")
    _check_members(session, actor.org_id, body)
    kept = row is not None and row.webhook_secret is not None
    wanted = body.webhook_url is not None and body.webhook_secret is None and not kept
    generated = secrets.token_urlsafe(32) if wanted else None
    if row is None:
        row = NotificationRule(
            id=f"nrl_{uuid.uuid4().hex[:24]}", org_id=actor.org_id, created_by=actor.user_id
        )
        session.add(row)
    row.name = body.name
    row.event_type = body.event_type
    row.conditions = [condition_json(c) for c in body.conditions]
    row.recipient_roles = sorted({r.value for r in body.recipient_roles})
    row.recipient_user_ids = sorted(set(body.recipient_user_ids))
    row.channels = [c.value for c in body.channels]
    row.webhook_url = body.webhook_url
    if body.webhook_url is None:
        row.webhook_secret = None
    elif body.webhook_secret or generated:
        row.webhook_secret = body.webhook_secret or generated
    row.active = body.active
    session.flush()
    detail = body.model_dump(mode="json", exclude={"webhook_secret"})  # never the secret
    _audit(session, actor, "notification_rule.saved", row, detail)
    session.commit()
    session.refresh(row)
    return SavedRule(**_view(row).model_dump(), webhook_secret=generated)


def delete_rule(session: Session, actor: Actor, rule_id: str) -> None:
    """Delete the rule (its deliveries stay, pointing at none); audited and committed."""
    _require_manager(session, actor)
    row = session.get(NotificationRule, rule_id, with_for_update=True)
    if row is None or row.org_id != actor.org_id:
        raise not_found("notification rule")
    _audit(session, actor, "notification_rule.deleted", row, {"name": row.name})
    session.delete(row)
    session.commit()


@router.get("/catalogue")
def catalogue(actor: CurrentActor) -> list[EventTypeView]:
    """The event types a rule may name, each with the fields its conditions may test."""
    return event_catalogue()


@router.get("")
def rules(actor: CurrentActor, session: SessionDep) -> list[RuleView]:
    """The caller's organisation's rules."""
    return list_rules(session, actor)


@router.post("", status_code=status.HTTP_201_CREATED)
def create(
    body: RuleBody, actor: CurrentActor, session: SessionDep, platform: PlatformDep
) -> SavedRule:
    """Add a rule (the organisation's principal or admin); a generated webhook secret is
    answered once."""
    allow = platform.settings.webhook_allow_loopback
    return save_rule(session, actor, body, allow_loopback_webhooks=allow)


@router.put("/{rule_id}")
def replace(
    rule_id: IdPath,
    body: RuleBody,
    actor: CurrentActor,
    session: SessionDep,
    platform: PlatformDep,
) -> SavedRule:
    """Replace a rule; an omitted webhook secret keeps the one it has."""
    allow = platform.settings.webhook_allow_loopback
    return save_rule(session, actor, body, allow_loopback_webhooks=allow, rule_id=rule_id)


@router.delete("/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(rule_id: IdPath, actor: CurrentActor, session: SessionDep) -> None:
    """Delete a rule."""
    delete_rule(session, actor, rule_id)


def _require_manager(session: Session, actor: Actor) -> None:
    if not may_manage(session, actor):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="notification rules are written by the organisation's principal or admin",
        )


def _check_members(session: Session, org_id: str, body: RuleBody) -> None:
    members = set(
        session.scalars(
            select(User.id).where(User.org_id == org_id, User.id.in_(body.recipient_user_ids))
        )
    )
    for i, user_id in enumerate(body.recipient_user_ids):
        if user_id not in members:
            raise invalid(
                f"recipient_user_ids.{i}",
                f"{user_id!r} is not a member of the organisation (rule {body.name!r})",
            )
    personal = {Channel.IN_APP, Channel.EMAIL} & set(body.channels)
    if personal and body.recipient_roles and not body.recipient_user_ids:
        roles = [r.value for r in body.recipient_roles]
        anyone = session.scalar(
            select(User.id).where(User.org_id == org_id, User.roles.overlap(roles)).limit(1)
        )
        if anyone is None:
            raise invalid(
                "recipient_roles",
                f"no member of the organisation holds these roles, so no one would receive "
                f"it by in-app or e-mail (rule {body.name!r})",
            )


def _view(row: NotificationRule) -> RuleView:
    return RuleView.model_validate(row, from_attributes=True)


def _audit(
    session: Session, actor: Actor, action: str, row: NotificationRule, detail: dict[str, Any]
) -> None:
    append_audit(
        session,
        actor=actor,
        action=action,
        target_type="notification_rule",
        target_id=row.id,
        detail=detail,
    )
