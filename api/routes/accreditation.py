"""Supplier accreditation: apply with documents; a second application while one runs, or
once accredited, is told what to do instead. Follow it in ``api.routes.accreditation_reads``;
renew certificates in ``api.routes.accreditation_renewals``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile, status
from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy import select
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.deps import PlatformDep, SupplierActor, not_found
from api.errors import ProblemError, invalid
from api.json_input import model_from_json
from api.platform import Platform
from api.uploads import check_upload, store_uploads
from contracts.accreditation import (
    AccreditationStatus,
    AccreditationWorkflowInput,
    ApplyInput,
    CertificateClaim,
    FinancialYear,
    accreditation_workflow_id,
)
from contracts.common import Line, Text
from db.models import (
    AccreditationApplication,
    Document,
    Organisation,
    SupplierAccreditation,
    new_id,
)
from db.session import transaction
from rules.credit_code import credit_code_problem
from stack.temporal import ORG_ID, SUBJECT_ID

router = APIRouter(prefix="/accreditation", tags=["accreditation"])
MAX_FORM_JSON = 100_000  # characters: ten certificates and five years of figures fit many times
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
        discard_documents(platform, document_ids)
        raise _already_running(platform, actor.org_id) from None
    return Accepted(
        application_id=application_id,
        workflow_id=workflow_id,
        status="checking",
        url=f"/accreditation/applications/{application_id}",
    )


def discard_documents(platform: Platform, document_ids: list[str]) -> None:
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
