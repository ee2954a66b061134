"""Past its bounds the API sheds load (503 or 429 with ``Retry-After``, as problems) instead of
falling over, and every outbound call it makes has a deadline.

The real app over HTTP, with a few test-only routes: one that holds its request until the test
opens a gate (so "in flight" is a fact the test controls, never a guess timed with sleeps), one
that runs a statement slower than the API's statement timeout, one that updates a process no
worker serves. The per-caller limit's recovery runs the middleware on a clock the test moves.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from botocore.exceptions import BotoCoreError
from fastapi import FastAPI
from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment

from api.deps import PlatformDep, SessionDep
from api.main import create_app
from api.shedding import Admission, Limits, SheddingMiddleware
from contracts.common import Role
from security.tokens import issue_token
from settings import Settings
from storage.object_store import object_store_from_settings
from tests.conftest import TEST_JWT_SECRET
from tests.harness.api_server import serving
from tests.harness.temporal import new_task_queue

PROBLEM_JSON = "application/problem+json"
IN_FLIGHT = 2
# A test that goes wrong fails instead of holding its requests for ever.
GATE_WAIT_S = 30


class Gate:
    """Requests wait here until opened; the test waits until ``n`` of them have arrived."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self._arrived = threading.Condition()
        self._count = 0

    def pass_through(self) -> None:
        with self._arrived:
            self._count += 1
            self._arrived.notify_all()
        self._open.wait(GATE_WAIT_S)

    def until_arrived(self, n: int) -> None:
        with self._arrived:
            assert self._arrived.wait_for(lambda: self._count >= n, GATE_WAIT_S)

    def open(self) -> None:
        self._open.set()


@pytest.fixture(scope="module")
def shed_settings(settings: Settings, dev_env: WorkflowEnvironment) -> Settings:
    return settings.model_copy(
        update={
            "task_queue": new_task_queue(),
            "temporal_address": dev_env.client.service_client.config.target_host,
            "shed_max_in_flight": IN_FLIGHT,
            "shed_max_queued": 0,
            "shed_retry_after_s": 3,
            "rate_limit_per_s": 0.0,
            "api_statement_timeout_ms": 300,
            "temporal_update_timeout_s": 0.5,
        }
    )


@pytest.fixture(scope="module")
def gate() -> Gate:
    return Gate()


@pytest.fixture(scope="module")
def api_url(shed_settings: Settings, gate: Gate) -> Iterator[str]:
    app = create_app(shed_settings)

    @app.get("/test/gate", include_in_schema=False)
    def held() -> dict[str, str]:
        gate.pass_through()
        return {"passed": "yes"}

    @app.get("/test/slow-statement", include_in_schema=False)
    def slow(session: SessionDep) -> None:
        session.execute(text("SELECT pg_sleep(30)"))

    @app.post("/test/update/{workflow_id}", include_in_schema=False)
    async def update(workflow_id: str, platform: PlatformDep) -> None:
        await platform.temporal.get_workflow_handle(workflow_id).execute_update("anything")

    with serving(app) as url:
        yield url


