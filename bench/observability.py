"""What seeing a cluster costs a request: the API's metrics and tracing middleware, timed.

Three copies of one small app (a route with a path parameter answering JSON) serve the same
requests in process, interleaved round by round: bare (the baseline, and what an untraced API
with metrics off runs), with the Prometheus middleware, and with both the Prometheus and the
tracing middleware (each span handed to an exporter that drops it). Printed:
the median microseconds a request of each and the ratio to bare. Run:
``python -m bench.observability [--rounds 15 --requests 300]``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from api.metrics import ApiMetrics, MetricsMiddleware
from api.tracing import TracingMiddleware
from bench.stats import Row, interleaved, median, print_header, require_counts, table
from settings import Settings
from stack.tracing import configure_tracing, shutdown_tracing, tracer


class _Dropped(SpanExporter):
    """A collector that takes every batch and keeps nothing."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _app(*, metrics: bool, traced: bool) -> FastAPI:
    app = FastAPI()

    @app.get("/orders/{order_id}")
    def order(order_id: str) -> dict[str, str]:
        return {"order_id": order_id, "status": "confirmed"}

    if metrics:
        app.add_middleware(MetricsMiddleware, metrics=ApiMetrics())
    current = tracer()
    if traced and current is not None:
        app.add_middleware(TracingMiddleware, tracer=current)
    return app


def _requests(client: TestClient, count: int) -> Callable[[], object]:
    def run() -> None:
        for n in range(count):
            assert client.get(f"/orders/ord_{n}").status_code == 200

    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=300)
    arguments = parser.parse_args(argv)
    require_counts(parser, arguments)
    print_header(
        "API request overhead of metrics and tracing (in process, TestClient)",
        f"rounds {arguments.rounds}, requests a round {arguments.requests}",
    )
    # Each span handed as it ends to an exporter that drops it: the cost measured is making
    # the spans, not shipping them (a batch processor ships them off the request's path).
    assert configure_tracing(Settings(), service="bench", exporter=_Dropped()) is not None
    try:
        clients = {
            "bare": TestClient(_app(metrics=False, traced=False)),
            "metrics": TestClient(_app(metrics=True, traced=False)),
            "metrics+tracing": TestClient(_app(metrics=True, traced=True)),
        }
        timings = interleaved(
            {name: _requests(c, arguments.requests) for name, c in clients.items()},
            rounds=arguments.rounds,
        )
    finally:
        shutdown_tracing()
    per_request = {
        name: median([t.wall_ms for t in runs]) * 1000 / arguments.requests
        for name, runs in timings.items()
    }
    rows = [
        Row(f"GET /orders/{{id}} with {name}", "µs", per_request[name], per_request["bare"])
        for name in ("metrics", "metrics+tracing")
    ]
    print("\n".join(table(rows)))


if __name__ == "__main__":
    main()
