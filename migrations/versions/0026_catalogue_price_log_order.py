"""catalogue price log: a supplier's offer writes and standing changes log one after the other

The log of migration 0025 missed one order of events. A standing change W (a suspension, a first
accreditation) logs the products of the supplier's offers that its own snapshot sees. An offer
written meanwhile by T (an import adding the supplier's offer to product Q) logs Q; if T
committed after W's trigger looked and before W committed, the refresher could sum Q in a
snapshot between the two, counting the suspended supplier's price (or leaving out the newly
accredited one's), and take T's entry away, while W's entry never named Q. The sum then stayed
trusted until it lapsed.

Now both triggers take a lock named by the supplier (an advisory lock, held to the end of the
transaction) before they log: shared for offer writes, which so never wait for each other,
exclusive for standing changes. Whichever comes second waits for the first to commit and then
logs from a snapshot that sees it: T after W logs Q once W's change is visible; W after T sees
T's offer and logs Q itself.

Revision ID: 0026
Revises: 0025
Create Date: 2027-01-15 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The lock's first key: the catalogue price log's (the second is the supplier's id hashed).
_LOCKS = 7431015

_OFFERS = f"""
CREATE OR REPLACE FUNCTION catalogue_offers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pg_advisory_xact_lock_shared({_LOCKS}, hashtext(s.id)) FROM (
            SELECT DISTINCT supplier_org_id AS id FROM changed_after ORDER BY 1) s;
        INSERT INTO catalogue_price_changes (product_id)
        SELECT DISTINCT product_id FROM changed_after;
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM pg_advisory_xact_lock_shared({_LOCKS}, hashtext(s.id)) FROM (
            SELECT supplier_org_id AS id FROM changed_after
            UNION SELECT supplier_org_id FROM changed_before ORDER BY 1) s;
        INSERT INTO catalogue_price_changes (product_id)
        SELECT product_id FROM changed_after UNION SELECT product_id FROM changed_before;
    ELSE
        PERFORM pg_advisory_xact_lock_shared({_LOCKS}, hashtext(s.id)) FROM (
            SELECT DISTINCT supplier_org_id AS id FROM changed_before ORDER BY 1) s;
        INSERT INTO catalogue_price_changes (product_id)
        SELECT DISTINCT product_id FROM changed_before;
    END IF;
    RETURN NULL;
END $$
"""

_STANDINGS = f"""
CREATE OR REPLACE FUNCTION catalogue_standings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pg_advisory_xact_lock({_LOCKS}, hashtext(s.id)) FROM (
            SELECT DISTINCT supplier_org_id AS id FROM changed_after ORDER BY 1) s;
        INSERT INTO catalogue_price_changes (product_id)
        SELECT DISTINCT o.product_id FROM catalogue_offers o
        WHERE o.supplier_org_id IN (SELECT supplier_org_id FROM changed_after);
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM pg_advisory_xact_lock({_LOCKS}, hashtext(s.id)) FROM (
            SELECT DISTINCT a.supplier_org_id AS id FROM changed_after a
            JOIN changed_before b ON b.supplier_org_id = a.supplier_org_id
            WHERE (a.status, a.expires_on) IS DISTINCT FROM (b.status, b.expires_on)
            ORDER BY 1) s;
        INSERT INTO catalogue_price_changes (product_id)
        SELECT DISTINCT o.product_id FROM catalogue_offers o
        WHERE o.supplier_org_id IN (
            SELECT a.supplier_org_id FROM changed_after a
            JOIN changed_before b ON b.supplier_org_id = a.supplier_org_id
            WHERE (a.status, a.expires_on) IS DISTINCT FROM (b.status, b.expires_on));
    ELSE
        PERFORM pg_advisory_xact_lock({_LOCKS}, hashtext(s.id)) FROM (
            SELECT DISTINCT supplier_org_id AS id FROM changed_before ORDER BY 1) s;
        INSERT INTO catalogue_price_changes (product_id)
        SELECT DISTINCT o.product_id FROM catalogue_offers o
        WHERE o.supplier_org_id IN (SELECT supplier_org_id FROM changed_before);
    END IF;
    RETURN NULL;
END $$
"""

_OFFERS_BEFORE = """
CREATE OR REPLACE FUNCTION catalogue_offers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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

_STANDINGS_BEFORE = """
CREATE OR REPLACE FUNCTION catalogue_standings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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


def upgrade() -> None:
    op.execute(_OFFERS)
    op.execute(_STANDINGS)


def downgrade() -> None:
    op.execute(_OFFERS_BEFORE)
    op.execute(_STANDINGS_BEFORE)
