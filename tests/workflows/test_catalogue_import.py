"""The catalogue import's workflow on the time-skipping server, with its real activities on real
PostgreSQL and S3: a file of several batches written once each (a batch written again counts
once and changes nothing), a refused file ending as a result with nothing written, and a step
that fails for good asking ops, who end the import, recorded as failed with their reason. Each
tells the supplier once how it ended, with the facts its rules may test."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.catalogue_import import BatchLine, CatalogueImports, batch_key
from contracts.attention import ATTENTION_TASK_KIND, ENDED_BY_OPS, PERMANENT_FAILURE
from contracts.catalogue import AttributeKind, AttributeSpec, ProductListing
from contracts.catalogue_import import (
    BATCH_ROWS,
    IMPORT_FINISHED,
    CatalogueImportInput,
    FinishImportInput,
    ImportOutcome,
    ImportStatus,
    ImportStep,
    OnError,
    SheetFormat,
    WriteBatchInput,
    catalogue_import_workflow_id,
)
from contracts.notifications import Condition, Op
from db.catalogue import CatalogueCategory, CatalogueOffer, Product
from db.catalogue_imports import CatalogueImport
from db.event_facts import event_facts
from db.models import HumanTask, Notification
from db.notification_rules import ProcessEvent
from db.session import transaction
from documents.catalogue_templates import SheetCategory, template
from gateways.certification_registry import CertificationRegistryClient
from gateways.regulator import RegulatorClient
from rules.catalogue_sheet import columns, example_row
from rules.notification_rules import Fact, matches
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness import builders as b
from tests.harness.catalogue_imports import record_import
from tests.harness.histories import record_history
from tests.harness.temporal import eventually, new_task_queue
from tests.workflows.test_sourcing import decide
from worker import build_worker
from workflows.catalogue_import import CatalogueImportWorkflow

SPECS = (
    AttributeSpec(key="voltage", label_zh="电压", label_en="Voltage", kind=AttributeKind.NUMBER,
                  unit="v", required=True),
)  # fmt: skip
VALID_UNTIL = (datetime.now(UTC).date() + timedelta(days=90)).isoformat()


@pytest.fixture
async def client(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
    regulator: RegulatorClient,
) -> AsyncIterator[tuple[Client, str]]:
    task_queue = new_task_queue()
    async with build_worker(
        time_skipping_env.client,
        settings=settings,
        sessions=sessions,
        store=store,
        registry=registry,
        regulator=regulator,
        task_queue=task_queue,
    ):
        yield time_skipping_env.client, task_queue


@pytest.fixture
def category(sessions: sessionmaker[Session]) -> SheetCategory:
    sheet = SheetCategory(f"drills-{uuid.uuid4().hex[:8]}", "电钻", "Drills")
    with transaction(sessions) as session:
        session.add(
            CatalogueCategory(
                id=sheet.category_id,
                path=sheet.category_id,
                name_zh=sheet.name_zh,
                name_en=sheet.name_en,
                attributes=[spec.model_dump(mode="json") for spec in SPECS],
                synonyms=[],
                updated_by="usr_test_ops",
            )
        )
    return sheet


def sheet(category: SheetCategory, rows: list[list[str]]) -> bytes:
    """The category's CSV template (as the API serves it) with ``rows`` below the example."""
    cols = columns(SPECS)
    head = template(
        category, cols, example_row(cols, valid_until=datetime.now(UTC).date()), SheetFormat.CSV
    )
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return head + text.getvalue().encode()


def drill(sku: str, price: str = "399") -> list[str]:
    return [sku, f"充电式电钻 {sku}", "博世 Bosch", f"GSR-{sku}", "CNY", "台", price, "", "50",
            "1", "5", "CN", VALID_UNTIL, "", "13%", "", "", "", "18 V"]  # fmt: skip


def recorded_import(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    category: SheetCategory,
    data: bytes,
    *,
    on_error: OnError,
    stored: bool = True,
) -> tuple[str, str]:
    """A new supplier's import of ``data``, as the API records it."""
    supplier = b.make_org(sessions).id
    import_id = record_import(
        sessions,
        store,
        supplier_org_id=supplier,
        category_id=category.category_id,
        data=data,
        kind=SheetFormat.CSV,
        on_error=on_error,
        stored=stored,
    )
    return import_id, supplier


async def start(client: tuple[Client, str], import_id: str) -> WorkflowHandle[Any, Any]:
    temporal, task_queue = client
    return await temporal.start_workflow(
        CatalogueImportWorkflow.run,
        CatalogueImportInput(import_id=import_id),
        id=catalogue_import_workflow_id(import_id),
        task_queue=task_queue,
    )


