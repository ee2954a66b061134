"""Who may see a process's page: whoever may see its subject through the API, or has a task of it.

The subject is named by the workflow id (each contract's id helper gives its prefix) and the
API's own functions decide: the accreditation applicant or platform staff
(``sees_applications_of``), the RFQ's buyer or an invited supplier (``visible_rfq``), a
contract's parties or staff (``visible_contract``), an order's parties, its carrier or staff
(``visible_order``; a cold shipment by its order's), a loan's supplier, buyer or oversight
(``visible_loan``). Failing that, a task of the process in the caller's inbox (``tasks_of``)
shows it too, so an ops reviewer of a reconciliation follows it. Anything else answers 404 like
a process that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import not_found
from api.routes.accreditation_reads import sees_applications_of
from api.routes.catalogue_orders import visible_purchase
from api.routes.e_contracts import visible_contract
from api.routes.loan_access import visible_loan
from api.routes.order_access import visible_order
from api.routes.rfq_access import visible_rfq
from api.routes.tasks import tasks_of
from contracts.accreditation import accreditation_workflow_id
from contracts.catalogue_orders import catalogue_order_workflow_id
from contracts.cold_chain import cold_chain_workflow_id
from contracts.common import Actor
from contracts.finance import loan_workflow_id
from contracts.fulfilment import order_workflow_id
from contracts.sourcing import contract_workflow_id, rfq_workflow_id
from db.cold_chain import ColdTrip
from db.models import HumanTask


@dataclass(frozen=True)
class VisibleProcess:
    """A process the caller may see: ``subject`` is what its id names (``accreditation``,
    ``rfq``, ``contract``, ``order``, ``cold_chain``, ``loan``, ``catalogue_order``; ``None``
    when only a task of it is theirs) and ``key`` that subject's id."""

    workflow_id: str
    subject: str | None
    key: str


Check = Callable[[Session, Actor, str], object]


def _accreditation(session: Session, actor: Actor, org_id: str) -> None:
    if not sees_applications_of(actor, org_id):
        raise not_found("accreditation")


def _cold_chain(session: Session, actor: Actor, trip_id: str) -> None:
    trip = session.get(ColdTrip, trip_id)
    if trip is None:
        raise not_found("cold-chain trip")
    visible_order(session, actor, trip.order_id)


# (id prefix, subject, the API's check: raises 404 when the caller may not see it)
SUBJECTS: tuple[tuple[str, str, Check], ...] = (
    (accreditation_workflow_id(""), "accreditation", _accreditation),
    (rfq_workflow_id(""), "rfq", visible_rfq),
    (contract_workflow_id(""), "contract", visible_contract),
    (order_workflow_id(""), "order", visible_order),
    (cold_chain_workflow_id(""), "cold_chain", _cold_chain),
    (loan_workflow_id(""), "loan", visible_loan),
    (catalogue_order_workflow_id(""), "catalogue_order", visible_purchase),
)


def visible_process(session: Session, actor: Actor, workflow_id: str) -> VisibleProcess:
    """The process if the caller may see its subject or has a task of it; else 404."""
    for prefix, subject, check in SUBJECTS:
        if workflow_id.startswith(prefix) and len(workflow_id) > len(prefix):
            key = workflow_id.removeprefix(prefix)
            try:
                check(session, actor, key)
            except HTTPException as refused:
                if refused.status_code not in (
                    status.HTTP_403_FORBIDDEN,
                    status.HTTP_404_NOT_FOUND,
                ):
                    raise
                break
            return VisibleProcess(workflow_id, subject, key)
    if has_task_of(session, actor, workflow_id):
        return VisibleProcess(workflow_id, None, workflow_id)
    raise not_found("process")


def has_task_of(session: Session, actor: Actor, workflow_id: str) -> bool:
    """Whether a task of the process (open or done) is in the caller's inbox (``tasks_of``)."""
    query = select(HumanTask.id).where(HumanTask.workflow_id == workflow_id, *tasks_of(actor))
    return session.scalars(query.limit(1)).first() is not None
