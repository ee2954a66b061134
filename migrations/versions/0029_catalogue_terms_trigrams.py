"""catalogue terms by trigrams: a misspelt word looked up among the words the catalogue holds

A misspelt word (``screwdrivr``) was matched by pg_trgm's word similarity against every
candidate product's whole text: the trigram index finds thousands of candidates (15,000 of a
million products for ``screwdrivr``), and each was checked twice and scored once, 95 ms for a
two-word misspelling. Search now (``db.catalogue_vocabulary.neighbours``) looks the word up among
the catalogue's known terms first, which this index finds in under a millisecond, and asks
the products' terms index for the few nearest.

Revision ID: 0029
Revises: 0028
Create Date: 2027-01-28 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_catalogue_terms_trigrams",
        "catalogue_terms",
        ["term"],
        postgresql_using="gin",
        postgresql_ops={"term": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_catalogue_terms_trigrams", "catalogue_terms")
