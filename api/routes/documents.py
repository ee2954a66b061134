"""Downloading stored documents: access-checked, hash re-verified, every download audited."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import CurrentActor, PlatformDep, SessionDep
from api.downloads import ANY_DOCUMENT, audited_download
from api.params import IdPath
from api.routes.document_access import readable_document

router = APIRouter(prefix="/documents", tags=["documents"])


@router.get("/{document_id}", response_class=Response, responses=ANY_DOCUMENT)
async def download(
    document_id: IdPath, actor: CurrentActor, platform: PlatformDep, session: SessionDep
) -> Response:
    """A document the caller may read (its organisation's, or one linked to the caller: an
    order's, a contract's, a task's; see ``api.routes.document_access``), after checking its
    bytes still hash to the recorded SHA-256; audited. Others answer 404."""
    row = await run_in_threadpool(readable_document, session, actor, document_id)
    return await run_in_threadpool(audited_download, platform.store, session, actor, row)
