"""What every request pays for, kept while its cost came down: the caller is checked against the
database on each request (a deactivated user is refused at once, though their token's
verification is remembered), an expired token is refused however recently it verified, the
request id is answered, the workbench's page headers reach pages only, and each request's
database session gives its connection back.

The real app over HTTP (uvicorn), a real user row in PostgreSQL. And the collector tuned once
the app has started.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import event, text, update
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.body_limits import MOST, UPLOADS
from api.main import YOUNG, create_app
from contracts.common import Role
from db.models import User
from db.session import transaction
from security.tokens import InvalidToken, decode_token, issue_token
from settings import Settings
from tests.conftest import TEST_JWT_SECRET
from tests.harness.api_server import serving
from tests.harness.builders import make_org
from tests.harness.listings import tasks
from tests.harness.sourcing import Member, member
from tests.harness.workbench import Person, login_user
from workbench.app import PAGE_HEADERS
from workbench.pages.common import navigation


@pytest.fixture(scope="module")
def app(settings: Settings, dev_env: WorkflowEnvironment) -> FastAPI:
    return create_app(
        settings.model_copy(
            update={"temporal_address": dev_env.client.service_client.config.target_host}
        )
    )


@pytest.fixture(scope="module")
def api_url(app: FastAPI) -> Iterator[str]:
    with serving(app) as url:
        yield url


@pytest.fixture
def buyer(sessions: sessionmaker[Session]) -> Member:
    return member(sessions, make_org(sessions), Role.BUYER)


def bearer(person: Member, *, now: datetime | None = None) -> dict[str, str]:
    token = issue_token(
        secret=TEST_JWT_SECRET,
        user_id=person.actor.user_id,
        org_id=person.actor.org_id,
        roles=person.actor.roles,
        ttl=timedelta(hours=1),
        now=now or datetime.now(UTC),
    )
    return {"Authorization": f"Bearer {token}"}


def set_active(sessions: sessionmaker[Session], person: Member, active: bool) -> None:
    with transaction(sessions) as session:
        session.execute(update(User).where(User.id == person.actor.user_id).values(active=active))


def test_a_deactivated_user_is_refused_at_once_and_a_reactivated_one_served(
    api_url: str, sessions: sessionmaker[Session], buyer: Member
) -> None:
    with httpx.Client(base_url=api_url, headers=bearer(buyer)) as http:
        for _ in range(3):  # the token verified, and remembered
            assert http.get("/auth/me").json()["user_id"] == buyer.actor.user_id
        set_active(sessions, buyer, False)
        refused = http.get("/auth/me")
        assert refused.status_code == 401
        assert refused.json()["detail"] == "user no longer active"
        assert http.get("/orders").status_code == 401
        set_active(sessions, buyer, True)
        assert http.get("/auth/me").status_code == 200


def test_a_remembered_token_is_refused_once_it_expires(buyer: Member) -> None:
    issued = datetime.now(UTC)
    token = bearer(buyer, now=issued)["Authorization"].removeprefix("Bearer ")
    assert decode_token(token, secret=TEST_JWT_SECRET, now=issued).sub == buyer.actor.user_id
    with pytest.raises(InvalidToken) as expired:
        decode_token(token, secret=TEST_JWT_SECRET, now=issued + timedelta(hours=1))
    assert expired.value.reason == "expired"
    with pytest.raises(InvalidToken) as future:
        decode_token(token, secret=TEST_JWT_SECRET, now=issued - timedelta(minutes=5))
    assert future.value.reason == "issued in the future"
    # Another secret does not get the remembered verification.
    with pytest.raises(InvalidToken) as forged:
        decode_token(token, secret="another-secret-of-at-least-32-bytes!!", now=issued)
    assert forged.value.reason == "bad signature"


def test_every_answer_carries_its_request_id(api_url: str, buyer: Member) -> None:
    with httpx.Client(base_url=api_url, headers=bearer(buyer)) as http:
        assert http.get("/orders/ord_missing", headers={"X-Request-ID": "abc-1"}).headers[
            "x-request-id"
        ] == ("abc-1")
        made = http.get("/orders/ord_missing", headers={"X-Request-ID": "not ok!"})
        assert made.status_code == 404
        assert len(made.headers["x-request-id"]) == 32
        assert made.headers["x-request-id"] != http.get("/health").headers["x-request-id"]


def test_page_headers_reach_the_workbench_pages_only(api_url: str) -> None:
    page = httpx.get(f"{api_url}/workbench/login")
    assert page.status_code == 200
    for name, value in PAGE_HEADERS.items():
        assert page.headers[name] == value
    api = httpx.get(f"{api_url}/health")
    assert "content-security-policy" not in api.headers
    static = httpx.get(f"{api_url}/workbench/static/no-such-file.css")
    assert "content-security-policy" not in static.headers


def test_each_request_gives_its_connection_back(app: FastAPI, api_url: str, buyer: Member) -> None:
    paths = ("/auth/me", "/orders", "/nowhere", "/orders/ord_missing")
    with httpx.Client(base_url=api_url, headers=bearer(buyer)) as http:
        # More requests than the pool has connections (10, and 10 more overflowing): a session
        # left open would have run it dry.
        answers = {http.get(path).status_code for _ in range(8) for path in paths}
        forged = http.get("/auth/me", headers={"Authorization": "Bearer forged"})
    assert answers == {200, 404}
    assert forged.status_code == 401
    # A session is closed once its answer is sent: at most the last request's is still open.
    engine = app.state.platform.sessions.kw["bind"]
    assert engine.pool.checkedout() <= 1


def _counted(
    target: object, name: str, request: Callable[[], httpx.Response], counts: Callable[..., bool]
) -> tuple[httpx.Response, int]:
    """``request``'s answer, and how many of ``target``'s ``name`` events it raised that
    ``counts``."""
    seen: list[object] = []

    def raised(*args: object) -> None:
        if counts(*args):
            seen.append(args)

    event.listen(target, name, raised)
    try:
        return request(), len(seen)
    finally:
        event.remove(target, name, raised)


def _checkouts(app: FastAPI, request: Callable[[], httpx.Response]) -> tuple[httpx.Response, int]:
    """``request``'s answer, and how many connections the app took from its pool for it."""
    pool = app.state.platform.sessions.kw["bind"].pool
    return _counted(pool, "checkout", request, lambda *_: True)


