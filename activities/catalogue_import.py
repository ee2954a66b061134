"""The import's steps: check the file and store its checked rows in batches, write one batch,
finish. Rows travel between them through the object store, never through workflow payloads.

- ``check_catalogue_import`` reads the uploaded file (by its SHA-256), checks every row
  (``activities.catalogue_checking``) and stores each valid row as the rows it will write
  (``db.catalogue_writes.listing_rows``: product indexed for search, offer) in JSON-lines
  batches of ``BATCH_ROWS`` under ``catalogue-imports/<id>/``, and the error sheet beside them.
  What a file cannot be imported for (unreadable, wrong headers, too many rows, bad rows in
  ``reject`` mode) is a result with its reason, not a failure. Safe to retry: the same file
  gives the same batches under the same keys and the same counts.
- ``write_catalogue_batch`` upserts one batch by SKU (``db.catalogue_writes.write_rows``) and adds
  it to the import's progress in the same transaction, under a lock on the import's row that
  also records the batch as done: a retried batch is written once.
- ``finish_catalogue_import`` records the outcome; retried, it records the same one.
"""

from __future__ import annotations

import json
import re

from pydantic import BaseModel
from sqlalchemy import any_, func, literal, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.catalogue_checking import FileCheck, check_file
from contracts.attention import INVALID_RECORD
from contracts.catalogue import AttributeSpec, ProductListing
from contracts.catalogue_import import (
    BATCH_ROWS,
    FINISHED,
    IMPORT_FINISHED,
    MAX_LISTED_PROBLEMS,
    BatchWritten,
    CheckedImport,
    FinishImportInput,
    ImportOutcome,
    ImportStatus,
    ImportStep,
    OnError,
    SheetFormat,
    WriteBatchInput,
)
from contracts.common import Role
from contracts.tasks import NotifyInput
from db.catalogue import CatalogueCategory
from db.catalogue_imports import CatalogueImport
from db.catalogue_writes import listing_rows, write_rows
from db.notifications import store_notification
from db.session import transaction
from documents.catalogue_templates import CONTENT_TYPES, SheetCategory, error_sheet
from rules.catalogue_listing import CheckedListing
from rules.catalogue_sheet import (
    columns,
)
from rules.waybill_parties import CHINA_STANDARD_TIME
from storage.object_store import ObjectStore, get_verified

_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
_OLD_LINE = re.compile(rb'\{"row":\d+,"listing":')  # how pydantic wrote a BatchLine


class BatchLine(BaseModel):
    """One checked row as batches stored it before they held its rows (a JSON line with a
    ``listing``): still read, for imports checked then and written now."""

    row: int
    listing: ProductListing
    attributes: dict[str, str]
    hazard_class: str | None
    units: dict[str, str]

    def checked(self) -> CheckedListing:
        return CheckedListing(self.listing, self.attributes, self.hazard_class, self.units)


def batch_rows(line: bytes) -> str | bytes:
    """A batch line as ``write_rows`` takes it. Its rows were made from the row by
    ``check_file`` and come back from our own store, so they go to the database as they are:
    validating and indexing each listing again was half of writing a batch."""
    if _OLD_LINE.match(line) is None:
        return line
    old = BatchLine.model_validate_json(line).checked()
    return json.dumps(listing_rows(old), ensure_ascii=False)


def batch_key(import_id: str, batch: int) -> str:
    return f"catalogue-imports/{import_id}/batch-{batch:05d}.jsonl"


def errors_key(import_id: str, kind: SheetFormat) -> str:
    return f"catalogue-imports/{import_id}/errors.{kind.value}"


