"""Renewing a certificate: the renewed one is verified like at application before it counts;
a refused one leaves no stored document behind."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile, status
from fastapi.responses import JSONResponse
from temporalio.client import WorkflowUpdateFailedError

from api.deps import PlatformDep, SupplierActor
from api.errors import ProblemError, invalid
from api.idempotency import update_id
from api.json_input import model_from_json
from api.routes.accreditation import MAX_FORM_JSON, discard_documents
from api.uploads import check_upload, store_uploads
from contracts.accreditation import (
    CertificateClaim,
    RenewCertificateInput,
    RenewCertificateResult,
    accreditation_workflow_id,
)
from contracts.common import Text
from db.session import transaction

router = APIRouter(prefix="/accreditation", tags=["accreditation"])


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
        discard_documents(platform, [refs["file"].document_id])  # refused by the validator
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
