"""notification rules: the outbox of process events, organisations' rules, deliveries

- ``process_events``: a transactional outbox; a partial index finds the events not yet relayed.
- ``notification_rules``: event type, conditions (JSONB), recipients by role and user, channels,
  the webhook's address and its signing secret (encrypted: ``security.columns.EncryptedString``).
- ``notification_deliveries``: one row an event, channel and recipient, unique by ``key``
  (exactly once); status, attempts, last error, and ``read_at`` for the in-app bell.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-21 09:00:00
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, *, nullable: bool, default: bool = False) -> sa.Column[datetime]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=sa.text("now()") if default else None,
    )


def _org() -> sa.Column[str]:
    return sa.Column("org_id", sa.String(40), sa.ForeignKey("organisations.id"), nullable=False)


def _strings(name: str, length: int) -> sa.Column[list[str]]:
    return sa.Column(name, postgresql.ARRAY(sa.String(length)), nullable=False)


def upgrade() -> None:
    op.create_table(
        "process_events",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("event_type", sa.String(60), nullable=False),
        sa.Column("subject_type", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(120), nullable=False),
        _strings("org_ids", 40),
        sa.Column("message", sa.Text(), nullable=False),
        _at("occurred_at", nullable=False, default=True),
        _at("relayed_at", nullable=True),
    )
    op.create_index(
        "ix_process_events_unrelayed",
        "process_events",
        ["occurred_at"],
        postgresql_where=sa.text("relayed_at IS NULL"),
    )
    op.create_table(
        "notification_rules",
        sa.Column("id", sa.String(40), primary_key=True),
        _org(),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("event_type", sa.String(60), nullable=False),
        sa.Column("conditions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        _strings("recipient_roles", 30),
        _strings("recipient_user_ids", 40),
        _strings("channels", 10),
        sa.Column("webhook_url", sa.Text(), nullable=True),
        sa.Column("webhook_secret", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(40), nullable=False),
        _at("created_at", nullable=False, default=True),
        _at("updated_at", nullable=False, default=True),
    )
    op.create_index(
        "ix_notification_rules_org_event", "notification_rules", ["org_id", "event_type"]
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("event_id", sa.String(40), sa.ForeignKey("process_events.id"), nullable=False),
        sa.Column(
            "rule_id",
            sa.String(40),
            sa.ForeignKey("notification_rules.id", ondelete="SET NULL"),
            nullable=True,
        ),
        _org(),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("recipient_user_id", sa.String(40), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        _at("created_at", nullable=False, default=True),
        _at("delivered_at", nullable=True),
        _at("read_at", nullable=True),
    )
    op.create_index("ix_notification_deliveries_event_id", "notification_deliveries", ["event_id"])
    op.create_index(
        "ix_notification_deliveries_inbox",
        "notification_deliveries",
        ["recipient_user_id", "channel", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_notification_deliveries_inbox", table_name="notification_deliveries")
    op.drop_index("ix_notification_deliveries_event_id", table_name="notification_deliveries")
    op.drop_table("notification_deliveries")
    op.drop_index("ix_notification_rules_org_event", table_name="notification_rules")
    op.drop_table("notification_rules")
    op.drop_index("ix_process_events_unrelayed", table_name="process_events")
    op.drop_table("process_events")
