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

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.deps import CurrentActor, PlatformDep
from api.errors import invalid
from api.params import IdPath
from api.platform import Platform
from api.routes.order_access import CARRIER_SIDE, SUPPLIER_SIDE, Side, acting_order, record_upload
from api.routes.order_commands import ShipmentNumber, planned, request_update_id
from api.uploads import CheckedUpload, store_uploads
from contracts.common import Actor, DocumentRef, Role
from contracts.consignment import ConsignmentList, LoadingCheckReport, WaybillOrder, waybill_from
from contracts.fulfilment import shipment_id_for
from contracts.sourcing import ContractTerms
from contracts.tasks import DecideTaskInput, TaskAnswer
from contracts.waybill import EWaybill
from db.fleet import FleetProblem, carrier_problem, fleet_parts, waybill_carrier
from db.models import Contract, Document, HumanTask, Order, OrderShipment, Organisation
from db.session import transaction
from db.tasks import open_task
from rules.dangerous_goods import hazard_classes
from storage.object_store import get_verified
from workflows.order_waybill import CONSIGNMENT_TASK, LOADING_TASK, WAYBILL_TASK

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

    def store() -> _Awaited:
        with transaction(platform.sessions) as session:
            row, planned_shipment, task = _awaited(
                session, actor, order_id, shipment, CONSIGNMENT_TASK, "supplier", SUPPLIER_SIDE
            )
            _check_consignment(session, row, planned_shipment, consignment)
            ref = _store_json(
                session,
                platform,
                actor,
                row,
                field="consignment",
                name=f"consignment-{planned_shipment.waybill_number}",
                data=consignment.model_dump_json().encode(),
                kind="consignment_list",
            )
            return _Awaited(
                task_id=task.id,
                workflow_id=task.workflow_id,
                outcome="submit",
                choices={"document_id": ref.document_id},
            )

    return await _decide(platform, request, actor, await run_in_threadpool(store))


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

    def store() -> _Awaited:
        with transaction(platform.sessions) as session:
            row, planned_shipment, task = _awaited(
                session, actor, order_id, shipment, WAYBILL_TASK, "carrier", CARRIER_SIDE
            )
            draft = _compose(session, platform, row, planned_shipment, task, order)
            ref = _store_json(
                session,
                platform,
                actor,
                row,
                field="waybill",
                name=f"{draft.waybill_number}-r{draft.revision}",
                data=draft.model_dump_json().encode(),
                kind="waybill_draft",
            )
            return _Awaited(
                task_id=task.id,
                workflow_id=task.workflow_id,
                outcome="submit",
                choices={"document_id": ref.document_id},
            )

    return await _decide(platform, request, actor, await run_in_threadpool(store))


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


def carrier_choice_problem(session: Session, order_id: str, carrier_org_id: str) -> str | None:
    """Why the order's confirmation cannot name this carrier (the check the workflow makes
    again when it assigns it), or None: asked at the edge so the supplier gets a 422."""
    order = session.get(Order, order_id)
    contract = session.get(Contract, order.contract_id) if order is not None else None
    if contract is None:
        return None
    terms = ContractTerms.model_validate(contract.terms)
    classes = hazard_classes(line.un_number for line in terms.lines if line.un_number)
    return carrier_problem(session, carrier_org_id, classes, terms.delivery_date)


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


def _check_consignment(
    session: Session, row: Order, shipment: OrderShipment, consignment: ConsignmentList
) -> None:
    supplier = session.get(Organisation, row.supplier_org_id)
    if supplier is not None and consignment.consignor.credit_code != supplier.credit_code:
        raise invalid(
            "consignor.credit_code",
            f"must be {supplier.credit_code}, the contract's supplier {supplier.legal_name}'s",
        )
    listed = sorted({item.un_number for item in consignment.items})
    if listed != sorted(shipment.un_numbers):
        raise invalid(
            "items",
            f"shipment {shipment.number} carries {', '.join(sorted(shipment.un_numbers))}; the "
            f"list declares {', '.join(listed)}",
        )


def _compose(
    session: Session,
    platform: Platform,
    row: Order,
    shipment: OrderShipment,
    task: HumanTask,
    order: WaybillOrder,
) -> EWaybill:
    """The draft: the consignor's list, the carrier's licence and fleet, and the trip."""
    carrier_org_id = row.carrier_org_id or ""
    try:
        carrier = waybill_carrier(session, carrier_org_id)
        fleet = fleet_parts(
            session,
            carrier_org_id,
            vehicle_id=order.vehicle_id,
            driver_id=order.driver_id,
            escort_id=order.escort_id,
        )
    except FleetProblem as problem:
        raise invalid(problem.field, problem.rule) from problem
    listed = session.get(Document, shipment.consignment_document_id or "")
    if listed is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"shipment {shipment.number} has no consignment list"
        )
    consignment = ConsignmentList.model_validate_json(get_verified(platform.store, listed.sha256))
    number = shipment.waybill_number or ""
    return waybill_from(
        consignment,
        order,
        ids=(number, row.id, shipment_id_for(row.id, shipment.number)),
        carrier=carrier,
        fleet=fleet,
        revision=int(task.details.get("revision", "1")),
    )


def _store_json(
    session: Session,
    platform: Platform,
    actor: Actor,
    row: Order,
    *,
    field: str,
    name: str,
    data: bytes,
    kind: str,
) -> DocumentRef:
    upload = CheckedUpload(
        field=field, filename=f"{name}.json", content_type="application/json", data=data
    )
    ref = store_uploads(session, platform.store, [upload], actor=actor, kind=kind)[field]
    # Linked to the order so its parties and the safety reviewer can read what was submitted.
    record_upload(session, actor, row.id, ref)
    return ref


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
