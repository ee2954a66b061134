"""Reading a catalogue import file, .xlsx or CSV, as rows of text cells.

The file's kind is told by its bytes, not its name: an .xlsx is a zip holding
``xl/workbook.xml``; anything else that decodes as UTF-8 (with or without the BOM Excel writes),
UTF-16 (Excel's "Unicode text") or GB18030 (Excel's CSV on a Chinese Windows) is CSV, comma- or
tab-separated. Rows come with the number a spreadsheet shows for them, so a problem named
"row 7" is on the row the supplier sees as 7.

The .xlsx is read with the standard library's streaming XML parser rather than openpyxl: on a
100,000-row sheet openpyxl's read-only mode took four times as long (a cell object for every
cell). Only what a sheet of values needs is read: the first sheet that is not the template's
readme, shared and inline strings, numbers as Excel shows them (15 significant digits), date
cells by their number format (1900 and 1904 date systems), booleans. Formulas give their cached
value. Expanded XML is bounded, so a zip bomb is refused rather than unpacked.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import IO
from xml.etree.ElementTree import Element, ParseError, iterparse

from contracts.catalogue_import import SheetFormat

README_SHEET = "说明 Readme"
MAX_EXPANDED_BYTES = 1024 * 1024 * 1024  # XML a workbook may unpack to (a 100,000-row sheet
# with inline strings is about 110 MB)
# A sheet of 100,000 rows holds texts in a few of its columns: 2 million distinct ones is more
# than any; a cell far to the right (Excel's last column is 16,384) made every row that long.
MAX_SHARED_STRINGS = 2_000_000
MAX_COLUMNS = 1_024
# A part of a workbook expanding past a hundred times its packed size (once past a megabyte) is
# made to, not written by a spreadsheet program: XML of texts and cells packs five to twenty
# times. Apache POI refuses workbooks by the same ratio (its ZipSecureFile's 1%).
MAX_INFLATE_RATIO = 100
_RATIO_FROM_BYTES = 1024 * 1024
_SHEET_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")
_DATE_IDS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
_EPOCH_1900 = datetime(1899, 12, 30)
_EPOCH_1904 = datetime(1904, 1, 1)
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_STRICT_REL = "{http://purl.oclc.org/ooxml/officeDocument/relationships}id"


class UnreadableSheet(ValueError):
    """The file is not a sheet this import reads; the message says why, for the supplier."""


def sniff(data: bytes) -> SheetFormat:
    """What kind of file ``data`` is, by its bytes; refuses what is neither."""
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            raise UnreadableSheet("is a damaged zip file, not an .xlsx workbook") from None
        if "xl/workbook.xml" not in names:
            raise UnreadableSheet("is a zip file but not an .xlsx workbook")
        return SheetFormat.XLSX
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableSheet("is an .xls (Excel 97-2003) workbook: save it as .xlsx or CSV")
    _decode(data)
    return SheetFormat.CSV


def read_rows(data: bytes, kind: SheetFormat) -> Iterator[tuple[int, list[str]]]:
    """Every row with its number (from 1) and its cells as text, stripped; blank rows left out."""
    rows = _xlsx_rows(data) if kind is SheetFormat.XLSX else _csv_rows(data)
    with _damage_named():
        for number, cells in rows:
            if any(cells):
                yield number, cells


@contextmanager
def _damage_named() -> Iterator[None]:
    """A damaged file (a broken deflate stream, a bad CRC, XML cut short) is the supplier's to
    repair: refused saying so, never an error of the import itself."""
    try:
        yield
    except (zipfile.BadZipFile, zlib.error, EOFError, ParseError) as damaged:
        raise UnreadableSheet(f"is damaged and cannot be read: {damaged}") from None


def count_rows(data: bytes, kind: SheetFormat, *, past: int | None = None) -> int:
    """How many rows the file holds, at most (blank rows counted), without reading the cells:
    the API bounds a file's rows before accepting it. ``past``: counting stops once the count
    is past it, and ``past + 1`` is the answer (the file is refused whatever the rest holds)."""
    bound = past if past is not None else -1
    if kind is SheetFormat.CSV:
        count = 0
        for _ in _csv_rows(data):
            count += 1
            if count == bound + 1:
                break
        return count
    with _damage_named(), _Workbook(data) as book, book.open(book.data_sheet()) as stream:
        count, tail = 0, b""
        while count <= bound or bound < 0:
            chunk = stream.read(1 << 20)
            if not chunk:
                break
            window, end = tail + chunk, 0
            for found in _SHEET_ROW.finditer(window):
                count, end = count + 1, found.end()
            # A tag cut by the chunk's end is found in the next window; none is found twice.
            tail = window[max(end, len(window) - 32) :]
        return count if bound < 0 else min(count, bound + 1)


# -- CSV --------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise UnreadableSheet("starts as UTF-16 text but is not UTF-16 throughout") from None
    if b"\x00" in data[:4096]:
        raise UnreadableSheet("is binary, not an .xlsx workbook or a CSV text")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableSheet("is neither an .xlsx workbook nor a CSV text in UTF-8 or GB18030")


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    text = _decode(data)
    first = text[: text.find("\n")] if "\n" in text else text
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, [cell.strip() for cell in cells]
    except csv.Error as broken:
        raise UnreadableSheet(f"is not a well-formed CSV: {broken}") from None


# -- xlsx -------------------------------------------------------------------------------------


_LOCAL_NAMES: dict[str, str] = {}


def _local(tag: str) -> str:
    """An element's name without its namespace (transitional or strict OOXML alike)."""
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        name = _LOCAL_NAMES[tag] = tag.rsplit("}", 1)[-1]
    return name


