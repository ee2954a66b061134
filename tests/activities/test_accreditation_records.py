"""Accreditation record activities run twice or out of order: the database stays right."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.accreditation_records import AccreditationRecords
from contracts.accreditation import (
    AccreditationRecordInput,
    AccreditationStatus,
    RiskBand,
    Tier,
)
from db.models import AccreditationApplication, AuditEntry, SupplierAccreditation
from gateways.certification_registry import CertificationRegistryClient
from storage.object_store import ObjectStore
from tests.harness import builders as b


def test_retries_write_once_and_late_older_standings_lose(
    sessions: sessionmaker[Session], store: ObjectStore, registry: CertificationRegistryClient
) -> None:
    records = AccreditationRecords(sessions)
    env = ActivityEnvironment()
    app = b.one_certificate_application(sessions, store, registry)
    certificate = b.store_document(sessions, store, org_id=app.supplier_org_id)

    env.run(records.record_application, app)
    env.run(records.record_application, app)  # a retry after a lost acknowledgement

    def standing(revision: int, status: AccreditationStatus) -> AccreditationRecordInput:
        return AccreditationRecordInput(
            supplier_org_id=app.supplier_org_id,
            application_id=app.application_id,
            status=status,
            tier=Tier.TIER_1,
            risk_band=RiskBand.LOW,
            score=Decimal("100"),
            accredited_at=datetime.now(UTC),
            expires_on=date(2028, 2, 28),
            certificate_document_id=certificate.document_id,
            change_key=f"test:{revision}",
            revision=revision,
        )

    env.run(records.record_accreditation, standing(1, AccreditationStatus.ACCREDITED))
    env.run(records.record_accreditation, standing(3, AccreditationStatus.ACCREDITED))
    env.run(records.record_accreditation, standing(2, AccreditationStatus.SUSPENDED))  # late

    with sessions() as session:
        row = session.get(SupplierAccreditation, app.supplier_org_id)
        assert row is not None and row.status == "accredited" and row.revision == 3
        application = session.get(AccreditationApplication, app.application_id)
        assert application is not None and application.status == "accredited"
        count = select(func.count()).select_from(AccreditationApplication)
        assert session.scalar(count.where(AccreditationApplication.id == app.application_id)) == 1
        applied = select(func.count()).select_from(AuditEntry)
        assert (
            session.scalar(
                applied.where(
                    AuditEntry.action == "accreditation.applied",
                    AuditEntry.target_id == app.application_id,
                )
            )
            == 1
        )
