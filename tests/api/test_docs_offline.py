"""The interactive docs work on an offline install: ``/docs`` loads nothing from another host.

The real app over HTTP. The page's every script, stylesheet and icon is served by the app
itself (Swagger UI from the installed package), and no URL in the page leaves the host.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from settings import Settings
from tests.harness.api_server import running_api
from tests.harness.temporal import new_task_queue

_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
_ABSOLUTE = re.compile(r"""(?:https?:)?//[\w.-]+""")
_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


@pytest.fixture(scope="module")
def api_url(settings: Settings, dev_env: WorkflowEnvironment) -> Iterator[str]:
    target = dev_env.client.service_client.config.target_host
    with running_api(
        settings.model_copy(update={"task_queue": new_task_queue(), "temporal_address": target})
    ) as url:
        yield url


async def test_the_docs_page_loads_only_assets_the_app_serves(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        page = await http.get("/docs")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert not _ABSOLUTE.findall(page.text), "a URL in the page points off this host"
        assets = _ASSET.findall(page.text)
        assert {a.rsplit(".", 1)[-1] for a in assets} == {"js", "css", "png"}
        for url in assets:
            assert url.startswith("/docs-assets/"), url
            answer = await http.get(url)
            assert answer.status_code == 200, url
            expected = _TYPES["." + url.rsplit(".", 1)[-1]]
            assert answer.headers["content-type"].startswith(expected), url
            assert len(answer.content) > 100, url
        assert "url: '/openapi.json'" in page.text
        spec = await http.get("/openapi.json")
        assert spec.status_code == 200 and spec.json()["info"]["title"] == "Tradeflow"


async def test_the_oauth2_redirect_page_is_served_and_redoc_is_off(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        redirect = await http.get("/docs/oauth2-redirect")
        assert redirect.status_code == 200 and "oauth2" in redirect.text
        assert not _ABSOLUTE.findall(redirect.text)
        assert (
            "oauth2RedirectUrl: window.location.origin + '/docs/oauth2-redirect'"
            in (await http.get("/docs")).text
        )
        redoc = await http.get("/redoc")  # no package carries ReDoc's script
        assert redoc.status_code == 404
        assert redoc.headers["content-type"] == "application/problem+json"


async def test_the_carriage_steps_and_the_fleet_are_linked_from_the_answers_that_name_them(
    api_url: str,
) -> None:
    """A client (and the suite's stateful fuzzing) follows the order's shipment to the
    consignor's list, the carrier's waybill and the loading check, and a carrier to its fleet."""
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        paths = (await http.get("/openapi.json")).json()["paths"]

    def linked(path: str, method: str, status: str) -> set[str]:
        return set(paths[path][method]["responses"][status].get("links", {}))

    def operation(path: str, method: str) -> str:
        found: str = paths[path][method]["operationId"]
        return found

    shipment = "/orders/{order_id}/shipments/{shipment}"
    steps = {operation(shipment + step, "post") for step in ("/consignment", "/waybill/make")}
    steps.add(operation(shipment + "/loading-check", "post"))
    assert steps <= linked("/orders/{order_id}", "get", "200")
    fleet = {operation(f"/carriers/{{org_id}}/{part}", "get") for part in ("vehicles", "crew")}
    assert fleet <= linked("/carriers", "get", "200")
    retire = operation("/carriers/{org_id}/vehicles/{vehicle_id}", "delete")
    assert retire in linked("/carriers/{org_id}/vehicles", "post", "201")
