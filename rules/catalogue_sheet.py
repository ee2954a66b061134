"""A category's import sheet: its columns, how a file's headers name them, and a row made a
checked listing, every problem named by the column's header as the template writes it.

Pure: the template, the API's check of an upload's headers and the import's check of every row
all read the same columns, so what the template offers is what the import accepts. A row's cells
arrive as text (``documents.catalogue_sheets`` reads .xlsx and CSV alike); each is read the way a
supplier writes it in a spreadsheet (``13%``, ``2027/6/30``, ``江苏、上海``, ``1000:0.42``) and
then checked by the same rules as the API's listing (``ProductListing`` and
``rules.catalogue_listing.check_listing``), so a row and a PUT refuse the same things.

Layout of a sheet (the template's, and the error sheet's): row 1 names the category
(``类目 Category`` | id | names), row 2 holds the headers, row 3 an example whose SKU starts with
``示例`` (never a real SKU: SKUs are ASCII), skipped on import; data from row 4. A file without
the category row (headers on row 1) is accepted too. Columns may come in any order; a header may
be the template's whole text, its Chinese or English label, or the field's key.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from contracts.catalogue import AttributeKind, AttributeSpec, OfferTerms, ProductListing
from contracts.sourcing import PriceBreak
from rules.catalogue_cells import CellReading
from rules.catalogue_listing import CheckedListing, Problem, check_listing

CATEGORY_MARK = "类目 Category"
ERROR_HEADER = "错误 Errors"  # the error sheet's added column; ignored when a file is imported
EXAMPLE_MARK = "示例"


@dataclass(frozen=True, slots=True)
class Column:
    key: str  # the listing's field as the API names it (``attributes.length``) or the sheet's own
    label_zh: str
    label_en: str
    required: bool
    hint: str  # how to fill it, for the readme
    example: str
    unit: str | None = None
    choices: tuple[str, ...] = ()

    @property
    def header(self) -> str:
        unit = f" ({self.unit})" if self.unit else ""
        return f"{self.label_zh} {self.label_en}{unit}{' *' if self.required else ''}"


@dataclass(frozen=True, slots=True)
class CellProblem:
    """One thing wrong with a row: its row number in the file, the column's header, the rule."""

    row: int
    column: str
    rule: str


_LISTING_COLUMNS = (
    Column("sku", "货号", "SKU", True, "your own code: letters, digits and . _ / -", "SD-100"),
    Column("name", "品名", "Product name", True, "up to 200 characters", "十字螺丝刀 PH2"),
    Column("brand", "品牌", "Brand", True, "up to 100 characters", "世达 SATA"),
    Column("model", "型号", "Model", True, "the maker's model number", "62311"),
    Column("currency", "币种", "Currency", True, "ISO 4217 code", "CNY"),
    Column("unit", "计量单位", "Unit", True, "what one priced unit is", "把"),
    Column("unit_price", "单价", "Unit price", True, "price a unit at the minimum order", "12.50"),
    Column(
        "volume_prices",
        "阶梯价",
        "Volume prices",
        False,
        "quantity:unit price pairs above the minimum order, separated by ;",
        "100:11.80; 1000:10.90",
    ),
    Column("stock", "库存", "Stock", True, "units in stock; 0 = made to order", "500"),
    Column("min_order_quantity", "起订量", "Minimum order", False, "default 0", "10"),
    Column("lead_time_days", "交货期(天)", "Lead time (days)", True, "0 to 365", "3"),
    Column(
        "delivery_regions",
        "配送区域",
        "Delivery regions",
        True,
        "CN (all China), codes like CN-JS or province names, separated by ; or 、",
        "CN-JS; CN-SH",
    ),
    Column("valid_until", "有效期至", "Valid until", True, "a date: 2027-06-30 or 2027/6/30", ""),
    Column("logistics_cost", "运费", "Logistics cost", False, "per order; default 0", "0"),
    Column("tax_rate", "税率", "Tax rate", False, "13% or 0.13; default 0", "13%"),
    Column("un_number", "联合国编号", "UN number", False, "dangerous goods only: UN1090", ""),
    Column(
        "packing_group",
        "包装类别",
        "Packing group",
        False,
        "I, II or III",
        "",
        None,
        ("I", "II", "III"),
    ),
    Column(
        "temperature_profile",
        "温控",
        "Temperature profile",
        False,
        "goods kept cold only",
        "",
        None,
        ("frozen", "chilled", "refrigerated", "controlled_room", "usp_controlled_room"),
    ),
)


def columns(specs: Sequence[AttributeSpec]) -> tuple[Column, ...]:
    """The sheet's columns: the listing's, then one a specification of the category."""
    return _LISTING_COLUMNS + tuple(_attribute_column(spec) for spec in specs)


