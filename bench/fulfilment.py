"""``python -m bench.fulfilment``: many orders from executed contract to payment, against a bare
workflow of the same activities, as one table.

The platform run goes through the real API (uvicorn in its own process, as production runs it),
the real worker, PostgreSQL, S3 and the regulator sandbox on the Temporal dev server, driven by
the parties' people from a process of their own (clients never share the worker's process). The
baseline runs, on the same dev server with the same worker settings and queue layout, bare
processes recorded from a real order of each kind: the same phases of activities, no-ops except
the PDFs the order renders (its invoice, its e-waybill: the same templates and data), an update
wherever the order takes one, driven from a process of its own too (``bench.bare_orders``: its
marks in a process of theirs, asked once a poll). Baseline and platform alternate for
``--rounds`` rounds (B P, P B, ...); the median round's ratio is the figure. Ratio = platform
time / baseline time (for throughput: baseline / platform).

Before each run the benchmark waits ``--settle-s`` (most activities' start-to-close timeout and
a margin): Temporal fires each activity's timeout timer when it comes due, finished or not, so the
timers of the activities a run started in its last seconds came due, and were paid for, in
whichever run followed. Since every step has a heartbeat timeout (15 s, ``contracts.liveness``),
that is the timer an activity's start sets, PDFs' too: a run fires about one an activity, and
the wait covers them with room to spare.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from functools import partial
from multiprocessing import get_context

from bench.bare_orders import (
    BareDriveJob,
    BareDriveResult,
    MarkBoard,
    MarkSource,
    RecordedOrder,
    drive_bare,
    recorded_order,
)
from bench.bare_renders import bare_renders
from bench.bare_workers import bare_workers
from bench.bare_workflow import BareActivities, BareProcessWorkflow
from bench.fulfilment_report import Figures, Round, report
from bench.order_data import (
    People,
    accredited_carrier,
    check_completed,
    executed_contracts,
    is_dangerous,
)
from bench.orders import MAX_CONCURRENCY, DriveJob, drive_platform
from bench.services import Services, api_process, quiet_logs, running_services
from bench.stats import print_header, require_counts
from bench.usage import Meter, T, Usage
from contracts.fulfilment import order_id_for, order_workflow_id
from contracts.sourcing import ContractTerms
from documents.render import render_process_ids, stop_render_processes, use_render_processes
from stack.worker_roles import Workers
from tests.harness import orders as o
from worker import build_worker
from workflows import policies

# A dangerous-goods order and two ordinary ones: they warm the API and the worker up and give
# the recorded shapes.
WARMUP_ORDERS = 3


# Most activities' start-to-close timeout (the platform's and the baseline's policies alike), and
# a margin for the timer queue: more than the heartbeat timeout every activity's timer now uses.
SETTLE_S = policies.DATABASE.timeout.total_seconds() + 2


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fulfilment", description=__doc__)
    parser.add_argument(
        "--orders", type=int, default=100, help="orders a round, a third dangerous goods"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="baseline and platform runs, interleaved"
    )
    parser.add_argument(
        "--bare-without-pdfs",
        action="store_true",
        help="the baseline's activities all no-ops, as before it rendered the order's PDFs",
    )
    parser.add_argument(
        "--pdf-in-threads",
        action="store_true",
        help="render PDFs on the activity threads, as before the render role (for comparison)",
    )
    parser.add_argument("--concurrency", type=int, default=32, help="orders in flight at once")
    parser.add_argument(
        "--settle-s",
        type=float,
        default=SETTLE_S,
        help="seconds before each run, so the run before's timeouts do not fire in it",
    )
    parser.add_argument(
        "--poll-ms", type=int, default=20, help="how often the driver looks for what it awaits"
    )
    arguments = parser.parse_args(argv)
    require_counts(parser, arguments, ("orders", "rounds", "concurrency", "poll_ms"))
    if not math.isfinite(arguments.settle_s) or arguments.settle_s < 0:
        parser.error("--settle-s must be zero or more seconds")
    if arguments.concurrency > MAX_CONCURRENCY:
        parser.error(f"--concurrency must be at most {MAX_CONCURRENCY}: one page lists them all")
    return arguments


def _say(message: str) -> None:
    """Progress on stderr: the table on stdout stays pasteable."""
    print(message, file=sys.stderr, flush=True)


def _order_ids(contracts: Sequence[ContractTerms]) -> list[str]:
    return [order_id_for(terms.contract_id) for terms in contracts]


async def _shapes(services: Services, warm: Sequence[ContractTerms]) -> dict[bool, RecordedOrder]:
    shapes: dict[bool, RecordedOrder] = {}
    for number, terms in enumerate(warm):
        handle = services.env.client.get_workflow_handle(
            order_workflow_id(order_id_for(terms.contract_id))
        )
        # The driver is done at the "completed" notice; the process ends a notice later.
        await handle.result()
        history = await handle.fetch_history()
        shapes.setdefault(is_dangerous(number), recorded_order(history))
    if set(shapes) != {True, False}:
        raise RuntimeError("the warm-up needs an order of each kind")
    return shapes


def _bare_worker(
    platform_worker: Workers, opened: MarkSource, renders: dict[str, Callable[[], bytes]]
) -> Workers:
    """The real worker's configuration with the bare workflow, no-op activities and the renders
    of the order's PDFs."""
    # The activities set their marks through the board's proxy (same two methods).
    activities = BareActivities(opened, renders)  # type: ignore[arg-type]
    return bare_workers(
        platform_worker,
        name="orders",
        workflows=[BareProcessWorkflow],
        activities=[activities.noop, activities.open_task, activities.render],
    )


