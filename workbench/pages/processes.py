"""A process's page: its business timeline in plain words, its state and its documents.

Who may open it is the API's rule for the process's subject, or a task of it in the caller's
inbox (``workbench.process_access``); anyone else gets the same 404 as for a process that does
not exist. Staff also get a link to the run in the Temporal Web UI.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from api.deps import PlatformDep, SessionDep
from contracts.common import Line
from workbench.pages.common import PREFIX, PageActor, render
from workbench.timeline_sources import timeline_for

router = APIRouter(prefix=PREFIX, include_in_schema=False)
WorkflowIdPath = Annotated[Line, Path(min_length=3, max_length=240)]


@router.get("/processes/{workflow_id}", response_class=HTMLResponse)
async def process_page(
    request: Request,
    workflow_id: WorkflowIdPath,
    actor: PageActor,
    session: SessionDep,
    platform: PlatformDep,
) -> HTMLResponse:
    """One process as its people tell it: steps, decisions, outages, documents, state."""
    timeline = await timeline_for(platform, session, actor, workflow_id, must_exist=True)
    # Rendered on a thread: the header reads its counts (``timeline_for`` read the rest so).
    return await run_in_threadpool(render, request, "process.html", {"timeline": timeline})
