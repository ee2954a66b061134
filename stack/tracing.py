"""Traces across processes: one OpenTelemetry tracer provider a process, off unless configured.

With ``TRADEFLOW_OTLP_ENDPOINT`` set, spans go to that collector over OTLP/HTTP under the
process's service name (``tradeflow-api``, ``tradeflow-worker-...``). Unset, nothing is built:
no provider, no exporter, no Temporal interceptor, no request middleware; an outbound call
costs one ``None`` check. One trace runs from the REST request (api/tracing.py) through the
StartWorkflow call, the workflow and its activities (the Temporal SDK's TracingInterceptor on
the process's client, so its workers carry it too) to each call to an external system
(``outbound_span``, used by gateways/http_adapter.py), joined by W3C ``traceparent`` headers.

The provider is held here rather than set as OpenTelemetry's global one: the global can be set
once a process and never removed, and tests install a provider with an in-memory exporter for a
while, then take it away again (``shutdown_tracing``).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from urllib.parse import urlsplit

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from temporalio.contrib.opentelemetry import TracingInterceptor

from settings import Settings

INSTRUMENTATION = "tradeflow"
# W3C Trace Context only: the header every collector, proxy and language understands.
PROPAGATOR = TraceContextTextMapPropagator()

_provider: TracerProvider | None = None


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL of a collector given by its base URL (as the OTel variable
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` is); a URL already naming ``/v1/traces`` is kept."""
    base = endpoint.rstrip("/")
    return base if base.endswith("/v1/traces") else f"{base}/v1/traces"


def configure_tracing(
    settings: Settings, *, service: str, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """The process's tracer provider, built on first call; None when tracing is off.

    ``service`` names the process (``api``, ``worker-workflows``...). Spans are batched to the
    OTLP endpoint of ``settings``; an ``exporter`` given instead (tests, a console) gets each
    span as it ends. The first configuration of a process stands: later calls return it.
    """
    global _provider
    if _provider is not None:
        return _provider
    if exporter is not None:
        processor: SimpleSpanProcessor | BatchSpanProcessor = SimpleSpanProcessor(exporter)
    elif settings.otlp_endpoint:
        processor = BatchSpanProcessor(
            OTLPSpanExporter(endpoint=traces_url(settings.otlp_endpoint), timeout=5)
        )
    else:
        return None
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: f"tradeflow-{service}"}))
    provider.add_span_processor(processor)
    _provider = provider
    return provider


def shutdown_tracing() -> None:
    """Flush and drop the process's provider: tracing is off again from here on."""
    global _provider
    provider, _provider = _provider, None
    if provider is not None:
        provider.shutdown()


def tracer() -> Tracer | None:
    """The process's tracer, or None when tracing is off."""
    return None if _provider is None else _provider.get_tracer(INSTRUMENTATION)


def temporal_interceptors() -> list[TracingInterceptor]:
    """For ``Client.connect``: spans of starts, signals, updates and queries, and (the
    interceptor is a worker one too) of the workflows and activities of workers on that client.
    Empty when tracing is off, so an untraced process adds no header to what it starts."""
    current = tracer()
    return [] if current is None else [TracingInterceptor(current)]


@contextmanager
def outbound_span(
    *, system: str, method: str, base_url: str, headers: MutableMapping[str, str]
) -> Iterator[Span]:
    """A client span around one call to an external system, its ``traceparent`` put into
    ``headers``; the span records an exception raised inside it. Off: a no-op span."""
    current = tracer()
    if current is None:
        yield INVALID_SPAN
        return
    address = urlsplit(base_url)
    # Named by system and method, never by path: paths hold ids (certificate numbers, waybills).
    with current.start_as_current_span(
        f"{method} {system}",
        kind=SpanKind.CLIENT,
        attributes={
            "http.request.method": method,
            "server.address": address.hostname or "",
            "server.port": address.port or (443 if address.scheme == "https" else 80),
            "tradeflow.external_system": system,
        },
    ) as span:
        PROPAGATOR.inject(headers)
        yield span


def record_status(span: Span, status: int) -> None:
    """The answer's status on a client span; 5xx and 429 (worth retrying) mark it failed."""
    span.set_attribute("http.response.status_code", status)
    if status >= 500 or status == 429:
        span.set_status(StatusCode.ERROR, f"HTTP {status}")
