"""A dangerous-goods shipment between consignor, carrier and loader (orders confirmed since
carriers make the waybill; ``api.routes.waybill_submission`` keeps the older path).

- The consignor (the supplier's logistics) declares the consignment list (托运清单): the goods
  must be the shipment's, and the consignor the contract's supplier by credit code.
- The order's carrier (its dispatchers, logistics role) makes the waybill from the list with a
  vehicle, driver and escort of its own registered fleet; the platform composes the draft, so
  nothing the consignor declared can be changed by the carrier, nor the carrier's part by anyone.
- The loader (the consignor's logistics) records its five checks (五必查) before loading.

Each stores what it received as a document linked to the order and answers the order's open
task; the workflow checks the content and answers with the process's new state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.deps import CurrentActor, PlatformDep
from api.params import IdPath
from api.platform import Platform
from api.routes.carriage_drafts import check_consignment, compose
from api.routes.order_access import CARRIER_SIDE, SUPPLIER_SIDE, Side, acting_order, record_upload
from api.routes.order_commands import ShipmentNumber, planned, request_update_id
from api.uploads import CheckedUpload, store_uploads
from contracts.common import Actor, Role
from contracts.consignment import ConsignmentList, LoadingCheckReport, WaybillOrder
from contracts.tasks import DecideTaskInput, TaskAnswer
from db.models import HumanTask, Order, OrderShipment
from db.session import transaction
from db.tasks import open_task
from workflows.order_filing import WAYBILL_TASK
from workflows.order_waybill import CONSIGNMENT_TASK, LOADING_TASK

router = APIRouter(prefix="/orders", tags=["orders"])


class _Awaited(BaseModel):
    """The open task a request answers, and what the workflow is to decide it with."""

    task_id: str
    workflow_id: str
    outcome: str
    choices: dict[str, str]
    comment: str = ""


@router.post("/{order_id}/shipments/{shipment}/consignment")
async def declare_consignment(
    order_id: IdPath,
    shipment: ShipmentNumber,
    consignment: ConsignmentList,
    actor: CurrentActor,
    platform: PlatformDep,
    request: Request,
) -> TaskAnswer:
    """Declare a shipment's consignment list (the supplier's logistics, as consignor); the
    answer is ``awaiting_waybill``: the carrier makes the waybill from it."""

    def declared(session: Session, row: Order, planned: OrderShipment, _: HumanTask) -> Submission:
        check_consignment(session, row, planned, consignment)
        name = f"consignment-{planned.waybill_number}"
        return Submission(
            "consignment", name, consignment.model_dump_json().encode(), "consignment_list"
        )

    submitted = Submitted(order_id, shipment, CONSIGNMENT_TASK, "supplier", SUPPLIER_SIDE)
    return await submit_to_task(platform, request, actor, submitted, declared)


@router.post("/{order_id}/shipments/{shipment}/waybill/make")
async def make_waybill(
    order_id: IdPath,
    shipment: ShipmentNumber,
    order: WaybillOrder,
    actor: CurrentActor,
    platform: PlatformDep,
    request: Request,
) -> TaskAnswer:
    """Make a shipment's e-waybill (the order's carrier, its dispatchers): from the consignment
    list, with a vehicle, driver and escort of the carrier's fleet. Checked at once; the answer
    is ``awaiting_waybill`` with the problems to fix, ``awaiting_safety_approval`` or
    ``awaiting_loading_check``."""

    def made(session: Session, row: Order, planned: OrderShipment, task: HumanTask) -> Submission:
        draft = compose(session, platform, row, planned, task, order)
        name = f"{draft.waybill_number}-r{draft.revision}"
        return Submission("waybill", name, draft.model_dump_json().encode(), "waybill_draft")

    submitted = Submitted(order_id, shipment, WAYBILL_TASK, "carrier", CARRIER_SIDE)
    return await submit_to_task(platform, request, actor, submitted, made)


@router.post("/{order_id}/shipments/{shipment}/loading-check")
async def record_loading_check(
    order_id: IdPath,
    shipment: ShipmentNumber,
    report: LoadingCheckReport,
    actor: CurrentActor,
    platform: PlatformDep,
    request: Request,
) -> TaskAnswer:
    """Record the loader's five checks (the supplier's logistics, as loader). All passed: the
    answer is ``filing``; one failed: loading is refused and the waybill goes back to the
    carrier with the failed checks."""

    def awaited() -> _Awaited:
        with platform.sessions() as session:
            _, _, task = _awaited(
                session, actor, order_id, shipment, LOADING_TASK, "supplier", SUPPLIER_SIDE
            )
            answers = report.answers()
            return _Awaited(
                task_id=task.id,
                workflow_id=task.workflow_id,
                outcome="refuse" if "no" in answers.values() else "load",
                choices=answers,
                comment=report.note,
            )

    return await _decide(platform, request, actor, await run_in_threadpool(awaited))


class Submitted(NamedTuple):
    """Which open task a submission answers: the order's shipment, the task kind, whose."""

    order_id: str
    shipment: int
    kind: str
    org_of: Side
    roles: tuple[Role, ...]


