"""Latency of authenticated API reads over HTTP against a constant endpoint served the same way."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from bench.services import Services
from db.seed import DEMO_PASSWORD, seed_demo
from db.session import transaction
from tests.harness.api_server import running_api, serving

WARMUP_REQUESTS = 50
INBOX_ROWS = 20
# Decided tasks: the benchmark's accreditations leave none open, so the inbox reads those.
INBOX_PATH = f"/tasks?status=decided&limit={INBOX_ROWS}"
COMPLIANCE = "compliance@tradeflow.example"


@dataclass(frozen=True)
class RestFigures:
    inbox_rows: int
    inbox_ms: tuple[float, ...]
    me_ms: tuple[float, ...]
    constant_ms: tuple[float, ...]


def constant_app() -> FastAPI:
    """The baseline: no middleware, no authentication, no database."""
    app = FastAPI()

    @app.get("/constant")
    def constant() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _timed_get(client: httpx.Client, path: str) -> float:
    began = time.perf_counter()
    answer = client.get(path)
    elapsed_ms = (time.perf_counter() - began) * 1000
    answer.raise_for_status()
    return elapsed_ms


def measure_rest(services: Services, *, requests: int) -> RestFigures:
    """Sequential requests on keep-alive connections, the three endpoints interleaved."""
    with transaction(services.sessions) as session:
        seed_demo(session)
    with (
        running_api(services.settings) as api_url,
        serving(constant_app()) as constant_url,
        httpx.Client(base_url=api_url, timeout=30) as api,
        httpx.Client(base_url=constant_url, timeout=30) as bare,
    ):
        login = api.post("/auth/token", data={"username": COMPLIANCE, "password": DEMO_PASSWORD})
        login.raise_for_status()
        api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        inbox_rows = len(api.get(INBOX_PATH).json())
        inbox: list[float] = []
        me: list[float] = []
        constant: list[float] = []
        # Interleaved so a noisy moment on the machine lands on all three alike.
        for number in range(WARMUP_REQUESTS + requests):
            figures = (
                _timed_get(api, INBOX_PATH),
                _timed_get(api, "/auth/me"),
                _timed_get(bare, "/constant"),
            )
            if number >= WARMUP_REQUESTS:
                inbox.append(figures[0])
                me.append(figures[1])
                constant.append(figures[2])
    return RestFigures(inbox_rows, tuple(inbox), tuple(me), tuple(constant))
