"""Order loans end to end: the services a loan module keeps to itself, the goods it finances,
and what the bank, the ledger and the day's reconciliation say about a loan afterwards.

A loan module runs on a database and a bank of its own (``loan_database``, ``loan_bank``): the
day's reconciliation compares every bank posting the ledger booked that day with every movement
of the platform's account at the bank, so only a ledger and a bank nobody else writes to can be
expected to agree exactly. The worker runs in-process (``tests.e2e.conftest.worker``) or as a
process of its own to be killed (``worker_process``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.loans import LoanActivities
from contracts.banking import BankPayment, IncomingTransfer
from contracts.finance import ReconcileInput, ReconciliationResult
from contracts.sourcing import RfqLine
from db.finance import Journal, Posting
from db.loan_facts import china_day
from db.models import Organisation
from db.seed import seed_demo
from db.session import make_engine, make_session_factory, transaction
from gateways.bank import BankClient
from gateways.receivables_registry import ReceivablesRegistryClient
from sandboxes.bank import BankControl, BankSandbox
from security.keys import KeyRing
from settings import Settings
from tests.conftest import TEST_BANK_KEY
from tests.harness.postgres import fresh_database

ROOT = Path(__file__).resolve().parents[2]
CENT = Decimal("0.01")

# Ordinary goods: no UN number, no temperature, so the order needs no carrier, no e-waybill and
# no cold chain; the supplier's logistics reports the shipment.
CARTONS = RfqLine(
    line_id="L4",
    description="五层瓦楞纸箱 Corrugated cartons, 5-ply",
    specification="600 x 400 x 400 mm, printed",
    quantity=Decimal(3000),
    unit="pcs",
)


# A module takes these fixtures by assignment (``sessions = loans.own_sessions``).


@pytest.fixture(scope="module")
def loan_database(
    database_url: str, keyring: KeyRing, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of a migrated database of the module's own on the session's server, seeded as
    the API seeds it (the operator, whom the registry names as the lender, and its users)."""
    server = make_url(database_url).set(database="postgres").render_as_string(hide_password=False)
    with fresh_database(tmp_path_factory.mktemp("loan-db"), server_url=server) as url:
        engine = make_engine(url)
        try:
            with transaction(make_session_factory(engine)) as session:
                seed_demo(session)
        finally:
            engine.dispose()
        yield url


@pytest.fixture(scope="module", name="sessions")
def own_sessions(loan_database: str) -> Iterator[sessionmaker[Session]]:
    """The module's database, in place of the session's."""
    engine = make_engine(loan_database)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def loan_bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BankSandbox]:
    """A bank sandbox of the module's own, its platform account seeded as ``make up`` seeds it."""
    with BankSandbox(api_key=TEST_BANK_KEY, data_dir=tmp_path_factory.mktemp("bank")) as sandbox:
        yield sandbox


@pytest.fixture
def bank_control(loan_bank: BankSandbox) -> Iterator[BankControl]:
    """The module's bank's control API; its faults are cleared at the end."""
    with BankControl(loan_bank.url) as control:
        yield control
        control.clear_faults()
        control.clear_accept_then_fail()


def china_today() -> date:
    """Today as the bank's value dates and the ledger's booking days count it."""
    return china_day(datetime.now(UTC))


def with_bank_account(sessions: sessionmaker[Session], org_id: str) -> str:
    """Put a corporate account number on file for the organisation; answers it."""
    account = f"6217{uuid.uuid4().int % 10**15:015d}"
    with transaction(sessions) as session:
        session.execute(
            update(Organisation).where(Organisation.id == org_id).values(bank_account=account)
        )
    return account


def pay_in(
    bank: BankClient, settings: Settings, *, payer: str, amount: Decimal, reference: str
) -> BankPayment:
    """The buyer's bank sends ``amount`` into the platform's supervised account (监管账户)."""
    return bank.credit(
        settings.bank_platform_account,
        IncomingTransfer(
            payer_account=f"6228{uuid.uuid4().int % 10**15:015d}",
            payer_name=payer[:200],
            amount=amount,
            currency="CNY",
            reference=reference,
        ),
        idempotency_key=f"credit-{reference}",
    )


def interest(principal: Decimal, rate: Decimal, days: int) -> Decimal:
    """ACT/360 interest on ``days`` (start day counted, end day not), to the cent half up."""
    return (principal * rate * days / 360).quantize(CENT, rounding=ROUND_HALF_UP)


def ledger_total(sessions: sessionmaker[Session]) -> Decimal:
    """The sum of every posting: zero when every journal balances."""
    with sessions() as session:
        return Decimal(session.scalar(select(func.coalesce(func.sum(Posting.amount), 0))) or 0)


def journal_kinds(sessions: sessionmaker[Session], loan_id: str) -> list[str]:
    with sessions() as session:
        query = select(Journal.kind).where(Journal.loan_id == loan_id)
        return sorted(session.scalars(query))


def reconcile(
    sessions: sessionmaker[Session],
    settings: Settings,
    bank: BankClient,
    registry: ReceivablesRegistryClient,
    day: date,
) -> ReconciliationResult:
    """The daily process's step (``reconcile_bank``) for ``day``, as the worker runs it."""
    steps = LoanActivities(
        sessions, bank, registry, platform_account=settings.bank_platform_account
    )
    result: ReconciliationResult = ActivityEnvironment().run(
        steps.reconcile_bank, ReconcileInput(day=day)
    )
    return result


def worker_environment(settings: Settings) -> dict[str, str]:
    """``worker.py``'s environment for ``settings``: every scalar setting as its variable."""
    env = dict(os.environ, DATABASE_URL=settings.database_url)
    for name, value in settings.model_dump(exclude={"database_url"}).items():
        if isinstance(value, str | int | float | Path) and not isinstance(value, bool):
            env[f"TRADEFLOW_{name.upper()}"] = str(value)
        elif isinstance(value, bool):
            env[f"TRADEFLOW_{name.upper()}"] = "true" if value else "false"
    return env


@contextmanager
def worker_process(settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    """``worker.py`` as a process of its own, configured by ``settings``; killed at the end."""
    process = subprocess.Popen(
        [sys.executable, "worker.py"], cwd=ROOT, env=worker_environment(settings)
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
