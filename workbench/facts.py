"""The facts a task's decision needs, gathered from the process and the records by its kind.

Each kind of task has a gatherer; a kind without one shows the details its process attached to
the task, which every process fills with what the decider must see. A gatherer reads only what
the API would show the caller (the API's own access functions); when one of them says the caller
may not see a record behind the task (404/403), the page shows the task's details instead, as
the task itself is the caller's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy.orm import Session

from api.deps import read_then_release
from api.platform import Platform
from contracts.common import Actor
from contracts.finance import APPROVAL_TASK, CONFIRMATION_TASK, OFFER_TASK
from db.models import HumanTask
from workbench.facts_accreditation import accreditation_facts
from workbench.facts_cold_chain import cold_chain_facts
from workbench.facts_loans import loan_facts
from workbench.facts_sourcing import award_facts
from workbench.facts_waybill import waybill_facts
from workflows.cold_chain import DISPOSITION_TASK, INSPECTION_TASK
from workflows.cold_chain_alerts import ALERT_TASK
from workflows.order_filing import WAYBILL_TASK
from workflows.rfq import AWARD_TASK

# A gatherer reads the database only through ``api.deps.read_then_release``: on a thread, not
# the event loop every request shares, and with the connection given back before it waits on
# another system (a live status, the object store).
Gatherer = Callable[[Platform, Session, Actor, HumanTask], Awaitable[dict[str, Any]]]


def _reading(read: Callable[[Session, Actor, HumanTask], dict[str, Any]]) -> Gatherer:
    """A gatherer of the database's records alone."""

    async def gather(
        platform: Platform, session: Session, actor: Actor, task: HumanTask
    ) -> dict[str, Any]:
        return await read_then_release(session, lambda reading: read(reading, actor, task))

    return gather


GATHERERS: dict[str, Gatherer] = {
    "accreditation_review": accreditation_facts,
    "accreditation_second_review": accreditation_facts,
    "accreditation_financial_review": accreditation_facts,
    AWARD_TASK: _reading(award_facts),
    ALERT_TASK: _reading(cold_chain_facts),
    DISPOSITION_TASK: _reading(cold_chain_facts),
    INSPECTION_TASK: _reading(cold_chain_facts),
    APPROVAL_TASK: _reading(loan_facts),
    OFFER_TASK: _reading(loan_facts),
    CONFIRMATION_TASK: _reading(loan_facts),
    WAYBILL_TASK: waybill_facts,
    "waybill_safety_review": waybill_facts,
}
_NOT_SHOWN = (status.HTTP_403_FORBIDDEN, status.HTTP_404_NOT_FOUND, status.HTTP_409_CONFLICT)


async def facts_for(
    platform: Platform, session: Session, actor: Actor, task: HumanTask
) -> dict[str, Any]:
    """``template`` names the partial that shows them; the rest is the partial's context."""
    details = {"template": "facts/details.html", "details": task.details}
    gatherer = GATHERERS.get(task.kind)
    if gatherer is None:
        return details
    try:
        return await gatherer(platform, session, actor, task)
    except HTTPException as refused:
        if refused.status_code in _NOT_SHOWN:
            return details
        raise
