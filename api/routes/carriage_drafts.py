"""What the consignor's and the carrier's submissions are checked against and made into: the
consignment list against the contract (its supplier, the shipment's goods), the carrier's choice
against its accreditation and licence, and the waybill draft composed from the list, the
carrier's licence and fleet, and the trip."""

from __future__ import annotations

from fastapi import HTTPException, status
from sqlalchemy.orm import Session

from api.errors import invalid
from api.platform import Platform
from contracts.consignment import ConsignmentList, WaybillOrder, waybill_from
from contracts.fulfilment import shipment_id_for
from contracts.sourcing import ContractTerms
from contracts.waybill import EWaybill
from db.fleet import FleetProblem, carrier_problem, fleet_parts, waybill_carrier
from db.models import Contract, Document, HumanTask, Order, OrderShipment, Organisation
from rules.dangerous_goods import hazard_classes
from storage.object_store import get_verified


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


def check_consignment(
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


def compose(
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