def _buyers_page(
    app: FastAPI,
    api_url: str,
    sessions: sessionmaker[Session],
    buyer: Member,
    counting: Callable[[FastAPI, Callable[[], httpx.Response]], tuple[httpx.Response, int]],
) -> tuple[httpx.Response, int]:
    """A workbench page (the bell's) as the buyer signed in, and what ``counting`` counted."""
    person = Person(api_url)
    try:
        person.sign_in(login_user(sessions, buyer.actor.org_id, Role.BUYER))
        return counting(app, lambda: person.get("/workbench/notifications"))
    finally:
        person.close()


def test_a_workbench_page_reads_its_header_on_its_own_connection(
    app: FastAPI, api_url: str, sessions: sessionmaker[Session], buyer: Member
) -> None:
    """The header's counts share the page's session: a second one held a second connection
    for every page."""
    page, taken = _buyers_page(app, api_url, sessions, buyer, _checkouts)
    assert page.status_code == 200
    assert 'data-testid="open-total"' in page.text  # the header, with its counts
    assert taken == 1


def _user_reads(app: FastAPI, request: Callable[[], httpx.Response]) -> tuple[httpx.Response, int]:
    """``request``'s answer, and how many statements the app ran on the users table for it."""
    engine = app.state.platform.sessions.kw["bind"]
    return _counted(
        engine, "before_cursor_execute", request, lambda _c, _k, sql, *_: "FROM users" in sql
    )


def test_the_callers_row_is_read_once_a_request(
    app: FastAPI, api_url: str, sessions: sessionmaker[Session], buyer: Member
) -> None:
    """The row authentication read is the one a page's header and ``/auth/me`` show: the
    session's identity map holds rows weakly, so it is held for them, not read again."""
    page, page_reads = _buyers_page(app, api_url, sessions, buyer, _user_reads)
    with httpx.Client(base_url=api_url, headers=bearer(buyer)) as http:
        me, me_reads = _user_reads(app, lambda: http.get("/auth/me"))
    assert page.status_code == 200 and 'data-testid="open-total"' in page.text
    assert me.json()["user_id"] == buyer.actor.user_id
    assert (page_reads, me_reads) == (1, 1)


