"""Test data builders, in one place: organisations, tasks, documents, certificates, statements."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from contracts.accreditation import ApplyInput, CertificateClaim, FinancialYear, RegistryRecord
from contracts.common import OPERATOR_ORG_ID, Actor, DocumentRef, OrgKind, Role
from db.models import Document, HumanTask, Organisation
from db.session import transaction
from gateways.certification_registry import CertificationRegistryClient
from rules.credit_code import make_credit_code, organisation_check_character
from storage.object_store import ObjectStore, put_content

_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CERTIFICATION_BODY = "China Quality Certification Centre (CQC)"
SCOPE = "危险化学品的生产与销售 Production and sale of hazardous chemicals"
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>"
    b"endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def unique_credit_code() -> str:
    """A GB 32100-2015 code for an enterprise (9, 1) registered in Wuxi (320200).

    Eight random characters (31**8 choices, so a test run does not repeat one) make the
    organisation code with its GB 11714 check character, so the code is structurally valid.
    """
    body = "".join(random.choice(_CODE_ALPHABET) for _ in range(8))
    return make_credit_code("91320200" + body + organisation_check_character(body))


def make_org(sessions: sessionmaker[Session], *, kind: OrgKind = OrgKind.SUPPLIER) -> Organisation:
    suffix = uuid.uuid4().hex[:8]
    org = Organisation(
        id=f"org_test_{suffix}",
        kind=kind.value,
        legal_name=f"测试化工有限公司{suffix}",
        name_en=f"Test Chemical Co., Ltd. {suffix}",
        credit_code=unique_credit_code(),
    )
    with transaction(sessions) as session:
        session.add(org)
    return org


def supplier_actor(org: Organisation, user_id: str = "usr_test_supplier") -> Actor:
    return Actor(user_id=user_id, org_id=org.id, roles=(Role.SUPPLIER,))


def compliance_actor(user_id: str = "usr_test_compliance") -> Actor:
    return Actor(user_id=user_id, org_id=OPERATOR_ORG_ID, roles=(Role.COMPLIANCE,))


def supervisor_actor() -> Actor:
    return Actor(
        user_id="usr_test_supervisor", org_id=OPERATOR_ORG_ID, roles=(Role.OPS_SUPERVISOR,)
    )


def open_task(
    sessions: sessionmaker[Session],
    *,
    org_id: str,
    role: Role,
    workflow_id: str,
    kind: str,
    subject_type: str = "test",
    subject_id: str | None = None,
    title: str = "A test task",
    outcomes: tuple[str, ...] = ("done",),
) -> str:
    """An open task row of ``workflow_id``'s in the organisation's inbox for ``role`` (no
    process behind it unless the test starts one); its id, the subject's too by default."""
    task_id = f"task_{uuid.uuid4().hex}"
    with transaction(sessions) as session:
        session.add(
            HumanTask(
                id=task_id,
                workflow_id=workflow_id,
                kind=kind,
                role=role.value,
                org_id=org_id,
                subject_type=subject_type,
                subject_id=subject_id or task_id,
                title=title,
                summary="",
                outcomes=list(outcomes),
                status="open",
            )
        )
    return task_id


def store_document(
    sessions: sessionmaker[Session], store: ObjectStore, *, org_id: str, name: str = "file.pdf"
) -> DocumentRef:
    data = MINIMAL_PDF + uuid.uuid4().hex.encode()
    stored = put_content(store, data, content_type="application/pdf")
    document_id = f"doc_{uuid.uuid4().hex}"
    with transaction(sessions) as session:
        session.add(
            Document(
                id=document_id,
                org_id=org_id,
                kind="accreditation",
                sha256=stored.sha256,
                object_key=stored.key,
                filename=name,
                content_type="application/pdf",
                size=stored.size,
                created_by="usr_test",
            )
        )
    return DocumentRef(
        document_id=document_id, sha256=stored.sha256, filename=name, content_type="application/pdf"
    )


def register_certificate(
    registry: CertificationRegistryClient,
    *,
    holder: str,
    standard: str = "ISO 9001",
    issued: date,
    expires: date,
    status: str = "Active",
) -> CertificateClaim:
    """Put a certificate in the registry sandbox and return the supplier's matching claim."""
    number = f"CN-T-{uuid.uuid4().hex[:10].upper()}"
    registry.add(
        RegistryRecord(
            number=number,
            standard=standard,
            certification_status=status,
            accreditation_status="Accredited",
            entity_name=holder,
            scope=SCOPE,
            issue_date=issued,
            expiry_date=expires,
            certification_body=CERTIFICATION_BODY,
            accreditation_body="CNAS",
        )
    )
    return CertificateClaim(
        standard=standard,
        number=number,
        certification_body=CERTIFICATION_BODY,
        accreditation_body="CNAS",
        scope=SCOPE,
        issue_date=issued,
        expiry_date=expires,
    )


def _year(year: int, **figures: str) -> FinancialYear:
    return FinancialYear(year=year, currency="CNY", **{k: Decimal(v) for k, v in figures.items()})


def healthy_years(latest: int) -> tuple[FinancialYear, ...]:
    """Liquid, lightly indebted and growing: low risk."""
    return tuple(
        _year(
            latest - offset,
            revenue=str(10_000_000 - offset * 1_000_000),
            net_profit="900000",
            profit_before_tax="1200000",
            interest_expense="100000",
            current_assets="6000000",
            inventory="1000000",
            prepaid_expenses="200000",
            current_liabilities="2500000",
            total_assets="12000000",
            total_liabilities="4000000",
            retained_earnings="3000000",
        )
        for offset in (2, 1, 0)
    )


def distressed_years(latest: int) -> tuple[FinancialYear, ...]:
    """Losses, heavy debt, shrinking revenue: high risk (four eyes), not a hard failure."""
    return tuple(
        _year(
            latest - offset,
            revenue=str(8_000_000 - (2 - offset) * 1_000_000),
            net_profit="-300000",
            profit_before_tax="-250000",
            interest_expense="400000",
            current_assets="3000000",
            inventory="1500000",
            prepaid_expenses="100000",
            current_liabilities="3600000",
            total_assets="10000000",
            total_liabilities="8500000",
            retained_earnings="-900000",
        )
        for offset in (2, 1, 0)
    )


def application(
    *,
    org: Organisation,
    licence: DocumentRef,
    certificates: tuple[CertificateClaim, ...],
    financials: tuple[FinancialYear, ...],
    submitted_at: datetime | None = None,
) -> ApplyInput:
    return ApplyInput(
        application_id=f"app_{uuid.uuid4().hex}",
        supplier_org_id=org.id,
        legal_name=org.legal_name,
        credit_code=org.credit_code,
        licence_number="LIC-320200-0001",
        licence_document=licence,
        certificates=certificates,
        financials=financials,
        product_categories=("chemicals",),
        submitted_by=supplier_actor(org),
        submitted_at=submitted_at or datetime.now(UTC),
    )


def days(n: int) -> timedelta:
    return timedelta(days=n)


def one_certificate_application(
    sessions: sessionmaker[Session], store: ObjectStore, registry: CertificationRegistryClient
) -> ApplyInput:
    """A low-risk application of a new supplier with one registered, valid certificate."""
    org = make_org(sessions)
    today = datetime.now(UTC).date()
    claim = register_certificate(
        registry, holder=org.legal_name, issued=today - days(30), expires=today + days(600)
    )
    return application(
        org=org,
        licence=store_document(sessions, store, org_id=org.id),
        certificates=(claim,),
        financials=healthy_years(today.year - 1),
    )
