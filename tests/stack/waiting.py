"""Polling a condition with a deadline, for tests that watch real processes."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float,
    seen: Callable[[], object] = lambda: None,
    interval: float = 0.05,
) -> None:
    """Return once ``condition()`` holds; after ``timeout`` fail saying what ``seen()`` shows."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout:.0f} s; saw {seen()!r}")
        time.sleep(interval)
