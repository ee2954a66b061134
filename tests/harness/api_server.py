"""The real API over HTTP: uvicorn serving ``create_app`` on a free loopback port, in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import uvicorn
from fastapi import FastAPI

from api.main import create_app
from security.tokens import issue_token
from settings import Settings
from tests.harness.sourcing import Member


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


KEEP_ALIVE_SECONDS = 30


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Uvicorn serving ``app`` on a free loopback port, in a thread; yields its base URL."""
    port = free_port()
    # Idle connections are kept past httpx's own expiry (5 s), so a client always drops one
    # before the server does: at uvicorn's default, also 5 s, a request sent after a test's
    # long wait could meet the server closing that very connection (httpx.ReadError).
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def running_api(settings: Settings) -> Iterator[str]:
    """The real API over HTTP."""
    with serving(create_app(settings)) as url:
        yield url


class TokenCaller:
    """One test user over HTTP, with a bearer token minted for it (test users have no password)."""

    def __init__(self, base: str, secret: str, member: Member) -> None:
        self.member = member
        actor = member.actor
        token = issue_token(
            secret=secret,
            user_id=actor.user_id,
            org_id=actor.org_id,
            roles=actor.roles,
            ttl=timedelta(hours=1),
            now=datetime.now(UTC),
        )
        self.http = httpx.AsyncClient(
            base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}
        )

    @property
    def org_id(self) -> str:
        return self.member.org.id

    @property
    def user_id(self) -> str:
        return self.member.actor.user_id
