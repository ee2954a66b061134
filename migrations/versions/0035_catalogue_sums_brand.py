"""catalogue sums: each product's brand, to walk a brand's page along its own sums

A broad word narrowed to one brand (螺丝刀 Stanley: 3,000 of the word's 60,000 products) was
found from every match: walked along every product's sums, one in twenty would be of the brand,
so the walk was likely to read more than it may (``db.catalogue_walk``), and pricing all 3,000
took 40 ms of PostgreSQL's time. The sums now keep their product's brand, folded as the brand
filter compares it (``lower``), indexed by currency and brand and then a page's order (by price,
or by lead time and price): a brand's walk reads that brand's sums only, and keeps one in
twenty of them rather than one in three hundred.

The refresher writes the brand with the sums (``db.catalogue_prices``). Two triggers keep it
whoever writes: a sum inserted without it (by a refresher older than this migration, during an
upgrade) gets its product's, and a product whose brand its first lister rewrites (the same
identity spelt otherwise: case, width, punctuation) passes the new one to its sums at once.

The rows already summed get it here; the fill leaves the table's indexes holding the rows' old
versions' places, so the table is vacuumed, the new indexes built after, and the older ones
rebuilt concurrently, as in migration 0034. The fill holds the sums' table meanwhile (catalogue
searches wait; 130 to 145 s in all for a million products). Every step is safe to run again: the
index work runs outside the migration's transaction, after the fill has committed, so a run cut
short there is run again from the start.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-06 16:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "catalogue_product_prices"
_STEPS = (
    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS brand varchar(100)",
    """
    CREATE OR REPLACE FUNCTION catalogue_sum_brand() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT lower(brand) INTO NEW.brand FROM products WHERE id = NEW.product_id;
        RETURN NEW;
    END
    $$
    """,
    f"DROP TRIGGER IF EXISTS {TABLE}_brand ON {TABLE}",
    f"CREATE TRIGGER {TABLE}_brand BEFORE INSERT ON {TABLE} FOR EACH ROW "
    "WHEN (NEW.brand IS NULL) EXECUTE FUNCTION catalogue_sum_brand()",
    """
    CREATE OR REPLACE FUNCTION catalogue_product_brand() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE catalogue_product_prices SET brand = lower(NEW.brand) WHERE product_id = NEW.id;
        RETURN NULL;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS products_brand_sums ON products",
    "CREATE TRIGGER products_brand_sums AFTER UPDATE OF brand ON products FOR EACH ROW "
    "WHEN (lower(OLD.brand) IS DISTINCT FROM lower(NEW.brand)) "
    "EXECUTE FUNCTION catalogue_product_brand()",
    f"UPDATE {TABLE} AS s SET brand = lower(p.brand) FROM products p "
    "WHERE p.id = s.product_id AND s.brand IS NULL",
    f"ALTER TABLE {TABLE} ALTER COLUMN brand SET NOT NULL",
)
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
    for step in _STEPS:
        op.execute(step)
    with op.get_context().autocommit_block():
        # The fill's old row versions gone first, so the new indexes hold none of them.
        op.execute(f"VACUUM ANALYZE {TABLE}")
        for name, columns in INDEXES.items():
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} {columns}")
        for name in REBUILT:
            # A rebuild cut short leaves its new copy, invalid: dropped first.
            op.execute(f"DROP INDEX IF EXISTS {name}_ccnew")
            op.execute(f"REINDEX INDEX CONCURRENTLY {name}")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("DROP TRIGGER IF EXISTS products_brand_sums ON products")
    op.execute("DROP FUNCTION IF EXISTS catalogue_product_brand()")
    op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_brand ON {TABLE}")
    op.execute("DROP FUNCTION IF EXISTS catalogue_sum_brand()")
    op.execute(f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS brand")
