"""The second factor's tables: TOTP enrolments, recovery codes, step-up grants and failed tries.

The tables live on ``db.models.Base`` (``db.models`` imports this module at its end).

- A user's TOTP secret is stored encrypted (``EncryptedString``): the server needs it back to
  compute codes, so a hash will not do. ``last_step`` is the highest time step ever accepted, so
  a code (even one still inside the window) is never accepted twice.
- Recovery codes are kept as argon2 hashes (``security.passwords.hash_code``, a lighter profile
  than passwords', as they are random): a leaked table gives no usable code. Each keeps its
  first group in clear (20 of its 60 bits) to select the one hash a step-up checks; the other
  40 bits are what argon2 guards, costly to try offline.
- A step-up grant is a short-lived bearer token proving a recent second factor; only its SHA-256
  is stored (a 256-bit random token needs no slow hash), so the table cannot be replayed.
- Failed tries are rows, not a counter, so the lockout is a sliding window (count the rows in
  the last 15 minutes) and needs no reset when the window passes.

The queries below are the factor's bookkeeping; what to answer the caller is the API's
(``api.second_factor``). Each works inside the caller's transaction.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from db.models import Base
from security.columns import EncryptedString
from security.passwords import hash_code, spend_code_check, verify_password
from security.totp import new_recovery_codes, normalise_recovery_code, recovery_code_selector

# Five wrong codes within 15 minutes lock the second factor until the oldest of them ages out.
LOCKOUT_TRIES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
# How long a step-up grant lasts: long enough for the operation it was asked for, and a few more.
GRANT_TTL = timedelta(minutes=5)
RECOVERY_CODES = 10


class TotpEnrolment(Base):
    """A user's TOTP authenticator: in force once a first code proved the user holds it."""

    __tablename__ = "totp_enrolments"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    # The secret in force, confirmed at ``confirmed_at``; None until the first confirmation.
    secret: Mapped[str | None] = mapped_column(EncryptedString("totp_secret"))
    confirmed_at: Mapped[datetime | None]
    # A new secret waiting for its first code: the one in force stays until it is confirmed, so
    # an enrolment begun and abandoned never leaves the user without their factor.
    pending_secret: Mapped[str | None] = mapped_column(EncryptedString("totp_pending_secret"))
    # The highest RFC 6238 time step accepted so far (replay protection); 0 before any.
    last_step: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class RecoveryCode(Base):
    """One single-use recovery code, as its argon2 hash; spent when ``used_at`` is set."""

    __tablename__ = "recovery_codes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(Text)
    # The code's first group, in clear: a step-up checks only the hashes it selects. None for
    # codes issued before migration 0041, each of which is checked.
    selector: Mapped[str | None] = mapped_column(String(8))
    used_at: Mapped[datetime | None]


