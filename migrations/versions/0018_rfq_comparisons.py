"""rfq comparisons: the buyer's comparison kept durably, computed when quoting closes

The first click on the API's largest RFQ (200 lines x 200 suppliers) read and validated 40,000
quote lines and compared them (~1.4 s); the ranking activity now computes the buyer's default
answer as quoting closes and files its JSON bytes here under the digest of everything it was
computed from, so the click reads one row. One row per RFQ and view (``top``, eligible only):
a newer digest replaces the row, so the table holds no stale answers.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-31 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rfq_comparisons",
        sa.Column("rfq_id", sa.String(length=40), nullable=False),
        sa.Column("view", sa.String(length=20), nullable=False),
        sa.Column("key_digest", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["rfq_id"], ["rfqs.id"]),
        sa.PrimaryKeyConstraint("rfq_id", "view"),
    )


def downgrade() -> None:
    op.drop_table("rfq_comparisons")
