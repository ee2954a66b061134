"""Downloading stored documents: access-checked, hash re-verified, every download audited."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import CurrentActor, PlatformDep, SessionDep, is_operator, not_found
from db.audit_log import append_audit
from db.models import Document
from storage.object_store import ContentIntegrityError, get_verified

router = APIRouter(prefix="/documents", tags=["documents"])


@router.get("/{document_id}")
async def download(
    document_id: str, actor: CurrentActor, platform: PlatformDep, session: SessionDep
) -> Response:
    """The document's bytes, after checking they still hash to the recorded SHA-256."""
    row = session.get(Document, document_id)
    if row is None or not (row.org_id == actor.org_id or is_operator(actor)):
        raise not_found("document")
    try:
        data = await run_in_threadpool(get_verified, platform.store, row.sha256)
    except ContentIntegrityError:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail="stored document no longer matches its hash"
        ) from None
    append_audit(
        session,
        actor=actor,
        action="document.downloaded",
        target_type="document",
        target_id=row.id,
        detail={"sha256": row.sha256},
    )
    session.commit()
    return Response(
        data,
        media_type=row.content_type,
        headers={
            "Content-Disposition": _disposition(row.filename),
            "X-Content-SHA256": row.sha256,
        },
    )


def _disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback plus the real (often Chinese) name, percent-encoded."""
    fallback = (
        filename.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "")
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
