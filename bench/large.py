"""``python -m bench.large``: every list and search of the API against the large dataset
(``make seed-large``), each against a bare indexed SQL query returning the same rows.

The app is the real one (``api.main.create_app``, all its middleware, its authorisation and
serialisation) served in this process over httpx's ASGI transport, as ``bench.workbench`` does;
the callers are the demo users, whose organisations hold a big customer's share of the data
(``bench.large_data``). Each list's first page (and a deep page of the orders) is requested,
interleaved with its baseline: the SQL a hand-written client would run for the same rows, on its
own connection (``psycopg2``, rows fetched, nothing decoded). The first answer of each is
compared row for row with the baseline's, so a fast wrong answer cannot pass. p50 and p99 in
milliseconds; ratio = platform / baseline; the issue's goal is every list within 3x.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import psycopg2
from sqlalchemy.engine import make_url

from api.routes.orders import NEWEST_FIRST
from bench.large_cases import Case, cases
from bench.large_stack import minimal_app
from bench.services import quiet_logs
from bench.stats import Row, Samples, latency_rows, print_header, require_counts, table
from bench.workbench_measures import Person, interleaved, platform_app, signed_in
from settings import Settings

GOAL = 3.0
MINIMAL = "  a minimal FastAPI app, "
# Rows of a list's parts, and the floor (a 404, no list): not held to the goal.
STACK_ROWS = ("  ", "floor")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Baseline:
    """The bare SQL on a connection of its own."""

    connection: Any
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    def run(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            found: list[tuple[Any, ...]] = cursor.fetchall()
        return found


def _connect(url: str) -> Any:
    parts = make_url(url)
    query = dict(parts.query)
    connection = psycopg2.connect(
        dbname=parts.database,
        user=parts.username,
        host=str(query.get("host", parts.host or "")),
        port=str(query.get("port", parts.port or 5432)),
    )
    connection.autocommit = True
    return connection


def _check(case: Case, answer: httpx.Response, expected: list[tuple[Any, ...]]) -> None:
    """The API's first answer is the baseline's rows (their keys, in order), or says why not."""
    if answer.status_code != case.status:
        raise RuntimeError(f"{case.label}: {answer.status_code} {answer.text[:300]}")
    if case.status != 200:
        return
    if case.html_marker is not None:
        if case.html_marker not in answer.text:
            raise RuntimeError(f"{case.label}: the page does not show {case.html_marker!r}")
        return
    body = answer.json()
    rows = body[case.items] if case.items else body
    keys = list(dict.fromkeys(str(row[0]) for row in expected))[: case.limit]
    got = [str(row[case.id_field]) for row in rows] if case.id_field else keys[: len(rows)]
    if got != keys:
        raise RuntimeError(f"{case.label}: {len(got)} rows, not the baseline's {len(keys)}")


async def _measure(case: Case, client: httpx.AsyncClient, base: Baseline, runs: int) -> Samples:
    _check(
        case, await client.get(case.path, params=case.params), base.run(case.sql, case.sql_params)
    )

    async def platform(_: int) -> None:
        reply = await client.get(case.path, params=case.params)
        if reply.status_code != case.status:
            raise RuntimeError(f"{case.label}: {reply.status_code}")

    async def baseline(_: int) -> None:
        base.run(case.sql, case.sql_params)

    return await interleaved(platform, baseline, runs)


async def _measure_stack(
    index: int, case: Case, client: httpx.AsyncClient, base: Baseline, runs: int
) -> Samples:
    """The minimal FastAPI app (``bench.large_stack``) answering the case's SQL, against the
    bare SQL: what a plain app on this stack costs for these rows."""
    path = f"/cases/{index}"
    first = await client.get(path)
    if first.status_code != case.status:
        raise RuntimeError(f"{case.label}, minimal app: {first.status_code} {first.text[:300]}")

    async def stack(_: int) -> None:
        await client.get(path)

    async def baseline(_: int) -> None:
        base.run(case.sql, case.sql_params)

    return await interleaved(stack, baseline, runs)


async def _measure_sql(case: Case, sessions: Any, base: Baseline, runs: int) -> Samples:
    """The route's own statement through SQLAlchemy (rows as ORM objects) against the bare
    SQL: what the database and the ORM cost, apart from the app around them."""
    statement = case.statement
    assert statement is not None

    async def route_sql(_: int) -> None:
        with sessions() as session:
            session.scalars(statement).all()

    async def baseline(_: int) -> None:
        base.run(case.statement_sql or case.sql, case.sql_params)

    return await interleaved(route_sql, baseline, runs)


def _deep_cursor(base: Baseline) -> tuple[str, int]:
    """A cursor the orders list gives deep into staff's in-transit orders (up to 5,000 rows
    in), and how deep."""
    ((count,),) = base.run("SELECT count(*) FROM orders WHERE status = 'in_transit'", {})
    depth = max(1, min(5_000, count // 2))
    ((created_at, order_id),) = base.run(
        "SELECT created_at, id FROM orders WHERE status = 'in_transit' "
        "ORDER BY created_at DESC, id OFFSET %(depth)s LIMIT 1",
        {"depth": depth - 1},
    )
    return NEWEST_FIRST.encode(SimpleNamespace(created_at=created_at, id=order_id)), depth


def large_settings(folder: str, url: str, spec: str, key_id: str) -> Settings:
    """The app's settings over a large dataset's database and its keys, data in ``folder``."""
    return Settings(
        environment="test",
        data_dir=Path(folder),
        database_url=url,
        encryption_keys=spec,
        active_key_id=key_id,
        jwt_secret=secrets.token_urlsafe(48),
    )


async def _run(url: str, spec: str, key_id: str, runs: int, only: str | None) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="tradeflow-bench-large-") as folder:
        app = await platform_app(large_settings(folder, url, spec, key_id))
        base = Baseline(_connect(url))
        cursor, depth = _deep_cursor(base)
        chosen = [
            case
            for case in cases(base.run, deep_cursor=cursor, depth=depth)
            if not only or only in case.label
        ]
        platform = app.state.platform
        stack = httpx.AsyncClient(
            transport=httpx.ASGITransport(
                app=minimal_app(platform.sessions, platform.jwt_secret, chosen)
            ),
            base_url="http://bench",
            timeout=60,
        )
        people: dict[str, Person] = {}
        rows: list[Row] = []
        try:
            for index, case in enumerate(chosen):
                if case.email not in people:
                    people[case.email] = await signed_in(app, case.email)
                person = people[case.email]
                # The workbench's pages answer its cookie; the API its bearer token.
                client = person.pages if case.path.startswith("/workbench") else person.api
                began = time.perf_counter()
                samples = await _measure(case, client, base, runs)
                _say(f"{case.label}: {time.perf_counter() - began:.1f} s")
                rows.extend(latency_rows(case.label, samples))
                stack.headers["Authorization"] = person.api.headers["Authorization"]
                plain = await _measure_stack(index, case, stack, base, runs)
                rows.extend(latency_rows(f"{MINIMAL}{case.label}", plain, (50,)))
                if case.statement is not None:
                    sql = await _measure_sql(case, app.state.platform.sessions, base, runs)
                    rows.extend(latency_rows(f"  its SQL alone, {case.label}", sql, (50,)))
        finally:
            await stack.aclose()
            for person in people.values():
                await person.pages.aclose()
                await person.api.aclose()
            base.connection.close()
    return rows


def measure_all(
    url: str, spec: str, key_id: str, *, runs: int = 30, only: str | None = None
) -> None:
    """Measure every case against the seeded database at ``url`` and print the table."""
    quiet_logs()
    print_header(
        "Tradeflow ten-million-row benchmark (bench.large)",
        f"{runs} requests of each list after warm-up, interleaved with its bare SQL",
    )
    print(_sizes(url), flush=True)
    rows = asyncio.run(_run(url, spec, key_id, runs, only))
    print("\n".join(["", *table(rows), ""]))
    lists = [r for r in rows if r.label.endswith("p50") and not r.label.startswith(STACK_ROWS)]
    over = [r.label for r in lists if r.ratio > GOAL]
    print(
        f"goal: every list's p50 within {GOAL:.0f}x of its bare query: "
        + ("met" if not over else f"missed by {len(over)} of {len(lists)}: " + "; ".join(over))
    )
    plain = [r for r in rows if r.label.startswith(MINIMAL) and "floor" not in r.label]
    print(
        f"the minimal app's p50 over {GOAL:.0f}x of its bare query: "
        f"{sum(r.ratio > GOAL for r in plain)} of {len(plain)} lists"
    )
    print("\n".join(["", *_over_the_stack(rows)]))


def _over_the_stack(rows: list[Row]) -> list[str]:
    """Each list's p50 against the minimal app's for the same rows: the platform's own share."""
    stack = {r.label.removeprefix(MINIMAL): r.platform for r in rows if r.label.startswith(MINIMAL)}
    found = [
        f"{r.label.removesuffix(': p50')}: {r.platform / stack[r.label]:.2f}x "
        f"({r.platform:.3g} against {stack[r.label]:.3g} ms)"
        for r in rows
        if r.label in stack
    ]
    return ["the platform over a minimal FastAPI app answering the same SQL, at p50:", *found]


