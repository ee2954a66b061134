"""Downloading stored documents: access-checked, hash re-verified, every download audited."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import CurrentActor, PlatformDep, SessionDep, is_operator, not_found
from api.downloads import audited_download
from db.models import Document

router = APIRouter(prefix="/documents", tags=["documents"])


@router.get("/{document_id}")
async def download(
    document_id: str, actor: CurrentActor, platform: PlatformDep, session: SessionDep
) -> Response:
    """The document's bytes, after checking they still hash to the recorded SHA-256."""
    row = session.get(Document, document_id)
    if row is None or not (row.org_id == actor.org_id or is_operator(actor)):
        raise not_found("document")
    return await run_in_threadpool(audited_download, platform.store, session, actor, row)