class _Workbook:
    """An .xlsx opened for reading: its parts by name, expanded size bounded."""

    def __init__(self, data: bytes) -> None:
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            raise UnreadableSheet("is a damaged zip file, not an .xlsx workbook") from None
        parts = self._zip.infolist()
        if sum(info.file_size for info in parts) > MAX_EXPANDED_BYTES:
            raise UnreadableSheet(f"unpacks to more than {MAX_EXPANDED_BYTES:,} bytes")
        # zipfile holds a part to its declared unpacked size but reads past a packed size
        # declared too large: the packed sizes must fit in the file for the ratio to mean
        # anything (an 8 KB part declared 68 KB unpacked to 3.4 MB).
        if sum(info.compress_size for info in parts) > len(data):
            raise UnreadableSheet("is a damaged zip file: its parts are larger than the file")
        for info in parts:
            if info.file_size > max(_RATIO_FROM_BYTES, MAX_INFLATE_RATIO * info.compress_size):
                raise UnreadableSheet(
                    f"has a part ({info.filename[:60]}) that unpacks to more than "
                    f"{MAX_INFLATE_RATIO} times its size, which no spreadsheet program writes"
                )

    def __enter__(self) -> _Workbook:
        return self

    def __exit__(self, *_: object) -> None:
        self._zip.close()

    def open(self, name: str) -> IO[bytes]:
        try:
            return self._zip.open(name)
        except KeyError:
            raise UnreadableSheet(f"is an .xlsx workbook without its part {name}") from None

    def has(self, name: str) -> bool:
        return name in self._zip.NameToInfo

    def elements(self, name: str) -> Iterator[Element]:
        with self.open(name) as stream:
            try:
                for _, element in iterparse(stream):
                    yield element
            except ParseError as broken:
                raise UnreadableSheet(f"has a damaged part {name}: {broken}") from None

    def data_sheet(self) -> str:
        """The first sheet that is not the template's readme: where the rows are."""
        targets = {
            rel.get("Id"): rel.get("Target", "")
            for rel in self.elements("xl/_rels/workbook.xml.rels")
            if _local(rel.tag) == "Relationship"
        }
        for sheet in self.elements("xl/workbook.xml"):
            if _local(sheet.tag) == "sheet" and sheet.get("name") != README_SHEET:
                target = targets.get(sheet.get(_REL) or sheet.get(_STRICT_REL))
                if target:
                    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        raise UnreadableSheet("is an .xlsx workbook without a sheet of rows")

    def date1904(self) -> bool:
        for element in self.elements("xl/workbook.xml"):
            if _local(element.tag) == "workbookPr":
                return element.get("date1904") in ("1", "true")
        return False

    def shared_strings(self) -> _SharedStrings:
        """The workbook's texts, read as far as the cells ask for them."""
        return _SharedStrings(
            self.elements("xl/sharedStrings.xml") if self.has("xl/sharedStrings.xml") else None
        )

    def date_styles(self) -> frozenset[int]:
        """Indexes of the cell formats that show a number as a date."""
        if not self.has("xl/styles.xml"):
            return frozenset()
        custom: dict[int, str] = {}
        formats: list[int] = []
        in_cell_formats = False
        with self.open("xl/styles.xml") as stream:
            for event, element in iterparse(stream, events=("start", "end")):
                name = _local(element.tag)
                if name == "cellXfs":
                    in_cell_formats = event == "start"
                elif event == "end" and name == "numFmt":
                    custom[int(element.get("numFmtId", "0"))] = element.get("formatCode", "")
                elif event == "end" and name == "xf" and in_cell_formats:
                    formats.append(int(element.get("numFmtId", "0")))
        return frozenset(
            index
            for index, format_id in enumerate(formats)
            if format_id in _DATE_IDS
            or (
                format_id in custom and re.search("[ymd]", _QUOTED.sub("", custom[format_id]), re.I)
            )
        )


