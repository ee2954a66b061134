"""Step-up: sensitive operations ask for a recent second factor, not only the bearer token.

A stolen password or token must not be enough to move money. Such an operation needs a step-up
grant, like GitHub's sudo mode or an AWS MFA session: the caller proves their TOTP code (or a
recovery code) at ``POST /auth/step-up`` and sends the short-lived token answered there in the
``X-Step-Up`` header. Routes take it two ways:

- ``StepUp``, a dependency, where the operation alone decides that it needs one;
- ``StepUpHeader`` and ``check_step_up``, where it depends on the object (a task's kind) or
  comes after the party and role checks, so nobody is sent for a second factor to do what they
  may not do anyway.

``prove`` checks a code or recovery code for every route that needs one (step-up, replacing an
enrolment, new recovery codes), with the one lockout: five wrong tries within 15 minutes answer
429 until the oldest ages out, whichever route they came through.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, NoReturn

from fastapi import Depends, Header, HTTPException, status
from sqlalchemy.orm import Session

from api.deps import CurrentActor, SessionDep
from api.errors import invalid
from contracts.common import Actor, Line
from db.audit_log import append_audit
from db.second_factor import (
    StepUpGrant,
    TotpEnrolment,
    clear_failures,
    live_grant,
    locked_until,
    record_failure,
    spend_recovery_code,
)
from security.totp import verify

STEP_UP_HEADER = "X-Step-Up"
STEP_UP_URL = "/auth/step-up"
ENROLMENT_URL = "/auth/second-factor/enrolment"
NEEDS_STEP_UP = f"this operation needs a second factor: POST {STEP_UP_URL} with a TOTP code first"
NOT_ENROLLED = (
    f"no second factor is enrolled: enrol an authenticator at POST {ENROLMENT_URL} and confirm "
    "it with its first code"
)

StepUpHeader = Annotated[
    Line | None,
    Header(
        alias=STEP_UP_HEADER,
        min_length=1,
        max_length=100,
        description=f"A step-up token from POST {STEP_UP_URL}, proving a recent second factor; "
        "sensitive operations (recording a payment, deciding a loan) refuse without it.",
    ),
]
Proved = Literal["totp", "recovery_code"]
# The OpenAPI answers of an operation that needs a step-up grant.
STEP_UP_RESPONSES: dict[int | str, dict[str, Any]] = {
    status.HTTP_403_FORBIDDEN: {
        "description": "The caller lacks the role, or is not the party, this needs; or sent no "
        f"live step-up grant in {STEP_UP_HEADER} (POST {STEP_UP_URL} first)."
    }
}


def _refused(rule: str) -> HTTPException:
    return invalid(STEP_UP_HEADER, rule, code=status.HTTP_403_FORBIDDEN)


def _grant(session: Session, actor: Actor, token: str | None) -> StepUpGrant:
    if not token:
        raise _refused(NEEDS_STEP_UP)
    grant = live_grant(session, actor.user_id, token, datetime.now(UTC))
    if grant is None:
        raise _refused(
            f"the step-up token is unknown, expired or not yours: POST {STEP_UP_URL} for a new one"
        )
    return grant


def check_step_up(session: Session, actor: Actor, token: str | None) -> None:
    """Refuse (403 naming ``X-Step-Up``) unless ``token`` is the caller's live step-up grant."""
    _grant(session, actor, token)


def require_step_up(
    actor: CurrentActor, session: SessionDep, token: StepUpHeader = None
) -> StepUpGrant:
    """The caller's live step-up grant from the ``X-Step-Up`` header; else 403 naming it."""
    return _grant(session, actor, token)


StepUp = Annotated[StepUpGrant, Depends(require_step_up)]


def prove(
    session: Session,
    actor: Actor,
    enrolment: TotpEnrolment | None,
    *,
    code: str | None,
    recovery_code: str | None,
) -> Proved:
    """Check a TOTP code or recovery code of the caller's confirmed factor; ``enrolment`` is
    theirs, locked (``locked_enrolment``). A wrong one is counted and committed before the 403,
    so the lockout holds however the request ends; a used recovery code is spent."""
    if enrolment is None or enrolment.secret is None:
        raise invalid("code", NOT_ENROLLED, code=status.HTTP_403_FORBIDDEN)
    now = datetime.now(UTC)
    refuse_if_locked(session, actor.user_id, now)
    if code is not None:
        step = verify(enrolment.secret, code, now, enrolment.last_step)
        if step is not None:
            enrolment.last_step = step
            clear_failures(session, actor.user_id)
            return "totp"
        fail(session, actor, now, "code", "wrong code, or one already used: enter the current one")
    if recovery_code is not None:
        if spend_recovery_code(session, actor.user_id, recovery_code, now):
            clear_failures(session, actor.user_id)
            audit(session, actor, "auth.recovery_code_used")
            return "recovery_code"
        fail(session, actor, now, "recovery_code", "not one of your unused recovery codes")
    raise invalid(
        "code",
        "this needs a current code of your authenticator, or one of your recovery codes",
        code=status.HTTP_403_FORBIDDEN,
    )


def refuse_if_locked(session: Session, user_id: str, now: datetime) -> None:
    """429 naming ``code`` while the user's wrong tries lock their second factor."""
    until = locked_until(session, user_id, now)
    if until is not None:
        wait = max(1, int((until - now).total_seconds()) + 1)
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=[
                {
                    "field": "code",
                    "rule": "too many wrong codes: locked for 15 minutes from the fifth, "
                    f"until {until.isoformat(timespec='seconds')}",
                }
            ],
            headers={"Retry-After": str(wait)},
        )


def fail(session: Session, actor: Actor, now: datetime, field: str, rule: str) -> NoReturn:
    """Count a wrong code (committed at once: the refusal that follows rolls nothing back of
    it) and refuse it, 403 naming ``field``."""
    locks = record_failure(session, actor.user_id, now)
    audit(session, actor, "auth.second_factor_failed", {"field": field})
    until = locked_until(session, actor.user_id, now) if locks else None
    if until is not None:
        audit(session, actor, "auth.second_factor_locked", {"until": until.isoformat()})
    session.commit()
    raise invalid(field, rule, code=status.HTTP_403_FORBIDDEN)


def audit(
    session: Session, actor: Actor, action: str, detail: dict[str, str] | None = None
) -> None:
    """An entry about the caller's own second factor; never its secret or codes."""
    append_audit(
        session,
        actor=actor,
        action=action,
        target_type="user",
        target_id=actor.user_id,
        detail=detail,
    )
