"""The process page: a business timeline in plain words, from the history and the task rows.

The mapping is tested on its own (a retried step is an outage line with its attempts, a decided
task a decision line, another organisation's decision without its decider or comment); then a real
accreditation, its certificate registry down for two attempts, is decided on the workbench and its
page tells the outage, the decision, the certificate and links to the Temporal Web UI, while
another organisation's people get the same 404 as for a process that does not exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from db.models import HumanTask, SupplierAccreditation
from gateways.certification_registry import CertificationRegistryClient
from sandboxes.control import SandboxControl
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness import builders as b
from tests.harness.histories import HISTORIES, load_history
from tests.harness.postgres import rows
from tests.harness.temporal import eventually, start_accreditation
from tests.harness.workbench import Person
from workbench.timeline import TaskFacts, history_lines, merged, task_lines
from workbench.timeline_words import duration_words

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _event(event_id: int, kind: EventType.ValueType, at: datetime) -> HistoryEvent:
    event = HistoryEvent(event_id=event_id, event_type=kind)
    event.event_time.FromDatetime(at)
    return event


def _filed_after_an_outage(failure: str) -> list[HistoryEvent]:
    """``file_waybill`` scheduled at T0, its 14th attempt started 1 h 5 min later and done."""
    scheduled = _event(5, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, T0)
    scheduled.activity_task_scheduled_event_attributes.activity_type.name = "file_waybill"
    scheduled.activity_task_scheduled_event_attributes.activity_id = "5"
    last = T0 + timedelta(hours=1, minutes=5)
    started = _event(6, EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED, last)
    started.activity_task_started_event_attributes.scheduled_event_id = 5
    started.activity_task_started_event_attributes.attempt = 14
    started.activity_task_started_event_attributes.last_failure.message = failure
    done = _event(7, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, last + timedelta(seconds=1))
    done.activity_task_completed_event_attributes.scheduled_event_id = 5
    done.activity_task_completed_event_attributes.started_event_id = 6
    return [scheduled, started, done]


def test_a_retried_step_is_an_outage_line_with_its_attempts() -> None:
    events = _filed_after_an_outage("regulator answered 503 Service Unavailable")
    outage, filed = history_lines(events, show_failures=True)
    assert (outage.kind, outage.at, outage.problem) == ("outage", T0, True)
    assert outage.text("en") == (
        "The regulator did not answer for 1 h 5 min: 14 attempts, "
        "then: E-waybill filed with the regulator"
    )
    assert (
        outage.text("zh")
        == "监管平台无响应 1 小时 5 分钟，共尝试 14 次，随后电子运单已向监管平台报送"
    )
    assert outage.note == "regulator answered 503 Service Unavailable"
    assert (filed.kind, filed.text("en")) == ("step", "E-waybill filed with the regulator")
    # The failure's words are the platform's: a party sees the outage, not the message.
    assert history_lines(events, show_failures=False)[0].note == ""


def test_a_committed_order_history_reads_as_its_steps_and_its_regulator_retry() -> None:
    history = load_history(HISTORIES / "order_dangerous_goods_filed.json")
    lines = merged(history_lines(list(history.events), show_failures=True))
    texts = [line.text("en") for line in lines]
    assert texts[0] == "The process started"
    assert "Stock reserved" in texts and "E-waybill sealed" in texts
    (outage,) = [line for line in lines if line.kind == "outage"]
    assert outage.text("en").startswith("The regulator did not answer for")
    assert "2 attempts" in outage.text("en")
    assert texts.index(outage.text("en")) < texts.index("E-waybill sealed")
    assert not any("task" in text.lower() for text in texts)  # task mechanics are told by tasks


def _task(**values: object) -> TaskFacts:
    fields: dict[str, object] = {
        "title": "Review accreditation: 测试化工",
        "org_name": "Tradeflow 平台",
        "role": "compliance",
        "status": "decided",
        "created_at": T0,
        "escalated_at": None,
        "closed_at": T0 + timedelta(hours=2),
        "outcome": "approve",
        "decider_name": "陈静",
        "comment": "certificates in order",
        "full": True,
    }
    return TaskFacts(**(fields | values))  # type: ignore[arg-type]


def test_a_decided_task_is_a_decision_line_and_others_see_no_decider_or_comment() -> None:
    opened, decided = task_lines([_task()])
    assert opened.kind == "task-opened" and opened.at == T0
    assert "Waiting for Tradeflow 平台 (compliance)" in opened.text("en")
    assert "等待 Tradeflow 平台（合规）决定" in opened.text("zh")
    assert decided.kind == "decision" and decided.at == T0 + timedelta(hours=2)
    assert decided.text("en").startswith("陈静 (Tradeflow 平台) decided: Approve")
    assert decided.text("zh").startswith("陈静（Tradeflow 平台）决定：批准")
    assert decided.note == "certificates in order"
    _, seen_by_others = task_lines([_task(full=False)])
    assert "陈静" not in seen_by_others.text("en") and seen_by_others.note == ""
    assert seen_by_others.text("en").startswith("Tradeflow 平台 decided: Approve")
    escalated = _task(status="expired", outcome=None, escalated_at=T0 + timedelta(days=2))
    kinds = [line.kind for line in task_lines([escalated])]
    assert kinds == ["task-opened", "escalated", "expired"]


def test_lines_merge_in_time_order_and_repeats_are_counted() -> None:
    events = _filed_after_an_outage("timeout")
    lines = merged(
        task_lines([_task(closed_at=None, status="open")]),
        history_lines(events, show_failures=False),
    )
    assert [line.kind for line in lines] == ["task-opened", "outage", "step"]
    readings = [
        _event(i, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, T0 + timedelta(minutes=i))
        for i in range(1, 4)
    ]
    for event in readings:
        event.workflow_execution_signaled_event_attributes.signal_name = "readings"
    (folded,) = merged(history_lines(readings, show_failures=False))
    assert folded.text("en") == "Temperature readings received (×3)"  # noqa: RUF001
    assert duration_words(timedelta(days=2, hours=3, minutes=4)) == ("2 天 3 小时", "2 d 3 h")
    assert duration_words(timedelta(seconds=40)) == ("40 秒", "40 s")


# -- a real process -------------------------------------------------------------------------


@pytest.fixture
def people(api_url: str) -> Iterator[dict[str, Person]]:
    signed_in = {
        email: Person(api_url)
        for email in (
            "compliance@tradeflow.example",
            "supplier@hengxin.example",
            "buyer@huadong.example",
        )
    }
    for email, person in signed_in.items():
        assert person.sign_in(email).status_code == 200
        person.get("/workbench/lang/en", next="/workbench/")
    yield signed_in
    for person in signed_in.values():
        person.close()


async def test_an_accreditation_page_tells_its_outage_decision_and_certificate(
    api_url: str,
    worker: None,
    people: dict[str, Person],
    dev_env: WorkflowEnvironment,
    e2e_settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
    registry_control: SandboxControl,
) -> None:
    app = b.one_certificate_application(sessions, store, registry)
    registry_control.set_fault(mode="error", status=503, count=2, paths=["/certificates"])
    handle = await start_accreditation(dev_env.client, app, task_queue=e2e_settings.task_queue)
    page = f"/workbench/processes/{handle.id}"
    compliance = people["compliance@tradeflow.example"]
    try:

        async def review() -> HumanTask | None:
            found = rows(sessions, HumanTask, subject_id=app.application_id, status="open")
            return found[0] if found else None

        task = await eventually(review, attempts=400, interval=0.05)
        task_page = await asyncio.to_thread(compliance.get, f"/workbench/tasks/{task.id}")
        assert task_page.status_code == 200
        assert "History" in task_page.text
        assert "The certification registry did not answer for" in task_page.text
        decided = await asyncio.to_thread(
            compliance.post,
            f"/workbench/tasks/{task.id}/decision",
            {"outcome": "approve", "comment": "registry confirms the certificate"},
        )
        assert decided.status_code == 200, decided.text

        async def accredited() -> SupplierAccreditation | None:
            found = rows(sessions, SupplierAccreditation, supplier_org_id=app.supplier_org_id)
            return found[0] if found else None

        standing = await eventually(accredited, attempts=400, interval=0.05)
        shown = await asyncio.to_thread(compliance.get, page)
        assert shown.status_code == 200
        text = shown.text
        for step in (
            "The process started",
            "Credit code checked",
            "Accreditation certificate issued",
        ):
            assert step in text
        outage = re.search(r"The certification registry did not answer for [^<]*", text)
        assert outage is not None and "3 attempts, then: Certificate verified" in outage.group()
        assert 'data-kind="outage"' in text and "503" in text  # staff read the failure
        assert "Chen Jing 陈静 (贸易流平台运营有限公司) decided: Approve" in text
        assert "registry confirms the certificate" in text
        assert f'data-document-id="{standing.certificate_document_id}"' in text
        assert 'data-status="running"' in text and 'data-status="accredited">Accredited<' in text
        link = f"http://localhost:8233/namespaces/default/workflows/Accreditation%3A{app.supplier_org_id}"
        assert f'href="{link}"' in text

        # Neither another supplier nor a buyer may see it: the same 404 as for no process.
        for email in ("supplier@hengxin.example", "buyer@huadong.example"):
            refused = await asyncio.to_thread(people[email].get, page)
            assert refused.status_code == 404 and app.legal_name not in refused.text
        missing = await asyncio.to_thread(compliance.get, "/workbench/processes/Order:ord-nothing")
        assert missing.status_code == 404
    finally:
        with contextlib.suppress(RPCError):
            await handle.terminate("test finished")
