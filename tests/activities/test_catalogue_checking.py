"""Checking an import's file in the worker's processes gives what checking it in place gives:
the same rows, the same batch lines in the file's order, the same problems, duplicates too."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from activities import catalogue_checking
from activities.catalogue_checking import FileCheck, check_file
from contracts.catalogue import AttributeKind, AttributeSpec
from contracts.catalogue_import import SheetFormat
from documents.catalogue_templates import SheetCategory, template
from rules.catalogue_sheet import columns, example_row

SPECS = (
    AttributeSpec(key="voltage", label_zh="电压", label_en="Voltage", kind=AttributeKind.NUMBER,
                  unit="v", required=True),
)  # fmt: skip
CATEGORY = SheetCategory("drills", "电钻", "Drills")
ROWS = catalogue_checking.IN_PLACE_BELOW + 2 * catalogue_checking.CHUNK + 7


def sheet() -> bytes:
    valid_until = (datetime.now(UTC).date() + timedelta(days=90)).isoformat()
    rows = [
        [f"D{n:06d}", f"充电式电钻 {n}", "博世 Bosch", f"GSR-{n}", "CNY", "台",
         "free" if n % 997 == 5 else f"{n % 400 + 1}", "", "50", "1", "5", "CN", valid_until,
         "", "13%", "", "", "", "18 V"]
        for n in range(ROWS)
    ]  # fmt: skip
    rows[ROWS - 1][0] = rows[3][0]  # a SKU given twice: both rows bad
    cols = columns(SPECS)
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    head = template(
        CATEGORY, cols, example_row(cols, valid_until=datetime.now(UTC).date()), SheetFormat.CSV
    )
    return head + out.getvalue().encode()


@pytest.fixture
def processes() -> Iterator[None]:
    catalogue_checking.use_check_processes(2)
    try:
        yield
    finally:
        catalogue_checking.stop_check_processes()


def without_ids(found: FileCheck) -> list[tuple[int, Any]]:
    """The batch lines but their generated product and offer ids."""
    lines = []
    for row, line in found.lines:
        rows = json.loads(line)
        del rows["product"]["id"], rows["offer"]["id"]
        lines.append((row, rows))
    return lines


def check(data: bytes, progress: list[int]) -> FileCheck:
    return check_file(
        data, SheetFormat.CSV, category_id="drills", specs=SPECS, progress=progress.append
    )


def test_processes_check_a_large_file_as_checking_in_place_does(processes: None) -> None:
    data = sheet()
    told: list[int] = []
    in_processes = check(data, told)
    catalogue_checking.stop_check_processes()
    in_place = check(data, [])

    assert in_processes.rows_total == in_place.rows_total == ROWS
    assert [row for row, _ in in_processes.lines] == sorted(row for row, _ in in_place.lines)
    assert without_ids(in_processes) == without_ids(in_place)
    assert in_processes.bad == in_place.bad
    bad = sorted(in_place.bad)
    assert len(bad) == 2 + len([n for n in range(ROWS) if n % 997 == 5])
    twice = [row for row in bad if "several rows" in in_place.bad[row][1][0].rule]
    assert len(twice) == 2 and twice[-1] == max(bad)  # the first row and the last
    assert told and told == sorted(told) and told[-1] <= ROWS
