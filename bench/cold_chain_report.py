"""The cold-chain benchmark's figures and the table and lines it prints (``bench.cold_chain``)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from bench.cold_chain_bare import BARE_READINGS
from bench.cold_chain_feed import FeedResult
from bench.stats import Row, mean, percentile, table
from contracts.cold_chain import ColdChainInput

HISTORY_LIMIT = ColdChainInput.model_fields["history_limit"].default
TARGET_READINGS_S = 2000
TARGET_P99_MS = 2000


@dataclass(frozen=True)
class Chain:
    runs: int
    events: tuple[int, ...]  # each run's history length


@dataclass(frozen=True)
class Figures:
    setup_s: float
    platform: FeedResult
    bare_api: FeedResult
    bare_signals: FeedResult
    chains: tuple[Chain, ...]
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
    platform, bare_api, bare_signals = figures.platform, figures.bare_api, figures.bare_signals
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
            "excursion batch to task open, vs bare",
            platform.excursion_ms,
            bare_signals.excursion_ms,
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
    platform = figures.platform
    events = [e for chain in figures.chains for e in chain.events]
    runs = [chain.runs for chain in figures.chains]
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
        f"trip workflows at the end: history events a run max {max(events)}, mean "
        f"{mean(events):.0f} (continue-as-new past {HISTORY_LIMIT}); runs a chain max "
        f"{max(runs)}, mean {mean(runs):.2f}",
        f"alert tasks opened, by kind: {alerts}",
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
        "worker settings, same client process and concurrency",
        "ratio = platform time / baseline time (for rates: baseline / platform)",
    ]
