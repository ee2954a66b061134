"""The real parts the platform runs on, started once for every benchmark in the process."""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.session import make_engine, make_session_factory
from gateways.certification_registry import CertificationRegistryClient
from gateways.regulator import RegulatorClient
from sandboxes.certification_registry import CertificationRegistrySandbox
from sandboxes.regulator import RegulatorSandbox
from security.columns import install_column_keyring
from security.keys import KeyRing, generate_key_spec
from security.payload_codec import data_converter
from settings import Settings
from stack.temporal import ORG_ID, SUBJECT_ID, dev_server_path
from storage.object_store import ObjectStore, object_store_from_settings
from tests.harness.api_server import free_port
from tests.harness.postgres import fresh_database

BUCKET = "tradeflow-bench"
KEY_ID = "bench1"
ROOT = Path(__file__).resolve().parent.parent
CHILD_START_TIMEOUT_S = 60.0


def quiet_logs() -> None:
    """A benchmark shows its table only: the worker and the API log at info for operators, and
    moto's server logs every S3 request unless its logger is told otherwise."""
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Services:
    env: WorkflowEnvironment
    settings: Settings
    sessions: sessionmaker[Session]
    store: ObjectStore
    registry: CertificationRegistryClient
    regulator: RegulatorClient
    workdir: Path
    # The dev server's Prometheus endpoint (``bench.temporal_requests`` reads it).
    temporal_metrics_url: str


@asynccontextmanager
async def running_services() -> AsyncIterator[Services]:
    """PostgreSQL with migrations, moto S3 (its own process), the registry and regulator
    sandboxes and the Temporal dev server."""
    # The API builds its S3 client from the environment; moto accepts any credentials.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    key_spec = generate_key_spec(KEY_ID)
    keyring = KeyRing.parse(key_spec, active=KEY_ID)
    install_column_keyring(keyring)
    async with AsyncExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tradeflow-bench-")))
        database_url = stack.enter_context(fresh_database(workdir))
        s3_endpoint = stack.enter_context(s3_process(workdir / "s3.log"))
        sandbox = CertificationRegistrySandbox().start()
        stack.callback(sandbox.stop)
        regulator_key = secrets.token_urlsafe(32)
        regulator = RegulatorSandbox(api_key=regulator_key).start()
        stack.callback(regulator.stop)
        metrics_port = free_port()
        with _stdout_silenced():
            env = await WorkflowEnvironment.start_local(
                dev_server_existing_path=str(dev_server_path()),
                data_converter=data_converter(keyring),
                search_attributes=[ORG_ID, SUBJECT_ID],
                dev_server_log_level="error",
                dev_server_extra_args=["--metrics-port", str(metrics_port)],
            )
        stack.push_async_callback(env.shutdown)
        settings = Settings(
            environment="test",
            database_url=database_url,
            object_store="s3",
            s3_endpoint_url=s3_endpoint,
            s3_bucket=BUCKET,
            encryption_keys=key_spec,
            active_key_id=KEY_ID,
            jwt_secret=secrets.token_urlsafe(48),
            certification_registry_url=sandbox.url,
            certification_registry_timeout_s=2.0,
            regulator_url=regulator.url,
            regulator_api_key=regulator_key,
            regulator_timeout_s=5.0,
            temporal_address=env.client.service_client.config.target_host,
        )
        # Built as worker.py builds them, so the worker measured is the one that runs.
        yield Services(
            env=env,
            settings=settings,
            sessions=make_session_factory(make_engine(settings.database_url)),
            store=object_store_from_settings(settings),
            registry=CertificationRegistryClient.from_settings(settings),
            regulator=stack.enter_context(RegulatorClient.from_settings(settings)),
            workdir=workdir,
            temporal_metrics_url=f"http://127.0.0.1:{metrics_port}/metrics",
        )


def settings_environment(settings: Settings) -> dict[str, str]:
    """The environment variables that make ``Settings()`` in another process equal these."""
    variables: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        key = "DATABASE_URL" if name == "database_url" else f"TRADEFLOW_{name.upper()}"
        variables[key] = json.dumps(value) if isinstance(value, list) else str(value)
    return variables


@contextmanager
def api_process(
    settings: Settings, log_path: Path, *, app: str = "api.main:create_app"
) -> Iterator[str]:
    """The API as production runs it: uvicorn in its own process (as ``stack.up`` starts it), so
    it does not share the worker's interpreter lock; yields its base URL. ``app``: another
    factory served the same way (a benchmark's bare endpoint)."""
    port = free_port()
    command = [
        *("-m", "uvicorn", app, "--factory", "--no-access-log"),
        *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
    ]
    env = {**os.environ, **settings_environment(settings)}
    url = f"http://127.0.0.1:{port}"
    with _child(command, env=env, health=f"{url}/health", log_path=log_path):
        yield url


@contextmanager
def s3_process(log_path: Path) -> Iterator[str]:
    """moto's S3 in its own process, as S3 is another system: its request handling does not
    share the worker's interpreter lock; yields the endpoint."""
    port = free_port()
    command = ["-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    url = f"http://127.0.0.1:{port}"
    with _child(command, env=dict(os.environ), health=f"{url}/moto-api/", log_path=log_path):
        yield url


@contextmanager
def _child(
    arguments: list[str], *, env: dict[str, str], health: str, log_path: Path
) -> Iterator[None]:
    """``python <arguments>`` running until the context ends, once ``health`` answers 200."""
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, *arguments],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    try:
        _wait_healthy(process, health, log_path)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + CHILD_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: exited with {process.returncode}\n{_tail(log_path)}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url}: no answer in {CHILD_START_TIMEOUT_S:.0f} s\n{_tail(log_path)}")


def _tail(log_path: Path, lines: int = 20) -> str:
    """The log's last lines: it lives in a temporary folder that a failure removes."""
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def _stdout_silenced() -> Iterator[None]:
    """Point file descriptor 1 at /dev/null: the dev server inherits it and prints a banner."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
