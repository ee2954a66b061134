"""The worker's background duties' one loop: a step every poll until the worker stops.

The sealer, its divider, the notification relay and the catalogue price refresher each do their
work in steps from the database. A step that fails (the database, the store or Temporal away)
is logged and tried again at the next poll: the work waits where it is meanwhile. A step that
says more is waiting (a full batch) is followed at once, without waiting for the poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("tradeflow.worker")


async def poll_until_stopped(
    stop: asyncio.Event, poll_s: float, step: Callable[[], Awaitable[bool]], *, doing: str
) -> None:
    """Run ``step`` until ``stop`` is set, waiting ``poll_s`` after a step that returns False
    (nothing more waiting) or fails (logged as ``doing`` failed)."""
    while not stop.is_set():
        more = False
        try:
            more = await step()
        except Exception:
            log.exception("%s failed; retrying at the next poll", doing)
        if not more:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_s)
