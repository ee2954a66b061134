"""What one side of a benchmark used while it ran: CPU seconds by part of the platform
(``bench.cpu_time``) and the requests Temporal answered (``bench.temporal_requests``), both read
before and after, so a ratio comes with where each side's time went and with proof that the
baseline asked Temporal for the same work."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from bench.cpu_time import cpu_between, cpu_seconds
from bench.temporal_requests import temporal_requests

T = TypeVar("T")


@dataclass(frozen=True)
class Usage:
    cpu: dict[str, float]  # CPU seconds by part
    temporal: Counter[str]  # Temporal's requests by operation

    @property
    def cpu_total(self) -> float:
        return sum(self.cpu.values())


class Meter:
    """Measures what an awaited run used. ``markers``: as ``cpu_seconds`` takes them (a detached
    server's data folder); ``named``: called at each reading, the parts of processes the
    command line cannot tell apart, by pid (they may change between runs)."""

    def __init__(
        self,
        metrics_url: str,
        markers: tuple[str, ...],
        named: Callable[[], Mapping[int, str]],
    ) -> None:
        self._metrics_url = metrics_url
        self._markers = markers
        self._named = named

    async def around(self, run: Awaitable[T]) -> tuple[T, Usage]:
        cpu_before, requests_before = await asyncio.to_thread(self._read)
        result = await run
        cpu_after, requests_after = await asyncio.to_thread(self._read)
        return result, Usage(cpu_between(cpu_before, cpu_after), requests_after - requests_before)

    def _read(self) -> tuple[dict[str, float], Counter[str]]:
        return (
            cpu_seconds(self._markers, self._named()),
            temporal_requests(self._metrics_url),
        )
