"""The API's Prometheus metrics: requests counted by route template, method and status class,
scraped from the metrics port of the real app served over HTTP, and nothing when it is off."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from api.metrics import MetricsMiddleware, install_metrics
from settings import Settings
from tests.harness.api_server import free_port, serving
from tests.harness.temporal import new_task_queue


class Unexpected(RuntimeError):
    """An error nothing maps, as a bug would raise."""


@dataclass(frozen=True)
class Served:
    api: str
    metrics: str


def _app(settings: Settings, dev_env: WorkflowEnvironment, *, metrics_port: int) -> FastAPI:
    return create_app(
        settings.model_copy(
            update={
                "task_queue": new_task_queue(),
                "temporal_address": dev_env.client.service_client.config.target_host,
                "metrics_port": metrics_port,
            }
        )
    )


@pytest.fixture(scope="module")
def served(settings: Settings, dev_env: WorkflowEnvironment) -> Iterator[Served]:
    port = free_port()
    app = _app(settings, dev_env, metrics_port=port)

    @app.get("/test/raise")
    def fail() -> None:
        raise Unexpected("a bug")

    # create_app installed the middleware: the route added since is counted like the others.
    installed = [getattr(m.cls, "__name__", "") for m in app.user_middleware]
    assert MetricsMiddleware.__name__ in installed
    with serving(app) as url:
        yield Served(api=url, metrics=f"http://127.0.0.1:{port}/metrics")


def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the endpoint, by name and labels."""
    text = httpx.get(url, timeout=10).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def requests_of(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float],
    *,
    method: str,
    route: str,
    status_class: str,
    name: str = "tradeflow_api_requests_total",
) -> float:
    labels = frozenset({"method": method, "route": route, "status_class": status_class}.items())
    return samples.get((name, labels), 0.0)


def test_requests_are_counted_and_timed_by_route_template(served: Served) -> None:
    before = scrape(served.metrics)
    with httpx.Client(base_url=served.api, timeout=30) as api:
        for _ in range(3):
            assert api.get("/health").status_code == 200
        # Two orders, one route: the template is the label, never the id.
        assert api.get("/orders/ord_one").status_code == 401
        assert api.get("/orders/ord_two").status_code == 401
        assert api.get("/no/such/path/ord_three").status_code == 404
        assert api.get("/test/raise").status_code == 500
    after = scrape(served.metrics)

    def grew(method: str, route: str, status_class: str, name: str) -> float:
        key = {"method": method, "route": route, "status_class": status_class, "name": name}
        return requests_of(after, **key) - requests_of(before, **key)

    for name in ("tradeflow_api_requests_total", "tradeflow_api_request_duration_seconds_count"):
        assert grew("GET", "/health", "2xx", name) == 3
        assert grew("GET", "/orders/{order_id}", "4xx", name) == 2
        assert grew("GET", "unmatched", "4xx", name) == 1
        assert grew("GET", "/test/raise", "5xx", name) == 1
    routes = {dict(labels).get("route") for _, labels in after}
    assert not any(route and "ord_" in route for route in routes)
    in_flight = after[("tradeflow_api_requests_in_flight", frozenset())]
    assert in_flight == 0  # the scrape is not a request of the API: nothing is being answered
    assert any(name == "process_resident_memory_bytes" for name, _ in after)


def test_the_metrics_are_not_on_the_public_port(served: Served) -> None:
    assert httpx.get(f"{served.api}/metrics", timeout=10).status_code == 404


def test_off_by_default(settings: Settings, dev_env: WorkflowEnvironment) -> None:
    assert Settings.model_fields["metrics_port"].default == 0
    app = _app(settings, dev_env, metrics_port=0)
    assert install_metrics(app, settings.model_copy(update={"metrics_port": 0})) is None
    installed = [getattr(m.cls, "__name__", "") for m in app.user_middleware]
    assert MetricsMiddleware.__name__ not in installed
