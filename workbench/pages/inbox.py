"""The inbox: the caller's open tasks across every process, soonest due first.

Which tasks are the caller's is the API's rule (``GET /tasks``): the task's organisation is theirs
and its role one of theirs. The filters narrow that set, never widen it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, or_, select

from api.deps import SessionDep
from api.pagination import Keyset, on
from api.routes.tasks import OLDEST_DUE_FIRST, tasks_of
from contracts.common import Line
from db.models import HumanTask
from workbench.i18n import process_of
from workbench.pages.common import PREFIX, PageActor, render
from workbench.pages.paging import Cursor, page_rows
from workbench.search import matches

router = APIRouter(prefix=PREFIX, include_in_schema=False)
AGES = {"1d": timedelta(days=1), "3d": timedelta(days=3), "7d": timedelta(days=7)}
_SHOWN = 200
# ``GET /tasks``'s order: soonest due first, undated after every dated task.
INBOX_ORDER = Keyset("task-inbox", on("HumanTask", *OLDEST_DUE_FIRST.keys))


@router.get("/", response_class=HTMLResponse)
def inbox(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    process: Annotated[Line, Query(max_length=40)] = "",
    org: Annotated[Line, Query(max_length=200)] = "",
    age: Annotated[Line, Query(max_length=4)] = "",
    cursor: Cursor = None,
) -> HTMLResponse:
    """My open tasks, overdue and escalated marked, filtered by process, organisation and age;
    two hundred a page."""
    query = select(HumanTask).where(*tasks_of(actor), HumanTask.status == "open")
    if process:
        query = query.where(func.split_part(HumanTask.workflow_id, ":", 1) == process)
    if org:
        # The organisation a task is about is named in its title or summary (the supplier under
        # review, the buyer of the order...): the tolerant match finds it however it is typed.
        query = query.where(or_(matches(HumanTask.title, org), matches(HumanTask.summary, org)))
    if age in AGES:
        query = query.where(HumanTask.created_at <= datetime.now(UTC) - AGES[age])
    shown = page_rows(request, session, INBOX_ORDER, query, cursor, size=_SHOWN)
    now = datetime.now(UTC)
    return render(
        request,
        "inbox.html",
        {
            "tasks": [
                {
                    "row": row,
                    "process": process_of(row.workflow_id),
                    "overdue": row.due_at is not None and row.due_at < now,
                    "escalated": row.escalated_at is not None,
                }
                for row in (found.HumanTask for found in shown.rows)
            ],
            "next_url": shown.next_url,
            "first_url": shown.first_url,
            "filters": {"process": process, "org": org, "age": age},
        },
    )
