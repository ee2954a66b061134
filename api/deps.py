"""Injected dependencies: the platform, a database session and the authenticated caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api.platform import Platform
from contracts.common import OPERATOR_ORG_ID, Actor, Role
from db.models import User
from security.tokens import InvalidToken, decode_token

oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token")

OPERATOR_ROLES = (Role.COMPLIANCE, Role.OPS_SUPERVISOR, Role.ADMIN)


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


def get_session(platform: PlatformDep) -> Iterator[Session]:
    with platform.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_actor(
    platform: PlatformDep, session: SessionDep, token: Annotated[str, Depends(oauth2)]
) -> Actor:
    """The caller of a bearer token, as the database knows them now."""
    return actor_for_token(platform, session, token)


def actor_for_token(platform: Platform, session: Session, token: str) -> Actor:
    """The holder of ``token`` (a bearer header's or the workbench's session cookie's) as the
    database knows them now: a deactivated or demoted user loses access at once, not when the
    token expires; 401 when it cannot be trusted."""
    try:
        claims = decode_token(token, secret=platform.jwt_secret)
    except InvalidToken as invalid:
        raise _unauthorised(f"invalid bearer token: {invalid.reason}") from None
    user = session.get(User, claims.sub)
    if user is None or not user.active or user.org_id != claims.org:
        raise _unauthorised("user no longer active")
    roles = tuple(r for r in claims.roles if r.value in user.roles)
    return Actor(user_id=user.id, org_id=user.org_id, roles=roles)


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


CurrentActor = Annotated[Actor, Depends(get_actor)]


def is_operator(actor: Actor) -> bool:
    """Platform staff: an operator role held inside the operator's own organisation."""
    return actor.org_id == OPERATOR_ORG_ID and actor.has_any(*OPERATOR_ROLES)


def require(*roles: Role) -> Callable[[Actor], Actor]:
    """A dependency admitting callers holding any of ``roles``; others get 403."""

    def check(actor: CurrentActor) -> Actor:
        if not actor.has_any(*roles):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"requires one of the roles: {', '.join(r.value for r in roles)}",
            )
        return actor

    return check


SupplierActor = Annotated[Actor, Depends(require(Role.SUPPLIER))]


def _require_admin(actor: CurrentActor) -> Actor:
    if not (actor.org_id == OPERATOR_ORG_ID and actor.has_any(Role.ADMIN)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="requires the platform admin role")
    return actor


AdminActor = Annotated[Actor, Depends(_require_admin)]


def not_found(what: str) -> HTTPException:
    """Another organisation's object answers exactly like a missing one."""
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{what} not found")
