"""Commands on a running order: report a shipment's carrier events, record payments, cancel.

Each is an update on the order's workflow, whose validators enforce the process (an event out of
order, a payment in another currency); the API checks the party, the role and the references it
resolves (the shipment, a delivery proof's document) first. A shipment's e-waybill is submitted
through ``api.routes.waybill_submission``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from api.deps import CurrentActor, PlatformDep
from api.errors import invalid
from api.idempotency import update_id
from api.params import IdPath
from api.platform import Platform
from api.routes.order_access import (
    BUYER_SIDE,
    CARRIER_SIDE,
    SUPPLIER_SIDE,
    Side,
    acting_order,
    party_document,
    visible_order,
)
from api.second_factor import STEP_UP_RESPONSES, StepUpHeader, check_step_up
from contracts.cold_chain import trip_id_for
from contracts.common import Actor, Line, Money, Role, Text
from contracts.fulfilment import (
    MAX_SHIPMENTS,
    CancelOrderInput,
    CarrierEventInput,
    CarrierEventKind,
    CarrierEventReceipt,
    OrderView,
    PaymentInput,
    PaymentReceipt,
)
from db.cold_chain import ColdTrip, loggers_assigned
from db.loan_facts import china_day
from db.models import Order, OrderShipment

router = APIRouter(prefix="/orders", tags=["orders"])

T = TypeVar("T")

ShipmentNumber = Annotated[int, Path(ge=1, le=MAX_SHIPMENTS)]


class EventRequest(BaseModel):
    """A carrier event; a delivery names its proof, uploaded first with
    ``POST /orders/{order_id}/documents``."""

    model_config = ConfigDict(extra="forbid")

    kind: CarrierEventKind
    at: AwareDatetime
    location: Annotated[Line, Field(min_length=1, max_length=200)]
    note: Annotated[Text, Field(max_length=2000)] = ""
    proof_of_delivery_document_id: Annotated[Line, Field(min_length=1, max_length=160)] | None = (
        None
    )


class PaymentAmount(Money):
    """A payment: positive, in cents, and small enough that the order's total paid still fits
    its column (20 digits)."""

    amount: Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=2)]


class PaymentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: PaymentAmount
    reference: Annotated[Line, Field(min_length=1, max_length=100)]
    paid_on: date

    @field_validator("paid_on")
    @classmethod
    def _not_in_the_future(cls, paid_on: date) -> date:
        # A payment is recorded once made; a financed order's loan accrues to its day.
        today = china_day(datetime.now(UTC))
        if paid_on > today:
            raise ValueError(f"a payment is recorded once made: not after today, {today}")
        return paid_on


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[Text, Field(min_length=1, max_length=2000)]


def request_update_id(request: Request, actor: Actor) -> str | None:
    """The update's id from the request's ``Idempotency-Key``: a retry re-attaches to it."""
    key = request.headers.get("idempotency-key")
    return update_id(actor.user_id, key) if key else None


def planned(session: Session, row: Order, shipment: int) -> OrderShipment:
    """The shipment in the order's plan; 404 naming it when the plan has no such shipment."""
    found = session.get(OrderShipment, (row.id, shipment))
    if found is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"shipment {shipment} is not in the order's plan (order {row.status})",
        )
    return found


# -- transport, payment, cancellation ------------------------------------------------------


@router.post("/{order_id}/shipments/{shipment}/events")
async def report_event(
    order_id: IdPath,
    shipment: ShipmentNumber,
    body: EventRequest,
    actor: CurrentActor,
    platform: PlatformDep,
    request: Request,
) -> CarrierEventReceipt:
    """Report a shipment picked up, departed, arrived or delivered, in that order (the order's
    carrier; the supplier's logistics on an order without one)."""

    def prepare() -> tuple[str, CarrierEventInput]:
        with platform.sessions() as session:
            carried = visible_order(session, actor, order_id).carrier_org_id is not None
            side: Side = "carrier" if carried else "supplier"
            roles = CARRIER_SIDE if carried else SUPPLIER_SIDE
            row = acting_order(session, actor, order_id, org_of=side, roles=roles)
            planned(session, row, shipment)
            if body.kind == CarrierEventKind.PICKED_UP:
                _logged_if_cold(session, order_id, shipment)
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


def _logged_if_cold(session: Session, order_id: str, shipment: int) -> None:
    """A cold shipment leaves only with a logger on board: its trip needs evidence."""
    trip_id = trip_id_for(order_id, shipment)
    if session.get(ColdTrip, trip_id) is not None and loggers_assigned(session, trip_id) == 0:
        raise invalid(
            "kind",
            f"shipment {shipment} is temperature-controlled: assign a logger before pickup "
            f"(POST /orders/{order_id}/shipments/{shipment}/loggers)",
        )


@router.post("/{order_id}/payments", responses=STEP_UP_RESPONSES)
async def record_payment(
    order_id: IdPath,
    body: PaymentRequest,
    actor: CurrentActor,
    platform: PlatformDep,
    request: Request,
    step_up: StepUpHeader = None,
) -> PaymentReceipt:
    """Record a payment against the invoice (buyer's finance, with a step-up grant in
    ``X-Step-Up``); part payments add up."""

    def prepare() -> str:
        with platform.sessions() as session:
            row = acting_order(session, actor, order_id, org_of="buyer", roles=BUYER_SIDE)
            # After the party check: nobody is sent for a second factor to do what they may not.
            check_step_up(session, actor, step_up)
            return row.workflow_id

    workflow_id = await run_in_threadpool(prepare)
    payment = PaymentInput(
        amount=Money(amount=body.amount.amount, currency=body.amount.currency),
        reference=body.reference,
        paid_on=body.paid_on,
        actor=actor,
    )
    return await _update(
        platform, request, actor, workflow_id, "record_payment", payment, PaymentReceipt
    )


@router.post("/{order_id}/cancel")
async def cancel_order(
    order_id: IdPath,
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
        name, update, result_type=result_type, id=request_update_id(request, actor)
    )
    return result
