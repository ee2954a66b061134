"""The inbox: the API's rule of whose tasks are whose, narrowed by process, organisation and age,
soonest due first, overdue and escalated marked."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import OPERATOR_ORG_ID
from db.models import HumanTask
from db.session import transaction
from tests.harness.workbench import Person

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
