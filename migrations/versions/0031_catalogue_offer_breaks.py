"""catalogue offers' price breaks as arrays their product index covers: a price at a quantity
without reading the table

A search at a buyer's quantity prices each offer at the last break it reaches
(``db.catalogue_best``). The breaks lived only in the offer's terms (JSON), so every offer of
every matched product was read from the table and its JSON taken apart: 螺丝刀 at 10 by price
visited 97,000 offers scattered over the table, about a second, where the same page without a
quantity is answered from the covering index alone. The offer now keeps its breaks' quantities
and prices as two arrays, computed by PostgreSQL from the terms (one source: nothing writes
them), ascending by quantity, and the covering index carries them, so a price at a quantity is
``prices[width_bucket(quantity, quantities)]`` read from the index.

The columns are generated, so adding them rewrites the table (once, both in one statement);
its pages are then not marked all-visible, and an index-only scan visits the table until a
vacuum marks them: migration 0032 vacuums it, in a migration of its own.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# contracts.catalogue.OfferTerms keeps its breaks ascending and whole already; the functions
# sort them anyway, as width_bucket needs, and leave out a break lacking either figure, as
# the JSON reading did (a row written by hand must neither price wrongly nor fail a search).
_WHOLE = "(b ->> 'min_quantity') IS NOT NULL AND (b ->> 'unit_price') IS NOT NULL"
_FUNCTIONS = f"""
CREATE FUNCTION catalogue_break_quantities(breaks jsonb) RETURNS numeric[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ARRAY(
        SELECT (b ->> 'min_quantity')::numeric FROM jsonb_array_elements(breaks) AS b
        WHERE {_WHOLE} ORDER BY (b ->> 'min_quantity')::numeric
    )
$$;
CREATE FUNCTION catalogue_break_prices(breaks jsonb) RETURNS numeric[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ARRAY(
        SELECT (b ->> 'unit_price')::numeric(22, 4) FROM jsonb_array_elements(breaks) AS b
        WHERE {_WHOLE} ORDER BY (b ->> 'min_quantity')::numeric
    )
$$;
"""
COVERED = [
    "currency",
    "valid_until",
    "supplier_org_id",
    "lead_time_days",
    "min_order_quantity",
    "stock",
    "delivery_regions",
]
BREAKS = {
    "break_quantities": "catalogue_break_quantities",
    "break_prices": "catalogue_break_prices",
}


def upgrade() -> None:
    # Dropped first: the rewrite would rebuild it only to be dropped.
    op.drop_index("ix_catalogue_offers_product_price", table_name="catalogue_offers")
    op.execute(_FUNCTIONS)
    added = ", ".join(
        f"ADD COLUMN {column} numeric[] "
        f"GENERATED ALWAYS AS ({function}(terms -> 'price_breaks')) STORED"
        for column, function in BREAKS.items()
    )
    op.execute(f"ALTER TABLE catalogue_offers {added}")  # one rewrite for both
    _cover([*COVERED, *BREAKS])


def downgrade() -> None:
    op.drop_index("ix_catalogue_offers_product_price", table_name="catalogue_offers")
    _cover(COVERED)
    for column in BREAKS:
        op.drop_column("catalogue_offers", column)
    op.execute("DROP FUNCTION catalogue_break_prices(jsonb)")
    op.execute("DROP FUNCTION catalogue_break_quantities(jsonb)")


def _cover(columns: list[str]) -> None:
    op.create_index(
        "ix_catalogue_offers_product_price",
        "catalogue_offers",
        ["product_id", "list_price"],
        postgresql_include=columns,
    )
