"""Checking an import's file: every row read, checked and made the rows it will write.

``check_file`` reads the rows in order (``documents.catalogue_sheets``) and hands them in chunks
of ``CHUNK`` to ``checked_chunk``, which checks each by the listing's rules
(``rules.catalogue_sheet.check_row``) and makes a valid one its batch line: the product and offer
rows it will write (``db.catalogue_writes.listing_rows``) as JSON. Checking is pure Python, and
the interpreter runs one thread at a time, so a worker checks large files in processes of its
own (``use_check_processes``, a ``stack.process_pools.SpawnedPool``): in place, a 100,000-row
file's checking took 29 s of one core while the other idled. Anywhere else (tests, a one-off
script), and for files of fewer than ``IN_PLACE_BELOW`` rows, chunks are checked in place.
Either way the results come back in the file's order.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date

from temporalio.exceptions import ApplicationError

from contracts.catalogue import AttributeSpec
from contracts.catalogue_import import MAX_IMPORT_ROWS, SheetFormat
from db.catalogue_writes import listing_rows
from documents.catalogue_sheets import UnreadableSheet, read_rows
from documents.catalogue_templates import BadRow
from rules.catalogue_listing import CheckedListing
from rules.catalogue_sheet import (
    CellProblem,
    Headers,
    check_row,
    columns,
    duplicate_problems,
    is_example,
    read_head,
    row_values,
)
from stack.process_pools import SpawnedPool

CHUNK = 2_000  # rows checked together, in place or by a process
IN_PLACE_BELOW = 10_000  # rows: a smaller file is checked in place even by a worker
PROGRESS_EVERY = 5_000  # rows between two progress updates while a file is checked

Values = dict[str, str]
Checked = bytes | list[CellProblem]  # a valid row's batch line, or the row's problems

# The worker's checking processes, when this process is one; none checks in place.
_pool = SpawnedPool()


def use_check_processes(count: int) -> None:
    """Check every later large file of this process in ``count`` processes of its own."""
    _pool.use(count)


def stop_check_processes() -> None:
    """Back to checking in place; the processes end after their current chunk."""
    _pool.stop()


@dataclass
class FileCheck:
    """What checking a file's rows found: valid rows as batch lines, bad rows with problems."""

    rows_total: int = 0
    lines: list[tuple[int, bytes]] = field(default_factory=list)  # row number, JSON line
    bad: dict[int, tuple[dict[str, str], list[CellProblem]]] = field(default_factory=dict)
    refused: str | None = None  # why the file as a whole cannot be imported

    def problems(self) -> list[CellProblem]:
        return [p for row in sorted(self.bad) for p in self.bad[row][1]]

    def bad_rows(self) -> list[BadRow]:
        return [
            BadRow(row, values, [f"{p.column}: {p.rule}" for p in problems])
            for row, (values, problems) in sorted(self.bad.items())
        ]


def checked_chunk(
    chunk: list[tuple[int, Values]],
    category_id: str,
    specs: tuple[AttributeSpec, ...],
    headers_by_key: dict[str, str],
    today: date | None = None,
) -> list[Checked]:
    """Each row of ``chunk`` checked: its batch line (JSON bytes), or its problems."""
    results: list[Checked] = []
    for number, values in chunk:
        checked = check_row(
            values,
            row=number,
            category_id=category_id,
            specs=specs,
            headers_by_key=headers_by_key,
            today=today,
        )
        if isinstance(checked, CheckedListing):
            line = {"row": number} | listing_rows(checked)
            results.append(json.dumps(line, ensure_ascii=False).encode())
        else:
            results.append(checked)
    return results