def shed(answer: httpx.Response, status: int) -> int:
    """The answer is a problem with ``status`` and a whole number of seconds to retry after."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.json()["status"] == status
    retry_after = int(answer.headers["retry-after"])
    assert retry_after >= 1
    return retry_after


def test_requests_past_the_bound_are_shed_and_the_admitted_ones_complete(
    api_url: str, gate: Gate
) -> None:
    with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool, httpx.Client(base_url=api_url) as http:
        admitted = [pool.submit(httpx.get, f"{api_url}/test/gate", timeout=60) for _ in range(2)]
        gate.until_arrived(IN_FLIGHT)
        # Both places taken and no queue: each further request is answered at once.
        for _ in range(5):
            assert shed(http.get("/test/gate"), 503) == 3
        assert http.get("/health").status_code == 200  # probes are never shed
        gate.open()
        assert [f.result().status_code for f in admitted] == [200, 200]
        # The places were given back: the API serves again.
        assert http.get("/test/gate").json() == {"passed": "yes"}


def test_a_statement_past_the_api_statement_timeout_is_cancelled(api_url: str) -> None:
    answer = httpx.get(f"{api_url}/test/slow-statement", timeout=20)
    shed(answer, 503)
    assert "database" in answer.json()["detail"]


async def test_a_temporal_call_without_a_deadline_gets_the_api_one(
    api_url: str, dev_env: WorkflowEnvironment
) -> None:
    # A process on a queue no worker polls: its update can never be admitted.
    handle = await dev_env.client.start_workflow(
        "Unserved", id=f"unserved-{new_task_queue()}", task_queue=new_task_queue()
    )
    async with httpx.AsyncClient(base_url=api_url, timeout=20) as http:
        answer = await http.post(f"/test/update/{handle.id}")
    shed(answer, 503)
    assert "did not answer in time" in answer.json()["detail"]
    await handle.terminate()


# -- the per-caller limit ------------------------------------------------------------------------


def token(user: str) -> dict[str, str]:
    signed = issue_token(
        secret=TEST_JWT_SECRET,
        user_id=user,
        org_id="org_test",
        roles=(Role.BUYER,),
        ttl=timedelta(hours=1),
        now=datetime.now(UTC),
    )
    return {"Authorization": f"Bearer {signed}"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def limited_url(clock: Clock) -> Iterator[str]:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> str:
        return "pong"

    app.add_middleware(
        SheddingMiddleware,
        limits=Limits(
            max_in_flight=8,
            max_queued=8,
            queue_wait_s=5,
            retry_after_s=2,
            rate_per_s=0.5,
            burst=2,
        ),
        jwt_secret=TEST_JWT_SECRET,
        clock=clock,
    )
    with serving(app) as url:
        yield url


def test_a_caller_past_its_rate_gets_429_then_recovers(limited_url: str, clock: Clock) -> None:
    ana, bo = token("usr_ana"), token("usr_bo")
    with httpx.Client(base_url=limited_url) as http:
        assert [http.get("/ping", headers=ana).status_code for _ in range(2)] == [200, 200]
        assert shed(http.get("/ping", headers=ana), 429) == 2  # one token in 1 / 0.5 s
        # Another user has a bucket of their own; probes are not counted.
        assert http.get("/ping", headers=bo).status_code == 200
        assert http.get("/health").status_code == 404  # exempt, so it reached the app
        clock.now += 1.0
        assert shed(http.get("/ping", headers=ana), 429) == 1  # half a token back
        clock.now += 1.0
        assert http.get("/ping", headers=ana).status_code == 200
        assert http.get("/ping", headers=ana).status_code == 429


def test_a_forged_token_counts_against_the_address(limited_url: str, clock: Clock) -> None:
    clock.now += 100  # every bucket full again
    forged = {"Authorization": "Bearer not.a.token"}
    with httpx.Client(base_url=limited_url) as http:
        assert http.get("/ping").status_code == 200
        assert http.get("/ping", headers=forged).status_code == 200
        shed(http.get("/ping", headers=forged), 429)  # the same address's bucket
        assert http.get("/ping", headers=token("usr_cy")).status_code == 200


# -- the admission queue -------------------------------------------------------------------------


async def test_the_queue_is_bounded_first_come_and_its_wait_too() -> None:
    admission = Admission(places=1, queued=1, wait_s=GATE_WAIT_S)
    assert await admission.enter()
    waiting = asyncio.ensure_future(admission.enter())
    await asyncio.sleep(0)  # let it take its place in the queue (a yield, not a timed wait)
    assert admission.queued == 1
    assert not await admission.enter()  # queue full: shed at once
    admission.leave()
    assert await waiting  # the place went to the waiter, not back to the pool
    impatient = Admission(places=1, queued=4, wait_s=0.01)
    assert await impatient.enter()
    assert not await impatient.enter()  # waited its bounded time, then shed
    assert impatient.queued == 0


# -- the object store ----------------------------------------------------------------------------


def test_a_hung_object_store_fails_within_its_timeouts(settings: Settings) -> None:
    with socket.socket() as hung:
        # Listening but never accepting: connections complete, no byte ever comes back.
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        port = hung.getsockname()[1]
        configured = settings.model_copy(
            update={
                "object_store": "s3",
                "s3_endpoint_url": f"http://127.0.0.1:{port}",
                "s3_connect_timeout_s": 0.2,
                "s3_read_timeout_s": 0.2,
            }
        )
        with pytest.raises(BotoCoreError):
            object_store_from_settings(configured)  # its first call checks the bucket
