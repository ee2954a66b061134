"""Bulk import over the real API and a real worker on the dev server: a template downloaded,
filled and imported (.xlsx and CSV, Chinese text), bad rows named by row, column and rule,
all or nothing against valid rows only, the error sheet corrected and imported again, a
re-import updating offers in place, another supplier's import unseen, bad files refused at the
edge naming the field and the rule."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import OPERATOR_ORG_ID, Role
from db.models import Organisation
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller
from tests.harness.temporal import eventually

VALID_UNTIL = (datetime.now(UTC).date() + timedelta(days=180)).isoformat()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class People:
    ops: TokenCaller
    supplier: TokenCaller
    rival: TokenCaller
    buyer: TokenCaller
    category: str
    other_category: str


@pytest.fixture(scope="module")
async def people(
    api_url: str, settings: Settings, sessions: sessionmaker[Session], store: ObjectStore
) -> People:
    def caller(org: Organisation, role: Role) -> TokenCaller:
        return TokenCaller(api_url, settings.jwt_secret, s.member(sessions, org, role))

    with sessions() as session:
        operator = session.get(Organisation, OPERATOR_ORG_ID)
    assert operator is not None
    suffix = uuid.uuid4().hex[:8]
    people = People(
        ops=caller(operator, Role.OPS_SUPERVISOR),
        supplier=caller(s.accredited_supplier(sessions, store), Role.SUPPLIER),
        rival=caller(s.accredited_supplier(sessions, store), Role.SUPPLIER),
        buyer=caller(s.buyer_org(sessions), Role.BUYER),
        category=f"screwdrivers-{suffix}",
        other_category=f"gloves-{suffix}",
    )
    for category_id, attributes in (
        (people.category, SCREWDRIVER_SPECS),
        (people.other_category, []),
    ):
        made = await people.ops.http.put(
            f"/catalogue/categories/{category_id}",
            json={
                "category_id": category_id,
                "name_zh": "螺丝刀",
                "name_en": "Screwdrivers",
                "attributes": attributes,
            },
        )
        assert made.status_code == 201, made.text
    return people


SCREWDRIVER_SPECS = [
    {"key": "length", "label_zh": "长度", "label_en": "Length", "kind": "number", "unit": "mm",
     "required": True},
    {"key": "tip", "label_zh": "刀头", "label_en": "Tip", "kind": "choice",
     "choices": ["Phillips", "Slotted"]},
]  # fmt: skip
HEADERS = [
    "货号 SKU *", "品名 Product name *", "品牌 Brand *", "型号 Model *", "币种 Currency *",
    "计量单位 Unit *", "单价 Unit price *", "阶梯价 Volume prices", "库存 Stock *",
    "起订量 Minimum order", "交货期(天) Lead time (days) *", "配送区域 Delivery regions *",
    "有效期至 Valid until *", "运费 Logistics cost", "税率 Tax rate", "联合国编号 UN number",
    "包装类别 Packing group", "温控 Temperature profile", "长度 Length (mm) *", "刀头 Tip",
]  # fmt: skip


def row(sku: str, **cells: str) -> list[str]:
    """A data row in the template's column order: a good screwdriver unless ``cells`` say."""
    values = {
        "货号 SKU *": sku,
        "品名 Product name *": f"绝缘十字螺丝刀 {sku}",
        "品牌 Brand *": "世达 SATA",
        "型号 Model *": f"M-{sku}",
        "币种 Currency *": "CNY",
        "计量单位 Unit *": "把",
        "单价 Unit price *": "12.50",
        "阶梯价 Volume prices": "100:11.80; 1000:10.90",
        "库存 Stock *": "500",
        "起订量 Minimum order": "10",
        "交货期(天) Lead time (days) *": "3",
        "配送区域 Delivery regions *": "江苏、上海",
        "有效期至 Valid until *": VALID_UNTIL,
        "税率 Tax rate": "13%",
        "长度 Length (mm) *": "10 cm",
        "刀头 Tip": "phillips",
    } | cells
    return [values.get(header, "") for header in HEADERS]


async def template_csv(people: People) -> list[list[str]]:
    answer = await people.supplier.http.get(
        f"/catalogue/categories/{people.category}/template", params={"format": "csv"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Chinese
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))


def as_csv(rows: list[list[str]]) -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue().encode("utf-8-sig")


async def upload(
    caller: TokenCaller, category: str, data: bytes, name: str, on_error: str = "reject"
) -> Any:
    return await caller.http.post(
        "/catalogue/imports",
        data={"category_id": category, "on_error": on_error},
        files={"file": (name, data)},
    )


