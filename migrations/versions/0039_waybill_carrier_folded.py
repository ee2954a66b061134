"""waybills keep their carrier's name folded: the regulator's search by carrier reads it

The regulator searches filed e-waybills by part of the carrier's name, folded
(``workbench.search``: spacing, case and full-width forms forgiven). Migration 0017 indexed
``tradeflow_fold(carrier_name)``, but the index only finds candidates: every row it finds, or
every row a walk newest-first passes, is folded again to be checked, and folding costs about
10 microseconds a row (``translate`` over the full-width alphabet). A big carrier's newest page
folded some 1,600 rows: 7.8 ms of SQL where the exact name takes 1.1 (``bench.large`` at 20%).

The folded name is now a stored column, computed by PostgreSQL as rows are written, with the
trigram index on it: a row is checked by a plain LIKE. The table is rewritten once (its rows
folded once, the table locked meanwhile: 0.8 s for 28,724 waybills); the old expression index
goes. A later change to ``tradeflow_fold`` must rewrite the column too (PostgreSQL does not
recompute a stored column when its function is replaced).

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-07 03:20:00
"""

import logging
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

revision: str = "0039"
down_revision: str | None = "0038"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

INDEX = "ix_waybills_carrier_folded"
OLD_INDEX = "ix_waybills_folded_carrier_name"


def upgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {OLD_INDEX}")  # before the rewrite, which rebuilds it
    op.execute(
        "ALTER TABLE waybills ADD COLUMN carrier_folded text "
        "GENERATED ALWAYS AS (tradeflow_fold(carrier_name)) STORED"
    )
    _trigram_index(f"CREATE INDEX {INDEX} ON waybills USING gin (carrier_folded gin_trgm_ops)")


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
    op.drop_column("waybills", "carrier_folded")
    _trigram_index(
        f"CREATE INDEX {OLD_INDEX} ON waybills "
        "USING gin (tradeflow_fold(carrier_name) gin_trgm_ops)"
    )


def _trigram_index(statement: str) -> None:
    """As 0017 made the one it replaces: without ``pg_trgm`` the search works unindexed."""
    bind = op.get_bind()
    trigrams = bind.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first()
    if trigrams is None:
        log.warning("pg_trgm is not available: waybills' carriers are searched without an index")
        return
    try:
        with bind.begin_nested():
            bind.exec_driver_sql(statement)
    except DBAPIError:
        log.warning("the folded carrier name could not be indexed: searched without an index")
