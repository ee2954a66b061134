"""The second factor's tables: TOTP enrolments, recovery codes, step-up grants and failed tries.

The tables live on ``db.models.Base`` (``db.models`` imports this module at its end).

- A user's TOTP secret is stored encrypted (``EncryptedString``): the server needs it back to
  compute codes, so a hash will not do. ``last_step`` is the highest time step ever accepted, so
  a code (even one still inside the window) is never accepted twice.
- Recovery codes are kept as argon2 hashes, like passwords: a leaked table gives no usable code.
- A step-up grant is a short-lived bearer token proving a recent second factor; only its SHA-256
  is stored (a 256-bit random token needs no slow hash), so the table cannot be replayed.
- Failed tries are rows, not a counter, so the lockout is a sliding window (count the rows in
  the last 15 minutes) and needs no reset when the window passes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base
from security.columns import EncryptedString


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
