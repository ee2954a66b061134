"""The caller's second factor: enrolling a TOTP authenticator, recovery codes, and step-up.

Enrolment is two requests: the new secret (to scan as a QR code or type in) and its first code,
which puts it in force and answers ten recovery codes, shown that once. Replacing a confirmed
authenticator needs a current code or a recovery code, so a stolen password or token cannot
swap the factor for the thief's own. ``POST /auth/step-up`` exchanges a code for a five-minute
grant that sensitive operations ask for in ``X-Step-Up`` (``api.second_factor``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentActor, SessionDep
from api.errors import invalid
from api.second_factor import (
    ENROLMENT_URL,
    STEP_UP_HEADER,
    audit,
    fail,
    prove,
    refuse_if_locked,
)
from contracts.common import Line
from db.models import User
from db.second_factor import (
    TotpEnrolment,
    clear_failures,
    issue_grant,
    locked_enrolment,
    recovery_codes_left,
    replace_recovery_codes,
)
from security.totp import new_secret, otpauth_uri, verify

router = APIRouter(prefix="/auth", tags=["second factor"])

TotpCode = Annotated[
    Line,
    Field(
        max_length=7,
        pattern=r"^[0-9]{3} ?[0-9]{3}$",
        description="the 6-digit code your authenticator shows now",
    ),
]
TypedRecoveryCode = Annotated[
    Line, Field(min_length=12, max_length=40, description="one of your recovery codes")
]
LOCKED: dict[int | str, dict[str, Any]] = {
    status.HTTP_429_TOO_MANY_REQUESTS: {
        "description": "Five wrong codes within 15 minutes: locked until the oldest ages out.",
        "headers": {
            "Retry-After": {
                "description": "seconds until the lock ends",
                "schema": {"type": "string"},
            }
        },
    }
}


class SecondFactorStatus(BaseModel):
    enrolled: bool = Field(description="an authenticator is confirmed and in force")
    confirmed_at: datetime | None
    enrolment_pending: bool = Field(description="a new authenticator waits for its first code")
    recovery_codes_left: int


class Proof(BaseModel):
    """A current code of the caller's authenticator, or one of their recovery codes (spent)."""

    model_config = ConfigDict(extra="forbid")

    code: TotpCode | None = None
    recovery_code: TypedRecoveryCode | None = None


class ConfirmationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: TotpCode


class NewEnrolment(BaseModel):
    secret: str = Field(description="base32, for an authenticator app; shown this once")
    otpauth_uri: str = Field(description="the same as an otpauth:// URI, for a QR code")


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(description="single-use; shown this once, keep them safe")


class StepUpGrantView(BaseModel):
    step_up_token: str = Field(description=f"send it in the {STEP_UP_HEADER} header")
    expires_at: datetime


@router.get("/second-factor")
def second_factor_status(actor: CurrentActor, session: SessionDep) -> SecondFactorStatus:
    """Whether the caller has a second factor in force, and how many recovery codes are left."""
    row = session.get(TotpEnrolment, actor.user_id)
    return SecondFactorStatus(
        enrolled=row is not None and row.secret is not None,
        confirmed_at=row.confirmed_at if row is not None else None,
        enrolment_pending=row is not None and row.pending_secret is not None,
        recovery_codes_left=recovery_codes_left(session, actor.user_id),
    )


@router.post("/second-factor/enrolment", responses=LOCKED)
def enrol(actor: CurrentActor, session: SessionDep, body: Proof | None = None) -> NewEnrolment:
    """Begin enrolling an authenticator: its secret, to confirm with its first code. Replacing
    one in force needs its current code or a recovery code; it stays in force until then."""
    row = locked_enrolment(session, actor.user_id, create=True)
    assert row is not None  # made if missing
    if row.secret is not None:
        if body is None or (body.code is None and body.recovery_code is None):
            raise invalid(
                "code",
                "replacing the authenticator in force needs a current code of it, or one of "
                "your recovery codes",
                code=status.HTTP_403_FORBIDDEN,
            )
        prove(session, actor, row, code=body.code, recovery_code=body.recovery_code)
    secret = new_secret()
    row.pending_secret = secret
    email = session.get_one(User, actor.user_id).email
    session.commit()
    return NewEnrolment(secret=secret, otpauth_uri=otpauth_uri(secret, email))


@router.post("/second-factor/confirmation", responses=LOCKED)
def confirm(body: ConfirmationRequest, actor: CurrentActor, session: SessionDep) -> RecoveryCodes:
    """Confirm the new authenticator with its current code: it is in force from now, and a new
    set of recovery codes replaces any earlier one."""
    row = locked_enrolment(session, actor.user_id, create=False)
    if row is None or row.pending_secret is None:
        raise invalid(
            "code",
            f"no authenticator is waiting for its first code: begin at POST {ENROLMENT_URL}",
            code=status.HTTP_409_CONFLICT,
        )
    now = datetime.now(UTC)
    refuse_if_locked(session, actor.user_id, now)
    # A new secret has had no code accepted yet: the steps typed on the old one do not count.
    step = verify(row.pending_secret, body.code, now, last_step=0)
    if step is None:
        fail(session, actor, now, "code", "not the new authenticator's current code")
    replaced = row.secret is not None
    row.secret, row.pending_secret = row.pending_secret, None
    row.confirmed_at, row.last_step = now, step
    clear_failures(session, actor.user_id)
    codes = replace_recovery_codes(session, actor.user_id)
    audit(session, actor, "auth.second_factor_confirmed", {"replaced": str(replaced).lower()})
    session.commit()
    return RecoveryCodes(recovery_codes=codes)


@router.post("/second-factor/recovery-codes", responses=LOCKED)
def new_recovery_codes(body: Proof, actor: CurrentActor, session: SessionDep) -> RecoveryCodes:
    """A new set of recovery codes for a current code (or a recovery code); the old set is void."""
    row = locked_enrolment(session, actor.user_id, create=False)
    prove(session, actor, row, code=body.code, recovery_code=body.recovery_code)
    codes = replace_recovery_codes(session, actor.user_id)
    audit(session, actor, "auth.recovery_codes_regenerated")
    session.commit()
    return RecoveryCodes(recovery_codes=codes)


@router.post("/step-up", responses=LOCKED)
def step_up(body: Proof, actor: CurrentActor, session: SessionDep) -> StepUpGrantView:
    """Exchange a current code (or a recovery code, then spent) for a five-minute step-up token,
    sent in ``X-Step-Up`` to the operations that need a second factor."""
    if body.code is None and body.recovery_code is None:
        raise invalid("code", "give the current code of your authenticator, or a recovery code")
    if body.code is not None and body.recovery_code is not None:
        raise invalid("recovery_code", "give a code or a recovery code, not both")
    row = locked_enrolment(session, actor.user_id, create=False)
    how = prove(session, actor, row, code=body.code, recovery_code=body.recovery_code)
    token, expires_at = issue_grant(session, actor.user_id, datetime.now(UTC))
    audit(session, actor, "auth.step_up_granted", {"by": how, "until": expires_at.isoformat()})
    session.commit()
    return StepUpGrantView(step_up_token=token, expires_at=expires_at)