def _sizes(url: str) -> str:
    connection = _connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, reltuples::bigint FROM pg_class WHERE relname IN ('orders', "
                "'audit_log', 'organisations', 'temperature_readings', 'human_tasks', "
                "'notifications', 'waybills', 'accreditation_applications') ORDER BY relname"
            )
            return "rows (planner estimates): " + ", ".join(f"{n} {c:,}" for n, c in cursor)
    finally:
        connection.close()


def main(argv: Sequence[str] | None = None) -> None:
    from bench.seed_large import KEY_ID, database_url, key_spec, large_server
    from db.migrate import ROOT, migrate

    parser = argparse.ArgumentParser(prog="python -m bench.large", description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT / ".data" / "large")
    parser.add_argument("--runs", type=int, default=30, help="timed requests of each list")
    parser.add_argument("--only", help="the cases whose label contains this")
    a = parser.parse_args(argv)
    require_counts(parser, a, ["runs"])
    if not (a.data / "pg" / "PG_VERSION").exists():
        parser.error(f"no seeded database in {a.data}: run make seed-large first")
    with large_server(a.data / "pg") as server_url:
        migrate(database_url(server_url))  # a dataset seeded before the latest migrations
        measure_all(database_url(server_url), key_spec(a.data), KEY_ID, runs=a.runs, only=a.only)


if __name__ == "__main__":
    main()
