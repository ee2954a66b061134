"""Prometheus metrics of the API: requests by route template, method and status class.

Served on a port of their own (``TRADEFLOW_METRICS_PORT``, bound to ``TRADEFLOW_METRICS_HOST``),
as the workers serve theirs, not at ``/metrics`` on the API port: Prometheus must scrape every
replica itself (through the load balancer it would see a random one a scrape), it needs no token
(the platform's expire within the hour), and what the numbers show (traffic by route) never
reaches the public port's ingress. Port 0, the default: no endpoint and no middleware.

Metrics an operator graphs:
- ``tradeflow_api_requests_total{method,route,status_class}``: the request rate, by route;
- ``tradeflow_api_request_duration_seconds{method,route,status_class}``: a latency histogram
  (``histogram_quantile(0.99, sum by (le, route) (rate(..._bucket[5m])))``);
- ``tradeflow_api_requests_in_flight``: requests being answered now, per process;
- ``process_*``: the process's CPU, memory and open files.
``route`` is the route's template (``/orders/{order_id}``), never the path: ids stay out of the
labels, and a path that matches no route counts as ``unmatched``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    start_http_server,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from settings import Settings

UNMATCHED = "unmatched"
LABELS = ("method", "route", "status_class")
# Seconds: from a cached read (a few ms) to a PDF or a slow gateway behind a request (10 s).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def route_template(scope: Scope) -> str:
    """The template of the route that answered (``/orders/{order_id}``), once routing is done;
    ``unmatched`` for a path no route took (its raw path would let anyone mint labels)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    # A mount (the workbench's and the docs' static files) counts as its prefix.
    return path if isinstance(path, str) and path else UNMATCHED


class StatusWatch:
    """An ASGI ``send`` that notes the status answered: 500 until a response starts, which is
    what the server answers for an error raised through it."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
        await self._send(message)


class ApiMetrics:
    """The API's collectors, in a registry of their own (one an app, so tests build many)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.requests = Counter(
            "tradeflow_api_requests",
            "HTTP requests answered, by route template, method and status class",
            LABELS,
            registry=self.registry,
        )
        self.duration = Histogram(
            "tradeflow_api_request_duration_seconds",
            "time to answer an HTTP request, by route template, method and status class",
            LABELS,
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "tradeflow_api_requests_in_flight",
            "HTTP requests being answered by this process",
            registry=self.registry,
        )


class MetricsMiddleware:
    """Counts and times every HTTP request; outermost, so refused and failed requests count."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        watch = StatusWatch(send)
        self.metrics.in_flight.inc()
        started = time.perf_counter()
        try:
            await self.app(scope, receive, watch)
        finally:
            self.metrics.in_flight.dec()
            labels = (scope["method"], route_template(scope), f"{watch.status // 100}xx")
            self.metrics.requests.labels(*labels).inc()
            self.metrics.duration.labels(*labels).observe(time.perf_counter() - started)


Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


def install_metrics(app: FastAPI, settings: Settings) -> ApiMetrics | None:
    """Count the app's requests and serve them to Prometheus on the metrics port while the app
    runs (started in its lifespan, so after any fork); None when the port is 0."""
    if settings.metrics_port <= 0:
        return None
    metrics = ApiMetrics()
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    inner: Lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(running: Any) -> AsyncIterator[Any]:
        server, thread = start_http_server(
            settings.metrics_port, addr=settings.metrics_host, registry=metrics.registry
        )
        try:
            async with inner(running) as state:
                yield state
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

    app.router.lifespan_context = lifespan
    return metrics
