"""An unexpected error answers 500 and the client's keep-alive connection stays usable.

The app is the real one (its middleware, its error handlers) with two routes added for the
test: one raising an error nothing maps, one telling the client which connection it came on.
Before the fix uvicorn closed the connection after such a 500, and the next request sent on it
failed with "server disconnected" most of the time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import BackgroundTasks, Request
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from settings import Settings
from tests.harness.api_server import serving
from tests.harness.temporal import new_task_queue

ROUNDS = 20


class Unexpected(RuntimeError):
    """An error no handler maps, as a bug would raise."""


@pytest.fixture(scope="module")
def api_url(settings: Settings, dev_env: WorkflowEnvironment) -> Iterator[str]:
    app = create_app(
        settings.model_copy(
            update={
                "task_queue": new_task_queue(),
                "temporal_address": dev_env.client.service_client.config.target_host,
            }
        )
    )

    @app.get("/test/raise")
    def fail() -> None:
        raise Unexpected("a bug")

    @app.get("/test/raise-after-answer")
    def fail_after(tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(_raise)
        return {"answered": "yes"}

    @app.get("/test/peer")
    def peer(request: Request) -> dict[str, int]:
        assert request.client is not None
        return {"port": request.client.port}

    with serving(app) as url:
        yield url


def _raise() -> None:
    raise Unexpected("a bug after the answer")


@pytest.fixture
async def client(api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    # One connection: every request must travel on the same keep-alive connection.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=api_url, limits=limits, timeout=30) as http:
        yield http


async def _port(http: httpx.AsyncClient) -> int:
    answer = await http.get("/test/peer")
    assert answer.status_code == 200
    port: int = answer.json()["port"]
    return port


async def test_the_request_after_an_unexpected_error_succeeds_on_the_same_connection(
    client: httpx.AsyncClient,
) -> None:
    port = await _port(client)
    for _ in range(ROUNDS):
        failed = await client.get("/test/raise")
        assert failed.status_code == 500
        assert failed.headers.get("connection") != "close"
        assert "x-request-id" in failed.headers  # the request middleware saw an answer
        assert await _port(client) == port  # answered, and on the very same connection


async def test_an_error_after_the_answer_leaves_the_connection_open(
    client: httpx.AsyncClient,
) -> None:
    port = await _port(client)
    for _ in range(ROUNDS):
        answered = await client.get("/test/raise-after-answer")
        assert answered.json() == {"answered": "yes"}
        assert await _port(client) == port
