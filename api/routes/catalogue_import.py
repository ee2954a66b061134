"""Bulk import of listings from .xlsx or CSV: the template, the upload, its progress, its errors.

- ``GET /catalogue/categories/{id}/template?format=xlsx|csv``: the category's template
  (``documents.catalogue_templates``), bilingual headers with units, an example row, a readme.
- ``POST /catalogue/imports`` (a supplier): the file is checked at the edge for everything the
  import would refuse as a whole (size, kind, the category it was made for, its headers, its
  number of rows), stored, recorded, and imported in the background by
  ``CatalogueImportWorkflow``; 202 with the import's URL.
- ``GET /catalogue/imports/{id}``: status and progress, the first problems, links; and
  ``/errors``: the error sheet, in the upload's format. Another supplier's import answers 404.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Query, Response, UploadFile, status
from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from api.deps import CurrentActor, PlatformDep, SessionDep, SupplierActor, not_found
from api.downloads import attachment
from api.errors import invalid
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Page, ascending, descending, paged
from api.params import IdPath
from api.platform import Platform
from api.routes.catalogue_categories import category_specs
from api.uploads import CheckedUpload, store_uploads
from contracts.catalogue import CategoryId
from contracts.catalogue_import import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    CatalogueImportInput,
    ImportStatus,
    OnError,
    SheetFormat,
    catalogue_import_workflow_id,
)
from contracts.common import Actor
from db.catalogue import CatalogueCategory
from db.catalogue_imports import CatalogueImport
from db.models import new_id
from db.session import transaction
from documents.catalogue_sheets import UnreadableSheet, count_rows, read_rows, sniff
from documents.catalogue_templates import CONTENT_TYPES, SheetCategory, template
from rules.catalogue_sheet import columns, example_row, read_head
from stack.temporal import search_attributes

router = APIRouter(prefix="/catalogue", tags=["catalogue"])
SHEET: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The sheet, .xlsx or CSV (UTF-8 with BOM).",
        "content": {media: {"schema": {}} for media in CONTENT_TYPES.values()},
        "headers": {"Content-Disposition": {"schema": {"type": "string"}}},
    }
}
NOT_A_SHEET: dict[int | str, dict[str, Any]] = {
    415: {"description": "The file is not an .xlsx workbook or a CSV text."}
}


class ImportProblem(BaseModel):
    row: int
    column: str  # the header as the template writes it
    rule: str


class ImportView(BaseModel):
    import_id: str
    category_id: str
    filename: str
    format: SheetFormat
    on_error: OnError
    status: ImportStatus
    reason: str | None
    rows_total: int
    rows_checked: int
    rows_valid: int
    rows_written: int
    rows_created: int  # of those written, offers new to the catalogue; the rest were updated
    error_count: int  # rows with problems; ``problems`` lists the first, the error sheet all
    problems: list[ImportProblem]
    created_at: datetime
    finished_at: datetime | None
    links: dict[str, str]


@router.get("/categories/{category_id}/template", response_class=Response, responses=SHEET)
def download_template(
    category_id: IdPath,
    _: CurrentActor,
    session: SessionDep,
    format: Annotated[SheetFormat, Query()] = SheetFormat.XLSX,
) -> Response:
    """The category's import template: bilingual headers with units, an example, a readme."""
    category = session.get(CatalogueCategory, category_id)
    if category is None:
        raise not_found("category")
    cols = columns(category_specs(category))
    example = example_row(cols, valid_until=date.today() + timedelta(days=365))
    sheet = SheetCategory(category.id, category.name_zh, category.name_en)
    return Response(
        template(sheet, cols, example, format),
        media_type=CONTENT_TYPES[format],
        headers={"Content-Disposition": attachment(f"{category.id}-template.{format.value}")},
    )


@router.post("/imports", status_code=status.HTTP_202_ACCEPTED, responses=NOT_A_SHEET)
async def start_import(
    actor: SupplierActor,
    platform: PlatformDep,
    response: Response,
    file: Annotated[UploadFile, File(description="the filled template, .xlsx or CSV")],
    category_id: Annotated[CategoryId, Form()],
    on_error: Annotated[OnError, Form()] = OnError.REJECT,
) -> ImportView:
    """Import listings from a filled template in the background: 202 and the import's URL.
    ``on_error=reject`` (default) imports nothing if any row is bad; ``skip`` the valid rows."""
    data = await file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise invalid(
            "file",
            f"larger than {MAX_IMPORT_BYTES:,} bytes",
            code=status.HTTP_413_CONTENT_TOO_LARGE,
        )
    if not data:
        raise invalid("file", "is empty")
    filename = (file.filename or "import").replace("/", "_").replace("\\", "_")[-200:]
    row = await run_in_threadpool(_accept, platform, actor, data, filename, category_id, on_error)
    try:
        await platform.temporal.start_workflow(
            "CatalogueImportWorkflow",
            CatalogueImportInput(import_id=row.id),
            id=catalogue_import_workflow_id(row.id),
            task_queue=platform.settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=search_attributes(actor.org_id, row.id),
        )
    except Exception:
        # Not started, or not known to be: the supplier sees it failed and uploads again. If it
        # did start after all, its first step moves the import on, past this.
        await run_in_threadpool(_not_started, platform, row.id)
        raise
    response.headers["Location"] = f"/catalogue/imports/{row.id}"
    return import_view(row)


