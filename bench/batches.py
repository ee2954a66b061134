"""Many orders at a time, and what a driver waits for: a bounded number of orders in flight,
where each one is (to say where a run got stuck), and listings polled once for every order
waiting on them, so the polling load does not grow with the number of orders in flight."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
Json = dict[str, Any]


@dataclass(frozen=True)
class OrderTiming:
    dangerous: bool
    total_s: float
    delivered_to_acceptance_s: float


@dataclass(frozen=True)
class BatchResult:
    timings: tuple[OrderTiming, ...]
    wall_s: float


@dataclass
class Progress:
    """Where each order in flight is, to say where a run got stuck."""

    steps: dict[str, str] = field(default_factory=dict)

    def at(self, key: str, step: str) -> None:
        self.steps[key] = step

    def done(self, key: str) -> None:
        self.steps.pop(key, None)

    def summary(self) -> str:
        counts = Counter(self.steps.values())
        return ", ".join(f"{n} at {step}" for step, n in counts.most_common()) or "none"


async def run_batch(
    run: Callable[[T], Awaitable[OrderTiming]],
    plans: Sequence[T],
    *,
    concurrency: int,
    timeout_s: float,
    progress: Progress,
) -> BatchResult:
    """Every plan run to its end, at most ``concurrency`` at a time, first come first served."""
    slots = asyncio.Semaphore(concurrency)

    async def one(plan: T) -> OrderTiming:
        async with slots:
            return await run(plan)

    began = time.perf_counter()
    try:
        timings = await asyncio.wait_for(
            asyncio.gather(*(one(plan) for plan in plans)), timeout=timeout_s
        )
    except TimeoutError:
        raise RuntimeError(
            f"{len(plans)} orders not done within {timeout_s:.0f} s; in flight: "
            f"{progress.summary()}"
        ) from None
    return BatchResult(tuple(timings), time.perf_counter() - began)


# -- waiting for what the driver can see --------------------------------------------------


class Listing:
    """Orders waiting for their row in one listing: one GET a poll serves all of them."""

    def __init__(
        self, http: httpx.AsyncClient, path: str, params: dict[str, str | int], key: str
    ) -> None:
        self._http = http
        self._path = path
        self._params = params
        self._key = key
        self._waiting: dict[str, asyncio.Future[tuple[Json, float]]] = {}

    def expect(self, key: str) -> asyncio.Future[tuple[Json, float]]:
        """Resolves to the row once a poll shows it, with the ``perf_counter`` when that poll
        answered. Expected before the command that leads to it, so no poll is missed."""
        waiter: asyncio.Future[tuple[Json, float]] = asyncio.get_running_loop().create_future()
        self._waiting[key] = waiter
        return waiter

    async def poll(self, interval_s: float) -> None:
        try:
            while True:
                if self._waiting:
                    rows = await get_rows(self._http, self._path, self._params)
                    seen = time.perf_counter()
                    for row in rows:
                        waiter = self._waiting.pop(str(row[self._key]), None)
                        if waiter is not None and not waiter.done():
                            waiter.set_result((row, seen))
                await asyncio.sleep(interval_s)
        except Exception as failure:
            fail_waiting(self._waiting, failure)
            raise


def fail_waiting(waiting: Mapping[str, asyncio.Future[Any]], failure: Exception) -> None:
    """A poller that broke fails every order waiting on it, so none waits out the timeout."""
    for waiter in waiting.values():
        if not waiter.done():
            waiter.set_exception(failure)


@asynccontextmanager
async def polling(
    pollers: Sequence[Callable[[], Coroutine[Any, Any, None]]],
) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(poll()) for poll in pollers]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# -- HTTP ---------------------------------------------------------------------------------


class RequestCount:
    """Requests sent, by method: the load the driver put on the API; and the answers that said
    to come back later (``SHED``: 429 or 503 with ``Retry-After``), which the driver honoured."""

    def __init__(self) -> None:
        self.by_method: Counter[str] = Counter()

    async def __call__(self, request: httpx.Request) -> None:
        self.by_method[request.method] += 1


SHED = "shed"


class HonouringRetryAfter(httpx.AsyncBaseTransport):
    """A client's transport that does what the API asks of a client it sheds: a 429 or 503
    carrying ``Retry-After`` is sent again after that many seconds (as people's clients do),
    counted in ``count.by_method[SHED]``, so past the API's bounds the benchmark measures the
    waits instead of stopping at the first refusal."""

    def __init__(self, count: RequestCount, connections: int) -> None:
        self._count = count
        # Idle connections are dropped well before uvicorn's keep-alive (5 s) closes them: at
        # httpx's default expiry (5 s too) a request sent on a connection the server was just
        # closing failed with a ReadError, ending a run.
        limits = httpx.Limits(
            max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=2.0
        )
        self._inner = httpx.AsyncHTTPTransport(limits=limits)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()  # buffered, so the same body can go again
        while True:
            response = await self._inner.handle_async_request(request)
            retry_after = response.headers.get("retry-after", "")
            if response.status_code not in (429, 503) or not retry_after.isdigit():
                return response
            await response.aclose()
            self._count.by_method[SHED] += 1
            await asyncio.sleep(int(retry_after))

    async def aclose(self) -> None:
        await self._inner.aclose()


def failed(response: httpx.Response) -> RuntimeError:
    """An answer the driver did not expect, as the error that stops the run."""
    request = response.request
    return RuntimeError(
        f"{request.method} {request.url.path} answered {response.status_code}: {response.text}"
    )


async def get_rows(http: httpx.AsyncClient, path: str, params: dict[str, str | int]) -> list[Json]:
    response = await http.get(path, params=params)
    if response.status_code != 200:
        raise failed(response)
    rows: list[Json] = response.json()
    return rows


async def post_json(http: httpx.AsyncClient, path: str, **request: Any) -> Json:
    response = await http.post(path, **request)
    if response.status_code not in (200, 201):
        raise failed(response)
    answer: Json = response.json()
    return answer


def expect_field(answer: Json, field_name: str, value: str, what: str) -> None:
    if answer.get(field_name) != value:
        raise RuntimeError(f"{what}: expected {field_name} {value}, got {answer}")