class StepUpGrant(Base):
    """A short-lived proof of a recent second factor, sent back in the ``X-Step-Up`` header."""

    __tablename__ = "step_up_grants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 hex of the token
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class SecondFactorFailure(Base):
    """A wrong code or recovery code; five in 15 minutes lock the user's step-up until they age."""

    __tablename__ = "second_factor_failures"
    __table_args__ = (Index("ix_second_factor_failures_user_at", "user_id", "at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime]


# -- enrolment ------------------------------------------------------------------------------


def locked_enrolment(session: Session, user_id: str, *, create: bool) -> TotpEnrolment | None:
    """The user's enrolment, locked for this transaction (codes are checked and ``last_step``
    moved one request at a time); with ``create``, an empty one is made first if none exists."""
    if create:
        empty = insert(TotpEnrolment).values(user_id=user_id, last_step=0)
        session.execute(empty.on_conflict_do_nothing(index_elements=["user_id"]))
    return session.get(TotpEnrolment, user_id, with_for_update=True, populate_existing=True)


# -- failed tries ---------------------------------------------------------------------------


def _recent_failures(session: Session, user_id: str, now: datetime) -> list[datetime]:
    query = (
        select(SecondFactorFailure.at)
        .where(SecondFactorFailure.user_id == user_id)
        .where(SecondFactorFailure.at > now - LOCKOUT_WINDOW)
        .order_by(SecondFactorFailure.at)
    )
    return list(session.scalars(query))


def locked_until(session: Session, user_id: str, now: datetime) -> datetime | None:
    """When the lockout ends, if the user has had too many wrong tries in the window."""
    recent = _recent_failures(session, user_id, now)
    if len(recent) < LOCKOUT_TRIES:
        return None
    # Unlocked once enough of them have aged out to leave fewer than LOCKOUT_TRIES.
    return recent[len(recent) - LOCKOUT_TRIES] + LOCKOUT_WINDOW


def record_failure(session: Session, user_id: str, now: datetime) -> bool:
    """Count one wrong try; True when it is the one that locks the factor."""
    session.add(SecondFactorFailure(id=f"sff_{uuid.uuid4().hex}", user_id=user_id, at=now))
    session.flush()
    return len(_recent_failures(session, user_id, now)) == LOCKOUT_TRIES


def clear_failures(session: Session, user_id: str) -> None:
    """A right code ends the count: only consecutive wrong tries lock."""
    session.execute(delete(SecondFactorFailure).where(SecondFactorFailure.user_id == user_id))


# -- recovery codes -------------------------------------------------------------------------


def replace_recovery_codes(session: Session, user_id: str) -> list[str]:
    """A new set of recovery codes; the old ones, spent or not, are void. Answered once: only
    their hashes and selectors are kept."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = new_recovery_codes(RECOVERY_CODES)
    for code in codes:
        session.add(
            RecoveryCode(
                id=f"rec_{uuid.uuid4().hex}",
                user_id=user_id,
                code_hash=hash_code(code),
                selector=recovery_code_selector(code),
            )
        )
    session.flush()
    return codes


def recovery_codes_left(session: Session, user_id: str) -> int:
    query = (
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    )
    return session.scalar(query) or 0


def spend_recovery_code(session: Session, user_id: str, typed: str, now: datetime) -> bool:
    """True, and the code spent, when ``typed`` is one of the user's unspent codes."""
    code = normalise_recovery_code(typed)
    if code is None:
        return False
    candidates = session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.used_at.is_(None),
            # Codes issued before migration 0041 have no selector: each is checked, as then.
            or_(
                RecoveryCode.selector == recovery_code_selector(code),
                RecoveryCode.selector.is_(None),
            ),
        )
    ).all()
    if not candidates:
        # One hash is checked either way, so the time taken does not tell a selector matched.
        return spend_code_check(code)
    # Every candidate is checked, so the time taken does not tell which one matched.
    matches = [row for row in candidates if verify_password(row.code_hash, code)]
    if not matches:
        return False
    # The caller holds the enrolment's lock, so no other request spends it meanwhile.
    matches[0].used_at = now
    session.flush()
    return True


# -- step-up grants -------------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_grant(session: Session, user_id: str, now: datetime) -> tuple[str, datetime]:
    """A new step-up token and when it expires; the user's expired grants are dropped."""
    session.execute(
        delete(StepUpGrant).where(StepUpGrant.user_id == user_id, StepUpGrant.expires_at <= now)
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + GRANT_TTL
    session.add(
        StepUpGrant(id=token_digest(token), user_id=user_id, expires_at=expires_at, created_at=now)
    )
    session.flush()
    return token, expires_at


def live_grant(session: Session, user_id: str, token: str, now: datetime) -> StepUpGrant | None:
    """The user's unexpired grant for ``token``; None for an unknown, expired or another
    user's token."""
    grant = session.get(StepUpGrant, token_digest(token))
    if grant is None or grant.user_id != user_id or grant.expires_at <= now:
        return None
    return grant
