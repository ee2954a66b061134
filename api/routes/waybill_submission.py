"""Submitting a shipment's dangerous-goods e-waybill whole (the supplier's logistics), on orders
confirmed before carriers made the waybill; newer orders go through ``api.routes.carriage``.

The draft is checked against the order and the shipment's plan (its waybill number, order and
shipment ids), stored as a document linked to the order so the platform's safety reviewer can
read it, and handed to the order's open submission task; the workflow checks its content.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from api.deps import CurrentActor, PlatformDep
from api.errors import invalid
from api.params import IdPath
from api.routes.carriage import Submission, Submitted, submit_to_task
from api.routes.order_access import SUPPLIER_SIDE
from api.routes.order_commands import ShipmentNumber
from contracts.fulfilment import shipment_id_for
from contracts.tasks import TaskAnswer
from contracts.waybill import EWaybill
from db.models import HumanTask, Order, OrderShipment
from workflows.order_filing import WAYBILL_TASK

router = APIRouter(prefix="/orders", tags=["orders"])


@router.post("/{order_id}/shipments/{shipment}/waybill")
async def submit_waybill(
    order_id: IdPath,
    shipment: ShipmentNumber,
    draft: EWaybill,
    actor: CurrentActor,
    platform: PlatformDep,
    request: Request,
) -> TaskAnswer:
    """Submit a shipment's dangerous-goods e-waybill (supplier's logistics): checked at once; the
    answer is ``awaiting_waybill`` with the problems to fix, ``awaiting_safety_approval`` or
    ``filing``."""

    def whole(
        session: Session, row: Order, shipment_row: OrderShipment, _: HumanTask
    ) -> Submission:
        number = shipment_row.waybill_number
        if draft.waybill_number != number:
            raise invalid("waybill_number", f"must be {number}, shipment {shipment}'s")
        if draft.order_id != row.id:
            raise invalid("order_id", f"must be {row.id}")
        if draft.shipment_id != shipment_id_for(row.id, shipment):
            raise invalid("shipment_id", f"must be {shipment_id_for(row.id, shipment)}")
        name = f"{draft.waybill_number}-r{draft.revision}"
        return Submission("waybill", name, draft.model_dump_json().encode(), "waybill_draft")

    submitted = Submitted(order_id, shipment, WAYBILL_TASK, "supplier", SUPPLIER_SIDE)
    return await submit_to_task(platform, request, actor, submitted, whole)
