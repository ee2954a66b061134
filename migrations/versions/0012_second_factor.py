"""second factor: TOTP enrolments, recovery codes, step-up grants, failed tries

- ``totp_enrolments``: one a user; the secret in force and a pending one (a new enrolment waiting
  for its first code) encrypted (``security.columns.EncryptedString``: text), ``last_step`` the
  highest time step accepted (a code is never accepted twice).
- ``recovery_codes``: single-use codes as argon2 hashes; ``used_at`` set when spent.
- ``step_up_grants``: short-lived step-up tokens, keyed by the token's SHA-256.
- ``second_factor_failures``: one row a wrong code, read as a sliding 15-minute window for the
  lockout.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-19 06:00:00
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _user() -> sa.Column[str]:
    return sa.Column("user_id", sa.String(length=40), sa.ForeignKey("users.id"), nullable=False)


def _at(name: str, *, nullable: bool) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _created_at() -> sa.Column[datetime]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "totp_enrolments",
        _user(),
        sa.Column("secret", sa.Text(), nullable=True),
        _at("confirmed_at", nullable=True),
        sa.Column("pending_secret", sa.Text(), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.String(length=40), nullable=False),
        _user(),
        sa.Column("code_hash", sa.Text(), nullable=False),
        _at("used_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_recovery_codes_user_id", "recovery_codes", ["user_id"])
    op.create_table(
        "step_up_grants",
        sa.Column("id", sa.String(length=64), nullable=False),
        _user(),
        _at("expires_at", nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_step_up_grants_user_id", "step_up_grants", ["user_id"])
    op.create_table(
        "second_factor_failures",
        sa.Column("id", sa.String(length=40), nullable=False),
        _user(),
        _at("at", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_second_factor_failures_user_at", "second_factor_failures", ["user_id", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_second_factor_failures_user_at", table_name="second_factor_failures")
    op.drop_table("second_factor_failures")
    op.drop_index("ix_step_up_grants_user_id", table_name="step_up_grants")
    op.drop_table("step_up_grants")
    op.drop_index("ix_recovery_codes_user_id", table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_table("totp_enrolments")
