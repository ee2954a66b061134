"""What ``python -m bench.fulfilment`` prints: each round's absolute times and ratio, the
median round's table, and how each side was driven (so a figure is never read without what it
measured)."""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass

from bench.bare_orders import RecordedOrder
from bench.batches import SHED, BatchResult, OrderTiming
from bench.stats import Row, available_cores, percentile, table
from bench.temporal_requests import OTHER_TIMERS, STORE, TIMERS
from bench.usage import Usage

DELIVERED = "delivered to acceptance task"


@dataclass(frozen=True)
class Round:
    platform: BatchResult
    baseline: BatchResult
    requests: Counter[str]
    bare_polls: int
    usage: tuple[Usage, Usage]  # the platform's, the baseline's

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
    for delivered, what in ((False, "order start to completed"), (True, DELIVERED)):
        rows.extend(
            Row(
                f"{what} p{p}",
                "ms",
                percentile(_ms(platform, None, delivered), p),
                percentile(_ms(baseline, None, delivered), p),
            )
            for p in (50, 99)
        )
    for dangerous, kind in ((False, "ordinary"), (True, "dangerous goods")):
        if _ms(platform, dangerous, True):
            rows.append(
                Row(
                    f"{DELIVERED}, {kind} p50",
                    "ms",
                    percentile(_ms(platform, dangerous, True), 50),
                    percentile(_ms(baseline, dangerous, True), 50),
                )
            )
    return rows


# The requests of an order's orchestration, in the order a process makes them.
ORCHESTRATION = (
    "StartWorkflowExecution",
    "UpdateWorkflowExecution",
    "RespondWorkflowTaskCompleted",
    "RespondActivityTaskCompleted",
    "PollWorkflowTaskQueue",
    "PollActivityTaskQueue",
)


def _sides(title: str, rows: list[tuple[str, str, str]]) -> list[str]:
    width = max(len(label) for label, _, _ in [(title, "", ""), *rows])
    return [
        f"| {title.ljust(width)} | platform | baseline |",
        f"| {'-' * width} | -------: | -------: |",
        *(f"| {label.ljust(width)} | {p:>8} | {b:>8} |" for label, p, b in rows),
    ]


def usage_lines(round_: Round, cores: int) -> list[str]:
    """Where each side's time went (CPU seconds by part, beside what ``cores`` cores had in its
    wall time) and what it asked of Temporal."""
    platform, baseline = round_.usage
    parts = sorted(
        set(platform.cpu) | set(baseline.cpu),
        key=lambda part: (-platform.cpu.get(part, 0.0), part),
    )
    cpu = [
        (part, f"{platform.cpu.get(part, 0.0):.1f}", f"{baseline.cpu.get(part, 0.0):.1f}")
        for part in parts
        if platform.cpu.get(part, 0.0) >= 0.05 or baseline.cpu.get(part, 0.0) >= 0.05
    ]
    cpu.append(("all", f"{platform.cpu_total:.1f}", f"{baseline.cpu_total:.1f}"))
    cpu.append(
        (
            f"the machine's: wall time x {cores} cores",
            f"{round_.platform.wall_s * cores:.1f}",
            f"{round_.baseline.wall_s * cores:.1f}",
        )
    )

    counted = (*ORCHESTRATION, STORE, *TIMERS.values(), OTHER_TIMERS)

    def others(used: Usage) -> int:
        return sum(n for op, n in used.temporal.items() if op not in counted)

    temporal = [(op, str(platform.temporal[op]), str(baseline.temporal[op])) for op in counted]
    temporal.insert(
        len(ORCHESTRATION), ("other requests", str(others(platform)), str(others(baseline)))
    )
    return [
        *_sides("CPU seconds by part", cpu),
        "",
        *_sides("Temporal's requests", temporal),
    ]


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


def report(figures: Figures, arguments: argparse.Namespace) -> list[str]:
    n = arguments.orders
    ordinary, dangerous = figures.shapes[False], figures.shapes[True]
    requests = figures.median.requests
    commands = sum(v for k, v in requests.items() if k not in ("GET", SHED))
    polls = requests["GET"]
    return [
        "order paths (recorded from a run of each kind): ordinary "
        f"{ordinary.script.activities} activities and {ordinary.script.updates} updates; "
        f"dangerous goods {dangerous.script.activities} activities and "
        f"{dangerous.script.updates} updates",
        f"- ordinary, activities before/after each answer: {_phases(ordinary)}",
        f"- dangerous goods: {_phases(dangerous)}",
        f"API requests in the median round: {commands} commands ({commands / n:.1f} an order), "
        f"{polls} listing polls, {requests[SHED]} answers shed (429/503, sent again after "
        f"Retry-After); the baseline's driver: {figures.median.bare_polls} mark polls",
        "",
        *_round_lines(figures),
        "",
        "the median round:",
        *table(_rows(figures, n)),
        "",
        "where its time went, and what each side asked of Temporal (read from /proc and the dev "
        "server's metrics around each side's run; the platform's worker runs in this process):",
        *usage_lines(figures.median, available_cores()),
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
        "through the Temporal client from a driver process of its own; the activity sets each "
        "mark in a process of marks, which the driver asks once a poll for every order "
        "waiting, at the same interval; same dev server, worker settings and queue layout, "
        "same run",
        "PDFs: "
        + (
            "on the activity threads (--pdf-in-threads: as before the render role)"
            if arguments.pdf_in_threads
            else "in render processes, for platform and baseline alike (TRADEFLOW_RENDER_PROCESSES)"
        ),
        f"rounds: {arguments.rounds}, interleaved B P, P B, ...; the platform's orders are new "
        "each round; "
        + (
            f"{arguments.settle_s:g} s before each run (--settle-s), so the activity timeouts of "
            "the run before come due outside it"
            if arguments.settle_s > 0
            else "no wait between runs (--settle-s 0): the run before's timeouts fire in the next"
        ),
        f"both: {n} orders (every third dangerous goods), {arguments.concurrency} in flight; "
        "delivered to acceptance task: from sending the delivery report to the poll that shows "
        "the buyer's acceptance task",
        "ratio = platform time / baseline time (for throughput: baseline / platform)",
    ]