class _SharedStrings:
    """A workbook's texts, read only as far as the cells read so far refer: the rows at the
    head of a sheet (all the API reads before accepting a file) ask for the first few, and a
    spreadsheet program writes each text where it first uses it. Each item is cleared once read
    (kept, 5 million tiny ones held 1.3 GB), and at most ``MAX_SHARED_STRINGS`` are read."""

    def __init__(self, items: Iterator[Element] | None) -> None:
        self._items = items
        self._texts: list[str] = []

    def __getitem__(self, index: int) -> str:
        while index >= len(self._texts) and self._items is not None:
            item = next(self._items, None)
            if item is None:
                self._items = None
            elif _local(item.tag) == "si":
                if len(self._texts) == MAX_SHARED_STRINGS:
                    raise UnreadableSheet(f"holds more than {MAX_SHARED_STRINGS:,} texts")
                self._texts.append(_text(item))
                item.clear()
        if index < 0:
            raise IndexError(index)
        return self._texts[index]


def _text(element: Element) -> str:
    """A string item's text: its own ``t`` and its runs' ``t``, not phonetic guides."""
    parts = []
    for child in element:
        name = _local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


def _number(raw: str) -> str:
    """A number as Excel shows it: 15 significant digits, never an exponent."""
    try:
        value = float(raw)
    except ValueError:
        return raw
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format(Decimal(format(value, ".15g")), "f")


def _date(serial: str, epoch: datetime) -> str:
    try:
        moment = epoch + timedelta(days=float(serial))
    except (ValueError, OverflowError):
        return serial
    if moment.time() == datetime.min.time():
        return moment.date().isoformat()
    return moment.isoformat(sep=" ", timespec="seconds")


_COLUMNS: dict[str, int] = {}


def _column(reference: str) -> int | None:
    """``"AB7"`` → 27: the cell's column from 0; None past Excel's last column (XFD: three
    letters at most), read no further (a reference of 300,000 letters took 16 s)."""
    letters = reference.rstrip("0123456789")
    index = _COLUMNS.get(letters)
    if index is None:
        if len(letters) > 3:
            return None
        index = 0
        for char in letters.upper():
            index = index * 26 + (ord(char) - 64)
        index = _COLUMNS[letters] = index - 1
    return index


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    with _Workbook(data) as book:
        sheet = book.data_sheet()
        strings = book.shared_strings()
        dates = book.date_styles()
        epoch = _EPOCH_1904 if book.date1904() else _EPOCH_1900
        number = 0
        cells: dict[int, str] = {}
        local = _local
        with book.open(sheet) as stream:
            try:
                for _, element in iterparse(stream):
                    name = local(element.tag)
                    if name == "c":
                        reference = element.get("r")
                        position = _column(reference) if reference else len(cells)
                        value = _cell(element, strings, dates, epoch)
                        if position is None or position >= MAX_COLUMNS:
                            if not value:
                                continue  # a blank cell far right (formatted only): nothing
                            raise _too_wide(reference)
                        cells[position] = value
                    elif name == "row":
                        given = element.get("r")
                        number = int(given) if given else number + 1
                        width = max(cells, default=-1) + 1
                        yield number, [cells.get(i, "") for i in range(width)]
                        cells = {}
                        element.clear()
            except UnreadableSheet:
                raise
            except (ParseError, ValueError) as broken:
                raise UnreadableSheet(f"has a damaged sheet: {broken}") from None


def _too_wide(reference: str | None) -> UnreadableSheet:
    shown = reference if reference is None or len(reference) <= 12 else reference[:12] + "…"
    return UnreadableSheet(f"has a cell beyond its first {MAX_COLUMNS:,} columns ({shown})")


def _cell(element: Element, strings: _SharedStrings, dates: frozenset[int], epoch: datetime) -> str:
    kind = element.get("t", "n")
    value = ""
    for child in element:
        name = _local(child.tag)
        if name == "v":
            value = child.text or ""
        elif name == "is":
            return _text(child).strip()
    if kind == "s":
        # The texts' own refusals (damaged, too many) pass through: only a bad index is named.
        missing = UnreadableSheet(f"refers to a missing shared string {value!r}")
        try:
            index = int(value)
        except ValueError:
            raise missing from None
        try:
            return strings[index].strip()
        except IndexError:
            raise missing from None
    if kind == "b":
        return "TRUE" if value == "1" else "FALSE"
    if kind == "n" and value:
        style = element.get("s")
        if style is not None and style.isdigit() and int(style) in dates:
            return _date(value, epoch)
        return _number(value)
    if kind == "d":  # an ISO 8601 date cell (strict OOXML)
        return value[:10] if value.endswith("T00:00:00") else value
    return value.strip()  # str (a formula's text), e (an error such as #N/A)
