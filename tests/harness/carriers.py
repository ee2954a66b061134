"""Test data for carriers: an accredited carrier with its licence, vehicles and crew, written
straight to PostgreSQL; and a carrier's application with its licence in the registry sandbox,
for the accreditation workflow's tests, which go through the workflow."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from contracts.accreditation import ApplyInput
from contracts.common import Actor, OrgKind, Role
from contracts.fleet import CarrierLicenceClaim, LicenceRecord
from db.fleet import CarrierCrewMember, CarrierLicence, CarrierVehicle
from db.models import AccreditationApplication, Document, Organisation, SupplierAccreditation
from db.session import transaction
from gateways.certification_registry import CertificationRegistryClient
from storage.object_store import ObjectStore
from tests.harness import builders as b

AUTHORITY = "无锡市交通运输局"


def carrier_actor(org_id: str, user_id: str = "usr_test_carrier") -> Actor:
    return Actor(user_id=user_id, org_id=org_id, roles=(Role.CARRIER,))


def register_licence(
    registry: CertificationRegistryClient,
    *,
    holder_name: str,
    holder_credit_code: str,
    issued: date,
    expires: date,
    classes: tuple[str, ...] = ("2", "3", "8"),
    status: str = "Valid",
    number: str | None = None,
) -> CarrierLicenceClaim:
    """Put a licence in the registry sandbox's register; return the carrier's matching claim."""
    number = number or f"3202{uuid.uuid4().int % 10**8:08d}"
    registry.add_licence(
        LicenceRecord(
            number=number,
            holder_name=holder_name,
            holder_credit_code=holder_credit_code,
            issuing_authority=AUTHORITY,
            status=status,
            permitted_classes=classes,
            issue_date=issued,
            expiry_date=expires,
        )
    )
    return CarrierLicenceClaim(
        number=number,
        issuing_authority=AUTHORITY,
        permitted_classes=classes,
        issue_date=issued,
        expiry_date=expires,
        phone="+86 510 8888 1234",
    )


def carrier_application(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
    *,
    now: datetime,
    licence_valid_for: int = 700,
    classes: tuple[str, ...] = ("2", "3", "8"),
) -> ApplyInput:
    """A new carrier's application: its licence registered and valid, no ISO certificate,
    healthy financials, submitted by its CARRIER user."""
    org = b.make_org(sessions, kind=OrgKind.CARRIER)
    today = now.date()
    claim = register_licence(
        registry,
        holder_name=org.legal_name,
        holder_credit_code=org.credit_code,
        issued=today - timedelta(days=300),
        expires=today + timedelta(days=licence_valid_for),
        classes=classes,
    )
    app = b.application(
        org=org,
        licence=b.store_document(sessions, store, org_id=org.id),
        certificates=(),
        financials=b.healthy_years(today.year - 1),
        submitted_at=now,
    )
    return app.model_copy(
        update={
            "submitted_by": carrier_actor(org.id),
            "carrier_licence": claim,
            "carrier_licence_document": b.store_document(sessions, store, org_id=org.id),
            "product_categories": (),
        }
    )


def accredited_carrier(
    sessions: sessionmaker[Session],
    *,
    classes: tuple[str, ...] = ("2", "3", "8"),
    licence_expiry: date | None = None,
    status: str = "accredited",
    reason: str = "",
) -> Organisation:
    """A carrier organisation with a standing of ``status`` and a verified licence."""
    org = b.make_org(sessions, kind=OrgKind.CARRIER)
    today = datetime.now(UTC).date()
    expiry = licence_expiry or today + timedelta(days=900)
    suffix = uuid.uuid4().hex[:10]
    with transaction(sessions) as session:
        session.add(
            Document(
                id=f"doc_{suffix}",
                org_id=org.id,
                kind="accreditation",
                sha256="0" * 64,
                object_key=f"test/{suffix}",
                filename="licence.pdf",
                content_type="application/pdf",
                size=1,
                created_by="usr_test",
            )
        )
        session.flush()
        session.add(
            AccreditationApplication(
                id=f"app_{suffix}",
                supplier_org_id=org.id,
                workflow_id=f"Accreditation:{org.id}",
                status=status,
                legal_name=org.legal_name,
                credit_code=org.credit_code,
                licence_number="LIC-TEST",
                licence_document_id=f"doc_{suffix}",
                product_categories=[],
                reasons=[],
                submitted_by="usr_test_carrier",
                submitted_at=datetime.now(UTC),
            )
        )
        session.flush()
        session.add(
            SupplierAccreditation(
                supplier_org_id=org.id,
                application_id=f"app_{suffix}",
                status=status,
                tier="tier_2",
                risk_band="low",
                score=Decimal(80),
                accredited_at=datetime.now(UTC),
                expires_on=expiry,
                certificate_document_id=f"doc_{suffix}",
                status_reason=reason,
                revision=1,
            )
        )
        session.add(
            CarrierLicence(
                carrier_org_id=org.id,
                application_id=f"app_{suffix}",
                number=f"3202003{suffix[:5]}",
                issuing_authority="无锡市交通运输局",
                permitted_classes=list(classes),
                issue_date=today - timedelta(days=400),
                expiry_date=expiry,
                phone="+86 510 8888 1234",
                revision=1,
            )
        )
    return org


def add_vehicle(
    sessions: sessionmaker[Session],
    org_id: str,
    *,
    plate: str = "苏B12345",
    classes: tuple[str, ...] = ("3", "8"),
    retired: bool = False,
) -> CarrierVehicle:
    row = CarrierVehicle(
        id=f"veh_{uuid.uuid4().hex}",
        carrier_org_id=org_id,
        plate=plate,
        plate_colour="yellow",
        transport_certificate_number="苏交运管锡字320200012345号",
        permitted_classes=list(classes),
        inspection_valid_until=datetime.now(UTC).date() + timedelta(days=200),
        max_load_kg=Decimal("20000"),
        trailer_plate="苏B6789挂",
        trailer_certificate_number="苏交运管锡字320200012346号",
        tank_number="TK-2024-0042",
        tank_volume_litres=Decimal("24000"),
        created_by="usr_test_carrier",
        retired_at=datetime.now(UTC) if retired else None,
    )
    with transaction(sessions) as session:
        session.add(row)
    return row


def add_crew(
    sessions: sessionmaker[Session],
    org_id: str,
    *,
    role: str = "driver",
    name: str = "王师傅",
    retired: bool = False,
) -> CarrierCrewMember:
    row = CarrierCrewMember(
        id=f"crew_{uuid.uuid4().hex}",
        carrier_org_id=org_id,
        name=name,
        role=role,
        qualification_certificate_number=f"3202{uuid.uuid4().int % 10**14:014d}",
        qualification_categories=["dg_driver"] if role == "driver" else ["dg_escort"],
        certificate_expiry=datetime.now(UTC).date() + timedelta(days=300),
        phone="+86 139 0000 1234",
        created_by="usr_test_carrier",
        retired_at=datetime.now(UTC) if retired else None,
    )
    with transaction(sessions) as session:
        session.add(row)
    return row
