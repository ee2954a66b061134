"""Injected dependencies: the platform, a database session and the authenticated caller.

Every dependency that does no I/O is ``async def``: FastAPI runs a plain ``def`` dependency on
the thread pool, and each such hop (a worker thread woken, the event loop woken back) cost more
than the work itself; on a busy machine a hop waits for the scheduler twice. Only what reads the
database (the actor's row) or ends a transaction (the session's close) goes to a thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Annotated, Any, TypeVar

from anyio import CancelScope, CapacityLimiter, to_thread
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.platform import Platform
from contracts.common import OPERATOR_ORG_ID, Actor, Role
from db.models import User
from security.tokens import InvalidToken, decode_token

oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token")
T = TypeVar("T")

OPERATOR_ROLES = (Role.COMPLIANCE, Role.OPS_SUPERVISOR, Role.ADMIN)


async def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


async def get_session(platform: PlatformDep) -> AsyncIterator[Session]:
    """A session for the request. Opening one does no I/O (it connects on first use), so it is
    made here; closing ends its transaction and returns the connection (I/O), on a thread."""
    session = platform.sessions()
    try:
        yield session
    finally:
        if session.in_transaction():
            # Shielded, and with a limiter of its own as FastAPI closes a ``def`` dependency's:
            # the connection goes back even when the request is cancelled or every worker
            # thread is busy with requests waiting for a connection.
            with CancelScope(shield=True):
                await to_thread.run_sync(session.close, limiter=CapacityLimiter(1))
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def read_then_release(session: Session, read: Callable[[Session], T]) -> T:
    """``read`` (database work, reads mostly) on the request's session on a thread, then the
    connection back in the pool: for an ``async`` route that goes on to wait on another system
    (a process's live status, a decision's update), which so holds no connection while it
    waits, and needs no second one."""

    def reading() -> T:
        try:
            return read(session)
        finally:
            session.close()

    return await run_in_threadpool(reading)


async def get_actor(
    request: Request,
    platform: PlatformDep,
    session: SessionDep,
    token: Annotated[str, Depends(oauth2)],
) -> Actor:
    """The caller of a bearer token, as the database knows them now."""
    if reads_elsewhere(request.scope.get("route"), get_actor):
        return await read_then_release(session, partial(actor_for_token, platform, token=token))
    return await run_in_threadpool(actor_for_token, platform, session, token)


def reads_elsewhere(route: object, caller: Callable[..., object]) -> bool:
    """Whether nothing of the route but ``caller`` (the dependency reading who calls) uses the
    request's session: the route reads and writes on sessions of its own, and the session the
    caller was read on gives its connection back at once, in the same thread hop. Kept, it
    was idle in its transaction while the route took a second one, and across an ``async``
    route's wait on Temporal (up to 30 s for an update)."""
    dependant = getattr(route, "dependant", None)
    return dependant is not None and not _uses_session(dependant, caller)


def _uses_session(dependant: Any, caller: Callable[..., object]) -> bool:
    for sub in dependant.dependencies:
        if sub.call is get_session:
            return True
        if sub.call is not caller and _uses_session(sub, caller):
            return True
    return False


def actor_for_token(platform: Platform, session: Session, token: str) -> Actor:
    """The holder of ``token`` (a bearer header's or the workbench's session cookie's) as the
    database knows them now: a deactivated or demoted user loses access at once, not when the
    token expires; 401 when it cannot be trusted."""
    try:
        claims = decode_token(token, secret=platform.jwt_secret)
    except InvalidToken as invalid:
        raise _unauthorised(f"invalid bearer token: {invalid.reason}") from None
    # The user's row itself (not a few columns), held by the session's ``info``: the identity
    # map holds rows weakly, and a route or page reading the user again (/auth/me, every
    # page's header) then finds it there instead of asking the database a second time.
    user = session.get(User, claims.sub)
    if user is None or not user.active or user.org_id != claims.org:
        raise _unauthorised("user no longer active")
    session.info["caller"] = user
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
    """A dependency admitting callers holding any of ``roles``; others get 403. A plain ``def``
    (one thread hop) on purpose: the workbench's pages call the check directly."""

    def check(actor: CurrentActor) -> Actor:
        if not actor.has_any(*roles):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"requires one of the roles: {', '.join(r.value for r in roles)}",
            )
        return actor

    return check


def require_staff(*roles: Role) -> Callable[[Actor], Actor]:
    """A dependency admitting platform staff holding any of ``roles``: held inside the operator's
    own organisation, as ``is_operator`` reads staff. Others get 403, a user of another
    organisation given such a role included."""
    holds = require(*roles)

    def check(actor: CurrentActor) -> Actor:
        holds(actor)
        if actor.org_id != OPERATOR_ORG_ID:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail="requires the platform operator's staff"
            )
        return actor

    return check


SupplierActor = Annotated[Actor, Depends(require(Role.SUPPLIER))]


async def _require_admin(actor: CurrentActor) -> Actor:
    if not (actor.org_id == OPERATOR_ORG_ID and actor.has_any(Role.ADMIN)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="requires the platform admin role")
    return actor


AdminActor = Annotated[Actor, Depends(_require_admin)]


def not_found(what: str) -> HTTPException:
    """Another organisation's object answers exactly like a missing one."""
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{what} not found")
