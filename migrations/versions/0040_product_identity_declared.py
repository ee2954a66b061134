"""a product's identity holds its dangerous-goods identity and temperature profile

Products were shared by every supplier listing one brand and model in a category, described by
the first lister only: a later supplier's UN number, packing group and temperature profile were
dropped, and the orders made of its offers carried the first lister's (none, if it had declared
none: dangerous goods ordered without the e-waybill's rules, chilled goods without the cold
chain). A listing that declares them differently is now another product
(``rules.catalogue_listing.product_identity``): the identity of each product that declares
them gains the same suffix here, so a listing written after this finds its product. An offer
attached before to a product declaring other goods than its supplier did stays there until it is
listed again: its own declaration was not kept, so nothing here can move it.

Widening ``identity`` changes no row. Going down takes the suffixes off again, and refuses
(changing nothing) where two products of a category would then be one.

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-07 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0040"
down_revision: str | None = "0039"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DECLARED = (
    "CASE WHEN un_number IS NULL THEN '' "
    "ELSE '|dg:' || un_number || ':' || coalesce(packing_group, '') END"
    " || CASE WHEN temperature_profile IS NULL THEN '' ELSE '|temp:' || temperature_profile END"
)
# brand "|" model: both folded by identity_key, which leaves no "|" in either.
BARE = "split_part(identity, '|', 1) || '|' || split_part(identity, '|', 2)"


def upgrade() -> None:
    op.alter_column("products", "identity", type_=sa.String(260), existing_type=sa.String(210))
    op.execute(
        f"UPDATE products SET identity = {BARE} || {DECLARED}"
        " WHERE (un_number IS NOT NULL OR temperature_profile IS NOT NULL)"
        f" AND identity <> {BARE} || {DECLARED}"
    )


def downgrade() -> None:
    merged = (
        op.get_bind()
        .execute(
            sa.text(
                f"SELECT count(*) FROM (SELECT category_id, {BARE} FROM products"
                f" GROUP BY category_id, {BARE} HAVING count(*) > 1) AS shared"
            )
        )
        .scalar_one()
    )
    if merged:
        raise RuntimeError(
            f"{merged} brand and model(s) are listed as more than one product (declaring "
            "different dangerous-goods identities or temperature profiles); the revision "
            "before 0040 would make each one product: remove all but one of each first"
        )
    op.execute(f"UPDATE products SET identity = {BARE} WHERE identity <> {BARE}")
    op.alter_column("products", "identity", type_=sa.String(210), existing_type=sa.String(260))
