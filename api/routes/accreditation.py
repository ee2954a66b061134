"""Supplier accreditation: apply with documents, follow the application, renew certificates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.client import WorkflowUpdateFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import TemporalError, WorkflowAlreadyStartedError

from api.deps import (
    CurrentActor,
    PlatformDep,
    SessionDep,
    SupplierActor,
    is_operator,
    not_found,
)
from api.errors import ProblemError, invalid
from api.idempotency import update_id
from api.json_input import model_from_json
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Page, ascending, descending, paged
from api.params import IdPath
from api.platform import Platform
from api.uploads import check_upload, store_uploads
from contracts.accreditation import (
    AccreditationStatus,
    AccreditationView,
    AccreditationWorkflowInput,
    ApplyInput,
    CertificateClaim,
    FinancialYear,
    RenewCertificateInput,
    RenewCertificateResult,
    accreditation_workflow_id,
)
from contracts.common import Actor, Line, Role, Text
from db.models import (
    AccreditationApplication,
    ApplicationCertificate,
    Document,
    FinancialStatement,
    Organisation,
    SupplierAccreditation,
    new_id,
)
from db.session import transaction
from rules.credit_code import credit_code_problem
from stack.temporal import ORG_ID, SUBJECT_ID

router = APIRouter(prefix="/accreditation", tags=["accreditation"])
MAX_FORM_JSON = 100_000  # characters: ten certificates and five years of figures fit many times
LATEST_FIRST = Keyset(
    "applications",
    (descending(AccreditationApplication.submitted_at), ascending(AccreditationApplication.id)),
)
_IN_REVIEW = {
    AccreditationStatus.CHECKING,
    AccreditationStatus.UNDER_REVIEW,
    AccreditationStatus.AWAITING_SECOND_APPROVAL,
}


class ApplicationForm(BaseModel):
    """The JSON part of an application; files come as multipart parts in the same order."""

    credit_code: Annotated[Line, Field(max_length=18)]
    licence_number: Annotated[Line, Field(min_length=4, max_length=64)]
    product_categories: list[Annotated[Line, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=20
    )
    certificates: list[CertificateClaim] = Field(min_length=1, max_length=10)
    financials: list[FinancialYear] = Field(min_length=1, max_length=5)

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str) -> str:
        if (problem := credit_code_problem(value)) is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ApplicationForm:
        for claim in self.certificates:
            if claim.expiry_date <= claim.issue_date:
                raise ValueError(f"certificate {claim.number}: expiry_date must follow issue_date")
        years = [y.year for y in self.financials]
        if len(set(years)) != len(years):
            raise ValueError("financials: each year may appear once")
        return self


class Accepted(BaseModel):
    application_id: str
    workflow_id: str
    status: str
    url: str


class CertificateView(BaseModel):
    standard: str
    number: str
    certification_body: str
    scope: str
    issue_date: date
    expiry_date: date
    document_id: str | None
    passed: bool | None
    reasons: list[str]


class ApplicationView(BaseModel):
    application_id: str
    supplier_org_id: str
    legal_name: str
    credit_code: str
    status: str
    reasons: list[str]
    risk_band: str | None
    submitted_at: datetime
    decided_at: datetime | None
    licence_document_id: str
    certificates: list[CertificateView]
    financial_years: dict[int, dict[str, str]]
    report: dict[str, Any] | None
    live: AccreditationView | None


class StandingView(BaseModel):
    supplier_org_id: str
    status: str
    tier: str
    score: Decimal
    expires_on: date
    certificate_document_id: str
    eligible_for_sourcing: bool


@router.post("/applications", status_code=status.HTTP_202_ACCEPTED)
async def apply(
    actor: SupplierActor,
    platform: PlatformDep,
    application: Annotated[
        Text, Form(max_length=MAX_FORM_JSON, description="ApplicationForm as JSON")
    ],
    licence: Annotated[UploadFile, File(description="business licence (PDF, PNG or JPEG)")],
    certificate_files: Annotated[list[UploadFile], File(description="one per certificate")],
    statement_files: Annotated[list[UploadFile], File(description="one per financial year")],
) -> Accepted:
    """Apply for accreditation; answers 202 and the application's URL while checks run."""
    form = model_from_json(ApplicationForm, application, field="application")
    if len(certificate_files) != len(form.certificates):
        raise invalid("certificate_files", "one file per certificate, in the same order")
    if len(statement_files) != len(form.financials):
        raise invalid("statement_files", "one file per financial year, in the same order")
    limit = platform.settings.max_upload_bytes
    uploads = [await check_upload(licence, field="licence", max_bytes=limit)]
    for i, upload in enumerate(certificate_files):
        uploads.append(await check_upload(upload, field=f"certificate_files.{i}", max_bytes=limit))
    for i, upload in enumerate(statement_files):
        uploads.append(await check_upload(upload, field=f"statement_files.{i}", max_bytes=limit))

    workflow_id = accreditation_workflow_id(actor.org_id)
    application_id = new_id("app")
    with transaction(platform.sessions) as session:
        org = session.get(Organisation, actor.org_id)
        if org is None:
            raise not_found("organisation")
        refs = store_uploads(session, platform.store, uploads, actor=actor, kind="accreditation")
        document_ids = [ref.document_id for ref in refs.values()]
    app_input = ApplyInput(
        application_id=application_id,
        supplier_org_id=actor.org_id,
        legal_name=org.legal_name,
        credit_code=form.credit_code,
        licence_number=form.licence_number,
        licence_document=refs["licence"],
        certificates=tuple(
            c.model_copy(update={"document": refs[f"certificate_files.{i}"]})
            for i, c in enumerate(form.certificates)
        ),
        financials=tuple(
            y.model_copy(update={"document": refs[f"statement_files.{i}"]})
            for i, y in enumerate(form.financials)
        ),
        product_categories=tuple(form.product_categories),
        submitted_by=actor,
        submitted_at=datetime.now(UTC),
    )
    try:
        await platform.temporal.start_workflow(
            "AccreditationWorkflow",
            AccreditationWorkflowInput(application=app_input),
            id=workflow_id,
            task_queue=platform.settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=_search_attributes(actor.org_id, application_id),
        )
    except WorkflowAlreadyStartedError:
        # Definitely not started: its documents must not linger. On an ambiguous failure
        # (timeout, outage) the process may be running and needs them, so they stay.
        _discard_documents(platform, document_ids)
        raise _already_running(platform, actor.org_id) from None
    return Accepted(
        application_id=application_id,
        workflow_id=workflow_id,
        status="checking",
        url=f"/accreditation/applications/{application_id}",
    )


