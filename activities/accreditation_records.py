"""Accreditation rows in PostgreSQL: the application, its check report, the standing (and a
carrier's verified operating licence with it)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from contracts.accreditation import (
    AccreditationRecordInput,
    AccreditationStatus,
    ApplicationStatusInput,
    ApplyInput,
    RecordReportInput,
)
from contracts.common import SYSTEM_ACTOR
from db.audit_log import append_audit
from db.fleet import CarrierLicence
from db.models import (
    AccreditationApplication,
    ApplicationCertificate,
    FinancialStatement,
    SupplierAccreditation,
)
from db.session import transaction

_FIGURES = (
    "revenue",
    "net_profit",
    "profit_before_tax",
    "interest_expense",
    "current_assets",
    "inventory",
    "prepaid_expenses",
    "current_liabilities",
    "total_assets",
    "total_liabilities",
    "retained_earnings",
)
_FINAL = {AccreditationStatus.REJECTED, AccreditationStatus.LAPSED, AccreditationStatus.ACCREDITED}


class AccreditationRecords:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @activity.defn(name="record_application")
    def record_application(self, app: ApplyInput) -> None:
        """Insert the application with its certificates and statements; a retry finds it there."""
        with transaction(self._sessions) as session:
            if session.get(AccreditationApplication, app.application_id) is not None:
                return
            session.add(
                AccreditationApplication(
                    id=app.application_id,
                    supplier_org_id=app.supplier_org_id,
                    workflow_id=activity.info().workflow_id,
                    status=AccreditationStatus.CHECKING.value,
                    legal_name=app.legal_name,
                    credit_code=app.credit_code,
                    licence_number=app.licence_number,
                    licence_document_id=app.licence_document.document_id,
                    product_categories=list(app.product_categories),
                    reasons=[],
                    submitted_by=app.submitted_by.user_id,
                    submitted_at=app.submitted_at,
                )
            )
            session.flush()
            for position, claim in enumerate(app.certificates):
                session.add(
                    ApplicationCertificate(
                        application_id=app.application_id,
                        position=position,
                        standard=claim.standard,
                        number=claim.number,
                        certification_body=claim.certification_body,
                        accreditation_body=claim.accreditation_body,
                        scope=claim.scope,
                        issue_date=claim.issue_date,
                        expiry_date=claim.expiry_date,
                        document_id=claim.document.document_id if claim.document else None,
                        check_reasons=[],
                    )
                )
            for year in app.financials:
                session.add(
                    FinancialStatement(
                        application_id=app.application_id,
                        year=year.year,
                        currency=year.currency,
                        figures={name: str(getattr(year, name)) for name in _FIGURES},
                        document_id=year.document.document_id if year.document else None,
                    )
                )
            append_audit(
                session,
                actor=app.submitted_by,
                action="accreditation.applied",
                target_type="accreditation_application",
                target_id=app.application_id,
                detail={"supplier_org_id": app.supplier_org_id, "credit_code": app.credit_code},
                dedup_key=f"accreditation.applied:{app.application_id}",
                at=app.submitted_at,
            )

    @activity.defn(name="record_check_report")
    def record_check_report(self, record: RecordReportInput) -> None:
        """Store the automatic checks' report; rewriting the same report is harmless."""
        report = record.report
        with transaction(self._sessions) as session:
            app = _application(session, record.application_id)
            app.report = report.model_dump(mode="json")
            app.risk_band = report.financials.risk_band.value if report.financials else None
            app.status = record.status.value
            certificates = sorted(
                session.query(ApplicationCertificate)
                .filter_by(application_id=record.application_id)
                .all(),
                key=lambda c: c.position,
            )
            for row, check in zip(certificates, report.certificates, strict=True):
                row.passed = check.passed
                row.check_reasons = list(check.reasons)

    @activity.defn(name="set_application_status")
    def set_application_status(self, change: ApplicationStatusInput) -> None:
        """Move the application to a status and audit the change once."""
        with transaction(self._sessions) as session:
            app = _application(session, change.application_id)
            app.status = change.status.value
            app.reasons = list(change.reasons)
            if change.status in _FINAL and app.decided_at is None:
                app.decided_at = datetime.now(UTC)
            append_audit(
                session,
                actor=change.actor or SYSTEM_ACTOR,
                action="accreditation.status_changed",
                target_type="accreditation_application",
                target_id=app.id,
                detail={"status": change.status.value, "reasons": "; ".join(change.reasons)},
                dedup_key=f"accreditation.status:{app.id}:{change.status.value}",
            )

    @activity.defn(name="record_accreditation")
    def record_accreditation(self, standing: AccreditationRecordInput) -> None:
        """Upsert the supplier's standing, which sourcing reads; audited once per change key.

        Writes carry the workflow's revision, so a retry of an older write that lands late
        (a suspension racing a renewal) cannot overwrite the newer standing.
        """
        values = {
            "application_id": standing.application_id,
            "status": standing.status.value,
            "tier": standing.tier.value,
            "risk_band": standing.risk_band.value,
            "score": standing.score,
            "accredited_at": standing.accredited_at,
            "expires_on": standing.expires_on,
            "certificate_document_id": standing.certificate_document_id,
            "status_reason": standing.reason,
            "revision": standing.revision,
        }
        with transaction(self._sessions) as session:
            applied = session.execute(
                insert(SupplierAccreditation)
                .values(supplier_org_id=standing.supplier_org_id, **values)
                .on_conflict_do_update(
                    index_elements=["supplier_org_id"],
                    set_=values,
                    # A new application starts again at 1; within one it only moves forward.
                    where=(SupplierAccreditation.application_id != standing.application_id)
                    | (SupplierAccreditation.revision < standing.revision),
                )
                .returning(SupplierAccreditation.revision)
            ).first()
            # The application row follows the standing, so lists show "suspended" too.
            application = session.get(
                AccreditationApplication, standing.application_id, with_for_update=True
            )
            if applied is not None and application is not None:
                application.status = standing.status.value
                application.reasons = [standing.reason] if standing.reason else []
            if applied is not None and standing.carrier_licence is not None:
                _store_licence(session, standing)
            append_audit(
                session,
                actor=SYSTEM_ACTOR,
                action="accreditation.standing_changed",
                target_type="organisation",
                target_id=standing.supplier_org_id,
                detail={
                    "status": standing.status.value,
                    "tier": standing.tier.value,
                    "expires_on": standing.expires_on.isoformat(),
                    "reason": standing.reason,
                },
                dedup_key=f"accreditation.standing:{standing.change_key}",
            )


def _store_licence(session: Session, standing: AccreditationRecordInput) -> None:
    """A carrier's verified licence, written with the standing (same revision guard), so the
    platform reads the licence a standing was decided on."""
    licence = standing.carrier_licence
    if licence is None:
        return
    values = {
        "application_id": standing.application_id,
        "number": licence.number,
        "issuing_authority": licence.issuing_authority,
        "permitted_classes": list(licence.permitted_classes),
        "issue_date": licence.issue_date,
        "expiry_date": licence.expiry_date,
        "phone": licence.phone,
        "revision": standing.revision,
    }
    session.execute(
        insert(CarrierLicence)
        .values(carrier_org_id=standing.supplier_org_id, **values)
        .on_conflict_do_update(index_elements=["carrier_org_id"], set_=values)
    )


def _application(session: Session, application_id: str) -> AccreditationApplication:
    app = session.get(AccreditationApplication, application_id, with_for_update=True)
    if app is None:
        raise LookupError(f"application {application_id} is not recorded")
    return app
