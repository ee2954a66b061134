"""Reads what a process timeline is told from: Temporal's history and description of the run, the
process's task rows, and the documents it issued that the caller may read. Nothing is cached: a
page shows the process as it is now.

Access is decided first (``visible_process``: the API's rules, else 404). The documents shown are
only those the API would hand this caller (``may_read_document``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.client import WorkflowExecutionStatus
from temporalio.exceptions import TemporalError

from api.deps import is_operator, not_found, read_then_release
from api.platform import Platform
from api.routes.document_access import may_read_document
from api.routes.order_access import order_document_ids
from contracts.common import Actor
from db.cold_chain import ColdTrip
from db.models import (
    AuditEntry,
    Contract,
    Document,
    HumanTask,
    Order,
    Organisation,
    SupplierAccreditation,
    User,
)
from workbench.process_access import VisibleProcess, visible_process
from workbench.timeline import (
    Line,
    TaskFacts,
    history_lines,
    merged,
    pending_lines,
    task_lines,
)

TEMPORAL_TIMEOUT = timedelta(seconds=10)


@dataclass(frozen=True)
class Timeline:
    """What the process page and the task page's history show. ``temporal_status`` is None when
    Temporal does not know the process (or cannot answer); ``temporal_url`` only for staff."""

    workflow_id: str
    process: str
    lines: list[Line]
    temporal_status: str | None
    live_status: str | None
    documents: list[Document]
    temporal_url: str | None


@dataclass(frozen=True)
class _Run:
    events: list[HistoryEvent]
    status: WorkflowExecutionStatus | None
    pending: list[PendingActivityInfo]


async def timeline_for(
    platform: Platform, session: Session, actor: Actor, workflow_id: str, *, must_exist: bool
) -> Timeline:
    """The process's timeline for this caller; 404 when they may not see it, or when
    ``must_exist`` and neither Temporal nor the task rows know it."""
    # The database is read on threads, its connection given back before Temporal is asked.
    process = await read_then_release(session, lambda s: visible_process(s, actor, workflow_id))
    run = await _read_run(platform, workflow_id)
    staff = is_operator(actor)
    records = await read_then_release(session, partial(_records, actor, process, run))
    if must_exist and run.status is None and not records.tasks:
        raise not_found("process")
    lines = merged(
        history_lines(run.events, show_failures=staff),
        pending_lines(
            run.pending, _scheduled_at(run.events), now=datetime.now(UTC), show_failures=staff
        ),
        task_lines(records.facts),
    )
    live = None
    if run.status == WorkflowExecutionStatus.RUNNING:
        view: dict[str, Any] | None = await platform.live_status(workflow_id, dict)
        live = str(view["status"]) if view and view.get("status") else None
    settings = platform.settings
    return Timeline(
        workflow_id=workflow_id,
        process=workflow_id.split(":", 1)[0],
        lines=lines,
        temporal_status=run.status.name.lower() if run.status is not None else None,
        live_status=live,
        documents=records.documents,
        temporal_url=(
            f"{settings.temporal_ui_url.rstrip('/')}/namespaces/"
            f"{quote(settings.temporal_namespace, safe='')}/workflows/{quote(workflow_id, safe='')}"
            if staff
            else None
        ),
    )


@dataclass(frozen=True, slots=True)
class _Records:
    """What the database says of a process: its tasks, what they decided, its documents."""

    tasks: list[HumanTask]
    facts: list[TaskFacts]
    documents: list[Document]


def _records(actor: Actor, process: VisibleProcess, run: _Run, session: Session) -> _Records:
    tasks = _tasks(session, process.workflow_id, run.events)
    return _Records(
        tasks, _task_facts(session, actor, tasks), _documents(session, actor, process, tasks)
    )


async def _read_run(platform: Platform, workflow_id: str) -> _Run:
    handle = platform.temporal.get_workflow_handle(workflow_id)
    try:
        described = await handle.describe(rpc_timeout=TEMPORAL_TIMEOUT)
        history = await handle.fetch_history(rpc_timeout=TEMPORAL_TIMEOUT)
    except TemporalError:
        return _Run([], None, [])  # unknown to Temporal, or it cannot answer: the rows still tell
    pending = list(described.raw_description.pending_activities)
    return _Run(list(history.events), described.status, pending)


def _scheduled_at(events: list[HistoryEvent]) -> dict[str, datetime]:
    return {
        e.activity_task_scheduled_event_attributes.activity_id: e.event_time.ToDatetime(tzinfo=UTC)
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    }


def _tasks(session: Session, workflow_id: str, events: list[HistoryEvent]) -> list[HumanTask]:
    """The tasks of this process: of the run chain the history is of (task ids carry its first
    run's id, see ``workflows.human_tasks.process_key``), since a business id is reused when a
    rejected supplier applies again."""
    query = select(HumanTask).where(HumanTask.workflow_id == workflow_id)
    started = next(
        (e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
        None,
    )
    if started is not None:
        first_run = started.workflow_execution_started_event_attributes.first_execution_run_id
        run = first_run.replace("-", "")[-12:]
        query = query.where(HumanTask.id.startswith(f"{workflow_id}:{run}:", autoescape=True))
    return list(session.scalars(query.order_by(HumanTask.created_at, HumanTask.id)))


def _task_facts(session: Session, actor: Actor, tasks: list[HumanTask]) -> list[TaskFacts]:
    orgs = _names(session, Organisation, {t.org_id for t in tasks})
    users = _names(session, User, {t.decided_by for t in tasks if t.decided_by})
    closed = {
        entry.target_id: entry.at
        for entry in session.scalars(
            select(AuditEntry).where(
                AuditEntry.target_type == "task",
                AuditEntry.target_id.in_([t.id for t in tasks if t.status != "open"]),
                AuditEntry.action.in_(["task.expired", "task.cancelled"]),
            )
        )
    }
    staff = is_operator(actor)
    return [
        TaskFacts(
            title=t.title,
            org_name=orgs.get(t.org_id, t.org_id),
            role=t.role,
            status=t.status,
            created_at=t.created_at,
            escalated_at=t.escalated_at,
            closed_at=t.decided_at or closed.get(t.id),
            outcome=t.outcome,
            decider_name=users.get(t.decided_by or "", t.decided_by),
            comment=t.comment,
            full=staff or t.org_id == actor.org_id,
        )
        for t in tasks
    ]


def _names(
    session: Session, model: type[Organisation] | type[User], ids: set[str]
) -> dict[str, str]:
    if not ids:
        return {}
    if model is Organisation:
        rows = session.execute(
            select(Organisation.id, Organisation.legal_name).where(Organisation.id.in_(ids))
        )
    else:
        rows = session.execute(select(User.id, User.full_name).where(User.id.in_(ids)))
    return {row[0]: row[1] for row in rows}


def _documents(
    session: Session, actor: Actor, process: VisibleProcess, tasks: list[HumanTask]
) -> list[Document]:
    """What the process's tasks showed and what it issued, as far as the caller may read them."""
    ids = {doc for t in tasks for doc in t.document_ids}
    return readable_documents(session, actor, ids | _issued(session, process))


def readable_documents(session: Session, actor: Actor, ids: Iterable[str]) -> list[Document]:
    """Those of the documents the caller may read (the API's rule), oldest first; the others
    are left out, as if they were not there."""
    wanted = {doc for doc in ids if doc}
    if not wanted:
        return []
    rows = session.scalars(
        select(Document).where(Document.id.in_(wanted)).order_by(Document.created_at, Document.id)
    )
    return [row for row in rows if may_read_document(session, actor, row)]


def _issued(session: Session, process: VisibleProcess) -> set[str]:
    """The documents the subject holds: an accreditation's certificate, a contract's PDF, an
    order's documents, a cold shipment's temperature report."""
    found: set[str | None] = set()
    if process.subject == "accreditation":
        standing = session.get(SupplierAccreditation, process.key)
        found.add(standing.certificate_document_id if standing else None)
    elif process.subject == "contract":
        contract = session.get(Contract, process.key)
        found.add(contract.document_id if contract else None)
    elif process.subject == "order":
        order = session.get(Order, process.key)
        found |= set(order_document_ids(session, order)) if order else set()
    elif process.subject == "cold_chain":
        trip = session.get(ColdTrip, process.key)
        found.add(trip.report_document_id if trip else None)
    return {doc for doc in found if doc}