def _accept(
    platform: Platform,
    actor: Actor,
    data: bytes,
    filename: str,
    category_id: str,
    on_error: OnError,
) -> CatalogueImport:
    """Refuse at the edge whatever the import would refuse the whole file for; else store the
    file and record the import (one transaction)."""
    try:
        kind = sniff(data)
    except UnreadableSheet as refused:
        raise invalid("file", str(refused), code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE) from None
    with transaction(platform.sessions) as session:
        category = session.get(CatalogueCategory, category_id)
        if category is None:
            raise invalid("category_id", f"no category {category_id}")
        try:
            head = read_head(
                read_rows(data, kind),
                category_id=category_id,
                cols=columns(category_specs(category)),
            )
            if isinstance(head, list):
                raise HTTPException(
                    status.HTTP_422_UNPROCESSABLE_CONTENT,
                    detail=[{"field": p.field, "rule": p.rule} for p in head],
                )
            # The example row may stay, so one more than the bound is still within it.
            bound = head.row + MAX_IMPORT_ROWS + 1
            if count_rows(data, kind, past=bound) > bound:
                raise invalid("file", f"has more than {MAX_IMPORT_ROWS:,} rows: split it")
        except UnreadableSheet as refused:
            raise invalid("file", str(refused)) from None
        upload = CheckedUpload("file", filename, CONTENT_TYPES[kind].split(";")[0], data)
        document = store_uploads(
            session, platform.store, [upload], actor=actor, kind="catalogue_import"
        )["file"]
        row = CatalogueImport(
            id=new_id("imp"),
            supplier_org_id=actor.org_id,
            category_id=category_id,
            created_by=actor.user_id,
            document_id=document.document_id,
            sha256=document.sha256,
            filename=filename,
            format=kind.value,
            on_error=on_error.value,
            status=ImportStatus.CHECKING,
            problems=[],
            batches_done=[],
        )
        session.add(row)
        session.flush()
        session.refresh(row)
        return row


def _not_started(platform: Platform, import_id: str) -> None:
    with transaction(platform.sessions) as session:
        row = session.get(CatalogueImport, import_id, with_for_update=True)
        if row is not None and row.rows_checked == 0 and row.status == ImportStatus.CHECKING:
            row.status = ImportStatus.FAILED
            row.reason = "the import could not be started: upload the file again"


NEWEST_FIRST = Keyset(
    "catalogue-imports", (descending(CatalogueImport.created_at), ascending(CatalogueImport.id))
)


def own_imports(actor: Actor) -> Select[tuple[CatalogueImport]]:
    """The caller's organisation's imports (the workbench's page lists the same)."""
    return select(CatalogueImport).where(CatalogueImport.supplier_org_id == actor.org_id)


@router.get("/imports", responses=NEXT_PAGE_HEADERS)
def list_imports(
    actor: SupplierActor, session: SessionDep, page: Annotated[Page, paged(NEWEST_FIRST)]
) -> list[ImportView]:
    """The supplier's imports with their progress, newest first, a page at a time."""
    return [import_view(row) for row in page.rows(session, own_imports(actor))]


@router.get("/imports/{import_id}")
def get_import(import_id: IdPath, actor: SupplierActor, session: SessionDep) -> ImportView:
    """The import's status and progress, its first problems, and links to its error sheet."""
    return import_view(_own_import(session, actor, import_id))


@router.get("/imports/{import_id}/errors", response_class=Response, responses=SHEET)
def download_errors(
    import_id: IdPath, actor: SupplierActor, session: SessionDep, platform: PlatformDep
) -> Response:
    """The bad rows as uploaded with an error column: correct them and import this file."""
    row = _own_import(session, actor, import_id)
    session.close()  # its connection back before the object store is read
    if row.errors_key is None:
        raise not_found("error sheet")
    kind = SheetFormat(row.format)
    return Response(
        platform.store.get(row.errors_key),
        media_type=CONTENT_TYPES[kind],
        headers={"Content-Disposition": attachment(f"{row.id}-errors.{kind.value}")},
    )


def _own_import(session: Session, actor: Actor, import_id: str) -> CatalogueImport:
    row = session.get(CatalogueImport, import_id)
    if row is None or row.supplier_org_id != actor.org_id:
        raise not_found("import")
    return row


def import_view(row: CatalogueImport) -> ImportView:
    links = {
        "self": f"/catalogue/imports/{row.id}",
        "template": f"/catalogue/categories/{row.category_id}/template?format={row.format}",
    }
    if row.errors_key is not None:
        links["errors"] = f"/catalogue/imports/{row.id}/errors"
    copied = {name: getattr(row, name) for name in _SAME_NAMED}
    problems = [ImportProblem.model_validate(p) for p in row.problems]
    return ImportView(import_id=row.id, problems=problems, links=links, **copied)


# The view's fields that are the import row's columns of the same name.
_SAME_NAMED = tuple(set(ImportView.model_fields) - {"import_id", "problems", "links"})
