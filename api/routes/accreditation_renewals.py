"""Renewing a certificate, or a carrier's operating licence: the renewed one is verified like at
application before it counts; a refused one leaves no stored document behind."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowUpdateFailedError

from api.deps import PlatformDep, require
from api.errors import ProblemError, invalid
from api.idempotency import update_id
from api.json_input import model_from_json
from api.routes.accreditation import MAX_FORM_JSON, ApplicantActor, discard_documents
from api.uploads import check_upload, stored
from contracts.accreditation import (
    CertificateClaim,
    RenewCertificateInput,
    RenewCertificateResult,
    accreditation_workflow_id,
)
from contracts.common import Actor, Role, Text
from contracts.fleet import CarrierLicenceClaim, RenewLicenceInput

router = APIRouter(prefix="/accreditation", tags=["accreditation"])
CarrierActor = Annotated[Actor, Depends(require(Role.CARRIER))]


@router.post("/renewals")
async def renew_certificate(
    request: Request,
    actor: ApplicantActor,
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
    refs = await stored(
        platform.sessions, platform.store, [upload], actor=actor, kind="certificate_renewal"
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
        # refused by the validator
        await run_in_threadpool(discard_documents, platform, [refs["file"].document_id])
        raise
    return _answer(result, what="certificate")


@router.post("/licence-renewals")
async def renew_licence(
    request: Request,
    actor: CarrierActor,
    platform: PlatformDep,
    licence: Annotated[
        Text, Form(max_length=MAX_FORM_JSON, description="CarrierLicenceClaim as JSON")
    ],
    file: Annotated[UploadFile, File(description="the renewed licence (PDF, PNG or JPEG)")],
) -> JSONResponse:
    """Submit a carrier's renewed operating licence; it is checked in the register like at
    application before it counts, and reinstates a carrier suspended for its expiry."""
    claim = model_from_json(CarrierLicenceClaim, licence, field="licence")
    if claim.expiry_date <= claim.issue_date:
        raise invalid("licence.expiry_date", "must follow issue_date")
    upload = await check_upload(file, field="file", max_bytes=platform.settings.max_upload_bytes)
    handle = platform.temporal.get_workflow_handle(accreditation_workflow_id(actor.org_id))
    key = request.headers.get("idempotency-key")
    refs = await stored(
        platform.sessions, platform.store, [upload], actor=actor, kind="licence_renewal"
    )
    try:
        result = await handle.execute_update(
            "submit_renewed_licence",
            RenewLicenceInput(licence=claim, actor=actor, document=refs["file"]),
            result_type=RenewCertificateResult,
            id=update_id(actor.user_id, key) if key else None,
        )
    except WorkflowUpdateFailedError:
        # refused by the validator
        await run_in_threadpool(discard_documents, platform, [refs["file"].document_id])
        raise
    return _answer(result, what="licence")


def _answer(result: RenewCertificateResult, *, what: str) -> JSONResponse:
    if not result.accepted:
        raise ProblemError(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"the renewed {what} was not accepted: " + "; ".join(result.reasons),
            type="urn:tradeflow:problem:renewal-refused",
            title="Renewal not accepted",
            errors=[{"field": what, "rule": reason} for reason in result.reasons],
            **result.model_dump(mode="json"),  # accepted, reasons, expires_on, as before
        )
    return JSONResponse(result.model_dump(mode="json"))
