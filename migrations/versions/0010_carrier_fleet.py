"""carriers' operating licences, vehicles and crew

- ``carrier_licences``: a carrier's verified dangerous-goods road transport operating licence
  (道路运输经营许可证), one a carrier, written by the accreditation workflow with the standing
  (``supplier_accreditations``, keyed by organisation, holds carriers' standing too).
- ``carrier_vehicles``: vehicles with their road transport certificates, trailers and tanks; a
  plate once a carrier while in service (partial unique index).
- ``carrier_crew``: drivers and escorts with their qualification certificates; the certificate
  number and the phone encrypted (``security.columns.EncryptedString``: text).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _organisation() -> sa.Column[str]:
    return sa.Column(
        "carrier_org_id", sa.String(length=40), sa.ForeignKey("organisations.id"), nullable=False
    )


def _classes() -> sa.Column[list[str]]:
    return sa.Column("permitted_classes", postgresql.ARRAY(sa.String(length=4)), nullable=False)


def upgrade() -> None:
    op.create_table(
        "carrier_licences",
        _organisation(),
        sa.Column(
            "application_id",
            sa.String(length=40),
            sa.ForeignKey("accreditation_applications.id"),
            nullable=False,
        ),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("issuing_authority", sa.String(length=200), nullable=False),
        _classes(),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("expiry_date", sa.Date(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("carrier_org_id"),
    )
    op.create_table(
        "carrier_vehicles",
        sa.Column("id", sa.String(length=40), nullable=False),
        _organisation(),
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("plate_colour", sa.String(length=12), nullable=False),
        sa.Column("transport_certificate_number", sa.String(length=64), nullable=False),
        _classes(),
        sa.Column("inspection_valid_until", sa.Date(), nullable=False),
        sa.Column("max_load_kg", sa.Numeric(10, 2), nullable=False),
        sa.Column("trailer_plate", sa.String(length=16), nullable=True),
        sa.Column("trailer_certificate_number", sa.String(length=64), nullable=True),
        sa.Column("tank_number", sa.String(length=64), nullable=True),
        sa.Column("tank_volume_litres", sa.Numeric(10, 2), nullable=True),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_carrier_vehicles_carrier_org_id", "carrier_vehicles", ["carrier_org_id"])
    op.create_index(
        "uq_carrier_vehicles_active_plate",
        "carrier_vehicles",
        ["carrier_org_id", "plate"],
        unique=True,
        postgresql_where=sa.text("retired_at IS NULL"),
    )
    op.create_table(
        "carrier_crew",
        sa.Column("id", sa.String(length=40), nullable=False),
        _organisation(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("qualification_certificate_number", sa.Text(), nullable=False),
        sa.Column(
            "qualification_categories", postgresql.ARRAY(sa.String(length=24)), nullable=False
        ),
        sa.Column("certificate_expiry", sa.Date(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_carrier_crew_carrier_org_id", "carrier_crew", ["carrier_org_id"])


def downgrade() -> None:
    op.drop_index("ix_carrier_crew_carrier_org_id", table_name="carrier_crew")
    op.drop_table("carrier_crew")
    op.drop_index("uq_carrier_vehicles_active_plate", table_name="carrier_vehicles")
    op.drop_index("ix_carrier_vehicles_carrier_org_id", table_name="carrier_vehicles")
    op.drop_table("carrier_vehicles")
    op.drop_table("carrier_licences")
