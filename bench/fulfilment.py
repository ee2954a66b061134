"""``python -m bench.fulfilment``: many orders from executed contract to payment, against a bare
workflow of the same activities, as one table.

The platform run goes through the real API (uvicorn in its own process, as production runs it),
the real worker, PostgreSQL, S3 and the regulator sandbox on the Temporal dev server, driven by
the parties' people from a process of their own (clients never share the worker's process). The
baseline runs, on the same dev server with the same worker settings, bare processes recorded from
a real order of each kind: the same phases of no-op activities, an update wherever the order
takes one. Ratio = platform time / baseline time (for throughput: baseline / platform).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

from temporalio.worker import Worker

from bench.bare_orders import BareOrders, RecordedOrder, recorded_order
from bench.bare_workflow import BareActivities, BareProcessWorkflow
from bench.batches import BatchResult, OrderTiming, run_batch
from bench.opened import OpenedTasks
from bench.order_data import (
    People,
    accredited_carrier,
    check_completed,
    executed_contracts,
    is_dangerous,
)
from bench.orders import MAX_CONCURRENCY, DriveJob, drive_platform
from bench.services import Services, api_process, quiet_logs, running_services
from bench.stats import Row, percentile, print_header, require_counts, table
from contracts.fulfilment import order_id_for, order_workflow_id
from contracts.sourcing import ContractTerms
from stack.worker_roles import Workers
from tests.harness import orders as o
from worker import build_worker

# A dangerous-goods order and two ordinary ones: they warm the API and the worker up and give
# the recorded shapes.
WARMUP_ORDERS = 3


@dataclass(frozen=True)
class Figures:
    shapes: dict[bool, RecordedOrder]
    platform: BatchResult
    baseline: BatchResult
    requests: Counter[str]


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fulfilment", description=__doc__)
    parser.add_argument("--orders", type=int, default=500, help="orders, a third dangerous goods")
    parser.add_argument("--concurrency", type=int, default=32, help="orders in flight at once")
    parser.add_argument(
        "--poll-ms", type=int, default=20, help="how often the driver looks for what it awaits"
    )
    arguments = parser.parse_args(argv)
    require_counts(parser, arguments, ("orders", "concurrency", "poll_ms"))
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


def _bare_worker(platform_worker: Workers, opened: OpenedTasks) -> Worker:
    """The real worker's configuration with the bare workflow and no-op activities."""
    activities = BareActivities(opened)
    config = platform_worker.config()
    config["task_queue"] = f"bench-bare-orders-{uuid.uuid4().hex[:8]}"
    config["workflows"] = [BareProcessWorkflow]
    config["activities"] = [activities.noop, activities.open_task]
    return Worker(**config)


async def _baseline(bare: BareOrders, n: int, concurrency: int, timeout_s: float) -> BatchResult:
    kinds = [is_dangerous(number) for number in range(n)]
    async with bare.session():
        await run_batch(
            bare.run,
            kinds[:WARMUP_ORDERS],
            concurrency=WARMUP_ORDERS,
            timeout_s=timeout_s,
            progress=bare.progress,
        )
        return await run_batch(
            bare.run, kinds, concurrency=concurrency, timeout_s=timeout_s, progress=bare.progress
        )


async def _measure(arguments: argparse.Namespace) -> Figures:
    n = arguments.orders
    concurrency = arguments.concurrency
    poll_s = arguments.poll_ms / 1000
    timeout_s = 180.0 + 4.0 * n
    loop = asyncio.get_running_loop()
    async with running_services() as services:
        sessions = services.sessions
        who = await asyncio.to_thread(o.parties, sessions, services.store)
        carrier = await asyncio.to_thread(accredited_carrier, sessions)
        warm = await asyncio.to_thread(executed_contracts, sessions, who, WARMUP_ORDERS)
        contracts = await asyncio.to_thread(executed_contracts, sessions, who, n)
        _say(f"{WARMUP_ORDERS + n} executed contracts recorded")
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
        opened = OpenedTasks()
        bare_worker = _bare_worker(platform_worker, opened)
        # Spawned, not forked: this process already runs threads and the Temporal runtime.
        drivers = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
        with drivers, api_process(services.settings, services.workdir / "api.log") as api_url:

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

            async with platform_worker, bare_worker:
                await loop.run_in_executor(drivers, drive_platform, job(warm, WARMUP_ORDERS))
                shapes = await _shapes(services, warm)
                _say(f"warmed up; baseline: {n} bare orders ...")
                bare = BareOrders(
                    client=client,
                    task_queue=bare_worker.task_queue,
                    shapes=shapes,
                    opened=opened,
                    poll_s=poll_s,
                )
                baseline = await _baseline(bare, n, concurrency, timeout_s)
                _say(f"baseline took {baseline.wall_s:.0f} s; platform: {n} orders ...")
                measured = await loop.run_in_executor(
                    drivers, drive_platform, job(contracts, concurrency)
                )
                _say(f"platform took {measured.batch.wall_s:.0f} s")
        order_ids = _order_ids(contracts)
        dangerous_ids = [i for number, i in enumerate(order_ids) if is_dangerous(number)]
        await asyncio.to_thread(check_completed, sessions, order_ids, dangerous_ids)
    return Figures(
        shapes=shapes, platform=measured.batch, baseline=baseline, requests=measured.requests
    )


