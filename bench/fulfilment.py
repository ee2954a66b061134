"""``python -m bench.fulfilment``: many orders from executed contract to payment, against a bare
workflow of the same activities, as one table.

The platform run goes through the real API (uvicorn in its own process, as production runs it),
the real worker, PostgreSQL, S3 and the regulator sandbox on the Temporal dev server, driven by
the parties' people from a process of their own (clients never share the worker's process). The
baseline runs, on the same dev server with the same worker settings and queue layout, bare
processes recorded from a real order of each kind: the same phases of activities, no-ops except
the PDFs the order renders (its invoice, its e-waybill: the same templates and data), an update
wherever the order takes one. Baseline and platform alternate for ``--rounds`` rounds (B P, P B,
...); the median round's ratio is the figure. Ratio = platform time / baseline time (for
throughput: baseline / platform).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context

from bench.bare_orders import BareOrders, RecordedOrder, recorded_order
from bench.bare_renders import bare_renders
from bench.bare_workers import bare_workers
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
from documents.render import stop_render_processes, use_render_processes
from stack.worker_roles import Workers
from tests.harness import orders as o
from worker import build_worker

# A dangerous-goods order and two ordinary ones: they warm the API and the worker up and give
# the recorded shapes.
WARMUP_ORDERS = 3


@dataclass(frozen=True)
class Round:
    platform: BatchResult
    baseline: BatchResult
    requests: Counter[str]

    @property
    def ratio(self) -> float:
        return self.platform.wall_s / self.baseline.wall_s


@dataclass(frozen=True)
class Figures:
    shapes: dict[bool, RecordedOrder]
    rounds: tuple[Round, ...]

    @property
    def median(self) -> Round:
        """The round of the median ratio (the upper one of an even count)."""
        return sorted(self.rounds, key=lambda r: r.ratio)[len(self.rounds) // 2]


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
        "--poll-ms", type=int, default=20, help="how often the driver looks for what it awaits"
    )
    arguments = parser.parse_args(argv)
    require_counts(parser, arguments, ("orders", "rounds", "concurrency", "poll_ms"))
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
    platform_worker: Workers, opened: OpenedTasks, renders: dict[str, Callable[[], bytes]]
) -> Workers:
    """The real worker's configuration with the bare workflow, no-op activities and the renders
    of the order's PDFs."""
    activities = BareActivities(opened, renders)
    return bare_workers(
        platform_worker,
        name="orders",
        workflows=[BareProcessWorkflow],
        activities=[activities.noop, activities.open_task, activities.render],
    )


async def _baseline(bare: BareOrders, n: int, concurrency: int, timeout_s: float) -> BatchResult:
    kinds = [is_dangerous(number) for number in range(n)]
    async with bare.session():
        return await run_batch(
            bare.run, kinds, concurrency=concurrency, timeout_s=timeout_s, progress=bare.progress
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

            async with platform_worker:
                await loop.run_in_executor(drivers, drive_platform, job(warm, WARMUP_ORDERS))
                shapes = await _shapes(services, warm)
                if arguments.bare_without_pdfs:
                    shapes = {kind: _without_pdfs(shape) for kind, shape in shapes.items()}
                dangerous = next(t for i, t in enumerate(warm) if is_dangerous(i))
                renders = await asyncio.to_thread(bare_renders, sessions, dangerous)
                opened = OpenedTasks()
                bare_worker = _bare_worker(platform_worker, opened, renders)
                async with bare_worker:
                    bare = BareOrders(
                        client=client,
                        task_queue=bare_worker.task_queue,
                        shapes=shapes,
                        opened=opened,
                        poll_s=poll_s,
                    )
                    await _baseline(bare, WARMUP_ORDERS, WARMUP_ORDERS, timeout_s)
                    _say("warmed up")
                    results: list[Round] = []
                    for number, contracts in enumerate(batches, 1):
                        # B P, then P B: neither side always runs on the warmer machine.
                        first_bare = number % 2 == 1
                        if first_bare:
                            baseline = await _baseline(bare, n, concurrency, timeout_s)
                        measured = await loop.run_in_executor(
                            drivers, drive_platform, job(contracts, concurrency)
                        )
                        if not first_bare:
                            baseline = await _baseline(bare, n, concurrency, timeout_s)
                        results.append(Round(measured.batch, baseline, measured.requests))
                        _say(
                            f"round {number}: baseline {baseline.wall_s:.1f} s, platform "
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


def _ms(result: BatchResult, dangerous: bool | None, delivered: bool) -> list[float]:
    def pick(timing: OrderTiming) -> float:
        return timing.delivered_to_acceptance_s if delivered else timing.total_s

    return [pick(t) * 1000 for t in result.timings if dangerous is None or t.dangerous == dangerous]


def _rows(figures: Figures, n: int) -> list[Row]:
    platform, baseline = figures.median.platform, figures.median.baseline
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


def _round_lines(figures: Figures) -> list[str]:
    lines = [
        f"round {number} ({'B P' if number % 2 else 'P B'}): baseline {r.baseline.wall_s:.1f} s, "
        f"platform {r.platform.wall_s:.1f} s, ratio {r.ratio:.2f}x"
        for number, r in enumerate(figures.rounds, 1)
    ]
    ratios = sorted(r.ratio for r in figures.rounds)
    lines.append(
        f"median ratio {figures.median.ratio:.2f}x over {len(ratios)} rounds "
        f"(min {ratios[0]:.2f}x, max {ratios[-1]:.2f}x)"
    )
    return lines


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
    requests = figures.median.requests
    commands = sum(v for k, v in requests.items() if k != "GET")
    polls = requests["GET"]
    return [
        "order paths (recorded from a run of each kind): ordinary "
        f"{ordinary.script.activities} activities and {ordinary.script.updates} updates; "
        f"dangerous goods {dangerous.script.activities} activities and "
        f"{dangerous.script.updates} updates",
        f"- ordinary, activities before/after each answer: {_phases(ordinary)}",
        f"- dangerous goods: {_phases(dangerous)}",
        f"API requests in the median round: {commands} commands ({commands / n:.1f} an order), "
        f"{polls} listing polls",
        "",
        *_round_lines(figures),
        "",
        "the median round:",
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
        "baseline: bare processes of the recorded phases ("
        + (
            "all activities no-ops (--bare-without-pdfs)"
            if arguments.bare_without_pdfs
            else "no-op activities except the invoice's and e-waybill's PDFs, rendered from the "
            "same templates and data, not stored"
        )
        + "; an update "
        "where the order takes one, a mark where the driver waits for a task or a status) "
        "through the Temporal client, marks polled in memory at the same interval; same dev "
        "server, worker settings and queue layout, same run",
        "PDFs: "
        + (
            "on the activity threads (--pdf-in-threads: as before the render role)"
            if arguments.pdf_in_threads
            else "in render processes, for platform and baseline alike (TRADEFLOW_RENDER_PROCESSES)"
        ),
        f"rounds: {arguments.rounds}, interleaved B P, P B, ...; the platform's orders are new "
        "each round",
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
