"""The order's carrier and what passes between consignor, carrier and loader: the carrier the
supplier chose, checked against its accreditation and licence; the consignment list a shipment's
waybill is made from; the loader's five checks (五必查), kept as a record and in the audit log."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from contracts.common import SYSTEM_ACTOR
from contracts.consignment import (
    AssignCarrierInput,
    CarrierAssignment,
    RecordConsignmentInput,
    RecordLoadingCheckInput,
)
from db.audit_log import append_audit, audit_once
from db.fleet import carrier_problem
from db.models import LoadingCheck, Order, OrderShipment, Organisation
from db.session import transaction
from rules.dangerous_goods import hazard_classes


class CarriageRecords:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @activity.defn(name="assign_carrier")
    def assign_carrier(self, request: AssignCarrierInput) -> CarrierAssignment:
        """The carrier becomes the order's when it may carry every class of the goods on the
        delivery date; otherwise why not, for the supplier to choose again."""
        classes = hazard_classes(request.un_numbers)
        with transaction(self._sessions) as session:
            problem = carrier_problem(session, request.carrier_org_id, classes, request.on)
            if problem is not None:
                return CarrierAssignment(problem=problem)
            session.execute(
                update(Order)
                .where(Order.id == request.order_id)
                .values(carrier_org_id=request.carrier_org_id)
            )
            carrier = session.get(Organisation, request.carrier_org_id)
            name = carrier.legal_name if carrier is not None else request.carrier_org_id
            audit_once(
                session,
                SYSTEM_ACTOR,
                "order.carrier_assigned",
                request.order_id,
                {"carrier_org_id": request.carrier_org_id},
            )
        return CarrierAssignment(carrier_name=name)

    @activity.defn(name="record_consignment")
    def record_consignment(self, request: RecordConsignmentInput) -> None:
        """The shipment's consignment list, the one the carrier makes the waybill from."""
        with transaction(self._sessions) as session:
            session.execute(
                update(OrderShipment)
                .where(
                    OrderShipment.order_id == request.order_id,
                    OrderShipment.number == request.shipment,
                )
                .values(consignment_document_id=request.document_id)
            )

    @activity.defn(name="record_loading_check")
    def record_loading_check(self, check: RecordLoadingCheckInput) -> None:
        """The loader's checks, once per check made (its id comes from the workflow step)."""
        with transaction(self._sessions) as session:
            inserted = session.execute(
                insert(LoadingCheck)
                .values(
                    id=check.check_id,
                    order_id=check.order_id,
                    shipment_number=check.shipment,
                    waybill_number=check.waybill_number,
                    checks=check.answers,
                    passed=check.passed,
                    note=check.note,
                    checked_by=check.checked_by.user_id,
                    checked_at=check.checked_at,
                )
                .on_conflict_do_nothing(index_elements=[LoadingCheck.id])
                .returning(LoadingCheck.id)
            ).first()
            if inserted is None:
                return
            append_audit(
                session,
                actor=check.checked_by,
                action="waybill.loading_checked",
                target_type="waybill",
                target_id=check.waybill_number,
                detail={"passed": check.passed, "checks": check.answers, "note": check.note},
                dedup_key=f"waybill.loading_checked:{check.check_id}",
            )
