"""Submitting a shipment's dangerous-goods e-waybill whole (the supplier's logistics), on orders
confirmed before carriers made the waybill; newer orders go through ``api.routes.carriage``.

The draft is checked against the order and the shipment's plan (its waybill number, order and
shipment ids), stored as a document linked to the order so the platform's safety reviewer can
read it, and handed to the order's open submission task; the workflow checks its content.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool

from api.deps import CurrentActor, PlatformDep
from api.errors import invalid
from api.params import IdPath
from api.platform import Platform
from api.routes.order_access import SUPPLIER_SIDE, acting_order, record_upload
from api.routes.order_commands import ShipmentNumber, planned, request_update_id
from api.uploads import CheckedUpload, store_uploads
from contracts.common import Actor
from contracts.fulfilment import shipment_id_for
from contracts.tasks import DecideTaskInput, TaskAnswer
from contracts.waybill import EWaybill
from db.session import transaction
from db.tasks import open_task
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
    task_id, workflow_id, document_id = await run_in_threadpool(
        _store_draft, platform, actor, order_id, shipment, draft
    )
    answer: TaskAnswer = await platform.temporal.get_workflow_handle(workflow_id).execute_update(
        "decide_task",
        DecideTaskInput(
            task_id=task_id, outcome="submit", choices={"document_id": document_id}, actor=actor
        ),
        result_type=TaskAnswer,
        id=request_update_id(request, actor),
    )
    return answer


def _store_draft(
    platform: Platform, actor: Actor, order_id: str, shipment: int, draft: EWaybill
) -> tuple[str, str, str]:
    """The open submission task and the stored draft's document id."""
    with transaction(platform.sessions) as session:
        row = acting_order(session, actor, order_id, org_of="supplier", roles=SUPPLIER_SIDE)
        number = planned(session, row, shipment).waybill_number
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
