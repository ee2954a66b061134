"""catalogue sums: whether a product is in stock and its least MOQ, for those facets' counts

Search counts its found products under each filter value (``db.catalogue_facets``), but had no
count for two of its filters: in stock and the most a buyer will take as a minimum order. A
product's summed prices now keep both for its visible offers: ``in_stock`` (any of them holds
stock) and ``least_moq`` (the least minimum order quantity among them). The refresher sums
them from now on; the rows already summed get them here, from the same offers under the same
visibility rule as of today. A row no visible offer answers lapses today, so search asks its
offers until the refresher has summed it again.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# db.catalogue.visible_offer as of the day the migration runs, in China (rules.waybill_parties).
_TODAY = "(now() AT TIME ZONE 'Asia/Shanghai')::date"
_FILL = f"""
UPDATE catalogue_product_prices AS p
SET in_stock = s.in_stock, least_moq = s.least_moq
FROM (
    SELECT o.product_id, o.currency,
           bool_or(o.stock >= 0.001) AS in_stock, min(o.min_order_quantity) AS least_moq
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
WHERE in_stock IS NULL
"""


def upgrade() -> None:
    op.add_column("catalogue_product_prices", sa.Column("in_stock", sa.Boolean()))
    op.add_column("catalogue_product_prices", sa.Column("least_moq", sa.Numeric(15, 3)))
    op.execute(_FILL)
    op.execute(_LAPSE_UNANSWERED)


def downgrade() -> None:
    op.drop_column("catalogue_product_prices", "least_moq")
    op.drop_column("catalogue_product_prices", "in_stock")
