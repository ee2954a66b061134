"""Liveness and readiness, both without authentication.

``/health`` says only that the process answers, so a restart is never ordered for an outage
elsewhere. ``/ready`` asks each dependency with a short timeout (the database, Temporal, the
object store, and whether a worker polls each task queue: the workflows', the I/O activities'
and the renders') and answers 503 naming each one failing and why (a queue by its name), so an
operator or a load balancer sees what is wrong rather than a 503 on every call.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, GetSystemInfoRequest

from api.deps import PlatformDep
from api.platform import Platform
from contracts.queues import io_queue, render_queue
from storage.object_store import LocalObjectStore, S3ObjectStore

router = APIRouter(tags=["health"])

CHECK_TIMEOUT = timedelta(seconds=2)
# An idle worker renews its long poll about once a minute; the server remembers a poller for
# minutes after it is gone, so only one seen recently counts.
POLLER_SEEN_WITHIN = timedelta(seconds=90)
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class DependencyCheck(BaseModel):
    status: Literal["ok", "failing"]
    error: str | None = None


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    checks: dict[str, DependencyCheck]


@router.get("/health")
def health() -> Liveness:
    """Liveness: the process answers; no dependency is asked."""
    return Liveness()


@router.get(
    "/ready",
    response_model=Readiness,
    responses={
        status.HTTP_503_SERVICE_UNAVAILABLE: {
            "model": Readiness,
            "description": "A dependency is failing: each one is named with its error.",
        }
    },
)
async def ready(platform: PlatformDep) -> JSONResponse:
    """Readiness: the database, Temporal, the object store and workers polling, each checked."""
    probes: dict[str, Callable[[Platform], Awaitable[None]]] = {
        "database": _database,
        "temporal": _temporal,
        "object_store": _object_store,
        "worker": _worker,
    }
    results = await asyncio.gather(*(_check(probe, platform) for probe in probes.values()))
    readiness = Readiness(
        status="ready" if all(r.status == "ok" for r in results) else "not ready",
        checks=dict(zip(probes, results, strict=True)),
    )
    return JSONResponse(
        readiness.model_dump(mode="json"),
        status_code=status.HTTP_200_OK
        if readiness.status == "ready"
        else status.HTTP_503_SERVICE_UNAVAILABLE,
    )


async def _check(
    probe: Callable[[Platform], Awaitable[None]], platform: Platform
) -> DependencyCheck:
    try:
        await asyncio.wait_for(probe(platform), CHECK_TIMEOUT.total_seconds())
    except TimeoutError:
        return DependencyCheck(
            status="failing", error=f"no answer within {CHECK_TIMEOUT.total_seconds():.0f} s"
        )
    except Exception as error:
        return DependencyCheck(status="failing", error=_describe(error, platform))
    return DependencyCheck(status="ok")


async def _database(platform: Platform) -> None:
    def select_one() -> None:
        with platform.sessions() as session:
            session.execute(text("SELECT 1"))

    await asyncio.to_thread(select_one)


async def _temporal(platform: Platform) -> None:
    await platform.temporal.workflow_service.get_system_info(
        GetSystemInfoRequest(), timeout=CHECK_TIMEOUT
    )


async def _worker(platform: Platform) -> None:
    """A worker polls each queue of the family: the workflows', the I/O activities' and the
    renders' (split so each scales on its own, so each can be left without a worker alone)."""
    queue = platform.settings.task_queue
    queues = {
        queue: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        io_queue(queue): TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        render_queue(queue): TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    }
    polled = await asyncio.gather(
        *(_polled_recently(platform, name, kind) for name, kind in queues.items())
    )
    idle = [name for name, seen in zip(queues, polled, strict=True) if not seen]
    if idle:
        seconds = POLLER_SEEN_WITHIN.total_seconds()
        named = ", ".join(repr(name) for name in idle)
        queues_word = "task queue" if len(idle) == 1 else "task queues"
        raise LookupError(f"no worker has polled {queues_word} {named} in the last {seconds:.0f} s")


async def _polled_recently(platform: Platform, queue: str, kind: TaskQueueType.ValueType) -> bool:
    described = await platform.temporal.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=platform.temporal.namespace,
            task_queue=TaskQueue(name=queue),
            task_queue_type=kind,
        ),
        timeout=CHECK_TIMEOUT,
    )
    since = datetime.now(UTC) - POLLER_SEEN_WITHIN
    return any(p.last_access_time.ToDatetime(tzinfo=UTC) >= since for p in described.pollers)


async def _object_store(platform: Platform) -> None:
    store = platform.store
    if isinstance(store, S3ObjectStore):
        await asyncio.to_thread(store.check_bucket)
    elif isinstance(store, LocalObjectStore):
        # The folder is made on the first write: its nearest existing ancestor must take it.
        folder = next(p for p in (store.root, *store.root.parents) if p.exists())
        if not (folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)):
            raise PermissionError("the local object folder cannot be written")


def _describe(error: Exception, platform: Platform) -> str:
    """The error's kind and first line, with no credentials in it: the answer is public."""
    if isinstance(error, DBAPIError):  # the driver's own words, not SQLAlchemy's wrapping
        error = error.orig if isinstance(error.orig, Exception) else error
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    message = _USERINFO.sub("***@", message)
    settings = platform.settings
    secrets = [make_url(settings.database_url).password if settings.database_url else None]
    secrets += [settings.jwt_secret, settings.regulator_api_key]
    for secret in secrets:
        if secret:
            message = message.replace(str(secret), "***")
    return f"{type(error).__name__}: {message}"[:300]