def test_workbench_error_pages_give_their_connections_back(
    app: FastAPI, api_url: str, sessions: sessionmaker[Session], buyer: Member
) -> None:
    """An error page renders its header after the request's session was closed: it reads on
    a session of its own, closed with the page (one begun again on the closed session was
    never closed, and 24 such pages emptied the pool)."""
    person = Person(api_url)
    try:
        person.sign_in(login_user(sessions, buyer.actor.org_id, Role.BUYER))
        pages = [person.get(f"/workbench/catalogue/products/nope-{i}") for i in range(30)]
    finally:
        person.close()
    assert {page.status_code for page in pages} == {404}
    assert 'data-testid="open-total"' in pages[-1].text  # the header was read
    assert app.state.platform.sessions.kw["bind"].pool.checkedout() <= 1


def test_a_detail_read_before_a_live_status_takes_one_connection(
    app: FastAPI, api_url: str, buyer: Member
) -> None:
    """An order's, an RFQ's or a loan's detail is read on the caller's own session, which is
    closed before the process is asked for its live status."""
    with httpx.Client(base_url=api_url, headers=bearer(buyer)) as http:
        for path in ("/orders/ord_missing", "/rfqs/rfq_missing", "/loans/lon_missing"):
            answer, taken = _checkouts(app, partial(http.get, path))
            assert (answer.status_code, taken) == (404, 1), path


def test_a_route_reading_on_its_own_sessions_holds_one_connection_at_a_time(
    app: FastAPI, api_url: str, sessions: sessionmaker[Session], buyer: Member
) -> None:
    """Routes that read on sessions of their own, an async one that then waits on a process
    and a sync one: the session the caller was read on gave its connection back first (it
    held it idle in its transaction meanwhile, across the async route's wait)."""
    supplier = member(sessions, make_org(sessions), Role.SUPPLIER)
    calls = [
        (buyer, "POST", "/rfqs/rfq_missing/close", {"reason": ""}),
        (supplier, "DELETE", "/catalogue/offers/SD-none", None),
    ]
    for person, method, path, body in calls:
        answer, most = _most_held(app, api_url, person, method, path, body)
        assert (answer.status_code, most) == (404, 1), path


def _most_held(
    app: FastAPI, api_url: str, person: Member, method: str, path: str, body: object
) -> tuple[httpx.Response, int]:
    with httpx.Client(base_url=api_url, headers=bearer(person)) as http:
        return _most_held_by(app, partial(http.request, method, path, json=body))


def _most_held_by(
    app: FastAPI, request: Callable[[], httpx.Response]
) -> tuple[httpx.Response, int]:
    """``request``'s answer, and the most connections the app held at once for it."""
    pool = app.state.platform.sessions.kw["bind"].pool
    held = [0, 0]  # now, most
    mine: set[int] = set()  # a request before may give its connection back meanwhile

    def taken(_: object, record: object, *__: object) -> None:
        mine.add(id(record))
        held[0] += 1
        held[1] = max(held)

    def given_back(_: object, record: object) -> None:
        if id(record) in mine:
            mine.discard(id(record))
            held[0] -= 1

    event.listen(pool, "checkout", taken)
    event.listen(pool, "checkin", given_back)
    try:
        answer = request()
    finally:
        event.remove(pool, "checkout", taken)
        event.remove(pool, "checkin", given_back)
    assert held[0] == 0, held  # every connection back
    return answer, held[1]


def test_async_pages_read_off_the_event_loop_one_connection_at_a_time(
    app: FastAPI, api_url: str, sessions: sessionmaker[Session], buyer: Member
) -> None:
    """A task page and a process page wait on Temporal (the process's history, its live
    status): their reads run on threads, each connection given back before the wait. On the
    event loop, each read stalled every request the API was serving, and the request's
    connection sat idle in its transaction across the wait. So do a rule's form, refused
    here, and an error page's header."""
    engine = app.state.platform.sessions.kw["bind"]
    on_loop: list[bool] = []

    def executing(*_: object) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            on_loop.append(False)
        else:
            on_loop.append(True)

    (task_id,) = tasks(sessions, buyer.actor, 1)
    person = Person(api_url)
    event.listen(engine, "before_cursor_execute", executing)
    try:
        person.sign_in(login_user(sessions, buyer.actor.org_id, buyer.actor.roles[0]))
        on_loop.clear()  # signing in is not what is measured
        asked = [
            ("GET", f"/workbench/tasks/{task_id}", 200),
            ("GET", "/workbench/processes/Test:paging", 200),
            ("GET", "/workbench/processes/Test:nothing", 404),
            ("POST", "/workbench/notification-rules", 422),
        ]
        for method, path, status in asked:
            if method == "GET":
                ask = partial(person.get, path)
            else:
                ask = partial(person.post, path, {"name": ""})
            page, most = _most_held_by(app, ask)
            assert (page.status_code, most) == (status, 1), path
            assert 'data-testid="open-total"' in page.text, path  # the header, read too
    finally:
        event.remove(engine, "before_cursor_execute", executing)
        person.close()
    assert on_loop and not any(on_loop)


