"""The cold-chain benchmark's figures and the table and lines it prints (``bench.cold_chain``)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from bench.cold_chain_bare import BARE_READINGS
from bench.cold_chain_feed import FeedResult
from bench.cold_chain_readback import Histories
from bench.stats import Row, mean, percentile, table
from contracts.cold_chain import ColdChainInput

HISTORY_LIMIT = ColdChainInput.model_fields["history_limit"].default
TARGET_READINGS_S = 2000
TARGET_P99_MS = 2000


PLATFORM = "platform"
BARE_API = "bare endpoint"
BARE_SIGNALS = "bare signals"
PACED = "bare signals, paced"  # offered at the platform's measured rate


@dataclass(frozen=True)
class Figures:
    setup_s: float
    feeds: dict[str, FeedResult]  # by phase: PLATFORM, BARE_API, BARE_SIGNALS, PACED
    cpu: dict[str, dict[str, float]]  # by phase: CPU seconds by part (bench.cpu_time)
    histories: Histories
    sizes: dict[str, tuple[int, int, int]]  # table -> rows, heap bytes, index bytes
    alerts: dict[str, int]  # alert kind -> tasks opened


def _rate(result: FeedResult) -> float:
    return result.readings / result.wall_s


def _per_million_mb(size: tuple[int, int, int]) -> float:
    rows, heap, indexes = size
    return (heap + indexes) / rows * 1e6 / 2**20


def _percentiles(label: str, platform: Sequence[float], baseline: Sequence[float]) -> list[Row]:
    return [
        Row(f"{label} p{p}", "ms", percentile(platform, p), percentile(baseline, p))
        for p in (50, 99)
    ]


def _rows(figures: Figures) -> list[Row]:
    platform, bare_api = figures.feeds[PLATFORM], figures.feeds[BARE_API]
    bare_signals, paced = figures.feeds[BARE_SIGNALS], figures.feeds[PACED]
    rows = [
        Row(
            "readings/s sustained, vs bare endpoint",
            "readings/s",
            _rate(platform),
            _rate(bare_api),
            higher_is_better=True,
        ),
        Row(
            "readings/s sustained, vs bare signals",
            "readings/s",
            _rate(platform),
            _rate(bare_signals),
            higher_is_better=True,
        ),
    ]
    rows += _percentiles("batch POST, vs bare endpoint", platform.send_ms, bare_api.send_ms)
    if platform.excursion_ms:
        rows += _percentiles(
            "excursion batch to task open, vs bare paced",
            platform.excursion_ms,
            paced.excursion_ms,
        )
    rows.append(
        Row(
            "readings table per million readings",
            "MiB",
            _per_million_mb(figures.sizes["temperature_readings"]),
            _per_million_mb(figures.sizes[BARE_READINGS]),
        )
    )
    return rows


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def report(figures: Figures, arguments: argparse.Namespace) -> list[str]:
    n = arguments.shipments
    platform = figures.feeds[PLATFORM]
    traces = figures.histories
    events = [e for chain in traces.chains for e in chain.events]
    runs = [chain.runs for chain in traces.chains]
    rows, heap, indexes = figures.sizes["temperature_readings"]
    excursions = len(platform.excursion_ms)
    rate = _rate(platform)
    p99 = percentile(platform.excursion_ms, 99) if excursions else 0.0
    alerts = ", ".join(f"{kind} {count}" for kind, count in figures.alerts.items()) or "none"
    return [
        f"{n} trips ({n // 10} with an excursion a simulated day), a logger each, "
        f"{platform.readings} readings in {platform.batches} batches of up to "
        f"{arguments.batch_minutes}, {arguments.concurrency} client tasks; setup through the API "
        f"(orders started, confirmed, loggers registered and assigned, pickups): "
        f"{figures.setup_s:.0f} s, not timed",
        "",
        *table(_rows(figures)),
        "",
        *_cpu_table(figures),
        "",
        f"trip workflows at the end: history events a run max {max(events)}, mean "
        f"{mean(events):.0f} (continue-as-new past {HISTORY_LIMIT}); runs a chain max "
        f"{max(runs)}, mean {mean(runs):.2f}",
        f"alert tasks opened, by kind: {alerts}",
        *_assessments(traces),
        f"batches sent again after a broken connection: platform {platform.resent}, bare "
        f"endpoint {figures.feeds[BARE_API].resent}",
        f"temperature_readings: {rows} rows, heap {_mib(heap)}, indexes {_mib(indexes)}",
        f"target >= {TARGET_READINGS_S} readings/s: "
        f"{'met' if rate >= TARGET_READINGS_S else 'MISSED'} ({rate:.0f}); "
        f"excursion to task p99 < {TARGET_P99_MS} ms: "
        f"{'met' if excursions and p99 < TARGET_P99_MS else 'MISSED'} ({p99:.0f} ms, "
        f"{excursions} excursions); history bounded: "
        f"{'yes' if max(events) <= HISTORY_LIMIT + 100 else 'NO'}",
        "platform: POST /cold-chain/readings with each logger's credential on the real API "
        "(uvicorn, own process); the trip's workflow signalled once a batch, assessing from "
        "PostgreSQL at once on an alarm, every 10 min otherwise; task rows polled from "
        f"PostgreSQL every {arguments.poll_ms} ms, latency from the excursion batch's answer",
        "baselines: (a) bare FastAPI endpoint, same uvicorn settings, same JSON, one INSERT .. "
        "ON CONFLICT DO NOTHING into a table LIKE temperature_readings INCLUDING ALL; (b) one "
        "signal a batch (the platform's payload) into a bare workflow a trip that counts, an "
        "excursion batch opening a bare task row through one activity; same dev server and "
        "worker settings, same client process and concurrency; the latency baseline (bare "
        "signals, paced) offers them at the platform's measured rate",
        "CPU: seconds each part used during a phase (Linux /proc, the benchmark's processes "
        "only), per million readings",
        "ratio = platform time / baseline time (for rates: baseline / platform)",
    ]


def _cpu_table(figures: Figures) -> list[str]:
    """CPU seconds per million readings, by part, for each phase: where the time goes."""
    phases = (PLATFORM, BARE_API, BARE_SIGNALS, PACED)
    parts = sorted(
        {part for phase in phases for part in figures.cpu.get(phase, {})},
        key=lambda part: -figures.cpu.get(PLATFORM, {}).get(part, 0.0),
    )
    if not parts:
        return ["CPU by part: not available (no /proc)"]

    def per_million(phase: str, part: str | None) -> str:
        used = figures.cpu[phase]
        seconds = sum(used.values()) if part is None else used.get(part, 0.0)
        return f"{seconds / figures.feeds[phase].readings * 1e6:.0f}"

    title = "CPU s per million readings"
    width = max(len(part) for part in (*parts, title))
    lines = [
        f"| {title.ljust(width)} | " + " | ".join(phases) + " |",
        f"| {'-' * width} | " + " | ".join("-" * (len(p) - 1) + ":" for p in phases) + " |",
    ]
    for part in (*parts, None):
        cells = " | ".join(per_million(p, part).rjust(len(p)) for p in phases)
        lines.append(f"| {(part or 'all').ljust(width)} | {cells} |")
    return lines


def _assessments(traces: Histories) -> list[str]:
    if not traces.assess_ran_ms:
        return []
    waited, ran = traces.assess_waited_ms, traces.assess_ran_ms
    return [
        f"assess_cold_trip ({len(ran)} in the trips' histories): ran p50 "
        f"{percentile(ran, 50):.0f} ms, p99 {percentile(ran, 99):.0f} ms; waited to start p50 "
        f"{percentile(waited, 50):.0f} ms, p99 {percentile(waited, 99):.0f} ms"
    ]
