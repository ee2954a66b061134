"""A supplier's catalogue import recorded as the API records it (the file stored by its hash, its
document and import rows), for the workflow tests and the benchmark that start the import's
workflow or run its activities without going through the upload."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from contracts.catalogue_import import ImportStatus, OnError, SheetFormat
from db.catalogue_imports import CatalogueImport
from db.models import Document, new_id
from db.session import transaction
from documents.catalogue_templates import CONTENT_TYPES
from storage.object_store import ObjectStore, content_key, put_content


def record_import(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    *,
    supplier_org_id: str,
    category_id: str,
    data: bytes,
    kind: SheetFormat,
    on_error: OnError = OnError.REJECT,
    stored: bool = True,
) -> str:
    """The import's id; ``stored=False`` leaves the file out of the object store (a step that
    cannot succeed however often it is retried)."""
    content_type = CONTENT_TYPES[kind].split(";")[0]
    digest = put_content(store, data, content_type=content_type).sha256 if stored else "0" * 64
    import_id = new_id("imp")
    filename = f"listings.{kind.value}"
    with transaction(sessions) as session:
        document = Document(
            id=new_id("doc"),
            org_id=supplier_org_id,
            kind="catalogue_import",
            sha256=digest,
            object_key=content_key(digest),
            filename=filename,
            content_type=content_type,
            size=len(data),
            created_by="usr_test_supplier",
        )
        session.add(document)
        session.flush()
        session.add(
            CatalogueImport(
                id=import_id,
                supplier_org_id=supplier_org_id,
                category_id=category_id,
                created_by="usr_test_supplier",
                document_id=document.id,
                sha256=digest,
                filename=filename,
                format=kind.value,
                on_error=on_error.value,
                status=ImportStatus.CHECKING,
                problems=[],
                batches_done=[],
            )
        )
    return import_id
