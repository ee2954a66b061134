"""Percentiles and the printed table: one fixed shape so figures can be pasted into the README."""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
from collections.abc import Sequence
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


def machine_header() -> list[str]:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
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
