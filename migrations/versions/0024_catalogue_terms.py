"""catalogue terms: the words the catalogue holds, by category, for search to ask first

Search decides, word by word, whether any product holds a word exactly (then it is matched by
the terms index) or none does (a misspelling: matched by trigrams). Asked of the products as
``EXISTS (... terms @> ...)``, PostgreSQL estimated a rare word at 783 rows of a million and
scanned the table for the first, which for a word nobody holds meant all of it: 1.9 s for a
misspelt query. The vocabulary answers the same question by its primary key. Written beside
each product (``db.catalogue.write_listings``); filled here from the products there are.

Revision ID: 0024
Revises: 0023
Create Date: 2027-01-07 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalogue_terms",
        sa.Column("term", sa.Text(), nullable=False),
        sa.Column("category_id", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(["category_id"], ["catalogue_categories.id"]),
        sa.PrimaryKeyConstraint("term", "category_id"),
    )
    op.execute(
        "INSERT INTO catalogue_terms (term, category_id) "
        "SELECT DISTINCT unnest(terms), category_id FROM products"
    )


def downgrade() -> None:
    op.drop_table("catalogue_terms")
