"""The worker beats for every activity it runs, so a killed worker's step moves on within seconds.

A step scheduled with a heartbeat timeout (``contracts.liveness``) is retried elsewhere once its
worker stops beating, instead of waiting out its start-to-close timeout. Activities do not beat
themselves: ``LivenessInterceptor`` beats from the worker's event loop for as long as an attempt
runs, so a beat says the process is alive, and start-to-close still bounds a step that hangs.
The first beat comes a fifth of the timeout in, so a step that ends sooner costs no heartbeat.

An activity that records progress in its heartbeat (the catalogue import's row count) keeps it:
each beat repeats the newest details the attempt gave, or the previous attempt's until it gives
its own. A beat also carries the server's answer back: a step whose workflow has ended or
cancelled it is cancelled in its thread, the SDK raising there wherever the step is, as at a
worker's shutdown. Inside a transaction that rolls it back; after its commit the work stands;
either way the step is idempotent, so a step run again does nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ActivityOutboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from contracts.liveness import BEATS_PER_TIMEOUT


class LivenessInterceptor(Interceptor):
    """Heartbeats every activity scheduled with a heartbeat timeout while it runs."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _BeatingInbound(next)


class _RememberingOutbound(ActivityOutboundInterceptor):
    """Passes the activity's own heartbeats on and remembers the newest details."""

    def __init__(self, next: ActivityOutboundInterceptor) -> None:
        super().__init__(next)
        self.details: Sequence[Any] = ()

    def heartbeat(self, *details: Any) -> None:
        self.details = details
        super().heartbeat(*details)


class _BeatingInbound(ActivityInboundInterceptor):
    def init(self, outbound: ActivityOutboundInterceptor) -> None:
        self._outbound = _RememberingOutbound(outbound)
        super().init(self._outbound)

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        if info.heartbeat_timeout is None:
            return await super().execute_activity(input)
        self._outbound.details = tuple(info.heartbeat_details)
        beating = asyncio.create_task(
            self._beat(info.heartbeat_timeout.total_seconds() / BEATS_PER_TIMEOUT)
        )
        try:
            return await super().execute_activity(input)
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating

    async def _beat(self, interval: float) -> None:
        # The outbound chain's heartbeat, not ``activity.heartbeat``: for an activity on a thread
        # the SDK points the latter at a call that blocks until the event loop takes it, and this
        # runs on the event loop.
        while True:
            await asyncio.sleep(interval)
            self._outbound.next.heartbeat(*self._outbound.details)