def _discard_documents(platform: Platform, document_ids: list[str]) -> None:
    """The request failed: its document rows must not linger as half a record."""
    with transaction(platform.sessions) as session:
        for document_id in document_ids:
            if (row := session.get(Document, document_id)) is not None:
                session.delete(row)


def _already_running(platform: Platform, org_id: str) -> ProblemError:
    """A second application while the supplier's process runs: say why, and what to do."""
    with platform.sessions() as session:
        latest = session.scalars(
            select(AccreditationApplication)
            .where(AccreditationApplication.supplier_org_id == org_id)
            .order_by(AccreditationApplication.submitted_at.desc())
            .limit(1)
        ).first()
        standing = session.get(SupplierAccreditation, org_id)
    if latest is not None and latest.status in _IN_REVIEW:
        url = f"/accreditation/applications/{latest.id}"
        return ProblemError(
            status.HTTP_409_CONFLICT,
            f"your application {latest.id} is {latest.status}: follow it at {url}; "
            "apply again only if it is rejected or lapses",
            type="urn:tradeflow:problem:application-in-progress",
            title="Application in progress",
            application_id=latest.id,
            application_status=latest.status,
            application_url=url,
        )
    if standing is not None:
        why = f" ({standing.status_reason})" if standing.status_reason else ""
        return ProblemError(
            status.HTTP_409_CONFLICT,
            f"your organisation is {standing.status}{why}, tier {standing.tier}, until "
            f"{standing.expires_on.isoformat()}: no new application is needed; to renew, "
            "submit each renewed certificate with POST /accreditation/renewals",
            type="urn:tradeflow:problem:already-accredited",
            title="Already accredited" if standing.status == "accredited" else "Suspended",
            accreditation_status=standing.status,
            expires_on=standing.expires_on.isoformat(),
            renewal_url="/accreditation/renewals",
            standing_url=f"/accreditation/suppliers/{org_id}",
        )
    # Started moments ago (its first activity has not recorded it yet), or ending now.
    return ProblemError(
        status.HTTP_409_CONFLICT,
        "your organisation's accreditation process is running: follow its application at "
        "GET /accreditation/applications, and apply again only once it has ended",
        type="urn:tradeflow:problem:application-in-progress",
        title="Application in progress",
    )


def _search_attributes(org_id: str, application_id: str) -> TypedSearchAttributes:
    return TypedSearchAttributes(
        [SearchAttributePair(ORG_ID, org_id), SearchAttributePair(SUBJECT_ID, application_id)]
    )


def _visible_application(
    session: Session, actor: Actor, application_id: str
) -> AccreditationApplication:
    row = session.get(AccreditationApplication, application_id)
    if row is None or not (row.supplier_org_id == actor.org_id or is_operator(actor)):
        raise not_found("application")
    return row


@router.get("/applications", responses=NEXT_PAGE_HEADERS)
def list_applications(
    actor: CurrentActor,
    session: SessionDep,
    page: Annotated[Page, paged(LATEST_FIRST)],
    status_filter: Annotated[AccreditationStatus | None, Query()] = None,
) -> list[ApplicationView]:
    """The caller's own applications (suppliers) or all of them (compliance and ops); latest
    first, a page at a time (the ``Link`` header's next)."""
    query = select(AccreditationApplication)
    if not is_operator(actor):
        query = query.where(AccreditationApplication.supplier_org_id == actor.org_id)
    if status_filter is not None:
        query = query.where(AccreditationApplication.status == status_filter.value)
    return [_application_view(session, row, live=None) for row in page.rows(session, query)]


