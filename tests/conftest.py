"""Session-wide real services: PostgreSQL, S3 (moto over HTTP), the registry, regulator, bank
and receivables registry sandboxes, Temporal."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.catalogue_shapes import SHAPES
from db.session import make_engine, make_session_factory
from gateways.bank import BankClient
from gateways.certification_registry import CertificationRegistryClient
from gateways.receivables_registry import ReceivablesRegistryClient
from gateways.regulator import RegulatorClient
from sandboxes.bank import BankControl, BankSandbox
from sandboxes.certification_registry import CertificationRegistrySandbox
from sandboxes.control import SandboxControl
from sandboxes.receivables_registry import ReceivablesRegistryControl, ReceivablesRegistrySandbox
from sandboxes.regulator import RegulatorControl, RegulatorSandbox
from security.columns import install_column_keyring
from security.keys import KeyRing
from security.payload_codec import data_converter
from settings import Settings
from stack.temporal import ORG_ID, SUBJECT_ID, dev_server_path, time_skipping_server_path
from storage.object_store import ObjectStore, S3ObjectStore
from tests.harness.postgres import fresh_database
from tests.harness.s3 import running_moto_server, s3_client

# boto3 clients built from settings (API, worker) read credentials from the environment; moto
# accepts any. setdefault: a developer's real AWS variables are never replaced, nor needed.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")

# Every catalogue statement reused by shape is built afresh too and compared (db.catalogue_shapes).
SHAPES.checked = True

# A fixed, test-only key: committed workflow histories were recorded with it.
TEST_KEY_SPEC = "test1:dGVzdC1vbmx5LWtleS10cmFkZWZsb3ctMzJieXRlcyE="
TEST_JWT_SECRET = "test-only-jwt-secret-with-enough-entropy-0123456789"
TEST_REGULATOR_KEY = "test-only-regulator-api-key-0123456789"
TEST_BANK_KEY = "test-only-bank-api-key-0123456789"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files marked ``long`` first, longest first. xdist hands each worker whole files in
    collection order (``make test`` turns off its own order, most tests first, which put the
    one-test durability files last); a long file handed out last is a run's tail with the other
    worker idle. Longest first also pairs the fuzzing, which keeps a core busy, with the
    durability tests, which mostly wait out a killed attempt's timeout. Mark a whole module
    (``pytestmark``): a marked function alone would split its module from its fixtures."""

    def seconds(item: pytest.Item) -> float:
        mark = item.get_closest_marker("long")
        if mark is None:
            return 0.0
        if "seconds" not in mark.kwargs:
            raise pytest.UsageError(f"{item.nodeid}: mark it long(seconds=...), the file's time")
        return -float(mark.kwargs["seconds"])

    items.sort(key=seconds)


@pytest.fixture(scope="session")
def keyring() -> KeyRing:
    ring = KeyRing.parse(TEST_KEY_SPEC, active="test1")
    install_column_keyring(ring)
    return ring


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(tmp_path_factory.mktemp("postgres")) as url:
        yield url


@pytest.fixture(scope="session")
def sessions(database_url: str, keyring: KeyRing) -> sessionmaker[Session]:
    return make_session_factory(make_engine(database_url))


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with running_moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def store(s3_endpoint: str) -> ObjectStore:
    s3 = S3ObjectStore(s3_client(s3_endpoint), "tradeflow-test")
    s3.ensure_bucket()
    return s3


@pytest.fixture(scope="session")
def registry_sandbox() -> Iterator[CertificationRegistrySandbox]:
    sandbox = CertificationRegistrySandbox()
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def registry_control(registry_sandbox: CertificationRegistrySandbox) -> Iterator[SandboxControl]:
    control = SandboxControl(registry_sandbox.url)
    control.clear_faults()
    yield control
    control.clear_faults()


@pytest.fixture(scope="session")
def registry(registry_sandbox: CertificationRegistrySandbox) -> CertificationRegistryClient:
    return CertificationRegistryClient(registry_sandbox.url, timeout_s=2.0)


