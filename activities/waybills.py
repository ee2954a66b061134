"""E-waybills: checking a submitted draft, filing it with the regulator, sealing the filed record
(JSON and PDF by SHA-256, chained in the audit log) and filing its status changes."""

from __future__ import annotations

import json

from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.documents import document_ref, issue_pdf
from contracts.common import SYSTEM_ACTOR
from contracts.fulfilment import (
    CheckWaybillInput,
    FileStatusInput,
    FileWaybillInput,
    FilingResult,
    SealWaybillInput,
    WaybillVerdict,
)
from contracts.regulator import FilingStatus
from contracts.waybill import EWaybill
from db import audit_checkpoints
from db.audit_log import append_audit
from db.models import Document, Organisation, Waybill, WaybillFiling
from db.session import transaction
from documents.e_waybill import render_waybill_pdf
from gateways.http_adapter import ExternalSystemRejected
from gateways.regulator import RegulatorClient, RegulatorRejected
from rules.rulebooks import rulebook as rulebook_for
from rules.waybill import check_waybill
from storage.object_store import ObjectStore, get_verified

PDF = "application/pdf"
# The waybill's parts the consignor declares in its consignment list: a problem there goes back
# to the consignor; anything else is the carrier's to fix.
CONSIGNOR_PARTS = (
    "consignor",
    "consignee",
    "loader",
    "items",
    "loading_place",
    "unloading_place",
    "emergency_contact",
    "jurisdiction",
)


