"""``python -m bench.cold_chain``: cold trips' telemetry through the real API and workflows,
against a bare insert endpoint and bare signals, as one table.

Every shipment is a real order with one refrigerated line (2-8 °C), confirmed and picked up
through the API (``bench.cold_chain_setup``, not timed), so each trip has its logger and its
``ColdChainWorkflow`` on the real worker. The pickup is backdated by the simulated trip's length,
so every reading (one a minute) is in the past when its logger posts it, in batches of
``--batch-minutes`` readings, from a client process of its own (``bench.cold_chain_feed``). One
trip in ten leaves the range once a simulated day (``bench.cold_chain_trips``).

Measured: sustained readings/s; from each excursion batch's POST answering to its alert task row
being open; each trip's workflow history at the end (events a run, runs a chain); the readings'
table size (heap and indexes) per million readings. Baselines in the same run, same machine:
(a) a bare FastAPI endpoint served the same way inserting the same rows into a table of the same
shape with one INSERT .. ON CONFLICT DO NOTHING; (b) the same batches as bare signals into a bare
workflow a trip that only counts (an alarm batch writes one task row through one activity),
once as fast as they go and once offered at the platform's measured rate, the latency's
baseline. The CPU each part used in each phase says where the time goes (``bench.cpu_time``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

from sqlalchemy import Engine, text

from bench.bare_workers import bare_workers
from bench.cold_chain_bare import BareTaskActivities, create_schema
from bench.cold_chain_bare_workflow import BareTripWorkflow
from bench.cold_chain_feed import FeedJob, FeedResult, Target, feed
from bench.cold_chain_readback import alert_tasks, histories, table_sizes
from bench.cold_chain_report import (
    BARE_API,
    BARE_SIGNALS,
    PACED,
    PLATFORM,
    Figures,
    report,
)
from bench.cold_chain_setup import SetupJob, open_trips
from bench.cold_chain_trips import Shape, Trip
from bench.cpu_time import cpu_between, cpu_seconds
from bench.services import Services, api_process, quiet_logs, running_services
from bench.stats import print_header, require_counts
from contracts.sourcing import ContractTerms
from db.session import make_engine
from rules.cold_chain_zones import zone_for
from stack.worker_roles import Workers
from tests.harness import orders as o
from tests.harness import sourcing as s
from worker import build_worker

SETUP_CONCURRENCY = 16
CONCURRENCY = 32


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_chain", description=__doc__)
    parser.add_argument("--shipments", type=int, default=200, help="cold trips, a logger each")
    parser.add_argument("--days", type=int, default=3, help="simulated trip length")
    parser.add_argument("--batch-minutes", type=int, default=60, help="readings a POST")
    parser.add_argument(
        "--concurrency", type=int, help="client tasks posting (32, at most one a logger)"
    )
    parser.add_argument("--poll-ms", type=int, default=20, help="how often task rows are read")
    arguments = parser.parse_args(argv)
    if arguments.concurrency is None:
        arguments.concurrency = min(CONCURRENCY, arguments.shipments)
    require_counts(
        parser, arguments, ("shipments", "days", "batch_minutes", "concurrency", "poll_ms")
    )
    if arguments.concurrency > arguments.shipments:
        parser.error("--concurrency must be at most --shipments: a logger sends a batch at a time")
    if arguments.batch_minutes > 2000:
        parser.error("--batch-minutes must be at most 2000 (the API's largest batch)")
    return arguments


def _say(message: str) -> None:
    """Progress on stderr: the table on stdout stays pasteable."""
    print(message, file=sys.stderr, flush=True)


def _contracts(services: Services, who: o.Parties, n: int) -> list[ContractTerms]:
    kit = s.lines()[1]  # the reagent kit, 2-8 °C
    now = datetime.now(UTC)
    return [o.executed_contract(services.sessions, who, now=now, lines=(kit,)) for _ in range(n)]


def _bare_worker(platform_worker: Workers, engine: Engine) -> Workers:
    """The real worker's configuration with the bare workflow and its one activity."""
    return bare_workers(
        platform_worker,
        name="cold",
        workflows=[BareTripWorkflow],
        activities=[BareTaskActivities(engine).open_task],
    )


@contextmanager
def _logs_on_failure(workdir: Path) -> Iterator[None]:
    """The API's and the bare endpoint's last log lines when a run fails: they live in a
    temporary folder the failure removes."""
    try:
        yield
    except BaseException:
        for log in sorted(workdir.glob("*.log")):
            _say(
                f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            )
        raise


def _under_way(engine: Engine, trips: Sequence[Trip], timeout_s: float) -> None:
    """Readings are taken from the pickup, once each trip's workflow has begun it."""
    deadline = time.monotonic() + timeout_s
    ids = [trip.trip_id for trip in trips]
    query = text("SELECT count(*) FROM cold_trips WHERE status = 'in_transit' AND id = ANY(:ids)")
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            if connection.execute(query, {"ids": ids}).scalar_one() == len(ids):
                return
        time.sleep(0.2)
    raise RuntimeError(f"not every trip in transit within {timeout_s:.0f} s")


