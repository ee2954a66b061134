"""Sending a stored document: its bytes re-checked against the recorded SHA-256, every download
audited, the file name readable in any browser."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, status
from fastapi.responses import Response
from sqlalchemy.orm import Session

from contracts.common import Actor
from db.audit_log import append_audit
from db.models import Document
from storage.object_store import ContentIntegrityError, ObjectNotFound, ObjectStore, get_verified


def download_responses(*content_types: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a download route answering one of ``content_types`` (the
    route takes ``response_class=Response``, so FastAPI adds no JSON of its own)."""
    return {
        200: {
            "description": "The stored bytes, re-checked against their recorded SHA-256.",
            "content": {media: {"schema": {}} for media in content_types},
            "headers": {
                "Content-Disposition": {
                    "description": "attachment, with the file's name (RFC 6266)",
                    "schema": {"type": "string"},
                },
                "X-Content-SHA256": {
                    "description": "the SHA-256 the bytes were checked against",
                    "schema": {"type": "string"},
                },
            },
        }
    }


# What a stored document may be: an upload (PDF, PNG, JPEG), a rendered PDF, an e-waybill's JSON.
ANY_DOCUMENT = download_responses("application/pdf", "image/png", "image/jpeg", "application/json")
PDF_DOCUMENT = download_responses("application/pdf")


def attachment(filename: str) -> str:
    """RFC 6266: an ASCII fallback plus the real (often Chinese) name, percent-encoded."""
    fallback = (
        filename.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "")
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def audited_download(
    store: ObjectStore,
    session: Session,
    actor: Actor,
    document: Document,
    *,
    filename: str | None = None,
    detail: Mapping[str, str] | None = None,
    hint: str = "",
) -> Response:
    """The document as a download (named ``filename`` or its own name), once its bytes still
    hash to the recorded SHA-256; the download is audited with ``detail``. Missing or altered
    bytes answer 409, with ``hint`` on where to look."""
    try:
        data = get_verified(store, document.sha256)
    except (ContentIntegrityError, ObjectNotFound):
        problem = "stored document is missing or no longer matches its hash"
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"{problem}: {hint}" if hint else problem
        ) from None
    append_audit(
        session,
        actor=actor,
        action="document.downloaded",
        target_type="document",
        target_id=document.id,
        detail={"sha256": document.sha256, **(detail or {})},
    )
    session.commit()
    return Response(
        data,
        media_type=document.content_type,
        headers={
            "Content-Disposition": attachment(filename or document.filename),
            "X-Content-SHA256": document.sha256,
        },
    )
