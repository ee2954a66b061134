"""The inbox: the API's rule of whose tasks are whose, narrowed by process, organisation and age,
soonest due first, overdue and escalated marked."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import OPERATOR_ORG_ID
from db.models import HumanTask
from db.session import transaction
from tests.harness.workbench import Person
from workbench.pages import inbox

NOW = datetime.now(UTC)


def _task(process: str, title: str, **fields: object) -> HumanTask:
    task_id = f"task_{uuid.uuid4().hex[:12]}"
    values: dict[str, object] = {
        "id": task_id,
        "workflow_id": f"{process}:{task_id}",
        "kind": "inbox_test",
        "role": "compliance",
        "org_id": OPERATOR_ORG_ID,
        "subject_type": "test",
        "subject_id": task_id,
        "title": title,
        "summary": "",
        "outcomes": ["done"],
        "status": "open",
        "created_at": NOW,
    } | fields
    return HumanTask(**values)


@pytest.fixture(scope="module")
def process() -> str:
    """A process name of this module's own, so other modules' tasks stay out of its counts."""
    return f"Inboxtest{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def tasks(sessions: sessionmaker[Session], process: str) -> dict[str, HumanTask]:
    rows = {
        "overdue": _task(
            process, "Review 华东贸易 Huadong Trading", due_at=NOW - timedelta(hours=2)
        ),
        "escalated": _task(
            process, "Review Lianfeng", due_at=NOW + timedelta(days=1), escalated_at=NOW
        ),
        "old": _task(process, "Review Anxin", created_at=NOW - timedelta(days=4)),
        "decided": _task(process, "Review Decided", status="decided"),
        "logistics": _task(process, "Logistics only", role="logistics"),
        "other_org": _task(process, "Another organisation's", org_id="org_other"),
    }
    with transaction(sessions) as session:
        session.add_all(rows.values())
    return rows


@pytest.fixture
def compliance(api_url: str, tasks: dict[str, HumanTask]) -> Iterator[Person]:
    person = Person(api_url)
    person.sign_in("compliance@tradeflow.example")
    yield person
    person.close()


def _shown(page: str) -> list[str]:
    return re.findall(r'data-task-id="([^"]+)"', page)


def test_only_my_organisations_open_tasks_for_my_roles_soonest_due_first(
    compliance: Person, tasks: dict[str, HumanTask], process: str
) -> None:
    page = compliance.get("/workbench/", process=process).text
    ids = {name: row.id for name, row in tasks.items()}
    assert _shown(page) == [ids["overdue"], ids["escalated"], ids["old"]]
    overdue_row = page.split(f'data-task-id="{ids["overdue"]}"')[0].rsplit("<tr", 1)[1]
    assert "overdue" in overdue_row
    escalated_row = page.split(f'data-task-id="{ids["escalated"]}"')[0].rsplit("<tr", 1)[1]
    assert "escalated" in escalated_row
    assert f'data-process="{process}">{process} <span class="count">3</span>' in page


def test_filters_by_organisation_tolerantly_and_by_age(
    compliance: Person, tasks: dict[str, HumanTask], process: str
) -> None:
    full_width_hua = "\uff48\uff55\uff41"  # as a Chinese input method types "hua"
    by_name = compliance.get("/workbench/", process=process, org=f"{full_width_hua} DONG").text
    assert _shown(by_name) == [tasks["overdue"].id]
    assert _shown(compliance.get("/workbench/", process=process, org="华东").text) == [
        tasks["overdue"].id
    ]
    assert _shown(compliance.get("/workbench/", process=process, age="3d").text) == [
        tasks["old"].id
    ]


def test_another_role_sees_none_of_them(api_url: str, process: str) -> None:
    person = Person(api_url)
    person.sign_in("finance@tradeflow.example")
    try:
        assert _shown(person.get("/workbench/", process=process).text) == []
    finally:
        person.close()


def test_the_inbox_pages_on_in_the_same_order_with_its_filters(
    compliance: Person, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two tasks a page: the third (undated) is on the second page, reached by the next-page
    link with the process filter kept; a task due sooner opened meanwhile goes to the first
    page, not into the second; the second links back to the first."""
    monkeypatch.setattr(inbox, "_SHOWN", 2)
    process = f"Inboxpages{uuid.uuid4().hex[:6]}"  # its own: the module's tasks stay as they are
    rows = [
        _task(process, "Due first", due_at=NOW + timedelta(hours=1)),
        _task(process, "Due next", due_at=NOW + timedelta(hours=2)),
        _task(process, "Undated"),
    ]
    with transaction(sessions) as session:
        session.add_all(rows)
    first = compliance.get("/workbench/", process=process).text
    assert _shown(first) == [rows[0].id, rows[1].id]
    found = re.search(r'href="([^"]+)" data-testid="next-page"', first)
    assert found is not None and 'data-testid="first-page"' not in first
    sooner = _task(process, "Due sooner", due_at=NOW)
    with transaction(sessions) as session:
        session.add(sooner)
    url = httpx.URL(html.unescape(found.group(1)))
    assert url.params["process"] == process
    second = compliance.get(url.path, **dict(url.params)).text
    assert _shown(second) == [rows[2].id]
    assert 'data-testid="next-page"' not in second
    assert f'href="/workbench/?process={process}" data-testid="first-page"' in second
    assert _shown(compliance.get("/workbench/", process=process).text)[0] == sooner.id