def check_file(
    data: bytes,
    kind: SheetFormat,
    *,
    category_id: str,
    specs: tuple[AttributeSpec, ...],
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> FileCheck:
    """Every row of the file checked as on ``today`` (an offer valid only until before it is
    refused); ``progress`` told the rows checked now and then."""
    found = FileCheck()
    cols = columns(specs)
    headers_by_key = {c.key: c.header for c in cols}
    skus: dict[str, list[int]] = defaultdict(list)
    pool, count = _pool.executor()
    in_flight = 2 * count  # chunks sent ahead of the one taken
    pending: deque[tuple[list[tuple[int, Values]], Future[list[Checked]]]] = deque()
    reported = 0

    def take(chunk: list[tuple[int, Values]], results: list[Checked]) -> None:
        nonlocal reported
        for (number, values), result in zip(chunk, results, strict=True):
            if isinstance(result, bytes):
                found.lines.append((number, result))
            else:
                found.bad[number] = (values, result)
        if progress is not None and found.rows_total - reported >= PROGRESS_EVERY:
            reported = found.rows_total
            progress(found.rows_total)

    def send(chunk: list[tuple[int, Values]]) -> None:
        if pool is None or (not pending and found.rows_total < IN_PLACE_BELOW):
            # A small file (or no processes): checked here, no process start-up to wait for.
            take(chunk, checked_chunk(chunk, category_id, specs, headers_by_key, today))
            return
        pending.append(
            (chunk, pool.submit(checked_chunk, chunk, category_id, specs, headers_by_key, today))
        )
        while len(pending) > in_flight:
            done, future = pending.popleft()
            take(done, future.result())

    try:
        rows = read_rows(data, kind)
        head = read_head(rows, category_id=category_id, cols=cols)
        if isinstance(head, list):
            found.refused = "; ".join(f"{p.field}: {p.rule}" for p in head)
            return found
        for chunk in _chunks(rows, head, found, skus):
            send(chunk)
        while pending and not found.refused:
            done, future = pending.popleft()
            take(done, future.result())
    except BrokenProcessPool as broken:
        # A checking process died (killed, out of memory): nothing was stored yet, so fresh
        # processes and the activity's retry check the file again.
        if pool is not None:
            _pool.renew(pool)
        raise ApplicationError(
            "a process checking the file died", type="CheckProcessLost"
        ) from broken
    except UnreadableSheet as unreadable:
        found.refused = f"file: {unreadable}"
        return found
    finally:
        for _, future in pending:  # left by a refused file: their results are not wanted
            future.cancel()
    if found.refused:
        return found
    _refuse_duplicates(found, skus, headers_by_key["sku"], data, kind, head)
    return found


def _chunks(
    rows: Iterable[tuple[int, list[str]]],
    head: Headers,
    found: FileCheck,
    skus: dict[str, list[int]],
) -> Iterable[list[tuple[int, Values]]]:
    """The file's rows but the example, as cell values by column, ``CHUNK`` at a time; the
    count and the SKUs noted on the way. Stops past ``MAX_IMPORT_ROWS`` (the file refused)."""
    chunk: list[tuple[int, Values]] = []
    for number, cells in rows:
        values = row_values(cells, head)
        if is_example(values.get("sku", "")):
            continue
        found.rows_total += 1
        if found.rows_total > MAX_IMPORT_ROWS:
            found.refused = f"file: has more than {MAX_IMPORT_ROWS:,} rows; split it"
            return
        if "sku" in values:
            skus[values["sku"]].append(number)
        chunk.append((number, values))
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _refuse_duplicates(
    found: FileCheck,
    skus: dict[str, list[int]],
    sku_header: str,
    data: bytes,
    kind: SheetFormat,
    head: Headers,
) -> None:
    """Every row of a SKU given twice is bad: which of them is meant cannot be told."""
    duplicates = duplicate_problems(skus, sku_header)
    if not duplicates:
        return
    rows = {p.row for p in duplicates}
    found.lines = [(row, line) for row, line in found.lines if row not in rows]
    valid = rows - found.bad.keys()
    # Their cells, for the error sheet: read again, rather than keep every row's (rare).
    for number, cells in read_rows(data, kind):
        if number in valid:
            found.bad[number] = (row_values(cells, head), [])
    for problem in duplicates:
        found.bad[problem.row][1].append(problem)
