"""catalogue offers covered by their product index: search reads them without the table

A search gathers the visible offers of every product it matches (60,000 products and 160,000
offers for a broad word among a million products); read through ``(product_id, list_price)``
each offer cost a visit to the table, scattered over it. The index now carries what the search
and its filters ask of an offer (currency, validity, supplier, lead time, MOQ, stock, regions),
so PostgreSQL answers from the index alone where the visibility map allows: a product's
offers sit together in one leaf page.

Revision ID: 0023
Revises: 0022
Create Date: 2027-01-06 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COVERED = [
    "currency",
    "valid_until",
    "supplier_org_id",
    "lead_time_days",
    "min_order_quantity",
    "stock",
    "delivery_regions",
]


def upgrade() -> None:
    op.drop_index("ix_catalogue_offers_product_price", table_name="catalogue_offers")
    op.create_index(
        "ix_catalogue_offers_product_price",
        "catalogue_offers",
        ["product_id", "list_price"],
        postgresql_include=COVERED,
    )


def downgrade() -> None:
    op.drop_index("ix_catalogue_offers_product_price", table_name="catalogue_offers")
    op.create_index(
        "ix_catalogue_offers_product_price", "catalogue_offers", ["product_id", "list_price"]
    )