class CatalogueImports:
    """The import's activities: the database, and the object store for files and batches."""

    def __init__(self, sessions: sessionmaker[Session], store: ObjectStore) -> None:
        self._sessions = sessions
        self._store = store

    @activity.defn
    def check_catalogue_import(self, step: ImportStep) -> CheckedImport:
        """Check the file's rows; store the valid ones in batches and the error sheet."""
        with transaction(self._sessions) as session:
            row = _import(session, step.import_id)
            row.status, row.rows_checked = ImportStatus.CHECKING, 0
            category = session.get(CatalogueCategory, row.category_id)
            if category is None:
                raise _invalid(f"import {row.id}: no category {row.category_id}")
            specs = tuple(AttributeSpec.model_validate(spec) for spec in category.attributes)
            sheet = SheetCategory(category.id, category.name_zh, category.name_en)
            sha256, kind, on_error = row.sha256, SheetFormat(row.format), OnError(row.on_error)
            # The day the file was uploaded, China time: a check retried days later answers
            # as the first did (an offer valid until then is not refused on the retry).
            uploaded_on = row.created_at.astimezone(CHINA_STANDARD_TIME).date()
        found = check_file(
            get_verified(self._store, sha256),
            kind,
            category_id=sheet.category_id,
            specs=specs,
            today=uploaded_on,
            progress=lambda rows: self._progress(step.import_id, rows),
        )
        valid = len(found.lines)
        rejected = found.refused or _rejected(found, on_error)
        key = None
        if found.bad:
            key = errors_key(step.import_id, kind)
            sheet_bytes = error_sheet(sheet, columns(specs), found.bad_rows(), kind)
            self._store.put(key, sheet_bytes, content_type=CONTENT_TYPES[kind])
        batches = 0 if rejected else -(-valid // BATCH_ROWS)
        for batch in range(batches):
            lines = found.lines[batch * BATCH_ROWS : (batch + 1) * BATCH_ROWS]
            data = b"\n".join(line for _, line in lines)
            self._store.put(
                batch_key(step.import_id, batch), data, content_type="application/x-ndjson"
            )
        problems = found.problems()
        with transaction(self._sessions) as session:
            row = _import(session, step.import_id)
            row.rows_total = row.rows_checked = found.rows_total
            row.rows_valid = valid
            row.error_count = len(found.bad)
            row.problems = [
                {"row": p.row, "column": p.column, "rule": p.rule}
                for p in problems[:MAX_LISTED_PROBLEMS]
            ]
            row.errors_key = key
            row.batches = batches
            if batches:
                row.status = ImportStatus.WRITING
        return CheckedImport(
            rows_total=found.rows_total,
            rows_valid=valid,
            error_count=len(found.bad),
            batches=batches,
            rejected=_one_line(rejected)[:1000] if rejected else None,
        )

    def _progress(self, import_id: str, rows: int) -> None:
        activity.heartbeat(rows)
        with transaction(self._sessions) as session:
            session.execute(
                update(CatalogueImport)
                .where(CatalogueImport.id == import_id)
                .values(rows_checked=rows, updated_at=func.now())
            )

    @activity.defn
    def write_catalogue_batch(self, step: WriteBatchInput) -> BatchWritten:
        """Upsert one batch by SKU and count it, once, in the same transaction. Batches of one
        import may be written at once: the import's row is locked only by the final count."""
        with self._sessions() as session:
            row = _import(session, step.import_id)
            supplier_org_id, done = row.supplier_org_id, step.batch in row.batches_done
        if not done:
            data = self._store.get(batch_key(step.import_id, step.batch))
            listings = [batch_rows(line) for line in data.splitlines()]
            try:
                with transaction(self._sessions) as session:
                    written = write_rows(session, supplier_org_id, listings, step.import_id)
                    counted = session.execute(
                        update(CatalogueImport)
                        .where(
                            CatalogueImport.id == step.import_id,
                            ~(literal(step.batch) == any_(CatalogueImport.batches_done)),
                        )
                        .values(
                            rows_written=CatalogueImport.rows_written + len(written),
                            rows_created=CatalogueImport.rows_created
                            + sum(w.created for w in written),
                            batches_done=func.array_append(
                                CatalogueImport.batches_done, step.batch
                            ),
                            updated_at=func.now(),
                        )
                        .returning(CatalogueImport.id)
                    ).first()
                    if counted is None:
                        # Written meanwhile by an attempt that then lost its answer: this
                        # attempt's writes are rolled back, so the batch counts and bumps once.
                        raise _AlreadyWritten
            except _AlreadyWritten:
                pass
        with self._sessions() as session:
            row = _import(session, step.import_id)
            return BatchWritten(rows_written=row.rows_written, rows_created=row.rows_created)

    @activity.defn
    def finish_catalogue_import(self, finish: FinishImportInput) -> ImportOutcome:
        """Record the import's outcome and tell the supplier, once; an import already finished
        keeps its own."""
        with transaction(self._sessions) as session:
            row = _import(session, finish.import_id, lock=True)
            if row.status not in FINISHED:
                row.status = finish.status
                row.reason = finish.reason
                row.finished_at = func.now()
                session.flush()
                session.refresh(row)
                store_notification(session, _finished_notice(row))
            return ImportOutcome(
                import_id=row.id,
                status=ImportStatus(row.status),
                rows_total=row.rows_total,
                rows_written=row.rows_written,
                error_count=row.error_count,
                reason=row.reason,
            )


def _finished_notice(row: CatalogueImport) -> NotifyInput:
    """The supplier's notice that an import ended: in-app, and the event its rules may route
    (``catalogue_import_finished``). Kept under the import's id, so a retry adds none."""
    outcome = {
        ImportStatus.COMPLETED: f"completed: {row.rows_written} rows written",
        ImportStatus.REJECTED: "was rejected, nothing written",
        ImportStatus.FAILED: f"was stopped by platform ops after {row.rows_written} rows written",
    }[ImportStatus(row.status)]
    rows = "row" if row.error_count == 1 else "rows"
    problems = (
        f", {row.error_count} {rows} with problems in the error sheet" if row.error_count else ""
    )
    reason = f" ({row.reason})" if row.reason else ""
    return NotifyInput(
        notification_id=f"catalogue_import:{row.id}:finished",
        org_id=row.supplier_org_id,
        role=Role.SUPPLIER,
        kind=IMPORT_FINISHED,
        subject_type="catalogue_import",
        subject_id=row.id,
        message=_one_line(f"Catalogue import of {row.filename} {outcome}{problems}{reason}")[:2000],
    )


class _AlreadyWritten(Exception):
    """The batch was counted by another attempt: roll this one back."""


def _rejected(found: FileCheck, on_error: OnError) -> str | None:
    if found.rows_total == 0:
        return "file: has no rows to import below the headers"
    if found.bad and on_error is OnError.REJECT:
        return (
            f"{len(found.bad)} of {found.rows_total} rows have problems, so nothing was "
            "imported (on_error=reject): correct them in the error sheet and import it again"
        )
    if not found.lines:
        return f"none of the {found.rows_total} rows can be imported: see the error sheet"
    return None


def _one_line(text: str) -> str:
    """A reason as a contract's single line: controls and line breaks a file held made spaces."""
    return " ".join(_CONTROLS.sub(" ", text).split())


def _import(session: Session, import_id: str, *, lock: bool = False) -> CatalogueImport:
    row = session.get(CatalogueImport, import_id, with_for_update=lock)
    if row is None:
        raise _invalid(f"no catalogue import {import_id}")
    return row


def _invalid(message: str) -> ApplicationError:
    return ApplicationError(message, type=INVALID_RECORD, non_retryable=True)
