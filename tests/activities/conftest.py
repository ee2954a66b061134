"""The loan activities' own services: a database and a bank of the package's own, so a day's
ledger and the bank's statement of the platform's account hold only these tests' money and the
day's reconciliation can be exact."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.loans import LoanActivities
from gateways.bank import BankClient
from gateways.receivables_registry import ReceivablesRegistryClient
from sandboxes.bank import BankControl, BankSandbox
from security.keys import KeyRing
from tests.harness.loan_trades import activities, platform_org
from tests.harness.postgres import fresh_sessions

LEDGER_BANK_KEY = "test-only-ledger-bank-key-0123456789"


@pytest.fixture(scope="package")
def ledger(
    database_url: str, keyring: KeyRing, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sessionmaker[Session]]:
    """A database of its own on the test server, with the operator's organisation."""
    with fresh_sessions(tmp_path_factory.mktemp("ledger"), server_url=database_url) as sessions:
        platform_org(sessions)
        yield sessions


@pytest.fixture(scope="package")
def ledger_bank() -> Iterator[BankSandbox]:
    with BankSandbox(api_key=LEDGER_BANK_KEY) as sandbox:
        yield sandbox


@pytest.fixture(scope="package")
def ledger_bank_client(ledger_bank: BankSandbox) -> Iterator[BankClient]:
    with BankClient(ledger_bank.url, api_key=LEDGER_BANK_KEY, timeout_s=2.0) as client:
        yield client


@pytest.fixture
def ledger_bank_control(ledger_bank: BankSandbox) -> Iterator[BankControl]:
    with BankControl(ledger_bank.url) as control:
        control.clear_faults()
        control.clear_accept_then_fail()
        yield control
        control.clear_faults()
        control.clear_accept_then_fail()


@pytest.fixture
def activity_env() -> ActivityEnvironment:
    """Activities run as the worker runs them, scheduled now (their 'today')."""
    env = ActivityEnvironment()
    env.info = replace(env.info, current_attempt_scheduled_time=datetime.now(UTC))
    return env


@pytest.fixture
def loans(
    ledger: sessionmaker[Session],
    ledger_bank_client: BankClient,
    receivables_registry: ReceivablesRegistryClient,
) -> LoanActivities:
    """The loan activities on the ledger's database and bank, paying from its platform account."""
    return activities(ledger, ledger_bank_client, receivables_registry)
