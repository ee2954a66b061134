"""``python -m bench.workbench``: what the workbench's pages cost, against bare baselines in the
same run, as one table.

On a migrated database of its own (the embedded PostgreSQL, as the other benchmarks) with a
register of suppliers, the operator's tasks and a quarter of orders written as the processes
leave them (``bench.workbench_data``, not timed), it requests the pages through the real app in
this process (``bench.workbench_measures``): the compliance officer's inbox, the suppliers
register searched by a sloppily typed credit code, and the ops dashboard; each against the bare
thing it shows (the same tasks as JSON, a plain ILIKE, one weekly sum). The folded search
columns are indexed by migration 0015 (pg_trgm); the table says whether the search's plan uses
them. Ratio = platform time / baseline time.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.services import KEY_ID, quiet_logs
from bench.stats import Row, latency_rows, print_header, require_counts, table
from bench.workbench_data import BUYERS, TRADING_SUPPLIERS, WINDOW_DAYS, Workload, build
from bench.workbench_measures import (
    INBOX_ROWS,
    WEEKLY_SUM,
    Search,
    measure_dashboard,
    measure_inbox,
    measure_search,
    platform_app,
    search_plan,
    signed_in,
    typed_sloppily,
)
from security.keys import generate_key_spec
from settings import Settings
from tests.harness.postgres import fresh_database

COMPLIANCE = "compliance@tradeflow.example"
P50_P95 = (50, 95)
OPS = "supervisor@tradeflow.example"


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.workbench", description=__doc__)
    parser.add_argument("--suppliers", type=int, default=20_000, help="organisations registered")
    parser.add_argument("--tasks", type=int, default=5_000, help="compliance's open tasks")
    parser.add_argument("--orders", type=int, default=20_000, help="orders on the dashboard")
    parser.add_argument("--runs", type=int, default=200, help="timed inbox requests")
    parser.add_argument("--searches", type=int, default=30, help="timed searches of each kind")
    parser.add_argument("--dashboards", type=int, default=50, help="timed dashboard loads")
    parser.add_argument("--seed", type=int, default=12, help="the data's random seed")
    arguments = parser.parse_args(argv)
    require_counts(parser, arguments)
    return arguments


def _say(message: str) -> None:
    """Progress on stderr: the table on stdout stays pasteable."""
    print(message, file=sys.stderr, flush=True)


async def _measure(a: argparse.Namespace, began: float) -> tuple[list[Row], Workload, str]:
    with (
        tempfile.TemporaryDirectory(prefix="tradeflow-bench-workbench-") as folder,
        fresh_database(Path(folder)) as url,
    ):
        settings = Settings(
            environment="test",
            data_dir=Path(folder),
            database_url=url,
            encryption_keys=generate_key_spec(KEY_ID),
            active_key_id=KEY_ID,
            jwt_secret=secrets.token_urlsafe(48),
        )
        app = await platform_app(settings)  # installs the column keyring the rows need
        sessions = app.state.platform.sessions
        _say("building the register, tasks and orders ...")
        work = build(
            sessions, suppliers=a.suppliers, open_tasks=a.tasks, orders=a.orders, seed=a.seed
        )
        _say(f"data written after {time.perf_counter() - began:.0f} s")
        compliance, ops = await signed_in(app, COMPLIANCE), await signed_in(app, OPS)
        inbox = await measure_inbox(compliance, runs=a.runs, open_tasks=a.tasks)
        _say(f"inbox done after {time.perf_counter() - began:.0f} s")
        target = work.suppliers[len(work.suppliers) // 2]
        plan = search_plan(sessions, target.credit_code)
        search = await measure_search(
            compliance, sessions, target.org_id, target.credit_code, runs=a.searches
        )
        _say(f"search done after {time.perf_counter() - began:.0f} s")
        dashboard = await measure_dashboard(ops, sessions, runs=a.dashboards)
        _say(f"dashboard done after {time.perf_counter() - began:.0f} s")
        for person in (compliance, ops):
            await person.pages.aclose()
            await person.api.aclose()
    rows = [
        *latency_rows(f"inbox, {INBOX_ROWS} of {a.tasks:,} open tasks", inbox, P50_P95),
        *latency_rows(
            f"suppliers register searched, {a.suppliers:,} suppliers", search.page, P50_P95
        ),
        *_search_sql(search),
        *latency_rows("ops dashboard, " + f"{a.orders:,} orders", dashboard, P50_P95),
    ]
    return rows, work, _index_used(plan)


def _search_sql(search: Search, *, prefix: str = "") -> list[Row]:
    return [
        *latency_rows(f"{prefix}its SQL, 4 folded columns", search.register_sql, (50,)),
        *latency_rows(f"{prefix}folded credit code alone", search.credit_code_sql, (50,)),
    ]


def _index_used(plan: str) -> str:
    nodes = [line.strip().removeprefix("->").strip() for line in plan.splitlines()]
    scans = [node.split("  (")[0] for node in nodes if "Index Scan" in node]
    return ", ".join(scans) if scans else "not used (" + nodes[0].split("  (")[0] + ")"


def main(argv: Sequence[str] | None = None) -> None:
    a = _arguments(argv)
    quiet_logs()
    began = time.perf_counter()
    print_header(
        "Tradeflow workbench benchmark",
        f"{a.suppliers:,} suppliers, {a.tasks:,} open compliance tasks, {a.orders:,} orders; "
        f"{a.runs} inbox requests, {a.searches} searches of each kind, {a.dashboards} dashboards",
    )
    rows, work, index_scan = asyncio.run(_measure(a, began))
    lines = [
        "",
        *table(rows),
        "",
        "data (written as the processes leave them, not timed):",
        f"- {len(work.suppliers):,} accredited suppliers with their applications, 1 or 2 "
        "certificates and standings; "
        f"{work.open_tasks:,} open compliance tasks (accreditation reviews, carrier reviews, "
        f"second approvals, re-reviews; one process in the navigation), {work.other_tasks:,} "
        f"open tasks of other roles, {work.decided_tasks:,} decided disputes",
        f"- {work.orders:,} orders over the last {WINDOW_DAYS + 1} days, {BUYERS} buyers and "
        f"{TRADING_SUPPLIERS} suppliers, each with its RFQ and contract; {work.delivered:,} "
        "delivered (a carrier event), 1 in 20 cancelled",
        "requests go through api.main.create_app (all middleware, sign-in cookie or bearer "
        "token) over httpx's ASGI transport, in this process; baselines interleaved:",
        f"- inbox: GET /workbench/ (rows soonest due first, counts per process) against GET "
        f"/tasks?limit={INBOX_ROWS} (the same user's same rows as JSON)",
        f"- search: GET /workbench/registers/suppliers?q={typed_sloppily('91320200MA1X2Y3Z4W')!r}"
        " (a code typed so) against SELECT id FROM organisations WHERE credit_code ILIKE "
        "'%code%' in a session; its SQL: the register's condition alone (legal name, English "
        "name, credit code and id folded), then the credit code's",
        f"- dashboard: GET /workbench/dashboard as ops (every panel) against {WEEKLY_SUM}",
        "- the folded columns are indexed by migration 0015 (pg_trgm GIN indexes on each "
        f"folded expression); the credit code's search plan: {index_scan}",
        "ratio = platform time / baseline time",
        f"\nbenchmark took {time.perf_counter() - began:.0f} s",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
