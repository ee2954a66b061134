"""Cold chain: temperature loggers, registered by whoever runs the fleet.

Loggers are registered by a carrier's CARRIER or LOGISTICS users, or by a supplier's SUPPLIER
or LOGISTICS users (suppliers that ship with their own vehicles). Registration answers the
logger's secret once; only its SHA-256 is kept, and the logger posts its readings with it
(``api.routes.cold_chain_readings``). Loggers go on a shipment's trip before pickup
(``api.routes.cold_chain_assignments``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.deps import CurrentActor, PlatformDep, SessionDep
from api.errors import invalid
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Page, ascending, paged
from contracts.cold_chain import LoggerId
from contracts.common import Actor, Frozen, Line, OrgKind, Role
from db.audit_log import append_audit
from db.cold_chain import ColdLogger
from db.models import Organisation
from db.session import transaction

router = APIRouter(tags=["cold chain"])
BY_ID = Keyset("loggers", (ascending(ColdLogger.id),))
# Who registers loggers, by the kind of their organisation.
REGISTRARS = {
    OrgKind.CARRIER.value: (Role.CARRIER, Role.LOGISTICS),
    OrgKind.SUPPLIER.value: (Role.SUPPLIER, Role.LOGISTICS),
}


class LoggerRequest(Frozen):
    logger_id: LoggerId = Field(examples=["TT4-000123"])
    model: Line = Field(default="", max_length=100, examples=["Testo 184 T3"])


class LoggerView(BaseModel):
    logger_id: str
    model: str
    owner_org_id: str
    registered_at: datetime
    retired_at: datetime | None


class RegisteredLogger(LoggerView):
    """The logger and its secret, shown this once: it posts readings with
    ``Authorization: Logger <logger_id>:<secret>``."""

    secret: str


def _view(row: ColdLogger) -> LoggerView:
    return LoggerView(
        logger_id=row.id,
        model=row.model,
        owner_org_id=row.owner_org_id,
        registered_at=row.registered_at,
        retired_at=row.retired_at,
    )


def _registrar(session: Session, actor: Actor) -> None:
    org = session.get(Organisation, actor.org_id)
    roles = REGISTRARS.get(org.kind if org is not None else "", ())
    if not actor.has_any(*roles):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="loggers are kept by a carrier (carrier, logistics) or a supplier "
            "(supplier, logistics)",
        )


@router.post("/cold-chain/loggers", status_code=status.HTTP_201_CREATED)
def register_logger(
    body: LoggerRequest, actor: CurrentActor, platform: PlatformDep
) -> RegisteredLogger:
    """Register a logger of the caller's organisation; its secret is answered this once."""
    secret = secrets.token_urlsafe(32)
    try:
        with transaction(platform.sessions) as session:
            _registrar(session, actor)
            if session.get(ColdLogger, body.logger_id) is not None:
                raise _taken(body.logger_id)
            row = ColdLogger(
                id=body.logger_id,
                owner_org_id=actor.org_id,
                model=body.model,
                secret_sha256=hashlib.sha256(secret.encode()).hexdigest(),
                registered_by=actor.user_id,
                registered_at=datetime.now(UTC),
            )
            session.add(row)
            session.flush()
            append_audit(
                session,
                actor=actor,
                action="cold_chain.logger_registered",
                target_type="cold_logger",
                target_id=row.id,
                detail={"model": row.model},
            )
    except IntegrityError:  # registered by a request racing this one
        raise _taken(body.logger_id) from None
    return RegisteredLogger(**_view(row).model_dump(), secret=secret)


def _taken(logger_id: str) -> HTTPException:
    return invalid("logger_id", f"{logger_id} is already registered", code=status.HTTP_409_CONFLICT)


@router.get("/cold-chain/loggers", responses=NEXT_PAGE_HEADERS)
def list_loggers(
    actor: CurrentActor, session: SessionDep, page: Annotated[Page, paged(BY_ID)]
) -> list[LoggerView]:
    """The caller's organisation's loggers by id, a page at a time."""
    _registrar(session, actor)
    query = select(ColdLogger).where(ColdLogger.owner_org_id == actor.org_id)
    return [_view(row) for row in page.rows(session, query)]