def _attribute_column(spec: AttributeSpec) -> Column:
    hints = {
        AttributeKind.TEXT: ("text", "示例"),
        AttributeKind.NUMBER: (f"a number in {spec.unit}" if spec.unit else "a number", "5"),
        AttributeKind.CHOICE: ("one of: " + ", ".join(spec.choices), next(iter(spec.choices), "")),
        AttributeKind.BOOLEAN: ("是/否 (yes/no)", "是"),
    }
    hint, example = hints[spec.kind]
    if spec.kind is AttributeKind.NUMBER and spec.unit:
        hint += "; another unit of the same kind is converted (5 cm, 5毫米)"
    return Column(
        key=f"attributes.{spec.key}",
        label_zh=spec.label_zh,
        label_en=spec.label_en,
        required=spec.required,
        hint=hint,
        example=example,
        unit=spec.unit,
        choices=spec.choices,
    )


def example_row(cols: Sequence[Column], *, valid_until: date) -> list[str]:
    """The template's example: its SKU marked so the import skips it."""
    values = {c.key: c.example for c in cols}
    values["sku"] = f"{EXAMPLE_MARK} {values['sku']}"
    values["valid_until"] = valid_until.isoformat()
    return [values[c.key] for c in cols]


def is_example(sku_cell: str) -> bool:
    return sku_cell.strip().startswith(EXAMPLE_MARK)


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold().strip().removesuffix("*")
    return "".join(folded.split())


def category_of(cells: Sequence[str]) -> str | None:
    """The category a row names when it is a sheet's category row, else None."""
    if len(cells) >= 2 and _fold(cells[0]) in (_fold(CATEGORY_MARK), "类目", "category"):
        return cells[1].strip()
    return None


@dataclass(frozen=True, slots=True)
class Headers:
    """Which column each position of the header row is: its key, or None (ignored); and the
    header row's number in the file."""

    keys: tuple[str | None, ...]
    row: int


def read_head(
    rows: Iterator[tuple[int, list[str]]], *, category_id: str, cols: Sequence[Column]
) -> Headers | list[Problem]:
    """A file's first rows: the category row if there is one (it must name ``category_id``),
    then the headers. Every problem names the form part at fault (``file`` or ``category_id``)."""
    first = next(rows, None)
    if first is None:
        return [Problem("file", "is empty: the template's category and header rows are missing")]
    number, cells = first
    named = category_of(cells)
    if named is not None:
        if named != category_id:
            rule = f"the file is the template of category {named!r}, not of {category_id!r}"
            return [Problem("category_id", rule)]
        following = next(rows, None)
        if following is None:
            return [Problem("file", "has no header row after the category row")]
        number, cells = following
    return read_headers(cells, cols, row=number)


def read_headers(
    cells: Sequence[str], cols: Sequence[Column], *, row: int
) -> Headers | list[Problem]:
    """The header row read against the category's columns: every problem at once (an unknown
    header, one given twice, a required column missing), each naming the header."""
    names: dict[str, str] = {}
    for column in reversed(cols):  # the listing's own columns win a clash of labels
        unit = f"({column.unit})" if column.unit else ""
        for alias in (column.header, column.label_zh, column.label_en, column.key):
            names[_fold(alias)] = column.key
        for alias in (column.label_zh, column.label_en):
            names[_fold(alias + unit)] = column.key
        names[_fold(column.key.removeprefix("attributes."))] = column.key
    ignored = {_fold(ERROR_HEADER), _fold("错误"), _fold("errors"), ""}
    problems: list[Problem] = []
    keys: list[str | None] = []
    for position, cell in enumerate(cells, start=1):
        folded = _fold(cell)
        key = names.get(folded)
        if key is None and folded not in ignored:
            rule = f"header {cell.strip()!r} (row {row}, column {position}) is not a column of "
            problems.append(Problem("file", rule + "this category's template"))
        elif key is not None and key in keys:
            problems.append(Problem("file", f"header {cell.strip()!r} is given twice"))
        keys.append(key)
    for column in cols:
        if column.required and column.key not in keys:
            problems.append(Problem("file", f"the required column {column.header!r} is missing"))
    return problems or Headers(tuple(keys), row)


def row_values(cells: Sequence[str], headers: Headers) -> dict[str, str]:
    return {
        key: cell.strip()
        for key, cell in zip(headers.keys, cells, strict=False)
        if key is not None and cell.strip()
    }


