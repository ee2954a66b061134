"""large data indexes: every list's filter and order, so a page at ten million rows reads an index

Measured with ``python -m bench.large`` on a seeded database of a million orders and ten million
audit entries (``make seed-large``): lists filtered on columns without an index, or ordered by
a column the index did not lead with, read and sorted every matching row for each page.

- orders: each side's list (buyer, supplier, carrier) and staff's by status or all, each an
  index on the filter then ``created_at``, ``id`` (the list is newest first: a backward scan);
  the single-column side indexes they cover go.
- human tasks: the inbox (organisation, role, status) then its order, oldest due first with the
  undated last: ``coalesce(due_at, '9999-12-31')`` as ``api.routes.tasks`` sorts.
- notifications: organisation then newest first, and with the kind filter.
- waybills (the regulator's search): the carrier name folded (``tradeflow_fold``, 0015) under a
  GIN trigram index, the plate's separator-free upper-case key, the UN numbers (GIN), the maker
  and the status each with ``filed_at``.
- accreditation applications: staff's list latest first, all or by status; RFQs: a buyer's;
  loans: each side's (a supplier with 10,000 loans read and sorted them all for a page).

Without ``pg_trgm`` the folded carrier index is left out, as 0015 does: slower, not wrong.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-30 09:00:00
"""

import logging
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

INDEXES = {
    "ix_orders_buyer_created": ("orders", ["buyer_org_id", "created_at", "id"]),
    "ix_orders_supplier_created": ("orders", ["supplier_org_id", "created_at", "id"]),
    "ix_orders_carrier_created": ("orders", ["carrier_org_id", "created_at", "id"]),
    "ix_orders_status_created": ("orders", ["status", "created_at", "id"]),
    "ix_orders_created": ("orders", ["created_at", "id"]),
    "ix_notifications_org_created": ("notifications", ["org_id", "created_at", "id"]),
    "ix_notifications_org_kind_created": ("notifications", ["org_id", "kind", "created_at", "id"]),
    "ix_waybills_made_by_filed": ("waybills", ["made_by_org_id", "filed_at"]),
    "ix_waybills_status_filed": ("waybills", ["status", "filed_at"]),
    "ix_accreditation_applications_submitted": (
        "accreditation_applications",
        ["submitted_at", "id"],
    ),
    "ix_accreditation_applications_status_submitted": (
        "accreditation_applications",
        ["status", "submitted_at", "id"],
    ),
    "ix_rfqs_buyer_created": ("rfqs", ["buyer_org_id", "created_at", "id"]),
    "ix_loans_supplier_applied": ("loans", ["supplier_org_id", "applied_at", "id"]),
    "ix_loans_buyer_applied": ("loans", ["buyer_org_id", "applied_at", "id"]),
}
# Covered by the orders' side indexes above (their first column).
REPLACED = {
    "ix_orders_buyer_org_id": ("orders", ["buyer_org_id"]),
    "ix_orders_supplier_org_id": ("orders", ["supplier_org_id"]),
    "ix_orders_carrier_org_id": ("orders", ["carrier_org_id"]),
}
EXPRESSIONS = {
    "ix_human_tasks_due": "human_tasks (org_id, role, status, "
    "coalesce(due_at, '9999-12-31T00:00:00+00:00'::timestamptz), created_at, id)",
    "ix_waybills_plate_key": "waybills (upper(translate(vehicle_plate, '·• -', '')))",
    "ix_waybills_un_numbers": "waybills USING gin (un_numbers)",
}
FOLDED_CARRIER = (
    "CREATE INDEX ix_waybills_folded_carrier_name ON waybills "
    "USING gin (tradeflow_fold(carrier_name) gin_trgm_ops)"
)


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)
    for name, expression in EXPRESSIONS.items():
        op.execute(f"CREATE INDEX {name} ON {expression}")
    for name, (table, _) in REPLACED.items():
        op.drop_index(name, table_name=table)
    bind = op.get_bind()
    trigrams = bind.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first()
    if trigrams is None:
        log.warning("pg_trgm is not available: waybills' carriers are searched without an index")
        return
    try:
        with bind.begin_nested():
            bind.exec_driver_sql(FOLDED_CARRIER)
    except DBAPIError:
        log.warning("the folded carrier name could not be indexed: searched without an index")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_waybills_folded_carrier_name")
    for name, (table, columns) in REPLACED.items():
        op.create_index(name, table, columns)
    for name in EXPRESSIONS:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