def _ms(result: BatchResult, dangerous: bool | None, delivered: bool) -> list[float]:
    def pick(timing: OrderTiming) -> float:
        return timing.delivered_to_acceptance_s if delivered else timing.total_s

    return [pick(t) * 1000 for t in result.timings if dangerous is None or t.dangerous == dangerous]


def _rows(figures: Figures, n: int) -> list[Row]:
    platform, baseline = figures.platform, figures.baseline
    rows = [
        Row(f"orders x{n}: wall time", "s", platform.wall_s, baseline.wall_s),
        Row(
            f"orders x{n}: throughput",
            "orders/s",
            n / platform.wall_s,
            n / baseline.wall_s,
            higher_is_better=True,
        ),
    ]
    for p in (50, 99):
        rows.append(
            Row(
                f"order start to completed p{p}",
                "ms",
                percentile(_ms(platform, None, False), p),
                percentile(_ms(baseline, None, False), p),
            )
        )
    for p in (50, 99):
        rows.append(
            Row(
                f"delivered to acceptance task p{p}",
                "ms",
                percentile(_ms(platform, None, True), p),
                percentile(_ms(baseline, None, True), p),
            )
        )
    for dangerous, kind in ((False, "ordinary"), (True, "dangerous goods")):
        if _ms(platform, dangerous, True):
            rows.append(
                Row(
                    f"delivered to acceptance task, {kind} p50",
                    "ms",
                    percentile(_ms(platform, dangerous, True), 50),
                    percentile(_ms(baseline, dangerous, True), 50),
                )
            )
    return rows


def _phases(shape: RecordedOrder) -> str:
    """Activities before/after each answer: "start 0/2, decide_task 1/4, ..."."""
    names = ("start", *shape.update_names)
    return ", ".join(
        f"{name} {sum(phase.answer)}/{sum(phase.then)}"
        for name, phase in zip(names, shape.script.phases, strict=True)
    )


def _report(figures: Figures, arguments: argparse.Namespace) -> list[str]:
    n = arguments.orders
    ordinary, dangerous = figures.shapes[False], figures.shapes[True]
    commands = sum(v for k, v in figures.requests.items() if k != "GET")
    polls = figures.requests["GET"]
    return [
        "order paths (recorded from a run of each kind): ordinary "
        f"{ordinary.script.activities} activities and {ordinary.script.updates} updates; "
        f"dangerous goods {dangerous.script.activities} activities and "
        f"{dangerous.script.updates} updates",
        f"- ordinary, activities before/after each answer: {_phases(ordinary)}",
        f"- dangerous goods: {_phases(dangerous)}",
        f"API requests in the measured run: {commands} commands ({commands / n:.1f} an order), "
        f"{polls} listing polls",
        "",
        *table(_rows(figures, n)),
        "",
        "platform: the executed contract starts its order as the contract workflow does; then, "
        "from a driver process of its own, over HTTP with bearer tokens the supplier confirms "
        "(POST /tasks/{id}/decision; for dangerous goods naming the carrier, whose "
        "dispatcher makes the e-waybill from the consignment list the supplier's logistics "
        "declares, and the supplier's logistics records the loading check that files it); "
        "the carrier (the supplier's logistics for ordinary goods) reports picked_up, departed, "
        "arrived, uploads the proof of delivery and reports delivered; the buyer accepts; "
        "finance pays in full. Waits: GET /tasks (each kind), "
        "GET /orders?status= (ready_to_dispatch, invoiced), GET /notifications "
        "(order_completed), one request a role a poll for every order waiting, every "
        f"{arguments.poll_ms} ms",
        "baseline: bare processes of the recorded phases (no-op activities, an update where "
        "the order takes one, a mark where the driver waits for a task or a status) through the "
        "Temporal client, marks polled in memory at the same interval; same dev server and "
        "worker settings, same run",
        f"both: {n} orders (every third dangerous goods), {arguments.concurrency} in flight; "
        "delivered to acceptance task: from sending the delivery report to the poll that shows "
        "the buyer's acceptance task",
        "ratio = platform time / baseline time (for throughput: baseline / platform)",
    ]


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
    print("\n".join(_report(figures, arguments)))
    print(f"\nbenchmark took {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