def _setup(
    services: Services,
    who: o.Parties,
    contracts: Sequence[ContractTerms],
    shape: Shape,
    *,
    api_url: str,
    task_queue: str,
    poll_s: float,
) -> SetupJob:
    kit = s.lines()[1].temperature
    if kit is None:
        raise RuntimeError("the reagent kit line has lost its temperature range")
    return SetupJob(
        settings=services.settings,
        task_queue=task_queue,
        api_url=api_url,
        supplier=who.supplier.actor,
        logistics=who.logistics.actor,
        contracts=tuple(contracts),
        zone=zone_for(kit).zone,
        trip_start=shape.start,
        concurrency=SETUP_CONCURRENCY,
        poll_s=poll_s,
        timeout_s=120.0 + 2.0 * len(contracts),
    )


async def _measure(arguments: argparse.Namespace) -> Figures:
    n = arguments.shipments
    loop = asyncio.get_running_loop()
    async with running_services() as services:
        engine = make_engine(services.settings.database_url)
        who = await asyncio.to_thread(o.parties, services.sessions, services.store)
        contracts = await asyncio.to_thread(_contracts, services, who, n)
        await asyncio.to_thread(create_schema, engine)
        _say(f"{n} executed contracts recorded")
        # Backdated by the trip and a margin, so the last reading is in the past when posted.
        start = datetime.now(UTC).replace(second=0, microsecond=0)
        shape = Shape(
            start=start - timedelta(days=arguments.days, minutes=10),
            days=arguments.days,
            batch_minutes=arguments.batch_minutes,
        )
        platform_worker = build_worker(
            services.env.client,
            settings=services.settings,
            sessions=services.sessions,
            store=services.store,
            registry=services.registry,
            regulator=services.regulator,
            task_queue=f"bench-cold-{uuid.uuid4().hex[:8]}",
        )
        bare_worker = _bare_worker(platform_worker, engine)
        # Spawned, not forked: this process already runs threads and the Temporal runtime.
        clients = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
        bare_app = "bench.cold_chain_bare:create_app"
        with (
            _logs_on_failure(services.workdir),
            clients,
            api_process(services.settings, services.workdir / "api.log") as api_url,
            api_process(services.settings, services.workdir / "bare.log", app=bare_app) as bare_url,
        ):
            feeds = _Feeds(
                clients,
                FeedJob(
                    settings=services.settings,
                    target=Target.PLATFORM,
                    url=api_url,
                    task_queue=bare_worker.task_queue,
                    trips=(),
                    shape=shape,
                    concurrency=arguments.concurrency,
                    poll_s=arguments.poll_ms / 1000,
                    timeout_s=600.0 + n * shape.minutes / 200,  # 200 readings/s at worst
                ),
                markers=(str(services.workdir),),
            )
            async with platform_worker, bare_worker:
                began = time.perf_counter()
                setup = _setup(
                    services,
                    who,
                    contracts,
                    shape,
                    api_url=api_url,
                    task_queue=platform_worker.task_queue,
                    poll_s=arguments.poll_ms / 1000,
                )
                trips = await loop.run_in_executor(clients, open_trips, setup)
                await asyncio.to_thread(_under_way, engine, trips, 120.0)
                setup_s = time.perf_counter() - began
                _say(f"{n} trips picked up through the API in {setup_s:.0f} s")
                feeds.trips = tuple(trips)
                await feeds.run(BARE_API, Target.BARE_API, url=bare_url)
                await feeds.run(BARE_SIGNALS, Target.BARE_SIGNALS)
                platform = await feeds.run(PLATFORM, Target.PLATFORM)
                # The latency baseline at the platform's own pace (unpaced, bare signals come
                # several times faster and their alarms queue behind them).
                rate = platform.readings / platform.wall_s
                await feeds.run(PACED, Target.BARE_SIGNALS, rate=rate, tag="Paced")
                traces = await histories(services.env.client, trips)
        sizes = await asyncio.to_thread(table_sizes, engine)
        alerts = await asyncio.to_thread(alert_tasks, engine)
        engine.dispose()
    return Figures(setup_s, feeds.results, feeds.cpu, traces, sizes, alerts)


class _Feeds:
    """Each phase's feed from the client process, with the CPU each part used meanwhile."""

    def __init__(self, clients: ProcessPoolExecutor, job: FeedJob, markers: tuple[str, ...]):
        self._clients = clients
        self._job = job
        self._markers = markers
        self.trips: tuple[Trip, ...] = ()
        self.results: dict[str, FeedResult] = {}
        self.cpu: dict[str, dict[str, float]] = {}

    async def run(
        self, name: str, target: Target, *, url: str = "", rate: float | None = None, tag: str = ""
    ) -> FeedResult:
        _say(f"{name} ...")
        job = replace(
            self._job, target=target, url=url or self._job.url, trips=self.trips, rate=rate, tag=tag
        )
        before = await asyncio.to_thread(cpu_seconds, self._markers)
        result = await asyncio.get_running_loop().run_in_executor(self._clients, feed, job)
        after = await asyncio.to_thread(cpu_seconds, self._markers)
        self.results[name] = result
        self.cpu[name] = cpu_between(before, after)
        _say(f"{name} took {result.wall_s:.0f} s")
        return result


def main(argv: Sequence[str] | None = None) -> None:
    arguments = _arguments(argv)
    quiet_logs()
    began = time.perf_counter()
    print_header(
        "Tradeflow cold-chain benchmark",
        f"{arguments.shipments} shipments, {arguments.days}-day trips, a reading a minute, "
        f"{arguments.batch_minutes} a batch, {arguments.concurrency} client tasks, "
        f"polling every {arguments.poll_ms} ms",
    )
    figures = asyncio.run(_measure(arguments))
    print("\n".join(report(figures, arguments)))
    print(f"\nbenchmark took {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
