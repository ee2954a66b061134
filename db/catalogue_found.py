"""The found products of a catalogue search: each product matching a query with its best
visible offer (``db.catalogue_best``), as one statement's CTE (``found``) or kept for a first
page in a temporary table (``FOUND``) that its page and its facets both read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    CTE,
    BigInteger,
    Column,
    Engine,
    Insert,
    Integer,
    MetaData,
    Numeric,
    Select,
    String,
    Table,
    bindparam,
    event,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import Text

from db.catalogue import Product
from db.catalogue_best import asked, summed_best
from db.catalogue_filters import Day, SearchFilters, summed
from db.catalogue_search import Matching
from db.catalogue_vocabulary import THRESHOLD_KEPT, similarity_threshold


def _matched(matching: Matching, where: Sequence[ColumnElement[bool]], top: int | None) -> CTE:
    statement = select(
        Product.id,
        Product.brand,
        Product.hazard_class,
        Product.temperature_profile,
        matching.score.label("score"),
    ).where(*matching.conditions, *where)
    if top is not None:
        statement = statement.order_by(matching.score.desc(), Product.id).limit(
            bindparam("top", top, type_=Integer)
        )
    return statement.cte("matched").prefix_with("MATERIALIZED")


def found(
    matching: Matching,
    filters: SearchFilters,
    *,
    today: Day,
    where: Sequence[ColumnElement[bool]] = (),
    top: int | None = None,
    by_offers: bool = False,
    regions: bool = False,
    hashed: bool = False,
) -> CTE:
    """The matching products with their best offers (``price`` in the region asked,
    ``price_anywhere`` in any; ``regions`` where those passing every filter but the province
    deliver, comma-separated, for facets to count (else None where the offers are asked); for
    the in-stock and MOQ facets, ``price_in_stock`` (None: none in stock), ``least_moq`` and
    ``price_any_moq``), before the product and price filters, as a statement's CTE. ``where``
    narrows the products further (the sample, a page's own filters); ``top`` keeps only the
    most relevant; ``by_offers`` asks every one's offers, never its sum; ``hashed``, where the
    offers are asked, checks them against the suppliers' standing hashed once
    (``db.catalogue.visible_offer``).

    Each step is MATERIALIZED: the planner estimates a GIN array containment at a row or two,
    and left to inline the steps it re-aggregated every product's offers once a matched row
    (a second page by price over 1,218 products: 1.4 s inlined, 49 ms materialized)."""
    matched = _matched(matching, where, top)
    if summed(filters) and not by_offers:
        best = summed_best(matched, filters, today)
    else:
        best = asked(select(matched.c.id), filters, today, regions=regions, hashed=hashed)
    return (
        select(
            matched,
            best.c.price,
            best.c.price_anywhere,
            best.c.lead_time_days,
            best.c.offers,
            best.c.regions,
            best.c.least_moq,
            best.c.price_in_stock,
            best.c.price_any_moq,
        )
        .join(best, best.c.product_id == matched.c.id)
        .cte("results")
        .prefix_with("MATERIALIZED")
    )


# The found products of a first page: a temporary table of one fixed name, emptied when a
# transaction ends, filled by a cached statement. Made by CREATE ... AS under a name of its own,
# every search compiled its SQL again and every statement that read it (20 ms of a narrow
# search). The API's connections make it once each, as they connect (``keep_found``): made by
# the search itself, a read-only request's rollback took it away, and every search made it
# again (about 1 ms, and 42 rows of PostgreSQL's catalogue written and left dead).
FOUND = Table(
    "catalogue_found",
    MetaData(),
    Column("id", String),
    Column("brand", String),
    Column("hazard_class", String),
    Column("temperature_profile", String),
    Column("score", Numeric),
    Column("price", Numeric),
    Column("price_anywhere", Numeric),
    Column("lead_time_days", Integer),
    Column("offers", BigInteger),
    Column("regions", Text),
    Column("least_moq", Numeric),
    Column("price_in_stock", Numeric),
    Column("price_any_moq", Numeric),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DELETE ROWS",
)
_CREATE_FOUND = str(
    CreateTable(FOUND, if_not_exists=True).compile(dialect=postgresql.dialect())  # type: ignore[no-untyped-call]
)


def fill_found(session: Session, filled: Insert, values: Mapping[str, Any]) -> int:
    """``FOUND`` (``clear_found`` makes it) filled by ``filling``'s statement with ``values``,
    its parameters': a first page and its facets both read it (each computed them on its own
    before, which doubled a first page's time: a broad word's 60,000 products' best offers,
    twice); how many rows."""
    written = session.execute(filled, values)
    return int(written.rowcount)  # type: ignore[attr-defined]


def filling(rows: Select[Any]) -> Insert:
    """The statement adding ``rows`` to ``FOUND``."""
    return insert(FOUND).from_select([c.name for c in FOUND.c], rows)


def clear_found(session: Session) -> None:
    """``FOUND`` made if this connection has none, and emptied: a search that fills it begins
    so, whatever an earlier search in the same transaction left there. A kept table not filled
    since its connection left the pool holds no row to see (a commit empties it, and a rolled-
    back fill was emptied as its connection went back): it is not emptied again, a statement
    less for every first page."""
    connection = session.connection()
    if connection.info.get(_FOUND_KEPT):
        if not connection.info.get(_FOUND_FILLED):
            connection.info[_FOUND_FILLED] = True  # emptied for good as the connection goes back
            return
    else:
        connection.exec_driver_sql(_CREATE_FOUND)
    session.execute(FOUND.delete())


_FOUND_KEPT = "catalogue_found"
_FOUND_FILLED = "catalogue_found_filled"


def keep_found(engine: Engine) -> None:
    """Each connection ``engine`` makes has ``FOUND`` from the start, committed, so searches
    on it do not make it again. The mark lives in the pool's record of the connection, which
    SQLAlchemy clears when it connects afresh (a database restarted: the table is gone too).

    They also compare words at search's trigram threshold from the start
    (``db.catalogue_vocabulary.similarity_threshold``), so a search need not set it.

    A search's transaction is read-only and rolls back, which leaves the rows it wrote dead in
    the table (``ON COMMIT DELETE ROWS`` empties it only at a commit), and nothing vacuums a
    temporary table: kept, it would grow with every search on the connection. So a connection
    that filled it empties it for good, in a transaction of its own, as it goes back to the
    pool."""
    event.listen(engine, "connect", _make_found)
    event.listen(engine, "checkin", _emptied)


def _make_found(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    _run(dbapi_connection, f"{_CREATE_FOUND}; {similarity_threshold()}")
    record.info[_FOUND_KEPT] = True
    record.info[THRESHOLD_KEPT] = True


# A transaction that reads the table: its commit empties it (``ON COMMIT DELETE ROWS``) where
# it is, where a TRUNCATE gives it a new file and writes the catalogue (0.55 against 1.1 ms).
_EMPTY_FOUND = "BEGIN; SELECT FROM catalogue_found LIMIT 0; COMMIT"


def _emptied(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    if dbapi_connection is None or not record.info.pop(_FOUND_FILLED, False):
        return
    try:
        _run(dbapi_connection, _EMPTY_FOUND)
    except Exception:
        record.invalidate()  # closed, and its table with it: the next use connects afresh


def _run(dbapi_connection: Any, statements: str) -> None:
    """``statements`` sent as they are, in one round trip: in autocommit psycopg2 adds no
    BEGIN before them and no COMMIT after (each its own round trip otherwise)."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(statements)
        finally:
            cursor.close()
    finally:
        dbapi_connection.autocommit = autocommit
