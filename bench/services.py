"""The real parts the platform runs on, started once for every benchmark in the process."""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.session import make_engine, make_session_factory
from gateways.certification_registry import CertificationRegistryClient
from sandboxes.certification_registry import CertificationRegistrySandbox
from security.columns import install_column_keyring
from security.keys import KeyRing, generate_key_spec
from security.payload_codec import data_converter
from settings import Settings
from stack.temporal import ORG_ID, SUBJECT_ID, dev_server_path
from storage.object_store import ObjectStore, object_store_from_settings
from tests.harness.postgres import fresh_database
from tests.harness.s3 import running_moto_server

BUCKET = "tradeflow-bench"
KEY_ID = "bench1"


@dataclass(frozen=True)
class Services:
    env: WorkflowEnvironment
    settings: Settings
    sessions: sessionmaker[Session]
    store: ObjectStore
    registry: CertificationRegistryClient


@asynccontextmanager
async def running_services() -> AsyncIterator[Services]:
    """PostgreSQL with migrations, moto S3, the registry sandbox and the Temporal dev server."""
    # The API builds its S3 client from the environment; moto accepts any credentials.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    key_spec = generate_key_spec(KEY_ID)
    keyring = KeyRing.parse(key_spec, active=KEY_ID)
    install_column_keyring(keyring)
    async with AsyncExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tradeflow-bench-")))
        database_url = stack.enter_context(fresh_database(workdir))
        s3_endpoint = stack.enter_context(running_moto_server())
        sandbox = CertificationRegistrySandbox().start()
        stack.callback(sandbox.stop)
        with _stdout_silenced():
            env = await WorkflowEnvironment.start_local(
                dev_server_existing_path=str(dev_server_path()),
                data_converter=data_converter(keyring),
                search_attributes=[ORG_ID, SUBJECT_ID],
                dev_server_log_level="error",
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
            temporal_address=env.client.service_client.config.target_host,
        )
        # Built as worker.py builds them, so the worker measured is the one that runs.
        yield Services(
            env=env,
            settings=settings,
            sessions=make_session_factory(make_engine(settings.database_url)),
            store=object_store_from_settings(settings),
            registry=CertificationRegistryClient.from_settings(settings),
        )


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