async def imported(caller: TokenCaller, category: str, data: bytes, name: str, **form: str) -> Any:
    """Upload, then follow the import until it has finished."""
    started = await upload(caller, category, data, name, **form)
    assert started.status_code == 202, started.text
    assert started.headers["location"] == started.json()["links"]["self"]

    async def finished() -> Any:
        view = (await caller.http.get(started.headers["location"])).json()
        assert view["status"] in ("completed", "rejected", "failed"), view["status"]
        return view

    return await eventually(finished, attempts=600, interval=0.1)


async def offer(caller: TokenCaller, sku: str) -> Any:
    return await caller.http.get(f"/catalogue/offers/{sku}")


async def test_the_xlsx_template_round_trip_imports_chinese_listings(
    people: People, worker: None
) -> None:
    answer = await people.supplier.http.get(f"/catalogue/categories/{people.category}/template")
    assert answer.status_code == 200 and answer.headers["content-type"] == XLSX
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["商品 Listings", "说明 Readme"]
    sheet = book["商品 Listings"]
    assert [c.value for c in sheet[1]][:2] == ["类目 Category", people.category]
    assert [c.value for c in sheet[2]] == HEADERS
    assert str(sheet["A3"].value).startswith("示例")  # the example, left in: skipped
    sku = f"X{uuid.uuid4().hex[:6]}"
    sheet.append(row(f"{sku}-1"))
    filled = row(f"{sku}-2", **{"单价 Unit price *": "8.8", "刀头 Tip": "Slotted"})
    sheet.append(filled)
    # As Excel stores what people type: numbers as numbers, a date as a date cell.
    sheet.cell(5, 7).value = 8.8
    sheet.cell(5, 13).value = datetime.fromisoformat(VALID_UNTIL)
    sheet.cell(5, 13).number_format = "yyyy/m/d"
    out = io.BytesIO()
    book.save(out)

    view = await imported(people.supplier, people.category, out.getvalue(), "螺丝刀.xlsx")

    assert (view["status"], view["format"], view["filename"]) == (
        "completed",
        "xlsx",
        "螺丝刀.xlsx",
    )
    assert (view["rows_total"], view["rows_written"], view["rows_created"]) == (2, 2, 2)
    assert view["error_count"] == 0 and "errors" not in view["links"]
    second = (await offer(people.supplier, f"{sku}-2")).json()
    terms = second["offer"]
    assert terms["price_breaks"][0] == {"min_quantity": "10", "unit_price": "8.8"}
    assert terms["valid_until"] == VALID_UNTIL
    assert (terms["tax_rate"], terms["delivery_regions"]) == ("0.13", ["CN-JS", "CN-SH"])
    product = (await people.buyer.http.get(f"/catalogue/products/{second['product_id']}")).json()
    assert product["name"] == f"绝缘十字螺丝刀 {sku}-2"
    assert product["attributes"] == {"length": "100", "tip": "Slotted"}


async def test_bad_rows_are_named_and_nothing_is_half_imported(
    people: People, worker: None
) -> None:
    sku = f"C{uuid.uuid4().hex[:6]}"
    rows = await template_csv(people)
    rows += [
        row(f"{sku}-A"),
        row(f"{sku}-B", **{"单价 Unit price *": "abc", "配送区域 Delivery regions *": "火星"}),
        row(f"{sku}-D"),
        row(f"{sku}-D", **{"长度 Length (mm) *": "5 kg"}),
    ]
    data = as_csv(rows)

    rejected = await imported(people.supplier, people.category, data, "bad.csv")

    assert rejected["status"] == "rejected"
    assert "nothing was imported" in rejected["reason"]
    assert (rejected["rows_total"], rejected["rows_valid"], rejected["error_count"]) == (4, 1, 3)
    problems = {(p["row"], p["column"], p["rule"]) for p in rejected["problems"]}
    assert problems == {
        (5, "单价 Unit price *", "must be a number"),
        (5, "配送区域 Delivery regions *", "'火星' is not CN, a code like CN-JS or a province"),
        (6, "货号 SKU *", f"SKU '{sku}-D' is given on several rows (6, 7)"),
        (7, "长度 Length (mm) *", "'kg' is not a length in mm"),
        (7, "货号 SKU *", f"SKU '{sku}-D' is given on several rows (6, 7)"),
    }
    assert (await offer(people.supplier, f"{sku}-A")).status_code == 404  # all or nothing

    sheet = await people.supplier.http.get(rejected["links"]["errors"])
    assert sheet.headers["content-type"].startswith("text/csv")
    errors = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert errors[1] == [*HEADERS, "错误 Errors"]
    assert [line[0] for line in errors[2:]] == [f"{sku}-B", f"{sku}-D", f"{sku}-D"]
    assert errors[2][-1].startswith("第 5 行 row 5: 单价 Unit price *: must be a number; ")

    skipped = await imported(people.supplier, people.category, data, "bad.csv", on_error="skip")
    assert (skipped["status"], skipped["rows_written"], skipped["error_count"]) == (
        "completed",
        1,
        3,
    )
    assert (await offer(people.supplier, f"{sku}-A")).status_code == 200

    # The error sheet corrected (the price, the region, one of the two D rows gone) imports.
    errors[2][6], errors[2][11] = "9.90", "CN-ZJ"
    del errors[4]
    fixed = await imported(people.supplier, people.category, as_csv(errors), "fixed.csv")
    assert (fixed["status"], fixed["rows_written"], fixed["rows_created"]) == ("completed", 2, 2)
    assert (await offer(people.supplier, f"{sku}-B")).json()["offer"]["delivery_regions"] == [
        "CN-ZJ"
    ]


