"""decided tasks by their decision: the dashboard's decision hours

The operations dashboard shows how long each process's tasks took to decide over its ten weeks
(``workbench.metrics_ops.decided_tasks``). Nothing indexed a task's decision, so the statement
read every task ever opened: 30-40 ms at ``make seed-large``'s fifth (200,000 tasks), growing
with the table. Indexed by the decision, for decided tasks only (open ones, most of a busy
inbox, are left out), it reads the ten weeks' decisions alone.

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-07 01:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0038"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_human_tasks_decided"


def upgrade() -> None:
    op.create_index(
        NAME, "human_tasks", ["decided_at"], postgresql_where=sa.text("decided_at IS NOT NULL")
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="human_tasks")
