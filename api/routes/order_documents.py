"""An order's documents: upload one (a proof of delivery), download any it holds, and its
invoice. Who may see the order decides who reads them (``api.routes.order_access``); each read
re-verifies the stored hash and is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select

from api.deps import CurrentActor, PlatformDep, SessionDep, not_found
from api.downloads import ANY_DOCUMENT, PDF_DOCUMENT, audited_download
from api.params import IdPath
from api.routes.document_access import readable_document
from api.routes.order_access import order_document_ids, record_upload, visible_order
from api.uploads import check_upload, store_uploads
from contracts.common import DocumentRef
from db.models import Invoice
from db.session import transaction

router = APIRouter(prefix="/orders", tags=["orders"])


@router.post("/{order_id}/documents", status_code=status.HTTP_201_CREATED)
async def upload_document(
    order_id: IdPath,
    actor: CurrentActor,
    platform: PlatformDep,
    file: Annotated[UploadFile, File(description="PDF, PNG or JPEG, e.g. the proof of delivery")],
) -> DocumentRef:
    """Store a document for the order (either party, or its carrier); give its id as a
    delivery's proof."""
    upload = await check_upload(file, field="file", max_bytes=platform.settings.max_upload_bytes)

    def store() -> DocumentRef:
        with transaction(platform.sessions) as session:
            row = visible_order(session, actor, order_id)
            if actor.org_id not in (row.buyer_org_id, row.supplier_org_id, row.carrier_org_id):
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN,
                    detail="only the order's parties and its carrier add documents",
                )
            refs = store_uploads(session, platform.store, [upload], actor=actor, kind="order")
            record_upload(session, actor, row.id, refs["file"])
            return refs["file"]

    return await run_in_threadpool(store)


@router.get("/{order_id}/documents/{document_id}", response_class=Response, responses=ANY_DOCUMENT)
def download_document(
    order_id: IdPath,
    document_id: IdPath,
    actor: CurrentActor,
    platform: PlatformDep,
    session: SessionDep,
) -> Response:
    """A document of the order (an upload, a delivery proof, the invoice, the filed e-waybill),
    for either party whichever uploaded it; hash re-verified, audited."""
    row = visible_order(session, actor, order_id)
    if document_id not in order_document_ids(session, row):
        raise not_found("document")
    document = readable_document(session, actor, document_id)
    return audited_download(platform.store, session, actor, document, detail={"order_id": row.id})


@router.get("/{order_id}/invoice", response_class=Response, responses=PDF_DOCUMENT)
def download_invoice(
    order_id: IdPath, actor: CurrentActor, platform: PlatformDep, session: SessionDep
) -> Response:
    """The invoice PDF, after checking it still hashes to the recorded SHA-256; audited."""
    row = visible_order(session, actor, order_id)
    invoice = session.scalar(select(Invoice).where(Invoice.order_id == row.id))
    if invoice is None:
        raise not_found("invoice")
    document = readable_document(session, actor, invoice.document_id)
    return audited_download(platform.store, session, actor, document, detail={"order_id": row.id})
