"""Demo seeding: what is missing is added, on a new database and on one seeded before."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import db.seed
from contracts.common import OrgKind
from db.migrate import migrate
from db.models import ExchangeRate, Organisation, User
from db.seed import DEMO_CARRIER_ID, DEMO_ORGS, seed_demo
from db.session import make_session_factory, transaction
from rules.credit_code import credit_code_problem
from security.keys import KeyRing


@pytest.fixture
def new_database(database_url: str, keyring: KeyRing) -> Iterator[sessionmaker[Session]]:
    """A database of its own, migrated and empty: the shared one is seeded by other modules."""
    server = make_url(database_url)
    name = f"tradeflow_seed_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    migrate(url)
    engine = create_engine(url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _counts(sessions: sessionmaker[Session]) -> tuple[int, int, int]:
    with sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(Organisation)) or 0,
            session.scalar(select(func.count()).select_from(User)) or 0,
            session.scalar(select(func.count()).select_from(ExchangeRate)) or 0,
        )


def test_seeding_twice_creates_once(new_database: sessionmaker[Session]) -> None:
    with transaction(new_database) as session:
        assert seed_demo(session, password="pw-one") is True
    first = _counts(new_database)
    with transaction(new_database) as session:
        assert seed_demo(session, password="pw-one") is False
    assert _counts(new_database) == first
    users = sum(len(org.users) for org in DEMO_ORGS)
    assert first == (len(DEMO_ORGS), users, 3)


def test_a_database_seeded_before_the_carrier_gains_it_and_keeps_the_rest(
    new_database: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tuple(org for org in DEMO_ORGS if org.id != DEMO_CARRIER_ID)
    monkeypatch.setattr(db.seed, "DEMO_ORGS", before)
    with transaction(new_database) as session:
        seed_demo(session, password="pw-old")
        buyer = session.scalar(select(User).where(User.email == "buyer@huadong.example"))
        assert buyer is not None
        buyer.full_name = "renamed by its owner"
    monkeypatch.setattr(db.seed, "DEMO_ORGS", DEMO_ORGS)

    with transaction(new_database) as session:
        assert seed_demo(session, password="pw-new") is True

    with new_database() as session:
        carrier = session.get(Organisation, DEMO_CARRIER_ID)
        assert carrier is not None and carrier.kind == OrgKind.CARRIER.value
        assert credit_code_problem(carrier.credit_code) is None
        roles = {
            u.email: u.roles
            for u in session.scalars(select(User).where(User.org_id == DEMO_CARRIER_ID))
        }
        assert roles == {
            "manager@anda.example": ["carrier"],
            "dispatch@anda.example": ["logistics"],
        }
        kept = session.scalar(select(User).where(User.email == "buyer@huadong.example"))
        assert kept is not None and kept.full_name == "renamed by its owner"


def test_the_demo_carrier_code_is_its_own() -> None:
    codes = [org.credit_code for org in DEMO_ORGS]
    assert len(set(codes)) == len(codes)