async def test_importing_again_updates_offers_in_place(people: People, worker: None) -> None:
    sku = f"R{uuid.uuid4().hex[:6]}"
    first = [*(await template_csv(people)), row(f"{sku}-1"), row(f"{sku}-2")]
    done = await imported(people.supplier, people.category, as_csv(first), "first.csv")
    assert (done["rows_written"], done["rows_created"]) == (2, 2)
    before = (await offer(people.supplier, f"{sku}-1")).json()

    second = [*(await template_csv(people)), row(f"{sku}-1", **{"单价 Unit price *": "11"})]
    second.append(row(f"{sku}-2"))
    again = await imported(people.supplier, people.category, as_csv(second), "again.csv")

    assert (again["status"], again["rows_written"], again["rows_created"]) == ("completed", 2, 0)
    after = (await offer(people.supplier, f"{sku}-1")).json()
    assert (after["offer_id"], after["revision"]) == (before["offer_id"], before["revision"] + 1)
    assert after["offer"]["price_breaks"][0]["unit_price"] == "11"
    listed = (await people.supplier.http.get("/catalogue/offers", params={"limit": 100})).json()
    assert sorted(o["sku"] for o in listed if o["sku"].startswith(sku)) == [f"{sku}-1", f"{sku}-2"]


async def test_another_supplier_cannot_see_an_import(people: People, worker: None) -> None:
    data = as_csv([*(await template_csv(people)), row("X-1", **{"单价 Unit price *": "-1"})])
    view = await imported(people.supplier, people.category, data, "mine.csv")
    assert view["status"] == "rejected" and view["problems"][0]["column"] == "单价 Unit price *"
    for path in (view["links"]["self"], view["links"]["errors"]):
        assert (await people.rival.http.get(path)).status_code == 404
        assert (await people.supplier.http.get(path)).status_code == 200
    assert (await people.buyer.http.get(view["links"]["self"])).status_code == 403
    listed = (await people.supplier.http.get("/catalogue/imports")).json()
    assert view["import_id"] in [i["import_id"] for i in listed]
    theirs = (await people.rival.http.get("/catalogue/imports")).json()
    assert view["import_id"] not in [i["import_id"] for i in theirs]


async def test_files_the_import_would_refuse_are_refused_at_the_edge(people: People) -> None:
    template = await template_csv(people)

    async def refused(data: bytes, category: str | None = None) -> tuple[int, list[Any]]:
        answer = await upload(people.supplier, category or people.category, data, "f.csv")
        return answer.status_code, answer.json().get("errors", [])

    assert await refused(b"%PDF-1.4 not a sheet\x00") == (
        415,
        [{"field": "file", "rule": "is binary, not an .xlsx workbook or a CSV text"}],
    )
    status, errors = await refused(as_csv(template), people.other_category)
    assert status == 422 and errors[0]["field"] == "category_id"
    assert people.category in errors[0]["rule"]
    renamed = [template[0], ["货号 SKU *", "Colour", *template[1][2:]]]
    status, errors = await refused(as_csv(renamed))
    assert status == 422
    assert errors == [
        {
            "field": "file",
            "rule": "header 'Colour' (row 2, column 2) is not a column of this category's template",
        },
        {"field": "file", "rule": "the required column '品名 Product name *' is missing"},
    ]
    assert (await refused(b""))[0] == 422
    status, errors = await refused(as_csv(template), "no-such-category")
    assert status == 422 and errors[0]["field"] == "category_id"
    answer = await upload(people.buyer, people.category, as_csv(template), "f.csv")
    assert answer.status_code == 403
