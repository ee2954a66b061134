"""The real API over HTTP and a worker on the dev server, shared by the end-to-end modules
(a module with other needs, like the accreditation one's upload limit, defines its own)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.seed import seed_demo
from db.session import transaction
from gateways.certification_registry import CertificationRegistryClient
from gateways.regulator import RegulatorClient
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness.api_server import running_api
from tests.harness.temporal import new_task_queue
from worker import build_worker


@pytest.fixture(scope="module")
def e2e_settings(settings: Settings, dev_env: WorkflowEnvironment) -> Settings:
    return settings.model_copy(
        update={
            "task_queue": new_task_queue(),
            "temporal_address": dev_env.client.service_client.config.target_host,
            "max_upload_bytes": 20_000_000,
        }
    )


@pytest.fixture(scope="module")
def api_url(e2e_settings: Settings, sessions: sessionmaker[Session]) -> Iterator[str]:
    with transaction(sessions) as session:
        seed_demo(session)  # the operator and regulator organisations, the demo rates
    with running_api(e2e_settings) as url:
        yield url


@pytest.fixture
async def worker(
    dev_env: WorkflowEnvironment,
    e2e_settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
    regulator: RegulatorClient,
) -> AsyncIterator[None]:
    async with build_worker(
        dev_env.client,
        settings=e2e_settings,
        sessions=sessions,
        store=store,
        registry=registry,
        regulator=regulator,
    ):
        yield
