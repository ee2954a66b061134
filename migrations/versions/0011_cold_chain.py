"""cold chain: loggers, trips, assignments, readings and credit notes

- ``cold_loggers``: registered temperature loggers; only the SHA-256 of each one's secret is kept
  (a 256-bit random secret needs no slow hash).
- ``cold_trips``: a temperature-controlled shipment's trip, one per (order, shipment), from
  planning to the buyer's decision; the plan (zones and lines) and the latest figures as JSON.
- ``cold_logger_assignments``: which logger is on which trip, in which zone; released on decision.
- ``temperature_readings``: the volume (a reading a minute for 30 days is 43,200 rows a logger).
  The primary key is (logger_id, at): a repeated or reordered batch is a no-op by construction
  (``ON CONFLICT DO NOTHING``), and it is the very index every series is read by, a logger being
  on one trip at a time. A BRIN index on ``at`` serves scans across loggers (retention, size
  figures) at a fraction of a B-tree's size, since rows arrive roughly in time order. No foreign
  keys on the readings: the edge checks the logger and trip once a batch, not once a row.
- ``credit_notes``: a claim's credit against the order's invoice, one a trip.

Not partitioned yet: with one table, its primary key and a BRIN index, the insert path maintains
a single B-tree. Partitioning by month (``PARTITION BY RANGE (at)``, old months detached or
dropped whole) is the next step past about 100 million rows, when vacuum and retention on one
table start to cost more than routing each insert to its partition.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-12 06:00:00
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return postgresql.JSONB(astext_type=sa.Text()).with_variant(sa.JSON(), "sqlite")


def _at(name: str, *, nullable: bool) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _org(name: str, *, nullable: bool) -> sa.Column[str]:
    return sa.Column(
        name, sa.String(length=40), sa.ForeignKey("organisations.id"), nullable=nullable
    )


def upgrade() -> None:
    op.create_table(
        "cold_loggers",
        sa.Column("id", sa.String(length=40), nullable=False),
        _org("owner_org_id", nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("registered_by", sa.String(length=40), nullable=False),
        _at("registered_at", nullable=False),
        _at("retired_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_cold_loggers_owner_org_id", "cold_loggers", ["owner_org_id"])
    op.create_table(
        "cold_trips",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("order_id", sa.String(length=80), sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("shipment", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("plan", _json(), nullable=False),
        _at("started_at", nullable=True),
        _at("arrived_at", nullable=True),
        sa.Column("figures", _json(), nullable=True),
        _at("figures_at", nullable=True),
        _org("carrier_org_id", nullable=True),
        sa.Column("route", sa.String(length=400), nullable=False),
        sa.Column("disposition", sa.String(length=30), nullable=True),
        sa.Column("lost", _json(), nullable=True),
        sa.Column("shipped", _json(), nullable=True),
        sa.Column("loss_value", sa.Numeric(20, 2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("liable", sa.String(length=10), nullable=True),
        _org("liable_org_id", nullable=True),
        sa.Column("credit_note_id", sa.String(length=100), nullable=True),
        sa.Column(
            "report_document_id",
            sa.String(length=160),
            sa.ForeignKey("documents.id"),
            nullable=True,
        ),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        _at("decided_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_cold_trips_order", "cold_trips", ["order_id", "shipment"])
    op.create_table(
        "cold_logger_assignments",
        sa.Column("trip_id", sa.String(length=100), sa.ForeignKey("cold_trips.id"), nullable=False),
        sa.Column(
            "logger_id", sa.String(length=40), sa.ForeignKey("cold_loggers.id"), nullable=False
        ),
        sa.Column("zone", sa.String(length=40), nullable=False),
        sa.Column("assigned_by", sa.String(length=40), nullable=False),
        _at("assigned_at", nullable=False),
        _at("released_at", nullable=True),
        sa.PrimaryKeyConstraint("trip_id", "logger_id"),
    )
    op.create_table(
        "temperature_readings",
        sa.Column("logger_id", sa.String(length=40), nullable=False),
        _at("at", nullable=False),
        sa.Column("trip_id", sa.String(length=100), nullable=False),
        sa.Column("celsius", sa.Numeric(6, 2), nullable=False),
        sa.Column("humidity", sa.Numeric(5, 2), nullable=True),
        sa.Column("latitude", sa.Numeric(9, 6), nullable=True),
        sa.Column("longitude", sa.Numeric(10, 6), nullable=True),
        sa.PrimaryKeyConstraint("logger_id", "at"),
    )
    op.create_index(
        "brin_temperature_readings_at",
        "temperature_readings",
        ["at"],
        postgresql_using="brin",
    )
    op.create_table(
        "credit_notes",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("order_id", sa.String(length=80), sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("trip_id", sa.String(length=100), sa.ForeignKey("cold_trips.id"), nullable=False),
        sa.Column("amount", sa.Numeric(20, 2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _org("liable_org_id", nullable=True),
        sa.Column(
            "document_id", sa.String(length=160), sa.ForeignKey("documents.id"), nullable=False
        ),
        _at("issued_at", nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("trip_id"),
    )
    op.create_index("ix_credit_notes_order_id", "credit_notes", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_credit_notes_order_id", table_name="credit_notes")
    op.drop_table("credit_notes")
    op.drop_index("brin_temperature_readings_at", table_name="temperature_readings")
    op.drop_table("temperature_readings")
    op.drop_table("cold_logger_assignments")
    op.drop_index("ix_cold_trips_order", table_name="cold_trips")
    op.drop_table("cold_trips")
    op.drop_index("ix_cold_loggers_owner_org_id", table_name="cold_loggers")
    op.drop_table("cold_loggers")
