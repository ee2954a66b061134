"""Commands on a running order: submit a shipment's e-waybill, report its carrier events, record
payments, cancel. Each is an update on the order's workflow, whose validators enforce the process
(an event out of order, a payment in another currency); the API checks the party, the role and
the references it resolves (the shipment and its waybill number, a delivery proof's document)
first.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from api.deps import CurrentActor, PlatformDep
from api.errors import invalid
from api.idempotency import update_id
from api.platform import Platform
from api.routes.order_access import (
    BUYER_SIDE,
    SUPPLIER_SIDE,
    Side,
    acting_order,
    party_document,
    record_upload,
)
from api.uploads import CheckedUpload, store_uploads
from contracts.common import Actor, Money, Role
from contracts.fulfilment import (
    MAX_SHIPMENTS,
    CancelOrderInput,
    CarrierEventInput,
    CarrierEventKind,
    CarrierEventReceipt,
    OrderView,
    PaymentInput,
    PaymentReceipt,
    shipment_id_for,
)
from contracts.tasks import DecideTaskInput, TaskAnswer
from contracts.waybill import EWaybill
from db.models import Order, OrderShipment
from db.session import transaction
from db.tasks import open_task
from workflows.order import WAYBILL_TASK

router = APIRouter(prefix="/orders", tags=["orders"])

T = TypeVar("T")

ShipmentNumber = Annotated[int, Path(ge=1, le=MAX_SHIPMENTS)]


class EventRequest(BaseModel):
    """A carrier event; a delivery names its proof, uploaded first with
    ``POST /orders/{order_id}/documents``."""

    model_config = ConfigDict(extra="forbid")

    kind: CarrierEventKind
    at: AwareDatetime
    location: str = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=2000)
    proof_of_delivery_document_id: str | None = Field(default=None, max_length=160)


class PaymentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Money
    reference: str = Field(min_length=1, max_length=100)
    paid_on: date


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


def _update_id(request: Request, actor: Actor) -> str | None:
    key = request.headers.get("idempotency-key")
    return update_id(actor.user_id, key) if key else None


# -- the e-waybill ------------------------------------------------------------------------


@router.post("/{order_id}/shipments/{shipment}/waybill")
async def submit_waybill(
    order_id: str,
    shipment: ShipmentNumber,
    draft: EWaybill,
    actor: CurrentActor,
    platform: PlatformDep,
    request: Request,
) -> TaskAnswer:
    """Submit a shipment's dangerous-goods e-waybill (supplier's logistics): checked at once; the
    answer is ``awaiting_waybill`` with the problems to fix, ``awaiting_safety_approval`` or
    ``filing``."""
    task_id, workflow_id, document_id = await run_in_threadpool(
        _store_draft, platform, actor, order_id, shipment, draft
    )
    answer: TaskAnswer = await platform.temporal.get_workflow_handle(workflow_id).execute_update(
        "decide_task",
        DecideTaskInput(
            task_id=task_id, outcome="submit", choices={"document_id": document_id}, actor=actor
        ),
        result_type=TaskAnswer,
        id=_update_id(request, actor),
    )
    return answer


def _store_draft(
    platform: Platform, actor: Actor, order_id: str, shipment: int, draft: EWaybill
) -> tuple[str, str, str]:
    """The open submission task and the stored draft's document id."""
    with transaction(platform.sessions) as session:
        row = acting_order(session, actor, order_id, org_of="supplier", roles=SUPPLIER_SIDE)
        number = _planned(session, row, shipment).waybill_number
        if number is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail=f"shipment {shipment} carries no dangerous goods",
            )
        if draft.waybill_number != number:
            raise invalid("waybill_number", f"must be {number}, shipment {shipment}'s")
        if draft.order_id != row.id:
            raise invalid("order_id", f"must be {row.id}")
        if draft.shipment_id != shipment_id_for(row.id, shipment):
            raise invalid("shipment_id", f"must be {shipment_id_for(row.id, shipment)}")
        task = open_task(
            session,
            subject_id=row.id,
            kind=WAYBILL_TASK,
            org_id=actor.org_id,
            details={"waybill_number": number},
        )
        if task is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail=f"no e-waybill is awaited for shipment {shipment}: the order is "
                f"{row.status}",
            )
        if task.role not in actor.roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail=f"the e-waybill is submitted by {task.role}"
            )
        upload = CheckedUpload(
            field="waybill",
            filename=f"{draft.waybill_number}-r{draft.revision}.json",
            content_type="application/json",
            data=draft.model_dump_json().encode(),
        )
        refs = store_uploads(session, platform.store, [upload], actor=actor, kind="waybill_draft")
        # Linked to the order so the platform's safety reviewer can read the draft it reviews.
        record_upload(session, actor, row.id, refs["waybill"])
        return task.id, task.workflow_id, refs["waybill"].document_id


