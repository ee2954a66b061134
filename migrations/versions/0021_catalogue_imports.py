"""catalogue imports: a supplier's bulk import of listings, its progress and its problems

Revision ID: 0021
Revises: 0019
Create Date: 2027-01-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalogue_imports",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("supplier_org_id", sa.String(length=40), nullable=False),
        sa.Column("category_id", sa.String(length=60), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("document_id", sa.String(length=160), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("format", sa.String(length=4), nullable=False),
        sa.Column("on_error", sa.String(length=6), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_checked", sa.Integer(), nullable=False),
        sa.Column("rows_valid", sa.Integer(), nullable=False),
        sa.Column("rows_written", sa.Integer(), nullable=False),
        sa.Column("rows_created", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("problems", postgresql.JSONB(), nullable=False),
        sa.Column("errors_key", sa.String(length=200), nullable=True),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("batches_done", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["supplier_org_id"], ["organisations.id"]),
        sa.ForeignKeyConstraint(["category_id"], ["catalogue_categories.id"]),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_catalogue_imports_supplier", "catalogue_imports", ["supplier_org_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("catalogue_imports")
