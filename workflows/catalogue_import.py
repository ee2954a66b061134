"""A supplier's bulk import of listings, in the background, with progress the supplier watches.

Orchestrates: check the file and store its checked rows in batches
(``check_catalogue_import``); if the file or its rows are refused, finish as rejected with the
reason (a result: nothing was written); otherwise write the batches, ``WRITERS`` at a time
(``write_catalogue_batch``, each an upsert by SKU counted on the import's row in the same
transaction) and finish as completed. Rows never travel in this workflow's payloads: the
activities pass them through the object store, so a 100,000-row file keeps a short history.

A step that fails for good (a bug, a row the database refuses) asks platform ops through the
inherited attention task: retry once the cause is fixed, or end the import, which is then
recorded as failed with ops' reason. Updates: ``decide_task`` (inherited, for that task). No
queries: the import's row in PostgreSQL is its progress.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.attention import ENDED_BY_OPS, INVALID_RECORD
    from contracts.catalogue_import import (
        BatchWritten,
        CatalogueImportInput,
        CheckedImport,
        FinishImportInput,
        ImportOutcome,
        ImportStatus,
        ImportStep,
        WriteBatchInput,
    )
    from workflows import policies
    from workflows.human_tasks import HumanTaskWorkflow

# Our own database and object store, retried without limit like every database step; the
# check reads and checks up to 100,000 rows, so it is given minutes, and a batch of 2,000.
_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=[INVALID_RECORD],
)
CHECKING = policies.ActivityPolicy(_RETRY, timedelta(minutes=15))
WRITING = policies.ActivityPolicy(_RETRY, timedelta(minutes=2))
# Batches written at once: one's database round trips overlap another's Python work (the rows
# and their search terms); more gain nothing on two cores and make products' upserts meet.
WRITERS = 2


@workflow.defn
class CatalogueImportWorkflow(HumanTaskWorkflow):
    @workflow.run
    async def run(self, input: CatalogueImportInput) -> ImportOutcome:
        import_id = input.import_id
        try:
            checked = await policies.call(
                "check_catalogue_import",
                ImportStep(import_id=import_id),
                CheckedImport,
                policy=CHECKING,
            )
            if checked.rejected is not None:
                return await self._finish(import_id, ImportStatus.REJECTED, checked.rejected)
            batches = list(range(checked.batches))
            writers = min(WRITERS, len(batches))
            await asyncio.gather(*(self._write(import_id, batches) for _ in range(writers)))
            return await self._finish(import_id, ImportStatus.COMPLETED, None)
        except ApplicationError as ended:
            if ended.type != ENDED_BY_OPS:
                raise
            # The supplier sees why the import stopped; the batches written so far stay
            # (each is whole), and importing the file again completes it.
            reason = " ".join(ended.message.split())[:1000]
            await self._finish(import_id, ImportStatus.FAILED, reason)
            raise

    async def _write(self, import_id: str, batches: list[int]) -> None:
        """Write batches, taking the next from ``batches`` until none is left."""
        while batches:
            await policies.call(
                "write_catalogue_batch",
                WriteBatchInput(import_id=import_id, batch=batches.pop(0)),
                BatchWritten,
                policy=WRITING,
            )

    async def _finish(
        self, import_id: str, status: ImportStatus, reason: str | None
    ) -> ImportOutcome:
        return await policies.call(
            "finish_catalogue_import",
            FinishImportInput(import_id=import_id, status=status, reason=reason),
            ImportOutcome,
            policy=policies.DATABASE,
        )
