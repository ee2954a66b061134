"""Accepting uploads: each file is checked whole before anything is stored, then stored by hash."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import UploadFile, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker

from api.errors import invalid
from contracts.common import Actor, DocumentRef
from db.models import Document, new_id
from db.session import transaction
from storage.object_store import ObjectStore, put_content

# Declared types are not trusted: the first bytes decide.
_SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}
ACCEPTED = "PDF, PNG or JPEG"


@dataclass(frozen=True)
class CheckedUpload:
    field: str
    filename: str
    content_type: str
    data: bytes


async def check_upload(upload: UploadFile, *, field: str, max_bytes: int) -> CheckedUpload:
    """Read and validate one file; raises 413/415/422 naming the field."""
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise invalid(
            field,
            f"file larger than {max_bytes} bytes",
            code=status.HTTP_413_CONTENT_TOO_LARGE,
        )
    if not data:
        raise invalid(field, "file is empty")
    content_type = next((t for sig, t in _SIGNATURES.items() if data.startswith(sig)), None)
    if content_type is None:
        raise invalid(
            field,
            f"file type not accepted: must be {ACCEPTED}",
            code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        )
    filename = (upload.filename or field).replace("/", "_").replace("\\", "_")[-200:]
    return CheckedUpload(field=field, filename=filename, content_type=content_type, data=data)


def store_uploads(
    session: Session,
    store: ObjectStore,
    uploads: list[CheckedUpload],
    *,
    actor: Actor,
    kind: str,
) -> dict[str, DocumentRef]:
    """Store the bytes (idempotent by hash) and add document rows to the caller's transaction."""
    refs: dict[str, DocumentRef] = {}
    for upload in uploads:
        stored = put_content(store, upload.data, content_type=upload.content_type)
        row = Document(
            id=new_id("doc"),
            org_id=actor.org_id,
            kind=kind,
            sha256=stored.sha256,
            object_key=stored.key,
            filename=upload.filename,
            content_type=upload.content_type,
            size=stored.size,
            created_by=actor.user_id,
        )
        session.add(row)
        refs[upload.field] = DocumentRef(
            document_id=row.id,
            sha256=row.sha256,
            filename=row.filename,
            content_type=row.content_type,
        )
    session.flush()
    return refs


async def stored(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    uploads: list[CheckedUpload],
    *,
    actor: Actor,
    kind: str,
) -> dict[str, DocumentRef]:
    """``store_uploads`` in a transaction of its own, on a worker thread: for an ``async``
    route, whose event loop the object store's writes would otherwise stop (every request
    waiting on this one's upload)."""

    def storing() -> dict[str, DocumentRef]:
        with transaction(sessions) as session:
            return store_uploads(session, store, uploads, actor=actor, kind=kind)

    return await run_in_threadpool(storing)
