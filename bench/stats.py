"""Percentiles and the printed table: one fixed shape so figures can be pasted into the README."""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: a value that was actually observed, never an interpolation."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def mean(samples: Sequence[float]) -> float:
    if not samples:
        raise ValueError("no samples")
    return sum(samples) / len(samples)


@dataclass(frozen=True)
class Row:
    """One measure: the platform's figure, the baseline's, and platform cost over baseline cost."""

    label: str
    unit: str
    platform: float
    baseline: float
    higher_is_better: bool = False

    @property
    def ratio(self) -> float:
        # Always "how many times the platform costs": for a rate that is the inverse quotient.
        if self.higher_is_better:
            return self.baseline / self.platform
        return self.platform / self.baseline


def print_header(title: str, settings: str) -> None:
    """The benchmark's title, the machine and date it ran on, and its settings."""
    print("\n".join([title, *machine_header(), f"settings: {settings}"]), flush=True)


def available_cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def machine_header() -> list[str]:
    cpus = available_cores()
    return [
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"machine: nproc {cpus}, {platform.python_implementation()} "
        f"{sys.version.split()[0]}, {platform.system()} {platform.release()} "
        f"{platform.machine()}",
    ]


def _figure(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(rows: Sequence[Row]) -> list[str]:
    """A Markdown table; ratio = platform time ÷ baseline time (for rates, baseline ÷ platform)."""
    width = max(len(f"{r.label} ({r.unit})") for r in rows)
    lines = [
        f"| {'measure'.ljust(width)} | platform | baseline |  ratio |",
        f"| {'-' * width} | -------: | -------: | -----: |",
    ]
    for r in rows:
        label = f"{r.label} ({r.unit})".ljust(width)
        lines.append(
            f"| {label} | {_figure(r.platform):>8} | {_figure(r.baseline):>8} | {r.ratio:>5.2f}x |"
        )
    return lines


def require_counts(
    parser: argparse.ArgumentParser,
    arguments: argparse.Namespace,
    names: Sequence[str] | None = None,
) -> None:
    """Refuse (the parser's usage error) a count among ``names`` (all arguments when None) below
    one: a benchmark of nothing divides by zero further on."""
    for name in names if names is not None else list(vars(arguments)):
        if getattr(arguments, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")


@dataclass
class Samples:
    """Each call's milliseconds, the platform's and its baseline's."""

    platform_ms: list[float] = field(default_factory=list)
    baseline_ms: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def latency_rows(label: str, samples: Samples, points: Sequence[int] = (50, 99)) -> list[Row]:
    """One row a percentile of the samples: the platform's against its baseline's."""
    return [
        Row(
            f"{label}: p{p}",
            "ms",
            percentile(samples.platform_ms, p),
            percentile(samples.baseline_ms, p),
        )
        for p in points
    ]


def median(samples: Sequence[float]) -> float:
    """The middle value (the mean of the two middle ones for an even count)."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


@dataclass(frozen=True)
class Timing:
    """One call's wall-clock and CPU milliseconds (CPU: this process, every thread)."""

    wall_ms: float
    cpu_ms: float


def timed(run: Callable[[], object]) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return Timing((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000)


def interleaved(
    contenders: Mapping[str, Callable[[], object]], *, rounds: int, warmups: int = 1
) -> dict[str, list[Timing]]:
    """Each contender once a round for ``rounds`` rounds after ``warmups`` untimed ones, in an
    order that alternates (A B, then B A, ...) so neither always runs first, on a cold cache or
    after the other's garbage. Report medians: one slow round (another process) moves no figure."""
    names = list(contenders)
    for _ in range(warmups):
        for name in names:
            contenders[name]()
    timings: dict[str, list[Timing]] = {name: [] for name in names}
    for round_no in range(rounds):
        for name in names if round_no % 2 == 0 else reversed(names):
            timings[name].append(timed(contenders[name]))
    return timings
