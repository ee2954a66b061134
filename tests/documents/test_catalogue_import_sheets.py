"""Import files read as a spreadsheet shows them: .xlsx (shared and inline strings, numbers to 15
digits, date cells in both date systems, the readme sheet passed over) and CSV in the encodings
Excel writes (UTF-8 with BOM, GB18030, UTF-16 tab-separated); what is neither is refused."""

from __future__ import annotations

import codecs
import io
import re
import struct
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]

from contracts.catalogue_import import SheetFormat
from documents import catalogue_sheets
from documents.catalogue_sheets import (
    MAX_COLUMNS,
    UnreadableSheet,
    count_rows,
    read_rows,
    sniff,
)
from documents.catalogue_templates import BadRow, SheetCategory, error_sheet, template
from rules.catalogue_sheet import columns, example_row


def workbook(*, date1904: bool = False) -> bytes:
    book = Workbook()  # its texts written inline (openpyxl 3.1); Excel shares them
    book.epoch = datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 30)
    readme = book.active
    readme.title = "说明 Readme"
    readme.append(["not the rows"])
    sheet = book.create_sheet("商品 Listings")
    sheet.append(["货号 SKU", "单价", "有效期至", "库存", "绝缘"])
    sheet.append(["螺丝刀-1", 0.1 + 0.2, datetime(2030, 1, 31), 1500, True])
    sheet["C2"].number_format = 'yyyy"年"m"月"d"日"'
    sheet.append([])  # a blank row: left out
    sheet.append(["  SD-2 ", 1e-5, "2030/2/1", "=1+1", False])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("date1904", [False, True], ids=["1900", "1904"])
def test_an_xlsx_reads_as_excel_shows_it(date1904: bool) -> None:
    data = workbook(date1904=date1904)
    assert sniff(data) is SheetFormat.XLSX
    assert list(read_rows(data, SheetFormat.XLSX)) == [
        (1, ["货号 SKU", "单价", "有效期至", "库存", "绝缘"]),
        (2, ["螺丝刀-1", "0.3", "2030-01-31", "1500", "TRUE"]),
        (4, ["SD-2", "0.00001", "2030/2/1", "", "FALSE"]),  # a formula never computed: empty
    ]
    assert count_rows(data, SheetFormat.XLSX) == 3


# Excel's "Unicode text": UTF-16 with its BOM, tab-separated.
TAB_SEPARATED = "货号\t品名\r\nSD-1\t十字螺丝刀, PH2\r\n\r\nSD-2\t一字螺丝刀\r\n"


def test_csv_in_the_encodings_excel_writes() -> None:
    text = '货号,品名\r\nSD-1,"十字螺丝刀, PH2"\r\n\r\nSD-2,一字螺丝刀\r\n'
    expected = [
        (1, ["货号", "品名"]),
        (2, ["SD-1", "十字螺丝刀, PH2"]),
        (4, ["SD-2", "一字螺丝刀"]),
    ]
    for data in (
        codecs.BOM_UTF8 + text.encode(),
        text.encode("gb18030"),
        codecs.BOM_UTF16_LE + TAB_SEPARATED.encode("utf-16-le"),
    ):
        assert sniff(data) is SheetFormat.CSV
        assert list(read_rows(data, SheetFormat.CSV)) == expected


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "is an .xls (Excel 97-2003) workbook"),
        (b"%PDF-1.4\x00\x01", "is binary, not an .xlsx workbook or a CSV text"),
        (b"PK\x03\x04broken", "is a damaged zip file, not an .xlsx workbook"),
    ],
    ids=["xls", "pdf", "broken-zip"],
)
def test_what_is_no_sheet_is_refused_saying_what_it_is(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableSheet, match=re.escape(reason)):
        sniff(data)


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(UnreadableSheet, match=re.escape("is a zip file but not an .xlsx workbook")):
        sniff(out.getvalue())


def _saved(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_of(rows: str) -> bytes:
    """A workbook whose one sheet holds ``rows`` (sheetData's XML), as no writer would make."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_saved(Workbook()))) as made, zipfile.ZipFile(out, "w") as copy:
        for item in made.infolist():
            data = made.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                held = f"<sheetData>{rows}</sheetData>".encode()
                data = re.sub(rb"<sheetData\s*/>|<sheetData>.*</sheetData>", held, data, flags=re.S)
            copy.writestr(item, data)
    return out.getvalue()


def test_a_workbook_too_wide_or_holding_too_many_texts_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 2 KB workbook with a cell at column CZZZZZ took 22 s to read (every row made that
    long), one whose reference had 300,000 letters 16 s, and one of 5 million tiny texts
    1.3 GB."""
    wide = Workbook()
    wide.active.append(["sku", "name"])
    wide.active.cell(row=2, column=MAX_COLUMNS + 1, value="x")
    with pytest.raises(UnreadableSheet, match=r"^has a cell beyond its first 1,024 columns"):
        list(read_rows(_saved(wide), SheetFormat.XLSX))
    endless = _sheet_of(
        f'<row r="1"><c r="{"A" * 300_000}1" t="inlineStr"><is><t>x</t></is></c></row>'
    )
    with pytest.raises(UnreadableSheet, match=r"^has a cell beyond its first 1,024 columns"):
        list(read_rows(endless, SheetFormat.XLSX))
    # A blank cell far to the right (formatted only, as spreadsheets write) is nothing.
    blank = _sheet_of(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>sku</t></is></c><c r="XFD1" s="1"/></row>'
    )
    assert list(read_rows(blank, SheetFormat.XLSX)) == [(1, ["sku"])]
    items = "".join(f"<si><t>text {i}</t></si>" for i in range(5)) + "</sst>"
    wordy = _with_texts(_sheet_of('<row r="1"><c r="A1" t="s"><v>4</v></c></row>'), items)
    monkeypatch.setattr(catalogue_sheets, "MAX_SHARED_STRINGS", 4)
    with pytest.raises(UnreadableSheet, match=r"^holds more than 4 texts"):
        list(read_rows(wordy, SheetFormat.XLSX))


def _with_texts(data: bytes, items: str) -> bytes:
    """``data`` with a shared strings part of ``items`` (this openpyxl writes texts inline)."""
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr("xl/sharedStrings.xml", f"<sst>{items}", zipfile.ZIP_DEFLATED)
    return out.getvalue()


def test_texts_are_read_as_far_as_the_cells_read_refer() -> None:
    """The API reads a file's head before accepting it: its first texts, not the rest (a 1.5 MB
    workbook of 200 MB of texts took 4.3 s and 630 MB to reach its first row); a text past the
    damage is refused when a cell asks for it."""
    rows = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>2</v></c></row>'
    )
    damaged = _with_texts(_sheet_of(rows), "<si><t>sku</t></si><si><t>name</t></si><si><t")
    assert next(read_rows(damaged, SheetFormat.XLSX)) == (1, ["sku", "name"])
    with pytest.raises(UnreadableSheet, match="damaged"):
        list(read_rows(damaged, SheetFormat.XLSX))
    missing = _with_texts(_sheet_of(rows), "<si><t>sku</t></si><si><t>name</t></si></sst>")
    with pytest.raises(UnreadableSheet, match="missing shared string '2'"):
        list(read_rows(missing, SheetFormat.XLSX))


