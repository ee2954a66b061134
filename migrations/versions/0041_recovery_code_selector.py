"""recovery codes keep their first group in clear, so a step-up checks one hash instead of ten

A recovery code was found by checking the typed code against every unspent code's argon2 hash:
ten slow hashes for one step-up (about a second of CPU, and as much for each wrong try). A code
issued from now on keeps its first group of four symbols (20 of its 60 bits) as ``selector``,
and only the codes whose selector matches are checked. The other 40 bits stay behind argon2.
Codes issued before keep no selector and are still found by checking each, until their owner
asks for a new set.

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-07 23:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0041"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("recovery_codes", sa.Column("selector", sa.String(length=8), nullable=True))


def downgrade() -> None:
    op.drop_column("recovery_codes", "selector")
