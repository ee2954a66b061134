"""quote priced figures: each revision priced against its RFQ's lines once, when recorded

A comparison priced every quote line again (goods, freight share, VAT, landed cost in cents, days
to arrival, MOQ fit), though a revision's terms and its RFQ's lines never change: 1.4 of the
1.8 s of CPU comparing 1,000 suppliers x 1,000 lines. The activity recording a revision now
keeps those figures here (``rules.quote_pricing``, 64-bit integers column by column) and the
comparison reads them. Revisions recorded before this migration have none and are priced at
each comparison, as before.

Revision ID: 0027
Revises: 0026
Create Date: 2027-01-20 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("quotes", sa.Column("priced", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("quotes", "priced")
