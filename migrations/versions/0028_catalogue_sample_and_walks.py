"""catalogue sample and walks: broad searches without visiting every match

A broad word (60,000 of a million products) took over a second to search: every match was read
with its best offer before the first page could be sorted or its facets counted. Search now
(``db.catalogue_broad``) counts a broad search's facets on a fixed sample of the products, one
in 64 by a hash of the id, which these partial indexes find on their own; walks a page by
price or lead time along the summed prices in that order; finds a page by relevance among
the products whose text is short enough to score that well (the length index); and looks a
brand filter up in its own index, which PostgreSQL combines with the terms index.

Revision ID: 0028
Revises: 0027
Create Date: 2027-01-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As db.catalogue_search.sampled states it: the planner uses a partial index only for a query
# that states its condition.
SAMPLED = sa.text("(hashtext(id) & 63) = 0")


def upgrade() -> None:
    op.create_index(
        "ix_products_terms_sample",
        "products",
        ["terms"],
        postgresql_using="gin",
        postgresql_where=SAMPLED,
    )
    op.create_index(
        "ix_products_category_sample", "products", ["category_id"], postgresql_where=SAMPLED
    )
    op.create_index("ix_products_text_length", "products", [sa.text("length(search_text)")])
    op.create_index("ix_products_brand_lower", "products", [sa.text("lower(brand)")])
    op.create_index(
        "ix_catalogue_product_prices_price",
        "catalogue_product_prices",
        ["currency", "price", "product_id"],
    )
    op.create_index(
        "ix_catalogue_product_prices_lead_time",
        "catalogue_product_prices",
        ["currency", "lead_time_days", "price", "product_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_catalogue_product_prices_lead_time", "catalogue_product_prices")
    op.drop_index("ix_catalogue_product_prices_price", "catalogue_product_prices")
    op.drop_index("ix_products_brand_lower", "products")
    op.drop_index("ix_products_text_length", "products")
    op.drop_index("ix_products_category_sample", "products")
    op.drop_index("ix_products_terms_sample", "products")
