"""The facts a task's decision needs, gathered from the process and the records by its kind.

Each kind of task has a gatherer; a kind without one shows the details its process attached to
the task, which every process fills with what the decider must see.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.orm import Session

from api.platform import Platform
from contracts.common import Actor
from db.models import HumanTask

Gatherer = Callable[[Platform, Session, Actor, HumanTask], Awaitable[dict[str, Any]]]
GATHERERS: dict[str, Gatherer] = {}


async def facts_for(
    platform: Platform, session: Session, actor: Actor, task: HumanTask
) -> dict[str, Any]:
    """``template`` names the partial that shows them; the rest is the partial's context."""
    gatherer = GATHERERS.get(task.kind)
    if gatherer is None:
        return {"template": "facts/details.html", "details": task.details}
    return await gatherer(platform, session, actor, task)