@router.get("/applications/{application_id}")
async def get_application(
    application_id: IdPath, actor: CurrentActor, session: SessionDep, platform: PlatformDep
) -> ApplicationView:
    """One application with its checks, reasons and the workflow's live status."""
    row = _visible_application(session, actor, application_id)
    live: AccreditationView | None = None
    try:
        live = await platform.temporal.get_workflow_handle(row.workflow_id).query(
            "get_status", result_type=AccreditationView, rpc_timeout=timedelta(seconds=5)
        )
        if live.application_id != application_id:
            live = None  # a later application of the same supplier
    except TemporalError:
        live = None  # the live view is a bonus: the recorded row still answers
    return _application_view(session, row, live=live)


def _application_view(
    session: Session, row: AccreditationApplication, *, live: AccreditationView | None
) -> ApplicationView:
    certificates = session.scalars(
        select(ApplicationCertificate)
        .where(ApplicationCertificate.application_id == row.id)
        .order_by(ApplicationCertificate.position)
    )
    statements = session.scalars(
        select(FinancialStatement).where(FinancialStatement.application_id == row.id)
    )
    return ApplicationView(
        application_id=row.id,
        supplier_org_id=row.supplier_org_id,
        legal_name=row.legal_name,
        credit_code=row.credit_code,
        status=live.status.value if live else row.status,
        reasons=list(live.reasons) if live else row.reasons,
        risk_band=row.risk_band,
        submitted_at=row.submitted_at,
        decided_at=row.decided_at,
        licence_document_id=row.licence_document_id,
        certificates=[
            CertificateView(
                standard=c.standard,
                number=c.number,
                certification_body=c.certification_body,
                scope=c.scope,
                issue_date=c.issue_date,
                expiry_date=c.expiry_date,
                document_id=c.document_id,
                passed=c.passed,
                reasons=c.check_reasons,
            )
            for c in certificates
        ],
        financial_years={s.year: s.figures | {"currency": s.currency} for s in statements},
        report=row.report,
        live=live,
    )


@router.get("/suppliers/{org_id}")
def get_standing(org_id: IdPath, actor: CurrentActor, session: SessionDep) -> StandingView:
    """A supplier's standing: for the supplier, buyers (who source from it) and platform staff."""
    row = session.get(SupplierAccreditation, org_id)
    visible = actor.org_id == org_id or is_operator(actor) or actor.has_any(Role.BUYER)
    if row is None or not visible:
        raise not_found("accreditation")
    return StandingView(
        supplier_org_id=row.supplier_org_id,
        status=row.status,
        tier=row.tier,
        score=row.score,
        expires_on=row.expires_on,
        certificate_document_id=row.certificate_document_id,
        eligible_for_sourcing=row.status == "accredited" and row.expires_on > date.today(),
    )


@router.post("/renewals")
async def renew_certificate(
    request: Request,
    actor: SupplierActor,
    platform: PlatformDep,
    certificate: Annotated[
        Text, Form(max_length=MAX_FORM_JSON, description="CertificateClaim as JSON")
    ],
    file: Annotated[UploadFile, File(description="the renewed certificate (PDF, PNG or JPEG)")],
) -> JSONResponse:
    """Submit a renewed certificate; it is verified like at application before it counts."""
    claim = model_from_json(CertificateClaim, certificate, field="certificate")
    if claim.expiry_date <= claim.issue_date:
        raise invalid("certificate.expiry_date", "must follow issue_date")
    upload = await check_upload(file, field="file", max_bytes=platform.settings.max_upload_bytes)
    handle = platform.temporal.get_workflow_handle(accreditation_workflow_id(actor.org_id))
    key = request.headers.get("idempotency-key")
    with transaction(platform.sessions) as session:
        refs = store_uploads(
            session, platform.store, [upload], actor=actor, kind="certificate_renewal"
        )
    try:
        result = await handle.execute_update(
            "submit_renewed_certificate",
            RenewCertificateInput(
                certificate=claim.model_copy(update={"document": refs["file"]}), actor=actor
            ),
            result_type=RenewCertificateResult,
            id=update_id(actor.user_id, key) if key else None,
        )
    except WorkflowUpdateFailedError:
        _discard_documents(platform, [refs["file"].document_id])  # refused by the validator
        raise
    if not result.accepted:
        raise ProblemError(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "the renewed certificate was not accepted: " + "; ".join(result.reasons),
            type="urn:tradeflow:problem:renewal-refused",
            title="Renewal not accepted",
            errors=[{"field": "certificate", "rule": reason} for reason in result.reasons],
            **result.model_dump(mode="json"),  # accepted, reasons, expires_on, as before
        )
    return JSONResponse(result.model_dump(mode="json"))
