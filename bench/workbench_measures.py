"""The workbench benchmark's measures: its pages requested through the real app in this process,
each interleaved with its baseline on the same database, so a busy moment costs both sides alike.

The app is ``api.main.create_app`` with all its middleware, served over httpx's ASGI transport
(no socket: what is timed is the app). Its lifespan is not run: the platform it would build is
built here the same way, with a Temporal client that connects lazily and is never called (none
of these pages asks a process anything), so no Temporal server is needed.

1. The inbox (``GET /workbench/``, the 200 tasks due first and the navigation's counts per
   process) against ``GET /tasks?limit=200`` for the same user: the same rows as JSON.
2. The suppliers register searched by a credit code typed with spaces and full-width characters
   (``workbench.search``) against a plain ``ILIKE '%code%'`` on ``organisations.credit_code``;
   and the search's SQL alone (the register's four folded columns, then the credit code's).
3. The ops dashboard (``GET /workbench/dashboard``) against ``SELECT sum(total_amount) ... GROUP BY
   week`` over the same orders.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.main import api_sessions, create_app, tune_collector
from api.platform import Platform
from bench.loans_measures import WARMUP
from bench.stats import Samples
from db.models import Organisation
from db.seed import DEMO_PASSWORD
from security.keys import jwt_secret_from_settings, keyring_from_settings
from security.payload_codec import data_converter
from settings import Settings
from storage.object_store import object_store_from_settings
from tests.harness.workbench import hidden
from workbench.pages.registers import org_matches
from workbench.search import matches

Call = Callable[[int], Awaitable[object]]
SEARCH_WARMUP = 3
INBOX_ROWS = 200  # the inbox shows this many; the JSON baseline asks for as many
WEEKLY_SUM = (
    "SELECT date_trunc('week', created_at) AS week, sum(total_amount) FROM orders GROUP BY week"
)


async def platform_app(settings: Settings) -> FastAPI:
    """The API's app with the platform its lifespan would build (``api.main``), but a Temporal
    client that never connects: these pages do not call it."""
    app = create_app(settings)
    keyring = keyring_from_settings(settings)
    app.state.platform = Platform(
        settings=settings,
        sessions=api_sessions(settings),
        temporal=await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            data_converter=data_converter(keyring),
            lazy=True,
        ),
        store=object_store_from_settings(settings),
        keyring=keyring,
        jwt_secret=jwt_secret_from_settings(settings),
    )
    tune_collector()  # as the lifespan does once the platform is built
    return app


@dataclass(frozen=True)
class Person:
    """A demo user signed in twice, as the two faces see them: the workbench's cookie (in
    ``pages``) and the API's bearer token (in ``api``)."""

    pages: httpx.AsyncClient
    api: httpx.AsyncClient


async def signed_in(app: FastAPI, email: str) -> Person:
    transport = httpx.ASGITransport(app=app)
    pages = httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60)
    form = await pages.get("/workbench/login")
    answer = await pages.post(
        "/workbench/login",
        data={
            "email": email,
            "password": DEMO_PASSWORD,
            "login_csrf": hidden(form.text, "login_csrf"),
            "next": "/workbench/",
        },
    )
    if answer.status_code != 303:
        raise RuntimeError(f"{email} could not sign in to the workbench: {answer.status_code}")
    api = httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60)
    token = await api.post("/auth/token", data={"username": email, "password": DEMO_PASSWORD})
    token.raise_for_status()
    api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return Person(pages, api)


async def _ms(call: Call, i: int) -> float:
    began = time.perf_counter()
    await call(i)
    return (time.perf_counter() - began) * 1000


async def interleaved(
    platform: Call, baseline: Call, runs: int, *, warmup: int = WARMUP, before: Call | None = None
) -> Samples:
    """``runs`` calls of each after ``warmup`` untimed ones, alternating which goes first;
    ``before`` each pair, untimed (what a platform call needs set up, such as a row deleted)."""
    samples = Samples()
    for i in range(warmup + runs):
        if before is not None:
            await before(i)
        first, second = (platform, baseline) if i % 2 == 0 else (baseline, platform)
        a, b = await _ms(first, i), await _ms(second, i)
        if i >= warmup:
            platform_ms, baseline_ms = (a, b) if i % 2 == 0 else (b, a)
            samples.platform_ms.append(platform_ms)
            samples.baseline_ms.append(baseline_ms)
    return samples


async def _page(client: httpx.AsyncClient, path: str, **params: str) -> str:
    answer = await client.get(path, params=params)
    if answer.status_code != 200 or not answer.headers["content-type"].startswith("text/html"):
        raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:200]}")
    return answer.text


