"""Bulk import of a supplier's listings from a spreadsheet (.xlsx) or a CSV file.

The API stores the uploaded file and records the import (``catalogue_imports``), then starts a
``CatalogueImportWorkflow`` under ``catalogue_import_workflow_id``. Rows never travel in the
workflow's payloads: the first activity reads the file from the object store, checks every row
and writes the checked rows to the object store in batches of ``BATCH_ROWS``; each further
activity writes one batch (an upsert by the supplier's SKU, so a corrected file imported again
updates its offers in place). The supplier watches the progress on the import's row.

``on_error`` says what a file with bad rows does: ``reject`` (the default) imports nothing, so
a file is never half imported by surprise; ``skip`` imports the valid rows. Either way every bad
row is named by row number, column and rule, and an error sheet lists the bad rows.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from contracts.common import Frozen, Line

MAX_IMPORT_ROWS = 100_000  # data rows a file (header, category and example rows aside)
MAX_IMPORT_BYTES = 40 * 1024 * 1024  # a 100,000-row CSV of 25 columns is about 20 MB
BATCH_ROWS = 2_000  # checked rows an object-store batch, written by one activity
MAX_LISTED_PROBLEMS = 200  # problems kept on the import's row; the error sheet has them all

ImportId = Annotated[Line, Field(pattern=r"^imp_[0-9a-f]{12,32}$")]


class SheetFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


class OnError(StrEnum):
    REJECT = "reject"  # any bad row: nothing is imported
    SKIP = "skip"  # valid rows are imported, bad ones listed


class ImportStatus(StrEnum):
    CHECKING = "checking"
    WRITING = "writing"
    COMPLETED = "completed"  # every valid row written (skip: bad rows listed beside)
    REJECTED = "rejected"  # the file or its rows refused; nothing written
    FAILED = "failed"  # ended by ops after a step failed for good


FINISHED = frozenset({ImportStatus.COMPLETED, ImportStatus.REJECTED, ImportStatus.FAILED})
# The notification (and the process event organisations' rules may route) when one finishes.
IMPORT_FINISHED = "catalogue_import_finished"


class CatalogueImportInput(Frozen):
    """The import to run: its row holds the file's reference, category and mode."""

    import_id: ImportId


class ImportStep(Frozen):
    import_id: ImportId


class CheckedImport(Frozen):
    """What checking the file found. ``rejected`` set: nothing is to be written, and why."""

    rows_total: Annotated[int, Field(ge=0)]
    rows_valid: Annotated[int, Field(ge=0)]
    error_count: Annotated[int, Field(ge=0)]
    batches: Annotated[int, Field(ge=0)]
    rejected: Annotated[Line, Field(max_length=1000)] | None = None


class WriteBatchInput(Frozen):
    import_id: ImportId
    batch: Annotated[int, Field(ge=0)]


class BatchWritten(Frozen):
    """The import's totals once the batch is written (a batch retried counts once)."""

    rows_written: Annotated[int, Field(ge=0)]
    rows_created: Annotated[int, Field(ge=0)]


class FinishImportInput(Frozen):
    import_id: ImportId
    status: ImportStatus
    reason: Annotated[Line, Field(max_length=1000)] | None = None


class ImportOutcome(Frozen):
    import_id: ImportId
    status: ImportStatus
    rows_total: Annotated[int, Field(ge=0)]
    rows_written: Annotated[int, Field(ge=0)]
    error_count: Annotated[int, Field(ge=0)]
    reason: Annotated[Line, Field(max_length=1000)] | None = None


def catalogue_import_workflow_id(import_id: str) -> str:
    return f"catalogue-import:{import_id}"
