"""Traces: one trace from a REST request through the workflow and its activities to the call
to an external system; ``traceparent`` on the wire; spans at a real OTLP/HTTP receiver; and
nothing at all when no collector is configured.

The end-to-end test runs the real API over HTTP, a worker on the dev server (both on clients
from ``stack.temporal.connect``, as the processes build theirs) and the registry sandbox, with
the spans kept in memory instead of exported.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from api.tracing import TracingMiddleware, install_tracing
from contracts.common import Role
from db.seed import seed_demo
from db.session import transaction
from gateways.certification_registry import CertificationRegistryClient
from gateways.http_adapter import HttpAdapter
from sandboxes.webhook_sink import WebhookSinkSandbox
from security.keys import KeyRing
from settings import Settings
from stack.temporal import connect
from stack.tracing import (
    configure_tracing,
    outbound_span,
    shutdown_tracing,
    temporal_interceptors,
    tracer,
    traces_url,
)
from storage.object_store import ObjectStore
from tests.conftest import TEST_JWT_SECRET
from tests.e2e.test_accreditation_api import application_form, multipart
from tests.harness.api_server import TokenCaller, serving
from tests.harness.builders import make_org, register_certificate
from tests.harness.sourcing import member
from tests.harness.temporal import eventually, new_task_queue, terminate_all
from worker import build_worker

# The caller's own trace: the API's span must continue it.
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
LOOKUP = "GET certification registry"


@pytest.fixture
def spans(settings: Settings) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    assert configure_tracing(settings, service="test", exporter=exporter) is not None
    yield exporter
    shutdown_tracing()


def named(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, f"{len(found)} spans named {name!r} in {[s.name for s in spans]}"
    return found[0]


def parent_of(span: ReadableSpan) -> int:
    assert span.parent is not None, f"{span.name} has no parent"
    return span.parent.span_id


async def test_one_trace_from_the_request_to_the_registry(
    spans: InMemorySpanExporter,
    settings: Settings,
    dev_env: WorkflowEnvironment,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
    keyring: KeyRing,
) -> None:
    traced = settings.model_copy(
        update={
            "task_queue": new_task_queue(),
            "temporal_address": dev_env.client.service_client.config.target_host,
        }
    )
    with transaction(sessions) as session:
        seed_demo(session)  # the operator organisation, whose compliance team reviews
    org = make_org(sessions)
    today = datetime.now(UTC).date()
    claim = register_certificate(
        registry,
        holder=org.legal_name,
        issued=today - timedelta(30),
        expires=today + timedelta(600),
    )
    form = application_form(credit_code=org.credit_code)
    form["certificates"] = [claim.model_dump(mode="json")]
    spans.clear()  # the registration above is the test's own call, not the trace's

    app = create_app(traced)  # which installs the tracing middleware when tracing is on
    assert TracingMiddleware.__name__ in [
        getattr(m.cls, "__name__", "") for m in app.user_middleware
    ]
    client = await connect(traced, keyring)
    with serving(app) as url:
        async with build_worker(
            client, settings=traced, sessions=sessions, store=store, registry=registry
        ):
            supplier = TokenCaller(url, TEST_JWT_SECRET, member(sessions, org, Role.SUPPLIER))
            applied = await supplier.http.post(
                "/accreditation/applications",
                headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"},
                **multipart(form),
            )
            assert applied.status_code == 202, applied.text

            async def looked_up() -> tuple[ReadableSpan, ...] | None:
                finished = spans.get_finished_spans()
                return finished if any(s.name == LOOKUP for s in finished) else None

            finished = await eventually(looked_up, what="the registry look-up's span")
            await terminate_all(client, [applied.json()["workflow_id"]])

    request = named(finished, "POST /accreditation/applications")
    start = named(finished, "StartWorkflow:AccreditationWorkflow")
    run = named(finished, "RunWorkflow:AccreditationWorkflow")
    schedule = named(finished, "StartActivity:verify_certificate")
    activity = named(finished, "RunActivity:verify_certificate")
    lookup = named(finished, LOOKUP)
    trace_id = int(CALLER_TRACE, 16)
    for span in (request, start, run, schedule, activity, lookup):
        assert span.context is not None and span.context.trace_id == trace_id, span.name
    assert request.kind == SpanKind.SERVER and parent_of(request) == int(CALLER_SPAN, 16)
    assert request.attributes is not None and request.attributes["http.response.status_code"] == 202
    assert request.attributes["http.route"] == "/accreditation/applications"
    assert request.resource.attributes["service.name"] == "tradeflow-test"
    # Request → StartWorkflow → the workflow run and its activities' schedules (the SDK makes
    # both children of the start: workflow spans are instants, replay-safe) → each activity →
    # the call to the registry.
    assert parent_of(start) == request.context.span_id
    assert parent_of(run) == start.context.span_id
    assert parent_of(schedule) == start.context.span_id
    assert activity.context is not None and lookup.context is not None
    assert parent_of(activity) == schedule.context.span_id
    assert parent_of(lookup) == activity.context.span_id
    assert lookup.kind == SpanKind.CLIENT and lookup.attributes is not None
    assert lookup.attributes["http.response.status_code"] == 200
    assert lookup.attributes["tradeflow.external_system"] == "certification registry"


def test_an_external_call_carries_its_span_as_traceparent(spans: InMemorySpanExporter) -> None:
    with (
        WebhookSinkSandbox() as sink,
        HttpAdapter(sink.url, system="sink", timeout_s=5) as sink_api,
    ):
        sink_api.request("POST", "/hooks/traced", json={"hello": "trace"})
        delivered = sink_api.request("GET", "/hooks/traced").json()["deliveries"]
    post = next(s for s in spans.get_finished_spans() if s.name == "POST sink")
    assert post.context is not None
    headers = {k.lower(): v for k, v in delivered[0]["headers"].items()}
    trace_id, span_id = format_trace_id(post.context.trace_id), format_span_id(post.context.span_id)
    assert headers["traceparent"] == f"00-{trace_id}-{span_id}-{post.context.trace_flags:02x}"


class _Receiver(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector's traces endpoint: keeps each export it is sent."""

    received: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_spans_are_exported_to_the_configured_collector(settings: Settings) -> None:
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}"
    try:
        assert configure_tracing(
            settings.model_copy(update={"otlp_endpoint": endpoint}), service="worker-io"
        )
        with outbound_span(system="bank", method="POST", base_url="https://bank", headers={}):
            pass
        shutdown_tracing()  # flushes the batch
    finally:
        shutdown_tracing()
        receiver.shutdown()
        receiver.server_close()
    [(path, body)] = _Receiver.received
    assert path == "/v1/traces"
    export = ExportTraceServiceRequest.FromString(body)
    [resource_spans] = export.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert service["service.name"] == "tradeflow-worker-io"
    assert [s.name for scope in resource_spans.scope_spans for s in scope.spans] == ["POST bank"]


def test_off_by_default(settings: Settings) -> None:
    assert Settings.model_fields["otlp_endpoint"].default == ""
    untraced = settings.model_copy(update={"otlp_endpoint": ""})
    assert configure_tracing(untraced, service="api") is None
    assert tracer() is None and temporal_interceptors() == []
    app = create_app(untraced)
    assert install_tracing(app, untraced) is False
    names = [getattr(m.cls, "__name__", "") for m in app.user_middleware]
    assert TracingMiddleware.__name__ not in names
    headers: dict[str, str] = {}
    with outbound_span(
        system="bank", method="GET", base_url="http://bank", headers=headers
    ) as span:
        assert not span.is_recording()
    assert headers == {}


def test_the_collector_url_names_the_traces_path() -> None:
    assert traces_url("http://collector:4318") == "http://collector:4318/v1/traces"
    assert traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert traces_url("http://c:4318/v1/traces") == "http://c:4318/v1/traces"
