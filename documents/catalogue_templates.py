"""Writing a category's import template and an import's error sheet, as .xlsx or CSV.

Both have the layout ``rules.catalogue_sheet`` reads: the category row, the headers, then rows.
The template's third row is an example the import skips; the .xlsx template adds a readme sheet
(every column: required or not, how to fill it, an example), lists to pick from for columns
with choices, and text format for the code columns, so Excel keeps an SKU such as ``007`` as
written. The error sheet is the bad rows as they were uploaded with an added error column: fixed
and uploaded again, it imports (the error column is ignored). CSV is UTF-8 with a BOM, which
Excel needs to show Chinese text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.styles import Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from openpyxl.worksheet._write_only import WriteOnlyWorksheet  # type: ignore[import-untyped]
from openpyxl.worksheet.datavalidation import DataValidation  # type: ignore[import-untyped]
from openpyxl.worksheet.worksheet import Worksheet  # type: ignore[import-untyped]

from contracts.catalogue_import import MAX_IMPORT_ROWS, SheetFormat
from documents.catalogue_sheets import README_SHEET
from rules.catalogue_sheet import CATEGORY_MARK, ERROR_HEADER, Column

DATA_SHEET = "商品 Listings"
CONTENT_TYPES = {
    SheetFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    SheetFormat.CSV: "text/csv; charset=utf-8",
}
_TEXT_COLUMNS = frozenset({"sku", "model", "un_number"})
_BOLD = Font(bold=True)
_REQUIRED = PatternFill("solid", fgColor="FFF2CC")
_OPTIONAL = PatternFill("solid", fgColor="DDEBF7")
_EXAMPLE = Font(italic=True, color="808080")
_MAX_LIST = 255  # characters Excel allows in a list validation's formula


@dataclass(frozen=True, slots=True)
class SheetCategory:
    category_id: str
    name_zh: str
    name_en: str

    def row(self) -> list[str]:
        return [CATEGORY_MARK, self.category_id, f"{self.name_zh} {self.name_en}"]


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row the import refused: its number, its cells by column key, what is wrong."""

    row: int
    values: Mapping[str, str]
    problems: Sequence[str]  # "单价 Unit price *: must be a number"


def template(
    category: SheetCategory, columns: Sequence[Column], example: Sequence[str], kind: SheetFormat
) -> bytes:
    """The category's template: category row, headers, the example."""
    headers = [c.header for c in columns]
    if kind is SheetFormat.CSV:
        return _csv([category.row(), headers, list(example)])
    book = Workbook()
    sheet = book.active
    if not isinstance(sheet, Worksheet):  # a new workbook has its one sheet
        raise TypeError("a new workbook without its sheet")
    sheet.title = DATA_SHEET
    sheet.append(category.row())
    sheet.append(headers)
    sheet.append(list(example))
    for cell in sheet[1]:
        cell.font = _BOLD
    for cell, column in zip(sheet[2], columns, strict=True):
        cell.font = _BOLD
        cell.fill = _REQUIRED if column.required else _OPTIONAL
    for cell in sheet[3]:
        cell.font = _EXAMPLE
    last = MAX_IMPORT_ROWS + 3
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(12, min(40, len(column.header) * 1.6))
        if column.key in _TEXT_COLUMNS:
            sheet.column_dimensions[letter].number_format = "@"
        choices = ",".join(column.choices)
        if choices and len(choices) + 2 <= _MAX_LIST and "," not in "".join(column.choices):
            picker = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True)
            picker.add(f"{letter}4:{letter}{last}")
            sheet.add_data_validation(picker)
    sheet.freeze_panes = "B3"
    _readme(book.create_sheet(README_SHEET), category, columns)
    return _saved(book)


def _readme(sheet: Worksheet, category: SheetCategory, columns: Sequence[Column]) -> None:
    lines = [
        [f"{category.name_zh} {category.name_en} ({category.category_id})"],
        ["导入模板 Import template"],
        ["1. 在“商品 Listings”表第 4 行起每行填写一个商品; 第 3 行是示例, 导入时跳过。"],
        ["   One listing a row from row 4 of the Listings sheet; row 3 is an example, skipped."],
        ["2. 带 * 的列必填; 列的顺序可以调整, 第 1 行的类目不要修改。"],
        ["   Columns marked * are required; columns may be reordered; keep row 1's category."],
        ["3. 货号相同即更新原有报价; 同一文件中货号不得重复。"],
        ["   A SKU already listed is updated in place; a SKU may appear only once in a file."],
        [f"4. 每个文件最多 {MAX_IMPORT_ROWS:,} 行。 At most {MAX_IMPORT_ROWS:,} rows a file."],
        [],
        ["列 Column", "必填 Required", "填写说明 How to fill", "示例 Example"],
    ]
    lines += [[c.header, "是 yes" if c.required else "否 no", c.hint, c.example] for c in columns]
    for line in lines:
        sheet.append(line)
    for cell in sheet[len(lines) - len(columns)]:
        cell.font = _BOLD
    for letter, width in zip("ABCD", (28, 14, 70, 24), strict=True):
        sheet.column_dimensions[letter].width = width


def error_sheet(
    category: SheetCategory, columns: Sequence[Column], rows: Iterable[BadRow], kind: SheetFormat
) -> bytes:
    """The bad rows as uploaded, each with what is wrong with it in the added error column."""
    table: list[list[str]] = [category.row(), [c.header for c in columns] + [ERROR_HEADER]]
    for bad in rows:
        cells = [bad.values.get(c.key, "") for c in columns]
        table.append([*cells, f"第 {bad.row} 行 row {bad.row}: " + "; ".join(bad.problems)])
    if kind is SheetFormat.CSV:
        return _csv(table)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(DATA_SHEET)
    for line in table:
        sheet.append([_text(sheet, cell) for cell in line])
    return _saved(book)


def _text(sheet: WriteOnlyWorksheet, value: str) -> WriteOnlyCell:
    """A cell holding ``value`` as the supplier wrote it: text, even when it begins with ``=``
    (written as given, ``=1+1`` was a live formula, and read back empty); what a CSV cell may
    hold and a worksheet may not (controls) shows as U+FFFD."""
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))
    cell.data_type = "s"
    return cell


def _csv(rows: Iterable[Sequence[str]]) -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" + text.getvalue()).encode("utf-8")


def _saved(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