async def ended(
    handle: WorkflowHandle[Any, Any], status: WorkflowExecutionStatus
) -> WorkflowHandle[Any, Any]:
    """The handle once its workflow has ended so: its result is then read at once, without
    the time-skipping server moving its clock while the test waits."""

    async def closed() -> bool:
        now = (await handle.describe()).status
        assert now == status, now
        return True

    await eventually(closed, attempts=1200, interval=0.1)
    return handle


async def outcome(handle: WorkflowHandle[Any, Any]) -> ImportOutcome:
    await ended(handle, WorkflowExecutionStatus.COMPLETED)
    result: ImportOutcome = await handle.result()
    return result


def row_of(sessions: sessionmaker[Session], import_id: str) -> CatalogueImport:
    with sessions() as session:
        found = session.get(CatalogueImport, import_id)
    assert found is not None
    return found


def told(sessions: sessionmaker[Session], import_id: str) -> tuple[str, dict[str, Fact]]:
    """The supplier's one notice that the import finished, and the facts its event gives rules."""
    with sessions() as session:
        (notice,) = session.scalars(
            select(Notification).where(
                Notification.subject_id == import_id, Notification.kind == IMPORT_FINISHED
            )
        ).all()
        (event,) = session.scalars(
            select(ProcessEvent).where(
                ProcessEvent.subject_id == import_id, ProcessEvent.event_type == IMPORT_FINISHED
            )
        ).all()
        assert (notice.role, event.org_ids) == ("supplier", [notice.org_id])
        return notice.message, event_facts(session, event)


def offers(sessions: sessionmaker[Session], supplier_org_id: str) -> list[CatalogueOffer]:
    with sessions() as session:
        return list(
            session.scalars(
                select(CatalogueOffer).where(CatalogueOffer.supplier_org_id == supplier_org_id)
            )
        )


async def test_a_file_of_several_batches_is_written_once_each(
    client: tuple[Client, str],
    sessions: sessionmaker[Session],
    store: ObjectStore,
    category: SheetCategory,
) -> None:
    count = 2 * BATCH_ROWS + 500
    rows = [drill(f"D{n:05d}") for n in range(count)]
    rows[10][6] = "free"  # row 14 of the file: the unit price
    data = sheet(category, rows)
    import_id, supplier = recorded_import(sessions, store, category, data, on_error=OnError.SKIP)

    handle = await start(client, import_id)
    done = await outcome(handle)

    assert (done.status, done.rows_total, done.rows_written, done.error_count) == (
        ImportStatus.COMPLETED, count, count - 1, 1,
    )  # fmt: skip
    row = row_of(sessions, import_id)
    assert (row.batches, sorted(row.batches_done), row.rows_created) == (3, [0, 1, 2], count - 1)
    assert row.problems == [{"row": 14, "column": "单价 Unit price *", "rule": "must be a number"}]
    assert len(offers(sessions, supplier)) == count - 1
    message, facts = told(sessions, import_id)
    assert message == (
        f"Catalogue import of listings.csv completed: {count - 1} rows written,"
        " 1 row with problems in the error sheet"
    )
    assert (facts["status"], facts["rows_written"], facts["error_count"]) == (
        "completed", count - 1, 1,
    )  # fmt: skip
    some_refused = Condition(field="error_count", op=Op.GT, value=Decimal(0))
    assert matches([some_refused], facts)
    await record_history(handle, "catalogue_import_batches")

    # A batch written again (an activity retried after its commit) counts once, changes nothing.
    steps = CatalogueImports(sessions, store)
    again = ActivityEnvironment().run(
        steps.write_catalogue_batch, WriteBatchInput(import_id=import_id, batch=1)
    )
    assert (again.rows_written, again.rows_created) == (count - 1, count - 1)
    with sessions() as session:
        revisions = session.scalar(
            select(func.max(CatalogueOffer.revision)).where(
                CatalogueOffer.supplier_org_id == supplier
            )
        )
    assert revisions == 1
    # Finished again (an activity retried after its commit): the supplier is told once.
    ActivityEnvironment().run(
        steps.finish_catalogue_import,
        FinishImportInput(import_id=import_id, status=ImportStatus.COMPLETED, reason=None),
    )
    assert told(sessions, import_id)[0] == message


