"""catalogue: categories, products shared by suppliers, and suppliers' standing offers

Search reads products by two indexes made here: a GIN index on ``terms`` (the exact tokens of
``rules.search_text.index_fields``: words, sizes with units, Chinese bigrams) and a GIN trigram
index on ``search_text`` for misspellings and substrings. Catalogue search needs ``pg_trgm``
(unlike the workbench's organisation search, which 0015 let degrade), so it is required here.

Revision ID: 0019
Revises: 0018
Create Date: 2027-01-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "catalogue_categories",
        sa.Column("id", sa.String(length=60), nullable=False),
        sa.Column("parent_id", sa.String(length=60), nullable=True),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("name_zh", sa.String(length=60), nullable=False),
        sa.Column("name_en", sa.String(length=60), nullable=False),
        sa.Column("attributes", postgresql.JSONB(), nullable=False),
        sa.Column("synonyms", postgresql.JSONB(), nullable=False),
        sa.Column("updated_by", sa.String(length=40), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(["parent_id"], ["catalogue_categories.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_catalogue_categories_path",
        "catalogue_categories",
        ["path"],
        postgresql_ops={"path": "text_pattern_ops"},
    )
    op.create_table(
        "products",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("category_id", sa.String(length=60), nullable=False),
        sa.Column("identity", sa.String(length=210), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("brand", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("attributes", postgresql.JSONB(), nullable=False),
        sa.Column("un_number", sa.String(length=6), nullable=True),
        sa.Column("packing_group", sa.String(length=3), nullable=True),
        sa.Column("hazard_class", sa.String(length=12), nullable=True),
        sa.Column("temperature_profile", sa.String(length=30), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("terms", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("media", postgresql.JSONB(), nullable=False),
        sa.Column("listed_by_org_id", sa.String(length=40), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(["category_id"], ["catalogue_categories.id"]),
        sa.ForeignKeyConstraint(["listed_by_org_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("category_id", "identity"),
    )
    op.execute("CREATE INDEX ix_products_terms ON products USING gin (terms)")
    op.execute(
        "CREATE INDEX ix_products_search_text ON products USING gin (search_text gin_trgm_ops)"
    )
    op.create_table(
        "catalogue_offers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("supplier_org_id", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("list_price", sa.Numeric(22, 4), nullable=False),
        sa.Column("terms", postgresql.JSONB(), nullable=False),
        sa.Column("stock", sa.Numeric(15, 3), nullable=False),
        sa.Column("min_order_quantity", sa.Numeric(15, 3), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("delivery_regions", postgresql.ARRAY(sa.String(length=5)), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("import_id", sa.String(length=40), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"]),
        sa.ForeignKeyConstraint(["supplier_org_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("supplier_org_id", "sku"),
    )
    op.create_index(
        "ix_catalogue_offers_product_price", "catalogue_offers", ["product_id", "list_price"]
    )


def downgrade() -> None:
    op.drop_table("catalogue_offers")
    op.drop_table("products")
    op.drop_table("catalogue_categories")
