"""Helpers for driving workflows in tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def new_task_queue() -> str:
    """A task queue of the test's own, so workers of other tests never pick up its tasks."""
    return f"tq-{uuid.uuid4().hex[:12]}"


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, attempts: int = 200, interval: float = 0.05
) -> T:
    """Poll ``probe`` until it returns something; fail loudly when it never does."""
    for _ in range(attempts):
        result = await probe()
        if result is not None:
            return result
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not reached after {attempts} attempts")
