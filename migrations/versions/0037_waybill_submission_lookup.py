"""waybill submission tasks by their e-waybill: the dashboard's filing latency

The operations dashboard times each accepted filing from the carrier's last submission of its
e-waybill (``workbench.metrics_ops.filings_by_week``): the submission task whose details name
the e-waybill, decided before the receipt. Nothing indexed the e-waybill in a task's details,
so for each filing of the dashboard's ten weeks the whole tasks table was read; on ``make
seed-large``'s fifth (2,300 filings, 200,000 tasks) the dashboard's statement ran past the
database's 15 s timeout and staff got a 503. Indexed by the e-waybill and the decision, for
the submission tasks only, each filing reads its one latest submission: the statement takes
24-49 ms for the 2,300 filings, the page 126 ms.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-06 23:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_human_tasks_waybill_submission"


def upgrade() -> None:
    op.execute(
        f"CREATE INDEX {NAME} ON human_tasks ((details ->> 'waybill_number'), decided_at) "
        "WHERE kind = 'waybill_submission'"
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="human_tasks")