class WaybillActivities:
    def __init__(
        self, sessions: sessionmaker[Session], store: ObjectStore, regulator: RegulatorClient
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._regulator = regulator

    @activity.defn(name="check_waybill")
    def check_waybill(self, request: CheckWaybillInput) -> WaybillVerdict:
        """The draft's rule check; a draft that does not parse is reported, not raised."""
        try:
            waybill = self._draft(request.document_id)
        except (ValueError, ValidationError) as unreadable:
            return WaybillVerdict(
                document_id=request.document_id,
                blocking=(),
                warnings=(),
                unreadable=f"the draft is not an e-waybill: {str(unreadable)[:500]}",
            )
        check = check_waybill(waybill)
        blocking = _not_this_shipment(waybill, request) + tuple(
            f"{v.field}: {v.message}" for v in check.blocking
        )
        warnings = tuple(f"{v.field}: {v.message}" for v in check.warnings)
        small_load = check.small_load.reason if check.small_load else ""
        if request.supplier_org_id is None:  # the supplier submitted it whole: all its to fix
            return WaybillVerdict(
                document_id=request.document_id,
                blocking=blocking,
                warnings=warnings,
                rulebook=check.rulebook,
                small_load=small_load,
            )
        with self._sessions() as session:
            blocking += self._not_these_parties(session, waybill, request)
        consignment = tuple(p for p in blocking if p.startswith(CONSIGNOR_PARTS))
        return WaybillVerdict(
            document_id=request.document_id,
            blocking=tuple(p for p in blocking if p not in consignment),
            warnings=warnings,
            consignment=consignment,
            rulebook=check.rulebook,
            small_load=small_load,
        )

    @staticmethod
    def _not_these_parties(
        session: Session, waybill: EWaybill, request: CheckWaybillInput
    ) -> tuple[str, ...]:
        """Where the consignor is not the contract's supplier, or the carrier not the order's."""
        wrong: list[str] = []
        for path, stated, org_id, party in (
            (
                "consignor.credit_code",
                waybill.consignor.credit_code,
                request.supplier_org_id,
                "the contract's supplier",
            ),
            (
                "carrier.credit_code",
                waybill.carrier.credit_code,
                request.carrier_org_id,
                "the order's carrier",
            ),
        ):
            org = session.get(Organisation, org_id) if org_id else None
            if org is not None and stated != org.credit_code:
                wrong.append(
                    f"{path}: must be {org.credit_code}, {party} {org.legal_name}'s; the draft "
                    f"states {stated or 'none'}"
                )
        return tuple(wrong)

    @activity.defn(name="file_waybill")
    def file_waybill(self, request: FileWaybillInput) -> FilingResult:
        """File with the regulator under the waybill number; a retry after an accepted but
        unanswered filing gets the same receipt, so there is one accepted filing per waybill."""
        body = json.loads(self._bytes(request.document_id))
        with self._sessions() as session:
            latest = audit_checkpoints.newest(session)  # handed to the regulator with the filing
        checkpoint = audit_checkpoints.signed(latest).document() if latest else None
        try:
            receipt = self._regulator.file_waybill(
                request.waybill_number, body, audit_checkpoint=checkpoint
            )
        except RegulatorRejected as refused:
            return FilingResult(accepted=False, reasons=refused.reasons)
        except ExternalSystemRejected as refused:
            return FilingResult(accepted=False, reasons=(refused.reason or str(refused),))
        with transaction(self._sessions) as session:
            session.execute(
                insert(WaybillFiling)
                .values(
                    waybill_number=request.waybill_number,
                    kind=FilingStatus.FILED.value,
                    receipt=receipt.receipt_number,
                    at=receipt.accepted_at,
                )
                .on_conflict_do_nothing()
            )
        return FilingResult(
            accepted=True, receipt_number=receipt.receipt_number, accepted_at=receipt.accepted_at
        )

    @activity.defn(name="seal_waybill")
    def seal_waybill(self, request: SealWaybillInput) -> None:
        """Keep the filed record: its JSON (the draft that was filed) and the PDF with the
        receipt, both by SHA-256, and an audit entry chaining both hashes."""
        with self._sessions() as session:
            if session.get(Waybill, request.waybill_number) is not None:
                return
            draft = session.get(Document, request.document_id)
            if draft is None:
                raise ApplicationError(f"no draft {request.document_id}", type="InvalidRecord")
            draft_ref = document_ref(draft)
            supplier_org_id = draft.org_id
        waybill = self._draft(request.document_id)
        # The carrier made it (art. 24) when the workflow says so; before, nobody is named.
        made_by = (
            f"调度员 Dispatcher {waybill.dispatcher}" if request.made_by_org_id is not None else ""
        )
        rulebook = rulebook_for(waybill).label
        pdf = issue_pdf(
            self._sessions,
            self._store,
            document_id=f"{request.waybill_number}:pdf",
            org_id=supplier_org_id,
            kind="e_waybill",
            filename=f"e-waybill-{request.waybill_number}.pdf",
            render=lambda: render_waybill_pdf(
                waybill,
                receipt_number=request.receipt_number,
                filed_at=request.filed_at,
                status=FilingStatus.FILED.value,
                made_by=f"{waybill.carrier.name} · {made_by}" if made_by else "",
                rulebook=rulebook,
            ),
        )
        with transaction(self._sessions) as session:
            if session.get(Waybill, request.waybill_number) is not None:
                return
            session.add(
                Waybill(
                    waybill_number=request.waybill_number,
                    order_id=request.order_id,
                    status=FilingStatus.FILED.value,
                    receipt_number=request.receipt_number,
                    filed_at=request.filed_at,
                    dispatch_date=waybill.dispatch_date,
                    consignor_name=waybill.consignor.name,
                    consignee_name=waybill.consignee.name,
                    carrier_name=waybill.carrier.name,
                    vehicle_plate=waybill.vehicle.plate,
                    un_numbers=sorted({item.un_number for item in waybill.items}),
                    hazard_classes=sorted({item.hazard_class for item in waybill.items}),
                    record=waybill.model_dump(mode="json"),
                    json_document_id=draft_ref.document_id,
                    json_sha256=draft_ref.sha256,
                    pdf_document_id=pdf.document_id,
                    pdf_sha256=pdf.sha256,
                    made_by_org_id=request.made_by_org_id,
                    made_by=made_by,
                )
            )
            append_audit(
                session,
                actor=SYSTEM_ACTOR,
                action="waybill.filed",
                target_type="waybill",
                target_id=request.waybill_number,
                detail={
                    "receipt_number": request.receipt_number,
                    "json_sha256": draft_ref.sha256,
                    "pdf_sha256": pdf.sha256,
                    "made_by_org_id": request.made_by_org_id,
                },
                dedup_key=f"waybill.filed:{request.waybill_number}",
            )

    @activity.defn(name="file_waybill_status")
    def file_waybill_status(self, request: FileStatusInput) -> None:
        """File departed, delivered or voided once; voiding a waybill the regulator never
        accepted (a cancelled first attempt) has nothing to void."""
        status = FilingStatus(request.status)
        try:
            receipt = self._regulator.file_status(
                request.waybill_number, status, request.at, request.note
            )
        except ExternalSystemRejected as refused:
            if status is FilingStatus.VOIDED and refused.status == 404:
                return
            raise ApplicationError(
                f"regulator refused {status.value} for {request.waybill_number}: "
                f"{refused.reason or refused}",
                type="RegulatorRefusedStatus",
                non_retryable=True,
            ) from refused
        with transaction(self._sessions) as session:
            inserted = session.execute(
                insert(WaybillFiling)
                .values(
                    waybill_number=request.waybill_number,
                    kind=status.value,
                    receipt=receipt.event_receipt,
                    at=receipt.at,
                )
                .on_conflict_do_nothing()
                .returning(WaybillFiling.id)
            ).first()
            row = session.get(Waybill, request.waybill_number, with_for_update=True)
            if row is not None:
                row.status = status.value
            if inserted is not None:
                append_audit(
                    session,
                    actor=SYSTEM_ACTOR,
                    action=f"waybill.{status.value}",
                    target_type="waybill",
                    target_id=request.waybill_number,
                    detail={"event_receipt": receipt.event_receipt},
                    dedup_key=f"waybill.{status.value}:{request.waybill_number}",
                )

    def _bytes(self, document_id: str) -> bytes:
        with self._sessions() as session:
            row = session.get(Document, document_id)
            if row is None:
                raise ApplicationError(f"no document {document_id}", type="InvalidRecord")
            sha256 = row.sha256
        return get_verified(self._store, sha256)

    def _draft(self, document_id: str) -> EWaybill:
        return EWaybill.model_validate_json(self._bytes(document_id))


def _not_this_shipment(waybill: EWaybill, request: CheckWaybillInput) -> tuple[str, ...]:
    """Where the draft describes another order, shipment or load than the one it is filed for."""
    wrong = [
        f"{name}: must be {expected}"
        for name, stated, expected in (
            ("order_id", waybill.order_id, request.order_id),
            ("shipment_id", waybill.shipment_id, request.shipment_id),
            ("waybill_number", waybill.waybill_number, request.waybill_number),
        )
        if stated != expected
    ]
    listed = sorted({item.un_number for item in waybill.items})
    if listed != sorted(request.un_numbers):
        wrong.append(
            f"items: the shipment carries {', '.join(sorted(request.un_numbers))}; the draft "
            f"lists {', '.join(listed) or 'none'}"
        )
    return tuple(wrong)
