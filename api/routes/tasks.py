"""The human-task inbox and decisions, shared by every workflow's approval steps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from api.deps import (
    CurrentActor,
    PlatformDep,
    SessionDep,
    is_operator,
    not_found,
    read_then_release,
)
from api.errors import invalid
from api.idempotency import update_id
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Listing, Page, ascending, loaded, paged
from api.params import IdFilter, IdPath
from api.platform import Platform
from api.routes.carriage_drafts import carrier_choice_problem
from api.second_factor import STEP_UP_RESPONSES, StepUpHeader, check_step_up
from contracts.common import Actor, Line, Text
from contracts.tasks import (
    SECOND_FACTOR_TASK_KINDS,
    CloseTaskInput,
    DecideTaskInput,
    TaskAnswer,
    TaskStatus,
)
from db.models import NEVER_DUE as NEVER_DUE  # the inbox pages sort by it too
from db.models import HumanTask
from db.session import transaction
from db.tasks import close_task_row
from workflows.order import CARRIER_CHOICE, CONFIRMATION_TASK

router = APIRouter(prefix="/tasks", tags=["human tasks"])

# Oldest due first; a task without a due date after every dated one (NEVER_DUE), the order
# ix_human_tasks_due is built in.
OLDEST_DUE_FIRST = Keyset(
    "tasks",
    (
        ascending(HumanTask.due_at, nulls_as=NEVER_DUE),
        ascending(HumanTask.created_at),
        ascending(HumanTask.id),
    ),
)
ChoiceText = Annotated[Line, Field(min_length=1, max_length=200)]


class TaskView(BaseModel):
    task_id: str
    kind: str
    role: str
    subject_type: str
    subject_id: str
    title: str
    summary: str
    outcomes: list[str]
    document_ids: list[str]
    details: dict[str, Any]
    status: str
    due_at: datetime | None
    expires_at: datetime | None
    escalated: bool
    outcome: str | None
    comment: str | None
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime


class DecisionRequest(BaseModel):
    outcome: Annotated[Line, Field(min_length=1, max_length=40)]
    comment: Annotated[Text, Field(max_length=2000)] = ""
    choices: dict[ChoiceText, ChoiceText] = Field(
        default_factory=dict,
        max_length=5000,
        description="what the task asks for besides the outcome, e.g. an award's supplier per line",
    )


def _fields(row: HumanTask) -> dict[str, Any]:
    """A task's ``TaskView`` fields: its columns by name (the view ignores the others), the
    id as ``task_id`` and whether it was escalated."""
    values = loaded(row)
    return {**values, "task_id": values["id"], "escalated": values["escalated_at"] is not None}


def _view(row: HumanTask) -> TaskView:
    return TaskView.model_validate(_fields(row))


VIEWS = Listing(TaskView)


def tasks_of(actor: Actor) -> list[ColumnElement[bool]]:
    """The caller's tasks: its organisation's, for one of its roles (the inbox's rule)."""
    return [HumanTask.org_id == actor.org_id, HumanTask.role.in_([r.value for r in actor.roles])]


def timed_tasks_of(actor: Actor) -> list[ColumnElement[bool]]:
    """The tasks whose timings (created, decided) figure in the caller's dashboard: platform
    staff oversee every process, so the platform's every task; anyone else their inbox's."""
    return [] if is_operator(actor) else tasks_of(actor)


def visible_task(session: Session, actor: Actor, task_id: str) -> HumanTask:
    """A task the caller may see: its organisation and one of its roles; else 404."""
    row = session.get(HumanTask, task_id)
    if row is None or row.org_id != actor.org_id or row.role not in actor.roles:
        raise not_found("task")
    return row


@router.get("", response_model=VIEWS.response_model, responses=NEXT_PAGE_HEADERS)
def inbox(
    actor: CurrentActor,
    session: SessionDep,
    page: Annotated[Page, paged(OLDEST_DUE_FIRST)],
    status: TaskStatus = TaskStatus.OPEN,
    kind: Annotated[Line | None, Query(min_length=1, max_length=60)] = None,
    subject_id: IdFilter = None,
) -> Response:
    """Tasks for the caller's organisation and roles, oldest due first, a page at a time (the
    ``Link`` header's next)."""
    query = inbox_query(actor, status, kind=kind, subject_id=subject_id)
    return VIEWS.answer(page, [_fields(row) for row in page.rows(session, query)], session=session)


def inbox_query(
    actor: Actor, status: TaskStatus, *, kind: str | None = None, subject_id: str | None = None
) -> Select[tuple[HumanTask]]:
    """The inbox's query (``tasks_of``, a status, optionally a kind or subject), which
    ``ix_human_tasks_due`` serves in ``OLDEST_DUE_FIRST`` order (migration 0017)."""
    query = select(HumanTask).where(*tasks_of(actor)).where(HumanTask.status == status.value)
    if kind is not None:
        query = query.where(HumanTask.kind == kind)
    if subject_id is not None:
        query = query.where(HumanTask.subject_id == subject_id)
    return query


@router.get("/{task_id}")
def get_task(task_id: IdPath, actor: CurrentActor, session: SessionDep) -> TaskView:
    """One task of the caller's inbox."""
    return _view(visible_task(session, actor, task_id))


@router.post("/{task_id}/decision", responses=STEP_UP_RESPONSES)
async def decide(
    request: Request,
    task_id: IdPath,
    decision: DecisionRequest,
    actor: CurrentActor,
    platform: PlatformDep,
    session: SessionDep,
    step_up: StepUpHeader = None,
) -> TaskAnswer:
    """Decide a task; answers with the process's new status once the workflow has acted. A task
    that moves money (a loan's approval, a rejected disbursement, a write-off) needs a step-up
    grant in ``X-Step-Up``."""
    return await decide_task(
        platform,
        session,
        actor,
        task_id,
        decision,
        second_factor=lambda: check_step_up(session, actor, step_up),
        key=request.headers.get("idempotency-key"),
    )


def _checked(
    session: Session,
    *,
    actor: Actor,
    task_id: str,
    decision: DecisionRequest,
    second_factor: Callable[[], None],
) -> str:
    """The process of a task the caller may decide so, checked on a thread (database work: the
    second factor counts failed attempts and spends recovery codes); the connection is given
    back before the process is asked."""
    row = visible_task(session, actor, task_id)
    if row.kind in SECOND_FACTOR_TASK_KINDS:
        second_factor()
    carrier = decision.choices.get(CARRIER_CHOICE)
    if row.kind == CONFIRMATION_TASK and decision.outcome == "confirm" and carrier:
        problem = carrier_choice_problem(session, row.subject_id, carrier)
        if problem is not None:
            raise invalid(f"choices.{CARRIER_CHOICE}", problem.removeprefix("carrier: "))
    return row.workflow_id


async def decide_task(
    platform: Platform,
    session: Session,
    actor: Actor,
    task_id: str,
    decision: DecisionRequest,
    *,
    second_factor: Callable[[], None],
    key: str | None,
) -> TaskAnswer:
    """Send a decision to the task's process, for the API and the workbench alike: the task
    must be the caller's to see, ``second_factor`` is asked when the task moves money, and the
    process's own validator has the last word (its refusal raises WorkflowUpdateFailedError)."""
    checks = partial(
        _checked, actor=actor, task_id=task_id, decision=decision, second_factor=second_factor
    )
    workflow_id = await read_then_release(session, checks)
    handle = platform.temporal.get_workflow_handle(workflow_id)
    try:
        answer: TaskAnswer = await handle.execute_update(
            "decide_task",
            DecideTaskInput(
                task_id=task_id,
                outcome=decision.outcome,
                comment=decision.comment,
                choices=decision.choices,
                actor=actor,
            ),
            result_type=TaskAnswer,
            id=update_id(actor.user_id, key) if key else None,
        )
    except RPCError as missing:
        if missing.status != RPCStatusCode.NOT_FOUND:
            raise
        ended = await _ended(handle)
        if ended is None:
            raise
        closed = await run_in_threadpool(_cancel, platform, task_id, f"its process {ended}")
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"this task's process {ended}: nobody awaits its decision, and the task "
            + ("is closed" if closed else "was closed already"),
        ) from None
    return answer


async def _ended(handle: WorkflowHandle[Any, Any]) -> str | None:
    """How the task's process ended ("has ended (terminated)", "is gone"), or None while it
    runs: a process may end with a task still open (ops ending a step while another waits on
    its own task; a termination), and the task then waited in an inbox for a decision nobody
    awaited."""
    try:
        described = await handle.describe()
    except RPCError as gone:
        # A namespace not found (a misconfigured deployment) is no answer about the process.
        if gone.status != RPCStatusCode.NOT_FOUND or "namespace" in gone.message.lower():
            raise
        return "is gone"
    if described.status in (None, WorkflowExecutionStatus.RUNNING):
        return None
    return f"has ended ({described.status.name.lower().replace('_', ' ')})"


def _cancel(platform: Platform, task_id: str, reason: str) -> bool:
    with transaction(platform.sessions) as session:
        return close_task_row(
            session, CloseTaskInput(task_id=task_id, status=TaskStatus.CANCELLED), reason=reason
        )
