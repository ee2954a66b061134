"""register and list indexes: contracts newest first, staff's loans, suppliers by next review

Found with the workbench's registers on ``make seed-large``'s data (its fifth, 200,000
contracts, 20,000 suppliers): a list ordered by a column no index led with read and sorted
every row it could show for each page.

- contracts (``GET /contracts`` and the contracts register, newest first): each side's, staff's
  by status, and staff's all, as the orders' lists have since 0017 (staff's page: 47 ms, every
  contract read in parallel and sorted); the single-column side indexes they cover go.
- loans: staff's all, newest applied first (each side's has been indexed since 0017).
- supplier standings by their expiry then supplier, the suppliers register's order: its first
  page joined and counted the certificates of every supplier before sorting (120 ms).

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-06 23:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_contracts_buyer_created": ("contracts", ["buyer_org_id", "created_at", "id"]),
    "ix_contracts_supplier_created": ("contracts", ["supplier_org_id", "created_at", "id"]),
    "ix_contracts_status_created": ("contracts", ["status", "created_at", "id"]),
    "ix_contracts_created": ("contracts", ["created_at", "id"]),
    "ix_loans_applied": ("loans", ["applied_at", "id"]),
    "ix_supplier_accreditations_expires": (
        "supplier_accreditations",
        ["expires_on", "supplier_org_id"],
    ),
}
# Covered by the contracts' side indexes above (their first column).
REPLACED = {
    "ix_contracts_buyer_org_id": ("contracts", ["buyer_org_id"]),
    "ix_contracts_supplier_org_id": ("contracts", ["supplier_org_id"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)
    for name, (table, _) in REPLACED.items():
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, (table, columns) in REPLACED.items():
        op.create_index(name, table, columns)
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
