"""catalogue offers vacuumed after migration 0031 rewrote them: index-only scans again

Adding 0031's generated columns rewrote the offers' table, whose pages were then not marked
all-visible: until a vacuum marks them, search's index-only scans of the covering index visit
the table for every offer, which is what 0031 was to spare them. Autovacuum counts changed
rows, not rewrites, so it may not come for a long while.

A migration of its own: VACUUM cannot run inside a transaction, so the migration commits what
came before it and vacuums outside one. Alone here, what it commits is whole (0031's schema
and its version); should the vacuum be cut short, this migration runs again, harmlessly.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 09:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("VACUUM (ANALYZE) catalogue_offers")


def downgrade() -> None:
    pass  # a vacuum changes nothing to undo
