"""The found products' temporary table: made once a connection where the API keeps it, so a
read-only search's rollback does not take it away; made by the search itself elsewhere. Such a
connection also compares words at search's trigram threshold from the start."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event, func, insert, select, text
from sqlalchemy.orm import Session

from db.catalogue_filters import SearchFilters
from db.catalogue_found import FOUND, clear_found, keep_found
from db.catalogue_vocabulary import FUZZY_THRESHOLD, vocabulary
from db.session import make_engine
from rules.search_text import parse_query

HELD = text("select to_regclass('pg_temp.catalogue_found') is not null")


def _creations(engine: Engine, kind: str = "CREATE TEMPORARY TABLE") -> list[str]:
    """The statements of ``kind`` run through ``engine``'s connections from now on."""
    made: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if kind in statement:
            made.append(statement)

    return made


def _search(session: Session) -> int:
    """What a first page does with the table: empties it, fills it, reads it."""
    clear_found(session)
    session.execute(insert(FOUND).values(id="prd_1"))
    return int(session.scalar(select(func.count()).select_from(FOUND)) or 0)


def test_a_kept_table_outlives_rolled_back_searches_and_a_fresh_connection_has_it_again(
    database_url: str,
) -> None:
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    keep_found(engine)
    made = _creations(engine)
    try:
        for _ in range(3):
            with Session(engine) as session:  # closed without commit: rolled back
                assert session.scalar(HELD)
                assert _search(session) == 1
        with Session(engine) as session:  # as when the database restarted under the pool
            session.connection().invalidate()
        with Session(engine) as session:
            assert session.scalar(HELD)
            assert _search(session) == 1
        assert made == []
    finally:
        engine.dispose()


def test_a_kept_table_is_emptied_for_good_as_its_connection_goes_back(database_url: str) -> None:
    """A search rolls back, leaving its rows dead in the table, and nothing vacuums a
    temporary table: it is emptied as the connection goes back, so it never grows."""
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    keep_found(engine)
    size = text("select pg_relation_size('pg_temp.catalogue_found')")
    try:
        for _ in range(3):
            with Session(engine) as session:
                clear_found(session)
                session.execute(insert(FOUND), [{"id": f"prd_{i}"} for i in range(500)])
        with Session(engine) as session:
            assert session.scalar(size) == 0
    finally:
        engine.dispose()


def test_where_the_table_is_not_kept_a_search_makes_it(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    made = _creations(engine)
    try:
        for _ in range(2):
            with Session(engine) as session:
                assert not session.scalar(HELD)
                assert _search(session) == 1
        assert len(made) == 2
    finally:
        engine.dispose()


def test_a_kept_table_is_emptied_only_when_this_checkout_filled_it(database_url: str) -> None:
    """Not filled since its connection left the pool, a kept table holds no row to see, and a
    search does not delete from it; a second search in the same transaction does."""
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    keep_found(engine)
    deleted = _creations(engine, "DELETE FROM catalogue_found")
    try:
        for _ in range(2):
            with Session(engine) as session:
                assert _search(session) == 1
        assert deleted == []
        with Session(engine) as session:
            assert _search(session) == 1
            assert _search(session) == 1  # the first's row deleted
        assert len(deleted) == 1
    finally:
        engine.dispose()


def test_a_kept_connection_compares_words_at_searchs_threshold(database_url: str) -> None:
    """Set once as it connects, for its whole session (a search's rollback keeps it), so
    vocabulary does not set it for each search; elsewhere it does, for the search alone."""
    threshold = text("select current_setting('pg_trgm.word_similarity_threshold', true)")
    query = parse_query("stanly", [])
    kept = make_engine(database_url, pool_size=1, max_overflow=0)
    keep_found(kept)
    plain = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        for engine, set_each_time in ((kept, False), (plain, True)):
            set_here = _creations(engine, "set_config")
            for _ in range(2):
                with Session(engine) as session:
                    vocabulary(session, query, SearchFilters())
                    assert session.scalar(threshold) == str(FUZZY_THRESHOLD)
            assert len(set_here) == (2 if set_each_time else 0)
        with Session(plain) as session:  # set for the search's transaction alone
            assert session.scalar(threshold) in (None, "", "0.6")
    finally:
        kept.dispose()
        plain.dispose()
