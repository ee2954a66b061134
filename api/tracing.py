"""A server span for every API request, continuing the caller's trace (W3C ``traceparent``).

The span is current while the route runs, so the Temporal client's StartWorkflow, update and
query spans (stack/tracing.py) are its children, and through them the workflow's and its
activities'. It is named by method and route template (``POST /accreditation/applications``),
known only once routing is done, so it starts as the method alone and is renamed at the end.
Tracing off (no ``TRADEFLOW_OTLP_ENDPOINT``): nothing is installed.
"""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.trace import SpanKind, StatusCode, Tracer
from starlette.types import ASGIApp, Receive, Scope, Send

from api.metrics import UNMATCHED, StatusWatch, route_template
from settings import Settings
from stack.tracing import PROPAGATOR, configure_tracing, tracer


class TracingMiddleware:
    """Opens the request's server span, as a child of the caller's when it sent a traceparent."""

    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope["headers"]
            if key in (b"traceparent", b"tracestate")
        }
        method: str = scope["method"]
        watch = StatusWatch(send)
        with self.tracer.start_as_current_span(
            method,
            context=PROPAGATOR.extract(carrier),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
        ) as span:
            try:
                await self.app(scope, receive, watch)
            finally:
                route = route_template(scope)
                if route != UNMATCHED:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", watch.status)
                # A server span fails on 5xx only: a 4xx is the caller's mistake, answered.
                if watch.status >= 500:
                    span.set_status(StatusCode.ERROR, f"HTTP {watch.status}")


def install_tracing(app: FastAPI, settings: Settings, *, service: str = "api") -> bool:
    """Configure the process's tracing (stack/tracing.py) and trace the app's requests; False,
    and nothing installed, when tracing is off. Call before the lifespan connects to Temporal,
    so the client gets the tracing interceptor (``create_app`` is such a place). Installing it
    again on the same app changes nothing."""
    configure_tracing(settings, service=service)
    current = tracer()
    if current is None:
        return False
    # Once an app: create_app installs it, and a second install would open two server spans.
    if not any(getattr(layer, "cls", None) is TracingMiddleware for layer in app.user_middleware):
        app.add_middleware(TracingMiddleware, tracer=current)
    return True
