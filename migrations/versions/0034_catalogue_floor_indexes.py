"""catalogue sums' floors indexed, once migration 0033's fill is committed

A page at a buyer's quantity is walked along the floor of the least step above it, by currency
(``db.catalogue_walk``), or by lead time and then that floor; the refresher and search find the
rows a refresher older than 0033 wrote by their missing floors (a partial index: none but
those rows).

Built in a migration of their own, after 0033 committed: an index built in the transaction
that filled the floors also holds every row's version from before the fill (the transaction
deleted them, and they stay until a vacuum), so each was twice its size, and the partial one,
which should hold nothing, 29 MB for a million products. Each index is built on its own,
outside a transaction, and is skipped when it exists: a run cut short is run again. The sums'
older indexes are rebuilt likewise: 0033's fill (and 0030's before it) left them holding the
rows' old versions' places, empty but read (the price index 102 MB where 38 would do).

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06 10:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLOORS = ("floor_10", "floor_100", "floor_1000", "floor_any")
TABLE = "catalogue_product_prices"
INDEXES = {
    **{f"ix_{TABLE}_{floor}": f"(currency, {floor}, product_id)" for floor in FLOORS},
    **{
        f"ix_{TABLE}_lead_time_{floor}": f"(currency, lead_time_days, {floor}, product_id)"
        for floor in FLOORS
    },
    f"ix_{TABLE}_unfloored": "(product_id) WHERE floor_any IS NULL",
}
REBUILT = (f"ix_{TABLE}_price", f"ix_{TABLE}_lead_time", f"ix_{TABLE}_fresh")


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, columns in INDEXES.items():
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} {columns}")
        for name in REBUILT:
            # Concurrently: a plain rebuild locks the index, and every search planned on the
            # sums would wait. One cut short leaves its new copy, invalid: dropped first.
            op.execute(f"DROP INDEX IF EXISTS {name}_ccnew")
            op.execute(f"REINDEX INDEX CONCURRENTLY {name}")


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, TABLE)
