"""catalogue sums: the least price a product's offers ask up to a quantity, to walk a page at one

A broad search at a buyer's quantity was found from every match (螺丝刀 at 10: 97,000 offers,
about a second): its prices are the price breaks reached at the quantity, which can undercut the
list price the sums keep, so the sums bounded nothing. A product's summed prices now keep four
floors: the least any visible offer asks at a quantity below 10, 100 and 1,000, and at any
(its list price or a break reached there), each indexed by currency and floor (migration 0034).
A page at a
quantity is walked along the floor of the least step above it, as a page to a province is
along the list price (``db.catalogue_walk``). Below a power of ten rather than up to it: breaks
are mostly set at round quantities, and a floor up to 100 would count the break at 100 that a
buyer of 50 does not reach.

``catalogue_price_floor`` computes an offer's floor, for this fill and for the refresher. The
rows already summed get their floors here, from the same offers under the same visibility rule
as of today; a row no visible offer answers lapses today, as in migration 0030. A row a
refresher older than this one writes meanwhile has no floors: a partial index (0034) finds
such rows, which search asks of their offers and the refresher sums again.

The fill holds the sums' table (75 s for a million products, 3 million offers): catalogue
searches wait meanwhile.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLOORS = {"floor_10": "10", "floor_100": "100", "floor_1000": "1000", "floor_any": "NULL"}

# An offer's least price at any quantity below ``up_to`` (NULL: any quantity): its list price,
# or a break it reaches there.
_FUNCTION = """
CREATE FUNCTION catalogue_price_floor(
    list_price numeric, quantities numeric[], prices numeric[], up_to numeric
) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT least(list_price, (
        SELECT min(p) FROM unnest(quantities, prices) AS b(q, p)
        WHERE up_to IS NULL OR q < up_to
    ))
$$
"""
# db.catalogue.visible_offer as of the day the migration runs, in China (rules.waybill_parties).
_TODAY = "(now() AT TIME ZONE 'Asia/Shanghai')::date"
_EACH = ", ".join(
    f"min(catalogue_price_floor(o.list_price, o.break_quantities, o.break_prices, {up_to})) "
    f"AS {floor}"
    for floor, up_to in FLOORS.items()
)
_FILL = f"""
UPDATE catalogue_product_prices AS p
SET {", ".join(f"{floor} = s.{floor}" for floor in FLOORS)}
FROM (
    SELECT o.product_id, o.currency, {_EACH}
    FROM catalogue_offers AS o
    WHERE o.valid_until >= {_TODAY}
      AND o.supplier_org_id IN (
          SELECT supplier_org_id FROM supplier_accreditations
          WHERE status = 'accredited' AND expires_on > {_TODAY}
      )
    GROUP BY o.product_id, o.currency
) AS s
WHERE p.product_id = s.product_id AND p.currency = s.currency
"""
_LAPSE_UNANSWERED = f"""
UPDATE catalogue_product_prices
SET fresh_until = least(fresh_until, {_TODAY})
WHERE floor_any IS NULL
"""


def upgrade() -> None:
    op.execute(_FUNCTION)
    for floor in FLOORS:
        op.add_column("catalogue_product_prices", sa.Column(floor, sa.Numeric(22, 4)))
    op.execute(_FILL)
    op.execute(_LAPSE_UNANSWERED)


def downgrade() -> None:
    for floor in FLOORS:
        op.drop_column("catalogue_product_prices", floor)
    op.execute("DROP FUNCTION catalogue_price_floor(numeric, numeric[], numeric[], numeric)")