def test_a_batch_stored_as_listings_before_batches_held_rows_is_still_written(
    sessions: sessionmaker[Session], store: ObjectStore, category: SheetCategory
) -> None:
    """Batches once held each row's listing, not the rows it writes: an import checked then
    and written now (its workflow running across the upgrade) reads them as they are."""
    data = sheet(category, [drill("OLD-1"), drill("OLD-2", price="12.50")])
    import_id, supplier = recorded_import(sessions, store, category, data, on_error=OnError.SKIP)
    steps = CatalogueImports(sessions, store)
    checked = ActivityEnvironment().run(
        steps.check_catalogue_import, ImportStep(import_id=import_id)
    )
    assert checked.batches == 1
    lines = [json.loads(line) for line in store.get(batch_key(import_id, 0)).splitlines()]
    assert [line["offer"]["sku"] for line in lines] == ["OLD-1", "OLD-2"]
    old = [
        BatchLine(
            row=line["row"],
            listing=ProductListing.model_validate(listing(category, line)),
            attributes=line["product"]["attributes"],
            hazard_class=None,
            units={"voltage": "v"},
        ).model_dump_json()
        for line in lines
    ]
    store.put(batch_key(import_id, 0), "\n".join(old).encode(), content_type="application/x-ndjson")

    written = ActivityEnvironment().run(
        steps.write_catalogue_batch, WriteBatchInput(import_id=import_id, batch=0)
    )

    assert (written.rows_written, written.rows_created) == (2, 2)
    prices = {offer.sku: offer.list_price for offer in offers(sessions, supplier)}
    assert prices == {"OLD-1": Decimal("399"), "OLD-2": Decimal("12.50")}
    with sessions() as session:
        product = session.scalar(select(Product).where(Product.model == "GSR-OLD-2"))
    assert (
        product is not None and "18v" in product.terms and product.attributes == {"voltage": "18"}
    )


def listing(category: SheetCategory, line: dict[str, Any]) -> dict[str, Any]:
    """The listing a new-style batch line was made from, as an old-style line held it."""
    product, offer = line["product"], line["offer"]
    return {
        "sku": offer["sku"],
        "category_id": category.category_id,
        "name": product["name"],
        "brand": product["brand"],
        "model": product["model"],
        "attributes": {"voltage": "18 V"},
        "offer": offer["terms"],
    }


async def test_a_refused_file_ends_as_a_result_with_nothing_written(
    client: tuple[Client, str],
    sessions: sessionmaker[Session],
    store: ObjectStore,
    category: SheetCategory,
) -> None:
    data = sheet(category, [drill("OK-1"), drill("BAD-1", price="-5")])
    import_id, supplier = recorded_import(sessions, store, category, data, on_error=OnError.REJECT)

    handle = await start(client, import_id)
    done = await outcome(handle)

    assert (done.status, done.rows_total, done.rows_written, done.error_count) == (
        ImportStatus.REJECTED, 2, 0, 1,
    )  # fmt: skip
    assert done.reason is not None and "nothing was imported" in done.reason
    row = row_of(sessions, import_id)
    assert row.errors_key is not None and store.exists(row.errors_key)
    assert row.finished_at is not None and row.batches == 0
    assert offers(sessions, supplier) == []
    message, facts = told(sessions, import_id)
    assert message.startswith("Catalogue import of listings.csv was rejected, nothing written")
    assert (facts["status"], facts["rows_written"], facts["error_count"]) == ("rejected", 0, 1)
    await record_history(handle, "catalogue_import_rejected")


async def test_a_step_that_fails_for_good_asks_ops_who_may_end_the_import(
    client: tuple[Client, str],
    sessions: sessionmaker[Session],
    store: ObjectStore,
    category: SheetCategory,
) -> None:
    data = sheet(category, [drill("LOST-1")])
    import_id, _ = recorded_import(
        sessions, store, category, data, on_error=OnError.REJECT, stored=False
    )
    handle = await start(client, import_id)
    workflow_id = catalogue_import_workflow_id(import_id)

    async def asked() -> HumanTask | None:
        with sessions() as session:
            return session.scalars(
                select(HumanTask)
                .where(HumanTask.subject_id == workflow_id, HumanTask.kind == ATTENTION_TASK_KIND)
                .where(HumanTask.status == "open")
            ).first()

    task = await eventually(asked, attempts=600, interval=0.1)
    assert task.details["activity"] == "check_catalogue_import"
    assert task.details["error"].startswith(f"{PERMANENT_FAILURE}: ObjectNotFound")
    ops = b.supervisor_actor()
    await decide(client[0], workflow_id, task.id, ops, "end", comment="file lost: upload again")

    await ended(handle, WorkflowExecutionStatus.FAILED)
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == ENDED_BY_OPS
    row = row_of(sessions, import_id)
    assert row.status == ImportStatus.FAILED
    assert row.reason is not None and "file lost: upload again" in row.reason
    message, _ = told(sessions, import_id)
    assert message.startswith("Catalogue import of listings.csv was stopped by platform ops")
    assert "file lost: upload again" in message
    await record_history(handle, "catalogue_import_ended_by_ops")
