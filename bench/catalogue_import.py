"""Bulk import: rows per second for a generated file (100,000 rows by default), through the real
activities on the real parts (PostgreSQL with migrations, S3 over HTTP to moto), each against a
baseline on the same rows in the same run:

- parse+check, CSV: ``check_catalogue_import`` (read, every row checked in two processes as the
  worker checks large files, batches and error sheet stored) against ``csv.reader`` over the
  same bytes;
- parse+check, .xlsx: the same activity against openpyxl's read-only mode merely reading the
  cells (what the import would cost with the usual library);
- write: every ``write_catalogue_batch`` (new offers, then the same file again: updates in
  place) against a bare ``COPY`` of the same product and offer rows into tables made ``LIKE``
  the real ones with all their indexes (the search's GIN indexes among them);
- end to end: the whole ``CatalogueImportWorkflow`` on the Temporal dev server with the worker
  ``worker.py`` builds, from start to completed.

Usage: ``python -m bench.catalogue_import [--rows 100000]``. The issue's target: 2,000 rows/s.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.catalogue_checking import stop_check_processes, use_check_processes
from activities.catalogue_import import CatalogueImports, batch_key
from bench.services import Services, quiet_logs, running_services
from bench.stats import Row, print_header, table
from contracts.catalogue import AttributeKind, AttributeSpec
from contracts.catalogue_import import (
    CatalogueImportInput,
    CheckedImport,
    ImportOutcome,
    ImportStep,
    SheetFormat,
    WriteBatchInput,
    catalogue_import_workflow_id,
)
from db.catalogue import CatalogueCategory
from db.session import transaction
from documents.catalogue_templates import SheetCategory, template
from rules.catalogue_sheet import columns, example_row
from tests.harness.builders import make_org
from tests.harness.catalogue_imports import record_import
from tests.harness.temporal import new_task_queue
from worker import build_worker
from workflows.catalogue_import import WRITERS

TARGET_ROWS_PER_S = 2_000
SPECS = (
    AttributeSpec(key="length", label_zh="长度", label_en="Length", kind=AttributeKind.NUMBER,
                  unit="mm", required=True),
    AttributeSpec(key="material", label_zh="材质", label_en="Material", kind=AttributeKind.TEXT),
    AttributeSpec(key="head", label_zh="头型", label_en="Head", kind=AttributeKind.CHOICE,
                  choices=("Pan", "Countersunk", "Hex")),
)  # fmt: skip
CATEGORY = SheetCategory("bench-screws", "螺丝", "Screws")
HEADS = ("Pan", "Countersunk", "Hex")
MATERIALS = ("不锈钢 304", "碳钢镀锌", "黄铜", "尼龙")


def generated(rows: int, prefix: str) -> list[list[str]]:
    """``rows`` listings as a supplier's sheet holds them: Chinese names, units to convert,
    price breaks, provinces by name; one product a row (distinct models)."""
    valid_until = (datetime.now(UTC).date() + timedelta(days=365)).isoformat()
    return [
        [f"{prefix}{n:06d}", f"{MATERIALS[n % 4]}十字{HEADS[n % 3]}螺丝 M{n % 12 + 2}",
         ("世达 SATA", "博世 Bosch", "长城精工")[n % 3], f"M{n % 12 + 2}x{n}", "CNY", "个",
         f"{(n % 500) / 100 + 0.05:.2f}", "1000:0.04; 10000:0.03", str(1000 + n % 9000), "100",
         str(n % 30), ("江苏、上海", "CN", "广东; CN-ZJ")[n % 3], valid_until, "", "13%", "", "",
         "", f"{n % 60 + 5} mm" if n % 2 else f"{(n % 60 + 5) / 10} cm", MATERIALS[n % 4],
         HEADS[n % 3].lower()]
        for n in range(rows)
    ]  # fmt: skip


def as_csv(rows: list[list[str]]) -> bytes:
    cols = columns(SPECS)
    head = template(CATEGORY, cols, example_row(cols, valid_until=datetime.now(UTC).date()),
                    SheetFormat.CSV)  # fmt: skip
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return head + out.getvalue().encode()


def as_xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("商品 Listings")
    sheet.append(CATEGORY.row())
    sheet.append([c.header for c in columns(SPECS)])
    for line in rows:
        sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def recorded(services: Services, supplier_org_id: str, data: bytes, kind: SheetFormat) -> str:
    return record_import(
        services.sessions,
        services.store,
        supplier_org_id=supplier_org_id,
        category_id=CATEGORY.category_id,
        data=data,
        kind=kind,
    )


def rate(rows: int, run: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = run()
    return rows / (time.perf_counter() - started), result


def baseline_copy(sessions: sessionmaker[Session], stored: list[dict[str, Any]]) -> float:
    """COPY the same products and offers into tables LIKE the real ones, indexes and all."""
    products, offers = io.StringIO(), io.StringIO()
    for n, rows in enumerate(stored):
        item, terms = rows["product"], rows["offer"]
        words = "{" + ",".join(f'"{w}"' for w in item["terms"]) + "}"
        product = [f"prd_{n}", item["category_id"], f"{item['identity']}|{n}", item["name"],
                   item["brand"], item["model"], "{}", item["search_text"], words, "[]",
                   "bench"]  # fmt: skip
        offer = [f"ofr_{n}", f"prd_{n}", "bench", terms["sku"], terms["currency"], terms["unit"],
                 str(terms["list_price"]), json.dumps(terms["terms"]), str(terms["stock"]),
                 str(terms["min_order_quantity"]), str(terms["lead_time_days"]),
                 "{" + ",".join(terms["delivery_regions"]) + "}",
                 terms["valid_until"], "1"]  # fmt: skip
        products.write("\t".join(value.replace("\\", "\\\\") for value in product) + "\n")
        offers.write("\t".join(value.replace("\\", "\\\\") for value in offer) + "\n")
    engine = sessions.kw["bind"]
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(
            "CREATE TEMP TABLE bare_products (LIKE products INCLUDING ALL);"
            "CREATE TEMP TABLE bare_offers (LIKE catalogue_offers INCLUDING ALL)"
        )
        started = time.perf_counter()
        products.seek(0)
        offers.seek(0)
        cursor.copy_from(products, "bare_products", columns=(
            "id", "category_id", "identity", "name", "brand", "model", "attributes",
            "search_text", "terms", "media", "listed_by_org_id"))  # fmt: skip
        cursor.copy_from(offers, "bare_offers", columns=(
            "id", "product_id", "supplier_org_id", "sku", "currency", "unit", "list_price",
            "terms", "stock", "min_order_quantity", "lead_time_days", "delivery_regions",
            "valid_until", "revision"))  # fmt: skip
        connection.commit()
        return len(stored) / (time.perf_counter() - started)
    finally:
        connection.close()


async def measure(services: Services, rows: int) -> list[Row]:
    steps = CatalogueImports(services.sessions, services.store)
    with transaction(services.sessions) as session:
        session.add(
            CatalogueCategory(
                id=CATEGORY.category_id,
                path=CATEGORY.category_id,
                name_zh=CATEGORY.name_zh,
                name_en=CATEGORY.name_en,
                synonyms=[],
                updated_by="bench",
                attributes=[spec.model_dump(mode="json") for spec in SPECS],
            )
        )
    supplier = make_org(services.sessions).id
    lines = generated(rows, "S")
    csv_data, xlsx_data = as_csv(lines), as_xlsx(lines)
    print(f"file: {rows:,} rows, CSV {len(csv_data):,} bytes, .xlsx {len(xlsx_data):,} bytes")

    def check(import_id: str) -> Callable[[], CheckedImport]:
        step = ImportStep(import_id=import_id)
        return lambda: ActivityEnvironment().run(steps.check_catalogue_import, step)

    csv_import = recorded(services, supplier, csv_data, SheetFormat.CSV)
    csv_rate, checked = rate(rows, check(csv_import))
    assert isinstance(checked, CheckedImport) and checked.rows_valid == rows, checked
    bare_csv, _ = rate(
        rows, lambda: sum(len(r) for r in csv.reader(io.StringIO(csv_data.decode("utf-8-sig"))))
    )
    xlsx_import = recorded(services, supplier, xlsx_data, SheetFormat.XLSX)
    xlsx_rate, xlsx_checked = rate(rows, check(xlsx_import))
    assert isinstance(xlsx_checked, CheckedImport) and xlsx_checked.rows_valid == rows

    def openpyxl_read() -> int:
        book = load_workbook(io.BytesIO(xlsx_data), read_only=True, data_only=True)
        return sum(len(r) for r in book.worksheets[0].iter_rows(values_only=True))

    bare_xlsx, _ = rate(rows, openpyxl_read)

    def write_all(import_id: str) -> None:
        """Every batch, ``WRITERS`` at once on threads, as the workflow and worker write them."""

        def write(batch: int) -> object:
            step = WriteBatchInput(import_id=import_id, batch=batch)
            return ActivityEnvironment().run(steps.write_catalogue_batch, step)

        with ThreadPoolExecutor(WRITERS) as threads:
            list(threads.map(write, range(checked.batches)))

    created_rate, _ = rate(rows, lambda: write_all(csv_import))
    updated_rate, _ = rate(rows, lambda: write_all(xlsx_import))  # the same SKUs: updates
    stored = [
        json.loads(line)
        for batch in range(checked.batches)
        for line in services.store.get(batch_key(csv_import, batch)).splitlines()
    ]
    bare_write = baseline_copy(services.sessions, stored)
    end_to_end = await whole_workflow(services, supplier, rows)
    return [
        Row("parse+check, CSV", "rows/s", csv_rate, bare_csv, higher_is_better=True),
        Row("parse+check, .xlsx", "rows/s", xlsx_rate, bare_xlsx, higher_is_better=True),
        Row("write, new offers", "rows/s", created_rate, bare_write, higher_is_better=True),
        Row("write, same SKUs again", "rows/s", updated_rate, bare_write, higher_is_better=True),
        Row("whole import, CSV, new", "rows/s", end_to_end, bare_write, higher_is_better=True),
    ]


async def whole_workflow(services: Services, supplier: str, rows: int) -> float:
    """The workflow from start to completed for a CSV of new SKUs, with the real worker."""
    data = as_csv(generated(rows, "W"))
    import_id = recorded(services, supplier, data, SheetFormat.CSV)
    queue = new_task_queue()
    async with build_worker(
        services.env.client,
        settings=services.settings,
        sessions=services.sessions,
        store=services.store,
        registry=services.registry,
        regulator=services.regulator,
        task_queue=queue,
    ):
        started = time.perf_counter()
        outcome: ImportOutcome = await services.env.client.execute_workflow(
            "CatalogueImportWorkflow",
            CatalogueImportInput(import_id=import_id),
            id=catalogue_import_workflow_id(import_id),
            task_queue=queue,
            result_type=ImportOutcome,
        )
        elapsed = time.perf_counter() - started
    assert outcome.rows_written == rows, outcome
    return rows / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    arguments = parser.parse_args()
    quiet_logs()
    print_header("Catalogue bulk import", f"rows={arguments.rows}")
    # As worker.py's I/O role does: large files are checked in processes of their own.
    use_check_processes(2)
    try:
        async with running_services() as services:
            figures = await measure(services, arguments.rows)
    finally:
        stop_check_processes()
    print("\n".join(table(figures)))
    slowest = min(figures[0].platform, figures[2].platform, figures[4].platform)
    verdict = "met" if slowest >= TARGET_ROWS_PER_S else "NOT met"
    print(
        f"target {TARGET_ROWS_PER_S:,} rows/s: {verdict} (slowest platform figure {slowest:,.0f})"
    )


if __name__ == "__main__":
    asyncio.run(main())
