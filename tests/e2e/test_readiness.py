"""Readiness over the real API: 200 with every dependency ok while all answer; 503 naming the
database or Temporal when it does not, with no credentials in the answer, or the task queue no
worker polls (workflows, I/O or render). Liveness stays ok."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from contracts.queues import Role, io_queue, render_queue
from gateways.certification_registry import CertificationRegistryClient
from security.keys import KeyRing
from security.payload_codec import data_converter
from settings import Settings
from stack.temporal import dev_server_path
from storage.object_store import ObjectStore
from tests.harness.api_server import free_port, running_api
from tests.harness.temporal import eventually, new_task_queue
from worker import build_worker

CHECKS = {"database", "temporal", "object_store", "worker"}


async def readiness(base: str) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        answer = await http.get("/ready")
    return answer.status_code, answer.json()


async def test_ready_when_every_dependency_answers_and_a_worker_polls(
    api_url: str, worker: None
) -> None:
    async def all_ok() -> dict[str, Any] | None:
        code, body = await readiness(api_url)
        return body if code == 200 else None

    body = await eventually(all_ok, attempts=200, interval=0.1)  # the worker's first poll
    assert body["status"] == "ready"
    assert {name: check["status"] for name, check in body["checks"].items()} == dict.fromkeys(
        CHECKS, "ok"
    )


async def test_unreachable_database_is_named_without_its_password(
    e2e_settings: Settings, worker: None
) -> None:
    nowhere = f"postgresql+psycopg2://tradeflow:n0t-for-your-eyes@127.0.0.1:{free_port()}/x"
    with running_api(e2e_settings.model_copy(update={"database_url": nowhere})) as base:
        code, body = await readiness(base)
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            alive = await http.get("/health")

    assert code == 503
    assert body["status"] == "not ready"
    assert body["checks"]["database"]["status"] == "failing"
    assert body["checks"]["database"]["error"]
    assert body["checks"]["temporal"] == {"status": "ok", "error": None}
    assert "n0t-for-your-eyes" not in str(body)
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}


async def test_temporal_going_away_is_named(e2e_settings: Settings, keyring: KeyRing) -> None:
    # A server of its own to stop: the shared one stays up for the other tests.
    temporal = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(dev_server_path()),
        data_converter=data_converter(keyring),
        dev_server_log_level="error",
    )
    address = temporal.client.service_client.config.target_host
    stopped = False
    try:
        with running_api(e2e_settings.model_copy(update={"temporal_address": address})) as base:
            code, body = await readiness(base)
            assert body["checks"]["temporal"]["status"] == "ok"
            # Nobody polls this server's task queue: not ready, and it says why.
            assert code == 503
            assert body["checks"]["worker"]["status"] == "failing"
            assert "no worker has polled" in body["checks"]["worker"]["error"]

            await temporal.shutdown()
            stopped = True

            async def temporal_failing() -> dict[str, Any] | None:
                code, body = await readiness(base)
                failing = body["checks"]["temporal"]["status"] == "failing"
                return body if code == 503 and failing else None

            body = await eventually(temporal_failing, attempts=100, interval=0.1)
            assert body["checks"]["temporal"]["error"]
            assert body["checks"]["database"]["status"] == "ok"
    finally:
        if not stopped:
            await temporal.shutdown()


async def test_a_queue_without_a_worker_is_named(
    dev_env: WorkflowEnvironment,
    e2e_settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
) -> None:
    # A family of queues of its own: no other test's worker has polled any of them.
    settings = e2e_settings.model_copy(update={"task_queue": new_task_queue()})
    queue = settings.task_queue
    half = build_worker(
        dev_env.client,
        roles=frozenset({Role.WORKFLOWS, Role.IO}),
        settings=settings,
        sessions=sessions,
        store=store,
        registry=registry,
    )
    with running_api(settings) as base:
        code, body = await readiness(base)
        assert code == 503
        error = body["checks"]["worker"]["error"]
        for name in (queue, io_queue(queue), render_queue(queue)):
            assert repr(name) in error

        async with half:

            async def render_alone_idle() -> dict[str, Any] | None:
                code, body = await readiness(base)
                error = body["checks"]["worker"]["error"] or ""
                polled = repr(queue) not in error and repr(io_queue(queue)) not in error
                return body if code == 503 and polled else None

            # Once the workflows' and I/O queues are polled, only the render queue is named.
            body = await eventually(render_alone_idle, attempts=200, interval=0.1)
            error = body["checks"]["worker"]["error"]
            assert error.startswith("LookupError: no worker has polled task queue ")
            assert repr(render_queue(queue)) in error
            assert repr(queue) not in error
            assert {n: c["status"] for n, c in body["checks"].items() if n != "worker"} == (
                dict.fromkeys(CHECKS - {"worker"}, "ok")
            )
