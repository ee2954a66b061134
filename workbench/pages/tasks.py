"""A task: the facts its decision needs, its documents, the process so far, and the decision.

The task is found by the API's own rule (``visible_task``: the caller's organisation and one of
their roles, else 404) and decided through the same path as ``POST /tasks/{id}/decision``
(``decide_task``): the same second-factor demand for tasks that move money, the same checks, the
same workflow update with its validator. Only the proof of the second factor differs in form: a
page asks for the authenticator's code with the decision instead of a step-up header.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.deps import PlatformDep, SessionDep, read_then_release
from api.errors import invalid
from api.params import IdPath
from api.routes.tasks import DecisionRequest, decide_task, visible_task
from api.second_factor import prove
from contracts.common import Actor, Line, Text
from contracts.tasks import SECOND_FACTOR_TASK_KINDS
from db.models import User
from db.second_factor import locked_enrolment
from workbench.facts import facts_for
from workbench.pages.common import PREFIX, CsrfChecked, PageActor, render
from workbench.timeline_sources import readable_documents, timeline_for

router = APIRouter(prefix=PREFIX, include_in_schema=False)
CHOICE_PREFIX = "choice."


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
async def task_page(
    request: Request, task_id: IdPath, actor: PageActor, session: SessionDep, platform: PlatformDep
) -> HTMLResponse:
    """One task of the caller's, with what the decision needs."""
    return await _task_page(request, task_id, actor, session, platform)


async def _task_page(
    request: Request,
    task_id: str,
    actor: Actor,
    session: SessionDep,
    platform: PlatformDep,
    **extra: object,
) -> HTMLResponse:
    # Every read is on a thread, its connection given back before the page waits on Temporal
    # or the object store: on the event loop, each stalled every request the API served.
    row = await read_then_release(session, lambda s: visible_task(s, actor, task_id))
    facts = await facts_for(platform, session, actor, row)
    timeline = await timeline_for(platform, session, actor, row.workflow_id, must_exist=False)

    def page(reading: Session) -> HTMLResponse:
        context = {
            "task": row,
            "facts": facts,
            "timeline": timeline,
            "documents": readable_documents(reading, actor, row.document_ids),
            "decider": _name(reading, row.decided_by),
            "needs_second_factor": row.kind in SECOND_FACTOR_TASK_KINDS,
            "idempotency_key": uuid.uuid4().hex,
            **extra,
        }
        return render(request, "task.html", context)

    return await read_then_release(session, page)


def _name(session: Session, user_id: str | None) -> str | None:
    """Who decided, by name (the task is the caller's to see, and so is who decided it)."""
    user = session.get(User, user_id) if user_id else None
    return user.full_name if user else None


@router.post("/tasks/{task_id}/decision", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def decide(
    request: Request,
    task_id: IdPath,
    actor: PageActor,
    session: SessionDep,
    platform: PlatformDep,
    outcome: Annotated[Line, Form(min_length=1, max_length=40)],
    comment: Annotated[Text, Form(max_length=2000)] = "",
    code: Annotated[Line, Form(max_length=20)] = "",
    idempotency_key: Annotated[Line, Form(max_length=64)] = "",
) -> HTMLResponse:
    """Decide the task through the process's own update; the page shows its answer."""
    form = await request.form()
    # The form carries its choices for every button; they go only with the outcome they are
    # for ("choices_for"), as a process refuses choices with any other (an award's "close").
    choices_for = str(form.get("choices_for") or "")
    choices = {
        str(name).removeprefix(CHOICE_PREFIX): str(value)
        for name, value in form.multi_items()
        if str(name).startswith(CHOICE_PREFIX) and str(value)
    }
    if choices_for and choices_for != outcome:
        choices = {}
    try:
        decision = DecisionRequest(outcome=outcome, comment=comment, choices=choices)
    except ValidationError as error:
        first = error.errors()[0]
        raise invalid(".".join(str(p) for p in first["loc"]), first["msg"]) from None

    def second_factor() -> None:
        enrolment = locked_enrolment(session, actor.user_id, create=False)
        prove(session, actor, enrolment, code=code or None, recovery_code=None)
        session.commit()

    answer = await decide_task(
        platform,
        session,
        actor,
        task_id,
        decision,
        second_factor=second_factor,
        key=idempotency_key or None,
    )
    with platform.sessions() as fresh:
        request.state.session = fresh  # the header's too: one connection at a time
        return await _task_page(request, task_id, actor, fresh, platform, answer=answer)