def test_a_part_unpacking_past_a_hundred_times_its_size_is_refused() -> None:
    """A zip bomb: texts that pack a thousand to one. Refused before anything is read, as by
    the row count; a part packing well (a real sheet's, five to twenty to one) is read."""
    bomb = _with_texts(_sheet_of(""), "<si><t>" + "x" * 4_000_000 + "</t></si></sst>")
    for read in (
        lambda: list(read_rows(bomb, SheetFormat.XLSX)),
        lambda: count_rows(bomb, SheetFormat.XLSX),
    ):
        with pytest.raises(
            UnreadableSheet, match=r"sharedStrings.xml\) that unpacks to more than 100 times"
        ):
            read()
    varied = "".join(
        f"<si><t>十字螺丝刀 PH{i} {i * 7919 % 100_003}毫米</t></si>" for i in range(60_000)
    )
    plain = _with_texts(
        _sheet_of('<row r="1"><c r="A1" t="s"><v>59999</v></c></row>'), varied + "</sst>"
    )
    assert next(read_rows(plain, SheetFormat.XLSX))[1][0].startswith("十字螺丝刀 PH59999")


def _declared_packed(data: bytes, name: str, size: int) -> bytes:
    """``data`` with ``name``'s packed size in the zip's central directory declared ``size``."""
    entry = data.index(b"PK\x01\x02")  # the first central directory header
    while True:
        length = struct.unpack_from("<H", data, entry + 28)[0]
        if data[entry + 46 : entry + 46 + length] == name.encode():
            break
        entry = data.index(b"PK\x01\x02", entry + 4)
    return data[: entry + 20] + struct.pack("<I", size) + data[entry + 24 :]


def test_a_packed_size_declared_past_the_file_is_refused() -> None:
    """Found by review: zipfile reads past a packed size declared too large, so a part of 8 KB
    declared 68 KB passed the ratio and unpacked to 3.4 MB."""
    bomb = _with_texts(_sheet_of(""), "<si><t>" + "x" * 3_400_000 + "</t></si></sst>")
    forged = _declared_packed(bomb, "xl/sharedStrings.xml", 68_000)
    with pytest.raises(UnreadableSheet, match="its parts are larger than the file"):
        count_rows(forged, SheetFormat.XLSX)


def test_rows_are_counted_only_as_far_as_the_bound() -> None:
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>{n}</t></is></c></row>'
        for n in range(1, 11)
    )
    sheet = _sheet_of(rows)
    assert count_rows(sheet, SheetFormat.XLSX) == 10
    assert count_rows(sheet, SheetFormat.XLSX, past=3) == 4
    assert count_rows(sheet, SheetFormat.XLSX, past=10) == 10
    lines = "".join(f"SD-{n},x\r\n" for n in range(10)).encode()
    assert count_rows(lines, SheetFormat.CSV, past=3) == 4
    assert count_rows(lines, SheetFormat.CSV) == 10


def test_templates_and_error_sheets_read_back_in_both_formats() -> None:
    category = SheetCategory("screwdrivers", "螺丝刀", "Screwdrivers")
    cols = columns(())
    example = example_row(cols, valid_until=date(2030, 1, 1))
    # A cell beginning with "=" is the supplier's text: as a live formula it read back empty.
    bad = [
        BadRow(
            5,
            {"sku": "SD-9", "name": "坏\x07行", "model": "=1+1"},
            ["单价 Unit price *: must be a number"],
        )
    ]
    for kind in SheetFormat:
        rows = list(read_rows(template(category, cols, example, kind), kind))
        assert [number for number, _ in rows] == [1, 2, 3]
        assert rows[0][1][:2] == ["类目 Category", "screwdrivers"]
        assert rows[2][1][: len(example)] == example
        sheet = list(read_rows(error_sheet(category, cols, bad, kind), kind))
        assert sheet[1][1][-1] == "错误 Errors"
        assert sheet[2][1][0] == "SD-9"
        assert "=1+1" in sheet[2][1]
        assert sheet[2][1][-1] == "第 5 行 row 5: 单价 Unit price *: must be a number"