def check_row(
    values: Mapping[str, str],
    *,
    row: int,
    category_id: str,
    specs: tuple[AttributeSpec, ...],
    headers_by_key: Mapping[str, str],
    today: date | None = None,
) -> CheckedListing | list[CellProblem]:
    """A row made a checked listing, or every problem with it named by row and column (one a
    column: a cell that cannot be read is not checked again by the rules behind)."""
    reading = _Reading(values)
    body = reading.listing(category_id, specs)
    problems = reading.problems
    try:
        listing = ProductListing.model_validate(body)
    except ValidationError as refused:
        problems += [
            Problem(_column_of(tuple(e["loc"]), e["type"]), _rule(str(e["msg"])))
            for e in refused.errors()
        ]
        # The specifications and the dangerous-goods identity are still checked, so one
        # round of corrections fixes the row: against an offer that passes, when those
        # fields themselves passed pydantic.
        if any(p.field.startswith(_PRODUCT_RULED) for p in problems):
            listing = None
        else:
            listing = ProductListing.model_construct(**{**body, "offer": _PASSING_OFFER})
    if listing is not None:
        checked = check_listing(listing, specs, today=today)
        if isinstance(checked, CheckedListing):
            if not problems:
                return checked
        else:
            problems += [Problem(_column_of(tuple(p.field.split("."))), p.rule) for p in checked]
    named: dict[str, CellProblem] = {}
    for problem in problems:
        header = headers_by_key.get(problem.field, headers_by_key["sku"])
        named.setdefault(header, CellProblem(row, header, problem.rule))
    return list(named.values())


_PRODUCT_RULED = ("attributes", "un_number", "packing_group")
_PASSING_OFFER = OfferTerms(
    currency="CNY",
    unit="-",
    price_breaks=(PriceBreak(min_quantity=Decimal(1), unit_price=Decimal(0)),),
    stock=Decimal(0),
    lead_time_days=0,
    delivery_regions=("CN",),
    valid_until=date.max,
)


def _rule(message: str) -> str:
    return message.removeprefix("Value error, ")


def _column_of(loc: tuple[Any, ...], kind: str = "") -> str:
    """The column holding a listing field that pydantic or the listing rules name."""
    head = str(loc[0]) if loc else "sku"
    if head == "attributes" and len(loc) > 1:
        return f"attributes.{loc[1]}"
    if head != "offer":
        return head
    if len(loc) == 1:  # OfferTerms' own rule: the price breaks must ascend
        return "volume_prices"
    if loc[1] == "price_breaks":
        # No break at all: the unit price itself could not be read.
        first = loc[2:3] == (0,) or (len(loc) == 2 and kind == "too_short")
        return "unit_price" if first else "volume_prices"
    return str(loc[1])


class _Reading(CellReading):
    """A row's cells read as a supplier writes them; a cell that cannot be read is a problem."""

    def listing(self, category_id: str, specs: tuple[AttributeSpec, ...]) -> dict[str, Any]:
        v = self.values
        for column in _LISTING_COLUMNS:
            if column.required and column.key not in v:
                self.refuse(column.key, "is required")
        moq = self.number("min_order_quantity") or Decimal(0)
        first = moq if moq > 0 else Decimal(1)
        breaks: list[dict[str, Decimal | None]] = [
            {"min_quantity": first, "unit_price": self.number("unit_price")}
        ]
        breaks += self.volume_prices(first)
        profile = v.get("temperature_profile")
        return {
            "sku": v.get("sku", ""),
            "category_id": category_id,
            "name": v.get("name", ""),
            "brand": v.get("brand", ""),
            "model": v.get("model", ""),
            "attributes": {
                spec.key: v[f"attributes.{spec.key}"]
                for spec in specs
                if f"attributes.{spec.key}" in v
            },
            "un_number": self.un_number(),
            "packing_group": self.packing_group(),
            "temperature_profile": _snake(profile) if profile else None,
            "offer": {
                "currency": v.get("currency", "").upper(),
                "unit": v.get("unit", ""),
                "price_breaks": breaks,
                "stock": self.number("stock"),
                "min_order_quantity": moq,
                "lead_time_days": self.number("lead_time_days"),
                "delivery_regions": self.regions(),
                "valid_until": self.date("valid_until"),
                "logistics_cost": self.number("logistics_cost") or Decimal(0),
                "tax_rate": self.rate("tax_rate"),
            },
        }


def _snake(text: str) -> str:
    return "_".join(unicodedata.normalize("NFKC", text).casefold().split())


def duplicate_problems(
    rows_by_sku: Mapping[str, Sequence[int]], sku_header: str
) -> list[CellProblem]:
    """Every row of a SKU the file gives more than once: which of them is meant is unknown."""
    problems = []
    for sku, rows in rows_by_sku.items():
        if len(rows) > 1:
            listed = ", ".join(str(r) for r in rows)
            problems += [
                CellProblem(row, sku_header, f"SKU {sku!r} is given on several rows ({listed})")
                for row in rows
            ]
    return problems
