"""Accreditation of suppliers and carriers: apply with documents; a second application while one
runs, or once accredited, is told what to do instead. The form and who may send it are in
``api.routes.accreditation_form``; follow an application in ``api.routes.accreditation_reads``;
renew certificates and licences in ``api.routes.accreditation_renewals``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import select
from temporalio.common import (
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.deps import PlatformDep, not_found, require
from api.errors import ProblemError, invalid
from api.json_input import model_from_json
from api.platform import Platform
from api.routes.accreditation_form import ApplicationForm, check_applicant
from api.uploads import check_upload, stored
from contracts.accreditation import (
    AccreditationStatus,
    AccreditationWorkflowInput,
    ApplyInput,
    accreditation_workflow_id,
)
from contracts.common import Actor, Role, Text
from db.models import (
    AccreditationApplication,
    Document,
    Organisation,
    SupplierAccreditation,
    new_id,
)
from db.session import transaction
from stack.temporal import search_attributes

router = APIRouter(prefix="/accreditation", tags=["accreditation"])
ApplicantActor = Annotated[Actor, Depends(require(Role.SUPPLIER, Role.CARRIER))]
MAX_FORM_JSON = 100_000  # characters: ten certificates and five years of figures fit many times
_IN_REVIEW = {
    AccreditationStatus.CHECKING,
    AccreditationStatus.UNDER_REVIEW,
    AccreditationStatus.AWAITING_SECOND_APPROVAL,
}


class Accepted(BaseModel):
    application_id: str
    workflow_id: str
    status: str
    url: str


@router.post("/applications", status_code=status.HTTP_202_ACCEPTED)
async def apply(
    actor: ApplicantActor,
    platform: PlatformDep,
    application: Annotated[
        Text, Form(max_length=MAX_FORM_JSON, description="ApplicationForm as JSON")
    ],
    licence: Annotated[UploadFile, File(description="business licence (PDF, PNG or JPEG)")],
    statement_files: Annotated[list[UploadFile], File(description="one per financial year")],
    certificate_files: Annotated[
        list[UploadFile] | None, File(description="one per certificate, if any")
    ] = None,
    operating_licence: Annotated[
        UploadFile | None, File(description="a carrier's road transport operating licence")
    ] = None,
) -> Accepted:
    """Apply for accreditation (a supplier, or a carrier with its operating licence); answers
    202 and the application's URL while checks run."""
    form = model_from_json(ApplicationForm, application, field="application")
    org = await run_in_threadpool(_organisation, platform, actor.org_id)
    if org is None:
        raise not_found("organisation")
    check_applicant(org, actor, form, has_scan=operating_licence is not None)
    certificate_files = certificate_files or []
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
    if operating_licence is not None:
        uploads.append(
            await check_upload(operating_licence, field="operating_licence", max_bytes=limit)
        )

    workflow_id = accreditation_workflow_id(actor.org_id)
    application_id = new_id("app")
    refs = await stored(
        platform.sessions, platform.store, uploads, actor=actor, kind="accreditation"
    )
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
        carrier_licence=form.carrier_licence,
        carrier_licence_document=refs.get("operating_licence"),
    )
    try:
        await platform.temporal.start_workflow(
            "AccreditationWorkflow",
            AccreditationWorkflowInput(application=app_input),
            id=workflow_id,
            task_queue=platform.settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=search_attributes(actor.org_id, application_id),
        )
    except WorkflowAlreadyStartedError:
        # Definitely not started: its documents must not linger. On an ambiguous failure
        # (timeout, outage) the process may be running and needs them, so they stay.
        await run_in_threadpool(discard_documents, platform, document_ids)
        raise await run_in_threadpool(_already_running, platform, actor.org_id) from None
    return Accepted(
        application_id=application_id,
        workflow_id=workflow_id,
        status="checking",
        url=f"/accreditation/applications/{application_id}",
    )


def _organisation(platform: Platform, org_id: str) -> Organisation | None:
    with platform.sessions() as session:
        return session.get(Organisation, org_id)


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
            "submit each renewed certificate with POST /accreditation/renewals (a carrier's "
            "licence with POST /accreditation/licence-renewals)",
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
