"""catalogue purchases: orders placed straight from the catalogue, recorded as RFQs

A buyer may order in-stock catalogue offers on their standard terms. The purchase's process
records it as an RFQ (``rfqs.origin`` = ``catalogue``; every RFQ before is ``rfq``) with the
offers' terms as the supplier's quote, so its contract is drafted and run as an award's, and
keeps here the offers and quantities whose stock it reserved, to give them back should the
contract fail.

Revision ID: 0022
Revises: 0021
Create Date: 2027-01-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "rfqs",
        sa.Column("origin", sa.String(length=20), server_default="rfq", nullable=False),
    )
    op.create_table(
        "catalogue_purchases",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("buyer_org_id", sa.String(length=40), nullable=False),
        sa.Column("supplier_org_id", sa.String(length=40), nullable=False),
        sa.Column("rfq_id", sa.String(length=40), nullable=True),
        sa.Column("workflow_id", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("lines", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("delivery_region", sa.String(length=5), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(["buyer_org_id"], ["organisations.id"]),
        sa.ForeignKeyConstraint(["supplier_org_id"], ["organisations.id"]),
        sa.ForeignKeyConstraint(["rfq_id"], ["rfqs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_catalogue_purchases_buyer_created",
        "catalogue_purchases",
        ["buyer_org_id", "created_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_catalogue_purchases_buyer_created", table_name="catalogue_purchases")
    op.drop_table("catalogue_purchases")
    op.drop_column("rfqs", "origin")
