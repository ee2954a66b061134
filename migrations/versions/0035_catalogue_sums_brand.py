"""catalogue sums: each product's brand, to walk a brand's page along its own sums

A broad word narrowed to one brand (螺丝刀 Stanley: 3,000 of the word's 60,000 products) was
found from every match: walked along every product's sums, one in twenty would be of the brand,
so the walk was likely to read more than it may (``db.catalogue_walk``), and pricing all 3,000
took 40 ms of PostgreSQL's time. The sums now keep their product's brand, folded as the brand
filter compares it (``lower``), indexed by currency and brand and then a page's order (by price,
or by lead time and price): a brand's walk reads that brand's sums only, and keeps one in
twenty of them rather than one in three hundred.

A product's brand never changes (brand and model are its identity). The refresher writes it
with the sums (``db.catalogue_prices``); a trigger copies it from the product into a sum
written without it, as a refresher older than this migration writes during an upgrade, so no
sum lacks it. The rows already summed get it here; the update
leaves the table's other indexes holding the rows' old versions' places, so they are rebuilt
after it, concurrently, as in migration 0034. The fill holds the sums' table meanwhile
(catalogue searches wait).

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-06 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "catalogue_product_prices"
_FUNCTION = """
CREATE FUNCTION catalogue_sum_brand() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.brand IS NULL THEN
        SELECT lower(brand) INTO NEW.brand FROM products WHERE id = NEW.product_id;
    END IF;
    RETURN NEW;
END
$$
"""
_TRIGGER = (
    f"CREATE TRIGGER {TABLE}_brand BEFORE INSERT OR UPDATE OF product_id ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION catalogue_sum_brand()"
)
_FILL = f"UPDATE {TABLE} AS s SET brand = lower(p.brand) FROM products p WHERE p.id = s.product_id"
INDEXES = {
    f"ix_{TABLE}_brand_price": "(currency, brand, price, product_id)",
    f"ix_{TABLE}_brand_lead_time": "(currency, brand, lead_time_days, price, product_id)",
}
FLOORS = ("floor_10", "floor_100", "floor_1000", "floor_any")
REBUILT = (
    f"{TABLE}_pkey",
    f"ix_{TABLE}_price",
    f"ix_{TABLE}_lead_time",
    f"ix_{TABLE}_fresh",
    f"ix_{TABLE}_unfloored",
    *(f"ix_{TABLE}_{floor}" for floor in FLOORS),
    *(f"ix_{TABLE}_lead_time_{floor}" for floor in FLOORS),
)


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("brand", sa.String(100), nullable=True))
    op.execute(_FUNCTION)
    op.execute(_TRIGGER)
    op.execute(_FILL)
    op.alter_column(TABLE, "brand", nullable=False)
    with op.get_context().autocommit_block():
        for name, columns in INDEXES.items():
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} {columns}")
        for name in REBUILT:
            # A rebuild cut short leaves its new copy, invalid: dropped first.
            op.execute(f"DROP INDEX IF EXISTS {name}_ccnew")
            op.execute(f"REINDEX INDEX CONCURRENTLY {name}")
        op.execute(f"VACUUM ANALYZE {TABLE}")


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, TABLE)
    op.execute(f"DROP TRIGGER {TABLE}_brand ON {TABLE}")
    op.execute("DROP FUNCTION catalogue_sum_brand()")
    op.drop_column(TABLE, "brand")
