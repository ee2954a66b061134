"""shipments: an order ships in one or more consignments, each with its own e-waybill

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shipments",
        sa.Column("order_id", sa.String(length=80), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("quantities", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("un_numbers", postgresql.ARRAY(sa.String(length=10)), nullable=False),
        sa.Column("waybill_number", sa.String(length=80), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.PrimaryKeyConstraint("order_id", "number"),
        sa.UniqueConstraint("waybill_number"),
    )
    # Orders confirmed before shipments existed travelled as one shipment with every line.
    op.execute(
        """
        INSERT INTO shipments (order_id, number, status, quantities, un_numbers, waybill_number)
        SELECT o.id, 1,
               CASE WHEN o.status IN ('disputed', 'invoiced', 'completed') THEN 'delivered'
                    ELSE o.status END,
               (SELECT coalesce(jsonb_object_agg(l ->> 'line_id', l ->> 'quantity'), '{}')
                  FROM jsonb_array_elements(c.terms -> 'lines') AS l),
               ARRAY(SELECT DISTINCT l ->> 'un_number'
                       FROM jsonb_array_elements(c.terms -> 'lines') AS l
                      WHERE l ->> 'un_number' IS NOT NULL),
               o.waybill_number
          FROM orders o JOIN contracts c ON c.id = o.contract_id
         WHERE o.status NOT IN ('awaiting_confirmation', 'refused')
        """
    )
    op.add_column(
        "carrier_events",
        sa.Column("shipment_number", sa.Integer(), nullable=False, server_default="1"),
    )
    op.alter_column("carrier_events", "shipment_number", server_default=None)
    op.drop_constraint("carrier_events_order_id_kind_key", "carrier_events", type_="unique")
    op.create_unique_constraint(
        "carrier_events_order_id_shipment_number_kind_key",
        "carrier_events",
        ["order_id", "shipment_number", "kind"],
    )
    op.drop_column("orders", "waybill_number")


def downgrade() -> None:
    op.add_column("orders", sa.Column("waybill_number", sa.String(length=80), nullable=True))
    op.execute(
        "UPDATE orders o SET waybill_number = s.waybill_number FROM shipments s"
        " WHERE s.order_id = o.id AND s.number = 1"
    )
    op.drop_constraint(
        "carrier_events_order_id_shipment_number_kind_key", "carrier_events", type_="unique"
    )
    op.execute("DELETE FROM carrier_events WHERE shipment_number > 1")
    op.create_unique_constraint(
        "carrier_events_order_id_kind_key", "carrier_events", ["order_id", "kind"]
    )
    op.drop_column("carrier_events", "shipment_number")
    op.drop_table("shipments")
