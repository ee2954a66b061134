"""buyer tax profile: whether an organisation deducts input VAT when it compares quotes

Every existing organisation becomes a general taxpayer (一般纳税人), the default: its quote
comparisons are made net of deductible VAT from now on. A small-scale buyer says so with
``PUT /organisations/{id}/tax-profile``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "organisations",
        sa.Column("deducts_input_vat", sa.Boolean(), server_default=sa.true(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("organisations", "deducts_input_vat")
