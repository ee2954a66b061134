"""A sheet's row read as a supplier writes it and checked by the listing's rules: every problem
named by the column's header as the template writes it; headers matched by any of their names."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from contracts.catalogue import AttributeKind, AttributeSpec
from rules.catalogue_cells import BOUNDS_RULE
from rules.catalogue_listing import CheckedListing
from rules.catalogue_sheet import (
    CellProblem,
    Headers,
    check_row,
    columns,
    example_row,
    is_example,
    read_head,
    read_headers,
    row_values,
)

SPECS = (
    AttributeSpec(key="length", label_zh="长度", label_en="Length", kind=AttributeKind.NUMBER,
                  unit="mm", required=True),
    AttributeSpec(key="insulated", label_zh="绝缘", label_en="Insulated",
                  kind=AttributeKind.BOOLEAN),
)  # fmt: skip
COLUMNS = columns(SPECS)
HEADERS = {c.key: c.header for c in COLUMNS}
GOOD = {
    "sku": "SD-1",
    "name": "绝缘十字螺丝刀",
    "brand": "世达",
    "model": "62311",
    "currency": "cny",
    "unit": "把",
    "unit_price": "12.50",
    "volume_prices": "100：11.80；1000:10.90",
    "stock": "1,500",
    "min_order_quantity": "10",
    "lead_time_days": "3",
    "delivery_regions": "江苏省、上海市 cn-zj",
    "valid_until": "2030年1月31日",
    "tax_rate": "13%",
    "attributes.length": "10 cm",
    "attributes.insulated": "是",
    "un_number": "1090",
    "packing_group": "2",
}


def checked(**changes: str) -> CheckedListing | list[CellProblem]:
    values = {k: v for k, v in (GOOD | changes).items() if v}
    return check_row(values, row=7, category_id="screwdrivers", specs=SPECS, headers_by_key=HEADERS)


def test_a_row_is_read_as_a_supplier_writes_it() -> None:
    result = checked()
    assert isinstance(result, CheckedListing), result
    offer = result.listing.offer
    assert [(b.min_quantity, b.unit_price) for b in offer.price_breaks] == [
        (Decimal(10), Decimal("12.50")),  # the unit price holds from the minimum order
        (Decimal(100), Decimal("11.80")),
        (Decimal(1000), Decimal("10.90")),
    ]
    assert (offer.currency, offer.stock, offer.tax_rate) == ("CNY", Decimal(1500), Decimal("0.13"))
    assert offer.delivery_regions == ("CN-JS", "CN-SH", "CN-ZJ")
    assert offer.valid_until == date(2030, 1, 31)
    assert (result.listing.un_number, result.listing.packing_group) == ("UN1090", "II")
    assert result.attributes == {"length": "100", "insulated": "true"}


def test_every_problem_of_a_row_is_named_by_its_column_at_once() -> None:
    problems = checked(
        sku="",
        unit_price="abc",
        volume_prices="5:1",
        delivery_regions="火星",
        valid_until="2030-02-30",
        lead_time_days="2.5",
        **{"attributes.length": "5 kg"},
    )
    assert problems == [
        CellProblem(7, "货号 SKU *", "is required"),
        CellProblem(7, "单价 Unit price *", "must be a number"),
        CellProblem(
            7, "阶梯价 Volume prices", "quantities must ascend, each above the minimum order (10)"
        ),
        CellProblem(
            7, "配送区域 Delivery regions *", "'火星' is not CN, a code like CN-JS or a province"
        ),
        CellProblem(7, "有效期至 Valid until *", "must be a date such as 2027-06-30"),
        CellProblem(
            7,
            "交货期(天) Lead time (days) *",
            "Input should be a valid integer, got a number with a fractional part",
        ),
        CellProblem(7, "长度 Length (mm) *", "'kg' is not a length in mm"),
    ]


@pytest.mark.parametrize(
    ("changes", "column", "rule"),
    [
        ({"unit_price": "-1"}, "单价 Unit price *", "Input should be greater than or equal to 0"),
        (
            {"un_number": "9999"},
            "联合国编号 UN number",
            "UN9999 is not on the dangerous goods list",
        ),
        ({"stock": "5"}, "起订量 Minimum order", "must not exceed the stock unless stock is 0"),
        ({"attributes.length": ""}, "长度 Length (mm) *", "is required in this category"),
        (
            {"volume_prices": "100-11"},
            "阶梯价 Volume prices",
            "'100-11' is not quantity:unit price",
        ),
        ({"tax_rate": "130%"}, "税率 Tax rate", "Input should be less than or equal to 1"),
        # A figure of absurd magnitude is refused as it is read: made an integer (a lead
        # time), 1e999999999 took the import's worker for ever.
        ({"lead_time_days": "1e999999999"}, "交货期(天) Lead time (days) *", BOUNDS_RULE),
        ({"stock": "1e-999999999"}, "库存 Stock *", BOUNDS_RULE),
        ({"volume_prices": "NaN:1"}, "阶梯价 Volume prices", "'NaN:1' is not quantity:unit price"),
        (
            {"volume_prices": "100:sNaN"},
            "阶梯价 Volume prices",
            "'100:sNaN' is not quantity:unit price",
        ),
    ],
    ids=[
        "negative-price",
        "unknown-un-number",
        "moq-over-stock",
        "required-spec",
        "bad-pair",
        "tax-over-100",
        "huge-lead-time",
        "tiny-stock",
        "nan-quantity",
        "snan-price",
    ],
)
def test_the_listing_rules_are_named_by_column(
    changes: dict[str, str], column: str, rule: str
) -> None:
    problems = checked(**changes)
    assert isinstance(problems, list)
    assert [(p.column, p.rule[: len(rule)]) for p in problems] == [(column, rule)]


def test_headers_are_matched_by_any_of_their_names_in_any_order() -> None:
    cells = ["Model", "货号", "sku ", "错误 Errors", "", "LENGTH (mm) *", "Colour"]
    problems = read_headers(cells, COLUMNS, row=2)
    assert isinstance(problems, list)
    assert [p.rule for p in problems][:3] == [
        "header 'sku' is given twice",
        "header 'Colour' (row 2, column 7) is not a column of this category's template",
        "the required column '品名 Product name *' is missing",
    ]
    assert {p.field for p in problems} == {"file"}
    assert "长度 Length (mm) *" not in " ".join(p.rule for p in problems)
    full = [c.header for c in reversed(COLUMNS)] + ["错误 Errors"]
    headers = read_headers(full, COLUMNS, row=1)
    assert isinstance(headers, Headers)
    assert headers.keys[0] == "attributes.insulated" and headers.keys[-1] is None


def test_the_head_names_the_category_and_the_example_is_skipped() -> None:
    example = example_row(COLUMNS, valid_until=date(2030, 1, 1))
    rows = iter(
        [(1, ["类目 Category", "screwdrivers", "螺丝刀"]), (2, [c.header for c in COLUMNS])]
    )
    head = read_head(rows, category_id="screwdrivers", cols=COLUMNS)
    assert isinstance(head, Headers) and head.row == 2
    assert is_example(row_values(example, head)["sku"])
    assert not is_example("SD-1")
    wrong = read_head(
        iter([(1, ["类目 Category", "gloves"])]), category_id="screwdrivers", cols=COLUMNS
    )
    assert isinstance(wrong, list) and wrong[0].field == "category_id"
    without = read_head(iter([(1, [c.header for c in COLUMNS])]), category_id="x", cols=COLUMNS)
    assert isinstance(without, Headers) and without.row == 1
