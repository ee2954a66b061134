"""The catalogue benchmarks' bare queries, each case's and the mix's, run on the migrated schema
(whatever other tests listed): a baseline whose SQL no longer fits the schema or its template would
only fail in a benchmark run, which no test makes."""

from __future__ import annotations

import psycopg2
from sqlalchemy.engine import make_url

from bench.catalogue_mix import MATCH
from bench.catalogue_search import BARE, LIMIT, LIST_PRICE, _terms, cases
from rules.waybill_parties import china_today


def test_every_bare_query_runs(database_url: str) -> None:
    shared = {"today": china_today(), "limit": LIMIT}
    queries = [(BARE.format(match=c.match, price=c.price), c.match_params) for c in cases("M-1")]
    queries.append((BARE.format(match=MATCH, price=LIST_PRICE), {"terms": _terms("螺丝刀")}))
    url = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            for sql, params in queries:
                cursor.execute(sql, {**shared, **params})
                assert len(cursor.fetchall()) <= LIMIT
    finally:
        connection.close()