async def _measure(arguments: argparse.Namespace) -> Figures:
    n = arguments.orders
    rounds = arguments.rounds
    concurrency = arguments.concurrency
    poll_s = arguments.poll_ms / 1000
    timeout_s = 180.0 + 4.0 * n
    loop = asyncio.get_running_loop()
    async with running_services() as services:
        sessions = services.sessions
        if not arguments.pdf_in_threads:
            # As a render worker does (worker.py --roles render): PDFs in processes of their own.
            use_render_processes(services.settings.render_processes)
        who = await asyncio.to_thread(o.parties, sessions, services.store)
        carrier = await asyncio.to_thread(accredited_carrier, sessions)
        warm = await asyncio.to_thread(executed_contracts, sessions, who, WARMUP_ORDERS)
        batches = [
            await asyncio.to_thread(executed_contracts, sessions, who, n) for _ in range(rounds)
        ]
        _say(f"{WARMUP_ORDERS + n * rounds} executed contracts recorded")
        client = services.env.client
        platform_worker = build_worker(
            client,
            settings=services.settings,
            sessions=sessions,
            store=services.store,
            registry=services.registry,
            regulator=services.regulator,
            task_queue=f"bench-orders-{uuid.uuid4().hex[:8]}",
        )
        # Spawned, not forked: this process already runs threads and the Temporal runtime. A
        # driver process for each side, and the bare marks' board in one of its own.
        spawn = get_context("spawn")
        drivers = ProcessPoolExecutor(max_workers=1, mp_context=spawn)
        bare_driver = ProcessPoolExecutor(max_workers=1, mp_context=spawn)
        board = MarkBoard(ctx=spawn)
        with (
            drivers,
            bare_driver,
            board,
            api_process(services.settings, services.workdir / "api.log") as api_url,
        ):

            def job(batch: Sequence[ContractTerms], in_flight: int) -> DriveJob:
                return DriveJob(
                    settings=services.settings,
                    task_queue=platform_worker.task_queue,
                    api_url=api_url,
                    people=People.of(who, carrier),
                    contracts=tuple(batch),
                    concurrency=in_flight,
                    poll_s=poll_s,
                    timeout_s=timeout_s,
                )

            async with platform_worker:
                await loop.run_in_executor(drivers, drive_platform, job(warm, WARMUP_ORDERS))
                shapes = await _shapes(services, warm)
                if arguments.bare_without_pdfs:
                    shapes = {kind: _without_pdfs(shape) for kind, shape in shapes.items()}
                dangerous = next(t for i, t in enumerate(warm) if is_dangerous(i))
                renders = await asyncio.to_thread(bare_renders, sessions, dangerous)
                opened: MarkSource = board.OpenedTasks()  # type: ignore[attr-defined]
                bare_worker = _bare_worker(platform_worker, opened, renders)
                async with bare_worker:

                    def bare_job(orders: int, in_flight: int) -> BareDriveJob:
                        return BareDriveJob(
                            settings=services.settings,
                            task_queue=bare_worker.task_queue,
                            shapes=shapes,
                            opened=opened,
                            orders=orders,
                            concurrency=in_flight,
                            poll_s=poll_s,
                            timeout_s=timeout_s,
                        )

                    async def baseline_round(orders: int, in_flight: int) -> BareDriveResult:
                        job = bare_job(orders, in_flight)
                        return await loop.run_in_executor(bare_driver, drive_bare, job)

                    await baseline_round(WARMUP_ORDERS, WARMUP_ORDERS)
                    _say("warmed up")
                    processes = {
                        await loop.run_in_executor(drivers, os.getpid): "people's driver",
                        await loop.run_in_executor(bare_driver, os.getpid): "baseline's driver",
                        board.pid: "baseline's marks",
                    }
                    meter = Meter(
                        services.temporal_metrics_url,
                        # PostgreSQL runs detached from its data folder, in the workdir.
                        (str(services.workdir),),
                        lambda: {
                            **dict.fromkeys(render_process_ids(), "render processes"),
                            **processes,
                        },
                    )
                    settle = arguments.settle_s

                    async def settled(run: Callable[[], Awaitable[T]]) -> tuple[T, Usage]:
                        # A sleep, not a poll: nothing reports when the run before's timers
                        # have fired.
                        await asyncio.sleep(settle)
                        return await meter.around(run())

                    def bare() -> Awaitable[BareDriveResult]:
                        return baseline_round(n, concurrency)

                    results: list[Round] = []
                    for number, contracts in enumerate(batches, 1):
                        # B P, then P B: neither side always runs on the warmer machine.
                        first_bare = number % 2 == 1
                        if first_bare:
                            baseline, bare_used = await settled(bare)
                        measured, used = await settled(
                            # Bound now, not a lambda over the loop's variable.
                            partial(
                                loop.run_in_executor,
                                drivers,
                                drive_platform,
                                job(contracts, concurrency),
                            )
                        )
                        if not first_bare:
                            baseline, bare_used = await settled(bare)
                        results.append(
                            Round(
                                measured.batch,
                                baseline.batch,
                                measured.requests,
                                baseline.polls,
                                usage=(used, bare_used),
                            )
                        )
                        _say(
                            f"round {number}: baseline {baseline.batch.wall_s:.1f} s, platform "
                            f"{measured.batch.wall_s:.1f} s"
                        )
        stop_render_processes()
        order_ids = [i for contracts in batches for i in _order_ids(contracts)]
        dangerous_ids = [
            order_id_for(t.contract_id)
            for contracts in batches
            for number, t in enumerate(contracts)
            if is_dangerous(number)
        ]
        await asyncio.to_thread(check_completed, sessions, order_ids, dangerous_ids)
    return Figures(shapes=shapes, rounds=tuple(results))


def _without_pdfs(shape: RecordedOrder) -> RecordedOrder:
    phases = tuple(phase.model_copy(update={"renders": ()}) for phase in shape.script.phases)
    return replace(shape, script=shape.script.model_copy(update={"phases": phases}))


def main(argv: Sequence[str] | None = None) -> None:
    arguments = _arguments(argv)
    quiet_logs()
    began = time.perf_counter()
    print_header(
        "Tradeflow fulfilment benchmark",
        f"{arguments.orders} orders, {arguments.concurrency} in flight, "
        f"polling every {arguments.poll_ms} ms",
    )
    figures = asyncio.run(_measure(arguments))
    print("\n".join(report(figures, arguments)))
    print(f"\nbenchmark took {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
