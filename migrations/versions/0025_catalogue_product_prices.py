"""catalogue product prices: each product's visible offers summed up, kept as offers change

A search sorted by price, or counted into facets, needs every found product's best visible offer.
Asked of the offers, a broad word (60,000 products) cost 180,000 offer lookups and the supplier
standing of each, seconds a search. ``catalogue_product_prices`` keeps, a product and currency,
what its visible offers come to: the best list price, the shortest lead time, how many, where
they deliver, and ``fresh_until``, the day the first of them lapses (offer validity or the
supplier's accreditation), from which the row no longer holds.

Changes are logged, not summed where they happen: triggers on ``catalogue_offers`` (any write)
and ``supplier_accreditations`` (standing or expiry changed) add the products touched to
``catalogue_price_changes``, and the worker's refresher (``db.catalogue_prices``) sums them
again. Until it has, search asks a logged product's offers themselves, so what buyers see never
waits for the refresher. Every product is logged here, so the refresher fills the table.

Revision ID: 0025
Revises: 0024
Create Date: 2027-01-14 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LOG_OFFERS = """
CREATE FUNCTION catalogue_offers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO catalogue_price_changes (product_id)
        SELECT DISTINCT product_id FROM changed_after;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO catalogue_price_changes (product_id)
        SELECT product_id FROM changed_after UNION SELECT product_id FROM changed_before;
    ELSE
        INSERT INTO catalogue_price_changes (product_id)
        SELECT DISTINCT product_id FROM changed_before;
    END IF;
    RETURN NULL;
END $$
"""

_LOG_STANDINGS = """
CREATE FUNCTION catalogue_standings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO catalogue_price_changes (product_id)
        SELECT DISTINCT o.product_id FROM catalogue_offers o
        WHERE o.supplier_org_id IN (SELECT supplier_org_id FROM changed_after);
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO catalogue_price_changes (product_id)
        SELECT DISTINCT o.product_id FROM catalogue_offers o
        WHERE o.supplier_org_id IN (
            SELECT a.supplier_org_id FROM changed_after a
            JOIN changed_before b ON b.supplier_org_id = a.supplier_org_id
            WHERE (a.status, a.expires_on) IS DISTINCT FROM (b.status, b.expires_on));
    ELSE
        INSERT INTO catalogue_price_changes (product_id)
        SELECT DISTINCT o.product_id FROM catalogue_offers o
        WHERE o.supplier_org_id IN (SELECT supplier_org_id FROM changed_before);
    END IF;
    RETURN NULL;
END $$
"""


def _triggers(table: str, function: str) -> None:
    # A trigger with transition tables has one event each.
    referencing = {
        "INSERT": "NEW TABLE AS changed_after",
        "UPDATE": "OLD TABLE AS changed_before NEW TABLE AS changed_after",
        "DELETE": "OLD TABLE AS changed_before",
    }
    for event, tables in referencing.items():
        op.execute(
            f"CREATE TRIGGER {table}_{event.lower()}_prices AFTER {event} ON {table}"
            f" REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )


def upgrade() -> None:
    op.create_table(
        "catalogue_product_prices",
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price", sa.Numeric(22, 4), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.Column("regions", sa.ARRAY(sa.String(length=5)), nullable=False),
        sa.Column("fresh_until", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"]),
        sa.PrimaryKeyConstraint("product_id", "currency"),
    )
    op.create_index(
        "ix_catalogue_product_prices_fresh", "catalogue_product_prices", ["fresh_until"]
    )
    op.create_table(
        "catalogue_price_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_catalogue_price_changes_product", "catalogue_price_changes", ["product_id"])
    op.execute(_LOG_OFFERS)
    op.execute(_LOG_STANDINGS)
    _triggers("catalogue_offers", "catalogue_offers_changed")
    _triggers("supplier_accreditations", "catalogue_standings_changed")
    op.execute("INSERT INTO catalogue_price_changes (product_id) SELECT id FROM products")


def downgrade() -> None:
    for table in ("catalogue_offers", "supplier_accreditations"):
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER {table}_{event}_prices ON {table}")
    op.execute("DROP FUNCTION catalogue_offers_changed()")
    op.execute("DROP FUNCTION catalogue_standings_changed()")
    op.drop_table("catalogue_price_changes")
    op.drop_table("catalogue_product_prices")
