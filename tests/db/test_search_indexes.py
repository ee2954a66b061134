"""The tolerant search folds alike on both sides and uses the organisations' trigram indexes.

``workbench.search.fold`` (the query, in Python) and ``tradeflow_fold`` (the columns, in SQL,
migration 0015) must fold every string the same way; and PostgreSQL must choose the indexes for
the search, which it does only because the folding is costed as dear as it is.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Organisation
from workbench.search import fold, matches

SAMPLES = (
    "\uff19\uff11\uff13\uff12 0200 MA1X 2Y3Z",  # a credit code typed on a Chinese keyboard
    "华东精细化工\u3000\uff28\uff35\uff21\uff24\uff2f\uff2e\uff27 Fine\tChemicals",
    "\uff11\uff10\uff10\uff05_under\\score 'quote'",
    "",
)


@pytest.mark.parametrize("text", SAMPLES)
def test_the_database_folds_as_python_does(sessions: sessionmaker[Session], text: str) -> None:
    with sessions() as session:
        assert session.scalar(select(func.tradeflow_fold(text))) == fold(text)


COLUMNS = [Organisation.legal_name, Organisation.name_en, Organisation.credit_code, Organisation.id]


def test_the_organisations_search_reads_their_indexes(sessions: sessionmaker[Session]) -> None:
    query = select(Organisation.id).where(or_(*(matches(c, SAMPLES[0]) for c in COLUMNS)))
    with sessions() as session:
        compiled = query.compile(dialect=session.get_bind().dialect)
        plan = "\n".join(
            line
            for (line,) in session.connection().exec_driver_sql(
                f"EXPLAIN {compiled}", compiled.params
            )
        )
    for column in COLUMNS:
        assert f"Bitmap Index Scan on ix_organisations_folded_{column.key}" in plan, plan