async def measure_inbox(person: Person, *, runs: int, open_tasks: int) -> Samples:
    """The inbox page against the first page of ``GET /tasks`` as JSON, for the same user."""
    page = await _page(person.pages, "/workbench/")
    shown = page.count("data-task-id=")
    if (
        shown != min(INBOX_ROWS, open_tasks)
        or f'data-testid="open-total">{open_tasks}<' not in page
    ):
        raise RuntimeError(
            f"the inbox shows {shown} tasks, not its first {INBOX_ROWS} of {open_tasks}"
        )

    async def inbox(_: int) -> None:
        await _page(person.pages, "/workbench/")

    async def tasks(_: int) -> None:
        answer = await person.api.get("/tasks", params={"limit": str(INBOX_ROWS)})
        answer.raise_for_status()
        answer.json()

    return await interleaved(inbox, tasks, runs)


def typed_sloppily(code: str) -> str:
    """A credit code as pasted from a PDF and typed on a Chinese input method: in groups of
    four with spaces (one of them ideographic), its digits full-width, its letters lower case."""
    groups = [code[i : i + 4] for i in range(0, len(code), 4)]
    wide = [
        "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c.lower() for c in group)
        for group in groups
    ]
    return " ".join(wide[:2]) + "\u3000" + " ".join(wide[2:])


@dataclass(frozen=True)
class Search:
    """Each way of finding one supplier, timed against the same plain ILIKE."""

    page: Samples
    register_sql: Samples
    credit_code_sql: Samples


def _ilike(sessions: sessionmaker[Session], code: str) -> Call:
    async def ilike(_: int) -> None:
        with sessions() as session:
            found = session.execute(
                text("SELECT id FROM organisations WHERE credit_code ILIKE :q"), {"q": f"%{code}%"}
            ).all()
        if len(found) != 1:
            raise RuntimeError(f"ILIKE found {len(found)} organisations")

    return ilike


def _sql(sessions: sessionmaker[Session], query: Select[Any]) -> Call:
    async def run(_: int) -> None:
        with sessions() as session:
            found = session.execute(query).all()
        if len(found) != 1:
            raise RuntimeError(f"the tolerant search found {len(found)} organisations")

    return run


async def measure_search(
    person: Person, sessions: sessionmaker[Session], org_id: str, code: str, *, runs: int
) -> Search:
    """The suppliers register searched by ``code`` typed sloppily; its SQL condition alone over
    the four columns the register searches; the credit code's alone."""
    q = typed_sloppily(code)
    page = await _page(person.pages, "/workbench/registers/suppliers", q=q)
    if page.count("data-row=") != 1 or f'data-row="{org_id}"' not in page:
        raise RuntimeError(f"the suppliers register did not find {org_id} by {q!r}")

    async def register(_: int) -> None:
        await _page(person.pages, "/workbench/registers/suppliers", q=q)

    ilike = _ilike(sessions, code)
    in_register = select(Organisation.id).where(org_matches(q, Organisation.id))
    by_code = select(Organisation.id).where(matches(Organisation.credit_code, q))
    return Search(
        page=await interleaved(register, ilike, runs, warmup=SEARCH_WARMUP),
        register_sql=await interleaved(
            _sql(sessions, in_register), ilike, runs, warmup=SEARCH_WARMUP
        ),
        credit_code_sql=await interleaved(
            _sql(sessions, by_code), ilike, runs, warmup=SEARCH_WARMUP
        ),
    )


async def measure_dashboard(
    person: Person, sessions: sessionmaker[Session], *, runs: int
) -> Samples:
    """The ops dashboard against one weekly sum of the same orders."""
    page = await _page(person.pages, "/workbench/dashboard")
    if 'data-testid="panel-gmv"' not in page:
        raise RuntimeError("the ops dashboard has no GMV panel")

    async def dashboard(_: int) -> None:
        await _page(person.pages, "/workbench/dashboard")

    async def weekly(_: int) -> None:
        with sessions() as session:
            session.execute(text(WEEKLY_SUM)).all()

    return await interleaved(dashboard, weekly, runs, warmup=5)


def search_plan(sessions: sessionmaker[Session], code: str) -> str:
    """The plan (EXPLAIN, not run) of the credit code's tolerant search."""
    query = select(Organisation.id).where(matches(Organisation.credit_code, typed_sloppily(code)))
    return plan(sessions, query)


def plan(sessions: sessionmaker[Session], query: Select[Any]) -> str:
    """The plan's nodes (EXPLAIN, not run), one a line."""
    with sessions() as session:
        compiled = query.compile(dialect=session.get_bind().dialect)
        lines = session.connection().exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
        return "\n".join(line for (line,) in lines)