class Submission(NamedTuple):
    """What a submission stores: the upload field, the file's name (without .json), its JSON
    bytes and the document kind."""

    field: str
    name: str
    data: bytes
    kind: str


async def submit_to_task(
    platform: Platform,
    request: Request,
    actor: Actor,
    submitted: Submitted,
    build: Callable[[Session, Order, OrderShipment, HumanTask], Submission],
) -> TaskAnswer:
    """Store what ``build`` makes as a document linked to the order, and answer the task with
    it: the workflow reads it and answers with the process's new state."""

    def store() -> _Awaited:
        with transaction(platform.sessions) as session:
            row, planned, task = _awaited(session, actor, *submitted)
            made = build(session, row, planned, task)
            upload = CheckedUpload(
                field=made.field,
                filename=f"{made.name}.json",
                content_type="application/json",
                data=made.data,
            )
            refs = store_uploads(session, platform.store, [upload], actor=actor, kind=made.kind)
            # Linked to the order so its parties and the safety reviewer can read it.
            record_upload(session, actor, row.id, refs[made.field])
            return _Awaited(
                task_id=task.id,
                workflow_id=task.workflow_id,
                outcome="submit",
                choices={"document_id": refs[made.field].document_id},
            )

    return await _decide(platform, request, actor, await run_in_threadpool(store))


def _awaited(
    session: Session,
    actor: Actor,
    order_id: str,
    shipment: int,
    kind: str,
    org_of: Side,
    roles: tuple[Role, ...],
) -> tuple[Order, OrderShipment, HumanTask]:
    """The order, the planned shipment and the caller's open task of ``kind`` on it."""
    row = acting_order(session, actor, order_id, org_of=org_of, roles=roles)
    found = planned(session, row, shipment)
    if found.waybill_number is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"shipment {shipment} carries no dangerous goods"
        )
    task = open_task(
        session,
        subject_id=row.id,
        kind=kind,
        org_id=actor.org_id,
        details={"waybill_number": found.waybill_number},
    )
    if task is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"no {kind.replace('_', ' ')} is awaited for shipment {shipment}: the "
            f"shipment is {found.status}",
        )
    if task.role not in actor.roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"{kind} is for the {task.role} role")
    return row, found, task


async def _decide(
    platform: Platform, request: Request, actor: Actor, awaited: _Awaited
) -> TaskAnswer:
    answer: TaskAnswer = await platform.temporal.get_workflow_handle(
        awaited.workflow_id
    ).execute_update(
        "decide_task",
        DecideTaskInput(
            task_id=awaited.task_id,
            outcome=awaited.outcome,
            choices=awaited.choices,
            comment=awaited.comment,
            actor=actor,
        ),
        result_type=TaskAnswer,
        id=request_update_id(request, actor),
    )
    return answer