def test_a_pages_header_is_one_statement_beside_the_callers_row(
    sessions: sessionmaker[Session], buyer: Member
) -> None:
    """The organisation's name, the open tasks per process and the bell's count are asked
    together (they were three round trips); the user is the row the session already holds."""
    engine = sessions.kw["bind"]

    def header() -> tuple[dict[str, Any], int]:
        asked: list[str] = []

        def executing(*args: Any) -> None:
            asked.append(args[2])

        with sessions() as page_session:
            page_session.info["caller"] = page_session.get(User, buyer.actor.user_id)
            request = SimpleNamespace(state=SimpleNamespace(session=page_session))
            event.listen(engine, "before_cursor_execute", executing)
            try:
                shown = navigation(cast(Request, request), buyer.actor)
            finally:
                event.remove(engine, "before_cursor_execute", executing)
        return shown, len(asked)

    before, _ = header()
    tasks(sessions, buyer.actor, 2)
    after, statements = header()
    assert statements == 1
    assert after["org_name"] == buyer.org.legal_name
    assert after["user_name"] != buyer.actor.user_id  # the user's full name
    assert after["open_total"] == before["open_total"] + 2
    assert dict(after["task_counts"])["Test"] == dict(before["task_counts"]).get("Test", 0) + 2
    assert after["unread"] == before["unread"]


def test_a_page_whose_transaction_failed_reads_its_header_on_a_fresh_session(
    sessions: sessionmaker[Session], buyer: Member
) -> None:
    with sessions() as page_session:
        with pytest.raises(ProgrammingError):
            page_session.execute(text("SELECT no_such_column FROM users"))
        platform = SimpleNamespace(sessions=sessions)
        request = SimpleNamespace(
            state=SimpleNamespace(session=page_session),
            app=SimpleNamespace(state=SimpleNamespace(platform=platform)),
        )
        header = navigation(cast(Request, request), buyer.actor)
    assert header["user_name"] != buyer.actor.user_id  # read: the user's full name
    assert header["open_total"] == 0


def test_a_body_past_its_bound_is_refused_unread(api_url: str, buyer: Member) -> None:
    """A JSON body is bounded (a 200 MB one was read and parsed), declared or sent in chunks;
    a request carrying files has the larger bound of uploads."""
    huge = b'{"products": [' + b'"x",' * (MOST // 4) + b'"x"]}'

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(huge), 1 << 20):
            yield huge[start : start + (1 << 20)]

    json_type = {"Content-Type": "application/json"}
    with httpx.Client(base_url=api_url, headers=bearer(buyer), timeout=60) as http:
        declared = http.post("/catalogue/comparisons", content=huge, headers=json_type)
        chunked = http.post("/catalogue/comparisons", content=chunks(), headers=json_type)
        within = http.post("/catalogue/comparisons", json={"products": []})
    for refused in (declared, chunked):
        assert refused.status_code == 413, refused.text[:200]
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert within.status_code == 422  # read, and refused for what it says
    assert UPLOADS > MOST


def test_the_started_app_tunes_the_collector(app: FastAPI) -> None:
    """What startup made is frozen and the young generation collected after YOUNG objects (see
    ``api.main.tune_collector``), whatever the process had before."""
    before = gc.get_threshold()
    for name in [name for name in sys.modules if name.partition(".")[0] == "pypinyin"]:
        del sys.modules[name]  # as in a process that has not searched yet
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    try:
        with serving(app):
            assert gc.get_threshold() == (YOUNG, 10, 10)
            assert gc.get_freeze_count() > 0
            # Search's pinyin phrases are loaded and frozen with the rest: no collection walks
            # them (the permanent generation is not among the collector's objects).
            phrases = sys.modules["pypinyin.phrases_dict"].phrases_dict
            assert gc.is_tracked(phrases)
            assert not any(kept is phrases for kept in gc.get_objects())
    finally:
        gc.set_threshold(*before)
