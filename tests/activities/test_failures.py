"""Errors classified once: what retrying may cure goes back to the retry policy, the rest fails
the step at once. Each error here is raised for real, by PostgreSQL, psycopg2 or httpx."""

from __future__ import annotations

import socket

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from activities.failures import is_transient
from gateways.http_adapter import ExternalSystemRejected, ExternalSystemUnavailable


def _raised(sessions: sessionmaker[Session], sql: str, **params: object) -> BaseException:
    with sessions() as session, pytest.raises(Exception) as raised:
        session.execute(text(sql), params)
    return raised.value


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("SELECT CAST(:v AS text)", {"v": "NUL\x00"}),  # psycopg2 refuses it client-side
        ("SELECT CAST(:v AS integer)", {"v": "twelve"}),  # 22P02 invalid input
        ("SELECT CAST(:v AS numeric(4, 2))", {"v": "12345"}),  # 22003 numeric overflow
        ("INSERT INTO notifications (id, org_id) VALUES ('n', 'org_nobody')", {}),  # 23: integrity
        ("SELECT no_such_column FROM organisations", {}),  # 42703: a bug
    ],
)
def test_refused_data_and_bugs_are_permanent(
    sessions: sessionmaker[Session], sql: str, params: dict[str, object]
) -> None:
    assert not is_transient(_raised(sessions, sql, **params))


@pytest.mark.parametrize("code", ["40001", "40P01", "57P01", "53300"])
def test_serialisation_deadlock_shutdown_and_exhaustion_are_transient(
    sessions: sessionmaker[Session], code: str
) -> None:
    error = _raised(
        sessions, f"DO $$ BEGIN RAISE EXCEPTION 'contention' USING ERRCODE = '{code}'; END $$"
    )
    assert is_transient(error)


def test_a_database_that_does_not_answer_is_transient() -> None:
    engine = create_engine(f"postgresql+psycopg2://x@127.0.0.1:{_closed_port()}/x")
    with pytest.raises(Exception) as refused:
        engine.connect()
    assert is_transient(refused.value)


def test_external_systems_down_are_transient_and_their_rejections_permanent() -> None:
    with pytest.raises(httpx.ConnectError) as refused:
        httpx.get(f"http://127.0.0.1:{_closed_port()}/", timeout=2)
    assert is_transient(refused.value)
    assert is_transient(ExternalSystemUnavailable("503", system="regulator"))
    assert not is_transient(
        ExternalSystemRejected("no", system="regulator", status=422, reason="bad")
    )


def test_a_cause_decides_through_the_chain() -> None:
    try:
        try:
            raise TimeoutError("read timed out")
        except TimeoutError as timeout:
            raise RuntimeError("lookup failed") from timeout
    except RuntimeError as wrapped:
        assert is_transient(wrapped)
    assert not is_transient(KeyError("line"))
