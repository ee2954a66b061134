"""Load shedding: the API answers 503 or 429 with ``Retry-After`` instead of falling over.

Two bounds, checked before anything else of the request runs:

* Admission. At most ``max_in_flight`` requests are served at once and at most ``max_queued``
  wait for a place, each for at most ``queue_wait_s``. Past either bound the request is answered
  503 at once: a client that retries after ``Retry-After`` does better than one whose request
  sits in an unbounded queue until its own timeout, and the requests already admitted keep their
  latency. The bound sits below the thread pool and the database pool on purpose: what waits,
  waits here (cheaply, in order) rather than holding a connection.
* Fairness. Each caller has a token bucket (``rate_per_s`` sustained, ``burst`` at once); an empty
  bucket answers 429 with the seconds until its next token. The caller is the bearer token's user
  when the token verifies (its signature only: no database read on this path), else the client
  address, so a forged token does not buy a fresh bucket.

Liveness, readiness and metrics are exempt: an orchestrator probing an overloaded API must not
conclude it is dead. Answers are RFC 9457 problems in the shape of ``api.errors``.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.bearer import bearer_subject
from api.errors import problem_response
from settings import Settings

EXEMPT_PATHS = frozenset({"/health", "/ready", "/metrics"})
# Buckets of callers not seen for a while are forgotten first once this many are held.
MAX_CALLERS = 100_000


@dataclass(frozen=True)
class Limits:
    max_in_flight: int
    max_queued: int
    queue_wait_s: float
    retry_after_s: int
    rate_per_s: float  # 0: no per-caller limit
    burst: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_in_flight=settings.shed_max_in_flight,
            max_queued=settings.shed_max_queued,
            queue_wait_s=settings.shed_queue_wait_s,
            retry_after_s=settings.shed_retry_after_s,
            rate_per_s=settings.rate_limit_per_s,
            burst=settings.rate_limit_burst,
        )


class Admission:
    """A bounded number of places and a bounded, first-come queue for them."""

    def __init__(self, *, places: int, queued: int, wait_s: float) -> None:
        self._free = places
        self._max_queued = queued
        self._wait_s = wait_s
        self._waiting: OrderedDict[int, asyncio.Future[bool]] = OrderedDict()
        self._next_ticket = 0

    @property
    def queued(self) -> int:
        return len(self._waiting)

    async def enter(self) -> bool:
        """Take a place, waiting in the queue if need be; False when shed instead."""
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return True
        if len(self._waiting) >= self._max_queued:
            return False
        ticket = self._next_ticket
        self._next_ticket += 1
        loop = asyncio.get_running_loop()
        # True when ``leave`` hands this waiter a place, False when its wait runs out: both are
        # set from the event loop, so exactly one of them decides.
        place: asyncio.Future[bool] = loop.create_future()
        self._waiting[ticket] = place
        timer = loop.call_later(self._wait_s, _settle, place, False)
        try:
            return await place
        except asyncio.CancelledError:
            # The client went away while waiting; a place handed over meanwhile goes on.
            if place.done() and not place.cancelled() and place.result():
                self.leave()
            raise
        finally:
            timer.cancel()
            self._waiting.pop(ticket, None)

    def leave(self) -> None:
        """Give the place back: to the longest waiter, else to the pool."""
        while self._waiting:
            _, place = self._waiting.popitem(last=False)
            if not place.done():
                place.set_result(True)
                return
        self._free += 1


def _settle(place: asyncio.Future[bool], admitted: bool) -> None:
    if not place.done():
        place.set_result(admitted)


class RateLimiter:
    """Token buckets by caller; the clock is injectable so tests drive time, never sleep."""

    def __init__(
        self, *, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate_per_s
        self._burst = float(burst)
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at

    def wait_s(self, caller: str) -> float:
        """0 and a token taken when the caller may go on; else the seconds until it may."""
        if self._rate <= 0:
            return 0.0
        now = self._clock()
        tokens, at = self._buckets.pop(caller, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        if tokens >= 1:
            tokens -= 1
            wait = 0.0
        else:
            wait = (1 - tokens) / self._rate
        self._buckets[caller] = (tokens, now)  # most recently seen last
        if len(self._buckets) > MAX_CALLERS:
            self._buckets.popitem(last=False)
        return wait


class SheddingMiddleware:
    """Pure ASGI: a shed request costs no routing, no body read and no database connection."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: Limits,
        jwt_secret: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._app = app
        self._limits = limits
        self._secret = jwt_secret
        self._admission = Admission(
            places=limits.max_in_flight, queued=limits.max_queued, wait_s=limits.queue_wait_s
        )
        self._rates = RateLimiter(rate_per_s=limits.rate_per_s, burst=limits.burst, clock=clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self._app(scope, receive, send)
            return
        wait = self._rates.wait_s(self._caller(scope))
        if wait > 0:
            await _refuse(scope, receive, send, 429, "too many requests from this caller", wait)
            return
        if not await self._admission.enter():
            retry = self._limits.retry_after_s
            await _refuse(scope, receive, send, 503, "the API is at capacity", retry)
            return
        try:
            await self._app(scope, receive, send)
        finally:
            self._admission.leave()

    def _caller(self, scope: Scope) -> str:
        # Verified once a request (api.bearer): the actor dependency reuses the claims.
        user = bearer_subject(scope, secret=self._secret)
        if user is not None:
            return "user:" + user
        client = scope.get("client")
        return "addr:" + (client[0] if client else "unknown")


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, why: str, wait_s: float
) -> None:
    retry = str(max(1, math.ceil(wait_s)))
    answer = problem_response(
        status,
        f"{why}; retry after {retry} s",
        request=Request(scope),
        headers={"Retry-After": retry},
    )
    await answer(scope, receive, send)
