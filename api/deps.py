"""Injected dependencies: the platform, a database session and the authenticated caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api.platform import Platform
from contracts.common import Actor, Role
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


def get_actor(platform: PlatformDep, token: Annotated[str, Depends(oauth2)]) -> Actor:
    try:
        claims = decode_token(token, secret=platform.jwt_secret)
    except InvalidToken as invalid:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=f"invalid bearer token: {invalid.reason}",
            headers={"WWW-Authenticate": "Bearer"},
        ) from None
    return Actor(user_id=claims.sub, org_id=claims.org, roles=claims.roles)


CurrentActor = Annotated[Actor, Depends(get_actor)]


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
OperatorActor = Annotated[Actor, Depends(require(*OPERATOR_ROLES))]
AdminActor = Annotated[Actor, Depends(require(Role.ADMIN))]


def not_found(what: str) -> HTTPException:
    """Another organisation's object answers exactly like a missing one."""
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{what} not found")
