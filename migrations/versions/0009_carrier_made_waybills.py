"""carriers make the waybill: the order's carrier, the consignment list, the loader's checks

- ``orders.carrier_org_id``: the carrier the supplier chose at confirmation (none on orders
  confirmed before carriers were parties, and on orders without dangerous goods that need none).
- ``shipments.consignment_document_id``: the consignor's consignment list (托运清单) the carrier
  makes the shipment's waybill from.
- ``waybills.made_by_org_id`` / ``made_by``: who made the filed waybill, the carrier's
  organisation and dispatcher (none on waybills the supplier submitted before).
- ``loading_checks``: the loader's five checks (五必查) before loading, one row per check made.
- The filed waybill's immutability now covers who made it, and the search columns copied from
  its record, as well as the record itself.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_IMMUTABLE = """
CREATE OR REPLACE FUNCTION waybill_record_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'waybills are never deleted';
    END IF;
    IF (NEW.waybill_number, NEW.order_id, NEW.receipt_number, NEW.filed_at, NEW.record,
        NEW.json_document_id, NEW.json_sha256, NEW.pdf_document_id, NEW.pdf_sha256{new})
       IS DISTINCT FROM
       (OLD.waybill_number, OLD.order_id, OLD.receipt_number, OLD.filed_at, OLD.record,
        OLD.json_document_id, OLD.json_sha256, OLD.pdf_document_id, OLD.pdf_sha256{old}) THEN
        RAISE EXCEPTION 'a filed waybill is immutable; only its status changes';
    END IF;
    RETURN NEW;
END $$;
"""
_ADDED = (
    "dispatch_date",
    "consignor_name",
    "consignee_name",
    "carrier_name",
    "vehicle_plate",
    "un_numbers",
    "hazard_classes",
    "made_by_org_id",
    "made_by",
)


def _immutable(columns: Sequence[str]) -> str:
    return _IMMUTABLE.format(
        new="".join(f", NEW.{c}" for c in columns), old="".join(f", OLD.{c}" for c in columns)
    )


def upgrade() -> None:
    op.add_column(
        "orders",
        sa.Column(
            "carrier_org_id", sa.String(length=40), sa.ForeignKey("organisations.id"), nullable=True
        ),
    )
    op.create_index("ix_orders_carrier_org_id", "orders", ["carrier_org_id"])
    op.add_column(
        "shipments",
        sa.Column(
            "consignment_document_id",
            sa.String(length=160),
            sa.ForeignKey("documents.id"),
            nullable=True,
        ),
    )
    op.add_column(
        "waybills",
        sa.Column(
            "made_by_org_id", sa.String(length=40), sa.ForeignKey("organisations.id"), nullable=True
        ),
    )
    op.add_column(
        "waybills", sa.Column("made_by", sa.String(length=200), server_default="", nullable=False)
    )
    op.create_table(
        "loading_checks",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("order_id", sa.String(length=80), sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("shipment_number", sa.Integer(), nullable=False),
        sa.Column("waybill_number", sa.String(length=80), nullable=False),
        sa.Column("checks", postgresql.JSONB(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("checked_by", sa.String(length=40), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_loading_checks_order_id", "loading_checks", ["order_id"])
    op.execute(_immutable(_ADDED))


def downgrade() -> None:
    op.execute(_immutable(()))
    op.drop_index("ix_loading_checks_order_id", table_name="loading_checks")
    op.drop_table("loading_checks")
    op.drop_column("waybills", "made_by")
    op.drop_column("waybills", "made_by_org_id")
    op.drop_column("shipments", "consignment_document_id")
    op.drop_index("ix_orders_carrier_org_id", table_name="orders")
    op.drop_column("orders", "carrier_org_id")