@pytest.fixture(scope="session")
def regulator_sandbox() -> Iterator[RegulatorSandbox]:
    sandbox = RegulatorSandbox(api_key=TEST_REGULATOR_KEY)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def regulator_control(regulator_sandbox: RegulatorSandbox) -> Iterator[RegulatorControl]:
    control = RegulatorControl(regulator_sandbox.url)
    control.clear_faults()
    control.clear_accept_then_fail()
    yield control
    control.clear_faults()
    control.clear_accept_then_fail()
    control.close()


@pytest.fixture(scope="session")
def regulator(regulator_sandbox: RegulatorSandbox) -> Iterator[RegulatorClient]:
    with RegulatorClient(
        regulator_sandbox.url, api_key=TEST_REGULATOR_KEY, timeout_s=2.0
    ) as client:
        yield client


@pytest.fixture(scope="session")
def bank_sandbox() -> Iterator[BankSandbox]:
    with BankSandbox(api_key=TEST_BANK_KEY) as sandbox:
        yield sandbox


@pytest.fixture
def bank_control(bank_sandbox: BankSandbox) -> Iterator[BankControl]:
    with BankControl(bank_sandbox.url) as control:
        control.clear_all_faults()
        yield control
        control.clear_all_faults()


@pytest.fixture(scope="session")
def bank(bank_sandbox: BankSandbox) -> Iterator[BankClient]:
    with BankClient(bank_sandbox.url, api_key=TEST_BANK_KEY, timeout_s=2.0) as client:
        yield client


@pytest.fixture(scope="session")
def receivables_registry_sandbox() -> Iterator[ReceivablesRegistrySandbox]:
    with ReceivablesRegistrySandbox() as sandbox:
        yield sandbox


@pytest.fixture
def receivables_registry_control(
    receivables_registry_sandbox: ReceivablesRegistrySandbox,
) -> Iterator[ReceivablesRegistryControl]:
    with ReceivablesRegistryControl(receivables_registry_sandbox.url) as control:
        control.clear_all_faults()
        yield control
        control.clear_all_faults()


@pytest.fixture(scope="session")
def receivables_registry(
    receivables_registry_sandbox: ReceivablesRegistrySandbox,
) -> Iterator[ReceivablesRegistryClient]:
    with ReceivablesRegistryClient(receivables_registry_sandbox.url, timeout_s=2.0) as client:
        yield client


@pytest.fixture(scope="session")
def settings(
    database_url: str,
    s3_endpoint: str,
    registry_sandbox: CertificationRegistrySandbox,
    regulator_sandbox: RegulatorSandbox,
    bank_sandbox: BankSandbox,
    receivables_registry_sandbox: ReceivablesRegistrySandbox,
) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        object_store="s3",
        s3_endpoint_url=s3_endpoint,
        s3_bucket="tradeflow-test",
        encryption_keys=TEST_KEY_SPEC,
        active_key_id="test1",
        jwt_secret=TEST_JWT_SECRET,
        certification_registry_url=registry_sandbox.url,
        certification_registry_timeout_s=2.0,
        regulator_url=regulator_sandbox.url,
        regulator_api_key=TEST_REGULATOR_KEY,
        regulator_timeout_s=2.0,
        bank_url=bank_sandbox.url,
        bank_api_key=TEST_BANK_KEY,
        bank_timeout_s=2.0,
        receivables_registry_url=receivables_registry_sandbox.url,
        receivables_registry_timeout_s=2.0,
    )


@pytest.fixture(scope="session")
async def time_skipping_env(keyring: KeyRing) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(time_skipping_server_path()),
        data_converter=data_converter(keyring),
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env(keyring: KeyRing) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(dev_server_path()),
        data_converter=data_converter(keyring),
        search_attributes=[ORG_ID, SUBJECT_ID],
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()
