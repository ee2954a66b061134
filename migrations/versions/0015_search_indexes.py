"""search indexes: the workbench's tolerant search of organisations, by trigram

The workbench searches names, numbers and credit codes however they are typed
(``workbench.search``: full-width folded to half-width, whitespace removed, lower case), as a
substring. The folding is the SQL function ``tradeflow_fold(text)`` made here, the one
``workbench.search.folded_column`` calls; a GIN trigram index (``pg_trgm``) on
``tradeflow_fold(column)`` serves ``LIKE '%…%'`` on an organisation's legal name, English name,
credit code and id.

The function is PL/pgSQL with a high COST on purpose: PostgreSQL would inline a SQL function and
cost the folding like one cheap operator, so it preferred folding all 20,000 organisations
(0.9 s a search, ``python -m bench.workbench``) to reading four small indexes. A server without
``pg_trgm`` (a PostgreSQL built without contrib) still gets the function and keeps working
without the indexes: its searches are slow, not wrong.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-22 09:00:00
"""

import logging
from collections.abc import Sequence

from alembic import op
from sqlalchemy.exc import DBAPIError

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("legal_name", "name_en", "credit_code", "id")
_FULL = "".join(chr(c) for c in range(0xFF01, 0xFF5F))
_HALF = "".join(chr(c) for c in range(0x21, 0x7F))
log = logging.getLogger("alembic.runtime.migration")

FOLD = """
CREATE FUNCTION tradeflow_fold(value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $fold$
BEGIN
    RETURN lower(regexp_replace(translate(value, %(full)s, %(half)s), '[\\s\\u3000]+', '', 'g'));
END
$fold$
"""


def upgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql(FOLD, {"full": _FULL, "half": _HALF})
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError:
        log.warning("pg_trgm is not available: organisations are searched without an index")
        return
    for column in COLUMNS:
        op.execute(
            f"CREATE INDEX ix_organisations_folded_{column} ON organisations "
            f"USING gin (tradeflow_fold({column}) gin_trgm_ops)"
        )


def downgrade() -> None:
    for column in COLUMNS:
        op.execute(f"DROP INDEX IF EXISTS ix_organisations_folded_{column}")
    op.execute("DROP FUNCTION IF EXISTS tradeflow_fold(text)")