def _planned(session: Session, row: Order, shipment: int) -> OrderShipment:
    planned = session.get(OrderShipment, (row.id, shipment))
    if planned is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"shipment {shipment} is not in the order's plan (order {row.status})",
        )
    return planned


# -- transport, payment, cancellation ------------------------------------------------------


@router.post("/{order_id}/shipments/{shipment}/events")
async def report_event(
    order_id: str,
    shipment: ShipmentNumber,
    body: EventRequest,
    actor: CurrentActor,
    platform: PlatformDep,
    request: Request,
) -> CarrierEventReceipt:
    """Report a shipment picked up, departed, arrived or delivered, in that order (supplier's
    logistics)."""

    def prepare() -> tuple[str, CarrierEventInput]:
        with platform.sessions() as session:
            row = acting_order(session, actor, order_id, org_of="supplier", roles=SUPPLIER_SIDE)
            _planned(session, row, shipment)
            proof = None
            field = "proof_of_delivery_document_id"
            if body.proof_of_delivery_document_id is not None:
                proof = party_document(session, row, body.proof_of_delivery_document_id)
                if proof is None:
                    raise invalid(field, "no document of this order's parties with this id")
            elif body.kind == CarrierEventKind.DELIVERED:
                raise invalid(field, "a delivery needs its proof: upload it to the order first")
            event = CarrierEventInput(
                shipment=shipment,
                kind=body.kind,
                at=body.at,
                location=body.location,
                note=body.note,
                proof_of_delivery=proof,
                actor=actor,
            )
            return row.workflow_id, event

    workflow_id, event = await run_in_threadpool(prepare)
    return await _update(
        platform, request, actor, workflow_id, "record_carrier_event", event, CarrierEventReceipt
    )


@router.post("/{order_id}/payments")
async def record_payment(
    order_id: str,
    body: PaymentRequest,
    actor: CurrentActor,
    platform: PlatformDep,
    request: Request,
) -> PaymentReceipt:
    """Record a payment against the invoice (buyer's finance); part payments add up."""
    workflow_id = await run_in_threadpool(
        _workflow_of, platform, actor, order_id, "buyer", BUYER_SIDE
    )
    payment = PaymentInput(
        amount=body.amount, reference=body.reference, paid_on=body.paid_on, actor=actor
    )
    return await _update(
        platform, request, actor, workflow_id, "record_payment", payment, PaymentReceipt
    )


@router.post("/{order_id}/cancel")
async def cancel_order(
    order_id: str,
    body: CancelRequest,
    actor: CurrentActor,
    platform: PlatformDep,
    request: Request,
) -> OrderView:
    """Cancel before pickup, with the reason (buyer or supplier): a filed e-waybill is voided
    and the stock released."""
    if not body.reason.strip():
        raise invalid("reason", "a cancellation must give its reason")
    roles = (Role.BUYER, Role.SUPPLIER)
    workflow_id = await run_in_threadpool(_workflow_of, platform, actor, order_id, "either", roles)
    cancel = CancelOrderInput(reason=body.reason, actor=actor)
    return await _update(platform, request, actor, workflow_id, "cancel_order", cancel, OrderView)


def _workflow_of(
    platform: Platform, actor: Actor, order_id: str, org_of: Side, roles: tuple[Role, ...]
) -> str:
    with platform.sessions() as session:
        return acting_order(session, actor, order_id, org_of=org_of, roles=roles).workflow_id


async def _update(
    platform: Platform,
    request: Request,
    actor: Actor,
    workflow_id: str,
    name: str,
    update: Any,
    result_type: type[T],
) -> T:
    result: T = await platform.temporal.get_workflow_handle(workflow_id).execute_update(
        name, update, result_type=result_type, id=_update_id(request, actor)
    )
    return result
