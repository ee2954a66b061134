"""``python -m bench.comparison_route``: ``GET /rfqs/{id}/comparison`` end to end on the API's
largest RFQ (200 lines, 200 suppliers each quoting every line), against the bare SQL that reads
the same quote rows.

The app is the real one (``api.main.create_app``: middleware, authorisation, the rows read back
as contracts, the comparison, serialisation) served in this process over httpx's ASGI transport,
as ``bench.workbench`` does, on a fresh migrated PostgreSQL; the RFQ and its active quotes are
rows as the process records them (``bench.comparison.build_case``'s quotes). The baseline is
the query a hand-written client would run for the same rows: the active quotes' terms, fetched
and decoded from JSON by psycopg2, nothing else. Requests are interleaved with it; p50 and p99.
The default is measured three ways: the first click after close (the process's kept answers
forgotten before each request; the answer filed as quoting closed, ``db.comparison_store``, is
read), a first click with nothing filed (the filed row deleted before each request, untimed,
so it reads and compares every quote, and files the answer), and a click served the process's
kept answer (``api.comparison_cache``); every offer is never kept nor filed. The close's cost,
the ranking activity's filing of the default answer (``precompute_buyer_default``, the filed
row deleted first, untimed), is measured on its own, against the same baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg2
from sqlalchemy import delete
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from api.comparison_cache import CACHE
from api.routes.rfq_access import MAX_SUPPLIERS
from bench.comparison import build_case
from bench.services import quiet_logs
from bench.stats import Row, Samples, latency_rows, print_header, require_counts, table
from bench.workbench_measures import interleaved, platform_app
from contracts.common import Role
from db.comparison_store import DEFAULT_TOP, precompute_buyer_default
from db.models import Rfq, RfqComparison
from security.tokens import issue_token
from tests.harness import sourcing
from tests.harness.builders import make_org
from tests.harness.comparison_rows import bench_settings, closed_rfq
from tests.harness.postgres import fresh_database
from tests.harness.sourcing import Member

SUPPLIERS = LINES = 200
ACTIVE_TERMS = "SELECT terms FROM quotes WHERE rfq_id = %s AND status = 'active'"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _closed_rfq(sessions: sessionmaker[Session]) -> tuple[str, Member]:
    """A closed 200 x 200 RFQ's rows, and its buyer (a member with a user row)."""
    buyer_org = sourcing.buyer_org(sessions)
    suppliers = [make_org(sessions).id for _ in range(SUPPLIERS)]
    case = build_case(suppliers=SUPPLIERS, lines=LINES, share=1.0)
    rfq = case.rfq.model_copy(update={"rfq_id": "rfq_bench_compare", "buyer_org_id": buyer_org.id})
    rfq_id = closed_rfq(sessions, rfq, case.quotes, suppliers)
    return rfq_id, sourcing.member(sessions, buyer_org, Role.BUYER)


async def _measure(runs: int) -> list[Row]:
    with (
        tempfile.TemporaryDirectory(prefix="tradeflow-bench-compare-") as folder,
        fresh_database(Path(folder)) as url,
    ):
        settings = bench_settings(Path(folder), url)
        app = await platform_app(settings)
        rfq_id, buyer = _closed_rfq(app.state.platform.sessions)
        token = issue_token(
            secret=settings.jwt_secret,
            user_id=buyer.actor.user_id,
            org_id=buyer.actor.org_id,
            roles=buyer.actor.roles,
            ttl=timedelta(hours=1),
            now=datetime.now(UTC),
        )
        bare = psycopg2.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
        sessions = app.state.platform.sessions
        sizes: dict[str, int] = {}
        rows: list[Row] = []

        def unfile() -> None:
            with sessions.begin() as session:
                session.execute(delete(RfqComparison).where(RfqComparison.rfq_id == rfq_id))

        def close() -> None:
            with sessions() as session:
                if not precompute_buyer_default(session, session.get_one(Rfq, rfq_id)):
                    raise RuntimeError("the close filed nothing")
                session.commit()

        async def baseline(_: int) -> None:
            with bare.cursor() as cursor:
                cursor.execute(ACTIVE_TERMS, (rfq_id,))
                if len(cursor.fetchall()) != SUPPLIERS:
                    raise RuntimeError("the baseline did not read every quote")

        async def filing(_: int) -> None:
            await asyncio.to_thread(close)

        async def forget_filed(_: int) -> None:
            await asyncio.to_thread(unfile)

        samples: Samples = await interleaved(filing, baseline, runs, warmup=1, before=forget_filed)
        name = f"close: file the default answer, {LINES} lines x {SUPPLIERS} suppliers"
        rows.extend(latency_rows(name, samples))
        _say("measured the close's filing")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bench",
            timeout=120,
            headers={"Authorization": f"Bearer {token}"},
        ) as api:
            for label, top, forget in (
                (f"best {DEFAULT_TOP} a line (default), first click after close", None, "kept"),
                (f"best {DEFAULT_TOP} a line (default), first click, nothing filed", None, "all"),
                (f"best {DEFAULT_TOP} a line (default), kept answer", None, ""),
                ("every offer (never kept)", MAX_SUPPLIERS, ""),
            ):
                params = {} if top is None else {"top": str(top)}

                async def platform(
                    _: int, params: dict[str, str] = params, label: str = label
                ) -> None:
                    answer = await api.get(f"/rfqs/{rfq_id}/comparison", params=params)
                    answer.raise_for_status()
                    sizes[label] = len(answer.content)

                async def forget_answers(_: int, forget: str = forget) -> None:
                    if forget:
                        CACHE.clear()
                    if forget == "all":
                        await asyncio.to_thread(unfile)

                if forget == "kept":
                    await asyncio.to_thread(unfile)
                    await asyncio.to_thread(close)  # quoting closes: the answer is filed
                samples = await interleaved(
                    platform, baseline, runs, warmup=1, before=forget_answers
                )
                name = f"GET comparison, {LINES} lines x {SUPPLIERS} suppliers, {label}"
                rows.extend(latency_rows(f"{name}, {sizes[label] / 1e6:.1f} MB", samples))
                _say(f"measured {label}")
        bare.close()
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.comparison_route", description=__doc__)
    parser.add_argument("--runs", type=int, default=9, help="interleaved requests per case")
    arguments = parser.parse_args(argv)
    require_counts(parser, arguments, ("runs",))
    quiet_logs()
    began = time.perf_counter()
    print_header(
        "Tradeflow comparison route benchmark",
        f"{arguments.runs} requests per case interleaved with the bare SQL, after one warm-up",
    )
    rows = asyncio.run(_measure(arguments.runs))
    print(
        "\n".join(
            [
                "",
                *table(rows),
                "",
                "baseline: the active quotes' terms read by psycopg2 (the rows the route reads)",
                "ratio = platform time / baseline time, wall clock, in this process",
                f"\nbenchmark took {time.perf_counter() - began:.0f} s",
            ]
        )
    )


if __name__ == "__main__":
    main()
