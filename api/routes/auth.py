"""Logging in (OAuth2 password flow) and who am I."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, status
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import CurrentActor, PlatformDep, SessionDep
from api.platform import Platform
from contracts.common import Actor, Line, Role, Text
from db.audit_log import append_audit
from db.models import Organisation, User
from security.passwords import spend_password_check, verify_password
from security.tokens import issue_token

router = APIRouter(prefix="/auth", tags=["auth"])


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Me(BaseModel):
    user_id: str
    email: str
    full_name: str
    org_id: str
    org_name: str
    org_kind: str
    roles: list[Role]


@dataclass(frozen=True)
class LoginForm:
    username: str
    password: str


def _login_form(
    username: Annotated[Line, Form(min_length=1, max_length=320, description="your email")],
    password: Annotated[Text, Form(min_length=1, max_length=1024)],
    grant_type: Annotated[Line | None, Form(pattern="^password$")] = None,
    scope: Annotated[Line, Form(max_length=1000)] = "",
    client_id: Annotated[Line | None, Form(max_length=200)] = None,
    client_secret: Annotated[Line | None, Form(max_length=200)] = None,
) -> LoginForm:
    """The OAuth2 password flow's form (RFC 6749 4.3); scope and client are accepted, unused."""
    return LoginForm(username=username, password=password)


@router.post("/token")
def login(
    form: Annotated[LoginForm, Depends(_login_form)],
    platform: PlatformDep,
    session: SessionDep,
) -> TokenResponse:
    """Exchange email and password for a bearer token."""
    actor = authenticate(session, form.username, form.password, channel="api")
    if actor is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="incorrect email or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token, ttl = session_token(platform, actor)
    return TokenResponse(access_token=token, expires_in=int(ttl.total_seconds()))


def authenticate(session: Session, email: str, password: str, *, channel: str) -> Actor | None:
    """The user these credentials prove, or None; either way the attempt is in the audit log
    (``channel`` says whether through the API or the workbench's sign-in)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        spend_password_check(password)  # same cost as a real check: no user enumeration
    ok = user is not None and user.active and verify_password(user.password_hash, password)
    actor = (
        Actor(user_id=user.id, org_id=user.org_id, roles=tuple(Role(r) for r in user.roles))
        if user is not None
        else Actor(user_id="anonymous", org_id="")
    )
    append_audit(
        session,
        actor=actor,
        action="auth.login" if ok else "auth.login_failed",
        target_type="user",
        target_id=user.id if user else email[:200],
        detail={"channel": channel},
    )
    session.commit()
    return actor if ok else None


def session_token(platform: Platform, actor: Actor) -> tuple[str, timedelta]:
    """A token for ``actor`` and how long it lives, for a bearer header or a session cookie."""
    ttl = timedelta(minutes=platform.settings.jwt_ttl_minutes)
    token = issue_token(
        secret=platform.jwt_secret,
        user_id=actor.user_id,
        org_id=actor.org_id,
        roles=actor.roles,
        ttl=ttl,
        now=datetime.now(UTC),
    )
    return token, ttl


@router.get("/me")
def me(actor: CurrentActor, session: SessionDep) -> Me:
    """The authenticated user, their organisation and roles."""
    user = session.get(User, actor.user_id)
    org = session.get(Organisation, actor.org_id)
    if user is None or org is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="user no longer exists")
    return Me(
        user_id=user.id,
        email=user.email,
        full_name=user.full_name,
        org_id=org.id,
        org_name=org.legal_name,
        org_kind=org.kind,
        roles=list(actor.roles),
    )
