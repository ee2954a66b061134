"""The catalogue act of ``make demo``: ops keep the tree, suppliers list, a buyer shops.

Ops (Wang Fang, the supervisor) make three categories with their specifications and the synonyms
buyers type (螺丝起子 and 改锥 for 螺丝刀; 二甲基酮 for 丙酮). The three accredited suppliers list
under their own SKUs: the same screwdriver by all three at different prices (one product, three
offers), acetone (UN1090, packing group II) by two, frozen prawns at -18 °C by one. Listing
again (every run of the demo) updates the offers in place.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from stack.demo_client import Caller, step

SUPERVISOR = "supervisor@tradeflow.example"
HENGXIN = "supplier@hengxin.example"
LIANFENG = "supplier@lianfeng.example"
ANXIN = "supplier@anxin.example"


def _spec(key: str, zh: str, en: str, kind: str, **more: Any) -> dict[str, Any]:
    return {"key": key, "label_zh": zh, "label_en": en, "kind": kind} | more


CATEGORIES: list[dict[str, Any]] = [
    {"category_id": "tools", "name_zh": "工具", "name_en": "Tools"},
    {
        "category_id": "screwdrivers",
        "parent_id": "tools",
        "name_zh": "螺丝刀",
        "name_en": "Screwdrivers",
        "attributes": [
            _spec("tip", "刀头", "Tip", "choice", choices=["十字 Phillips", "一字 Slotted"]),
            _spec("length", "杆长", "Shaft length", "number", unit="mm", required=True),
            _spec("insulated", "绝缘", "Insulated (1000 V)", "boolean"),
        ],
        "synonyms": [["螺丝刀", "螺丝起子", "改锥", "起子"], ["十字", "phillips"]],
    },
    {"category_id": "chemicals", "name_zh": "化学品", "name_en": "Chemicals"},
    {
        "category_id": "solvents",
        "parent_id": "chemicals",
        "name_zh": "溶剂",
        "name_en": "Solvents",
        "attributes": [
            _spec("purity", "纯度", "Purity", "number", unit="%", required=True),
            _spec("package", "包装", "Package", "number", unit="l"),
        ],
        "synonyms": [["丙酮", "二甲基酮", "acetone"]],
    },
    {"category_id": "cold-food", "name_zh": "冷链食品", "name_en": "Cold-chain food"},
    {
        "category_id": "frozen-seafood",
        "parent_id": "cold-food",
        "name_zh": "冷冻海产",
        "name_en": "Frozen seafood",
        "attributes": [_spec("net_weight", "净重", "Net weight", "number", unit="kg")],
        "synonyms": [["虾仁", "虾肉", "prawn"]],
    },
]


def _offer(prices: list[tuple[str, str]], *, stock: str, lead: int, unit: str) -> dict[str, Any]:
    return {
        "currency": "CNY",
        "unit": unit,
        "price_breaks": [{"min_quantity": q, "unit_price": p} for q, p in prices],
        "stock": stock,
        "min_order_quantity": prices[0][0],
        "lead_time_days": lead,
        "delivery_regions": ["CN-JS", "CN-SH", "CN-ZJ"],
        "valid_until": (datetime.now(UTC) + timedelta(days=180)).date().isoformat(),
        "logistics_cost": "300.00",
        "tax_rate": "0.13",
    }


SCREWDRIVER = {
    "category_id": "screwdrivers",
    "name": "绝缘十字螺丝刀 PH2 100mm Insulated Phillips screwdriver",
    "brand": "世达 SATA",
    "model": "61321",
    "attributes": {"tip": "十字 Phillips", "length": "100毫米", "insulated": "是"},
}
ACETONE = {
    "category_id": "solvents",
    "name": "工业丙酮 99.5% Acetone, technical grade",
    "brand": "扬子 Yangzi",
    "model": "AC-995-200L",
    "attributes": {"purity": "99.5", "package": "200 升"},
    "un_number": "UN1090",
    "packing_group": "II",
}
PRAWNS = {
    "category_id": "frozen-seafood",
    "name": "冷冻南美白虾仁 Frozen white-leg prawns, peeled",
    "brand": "国联 Guolian",
    "model": "GL-P-1KG",
    "attributes": {"net_weight": "1 公斤"},
    "temperature_profile": "frozen",
}
LISTINGS: dict[str, list[dict[str, Any]]] = {
    HENGXIN: [
        SCREWDRIVER | {"sku": "HX-SD-61321",
                       "offer": _offer([("10", "18.60"), ("200", "16.90")], stock="5000", lead=2,
                                       unit="把")},
        ACETONE | {"sku": "HX-ACE-200",
                   "offer": _offer([("1", "1460.00"), ("20", "1390.00")], stock="300", lead=5,
                                   unit="桶")},
    ],
    LIANFENG: [
        SCREWDRIVER | {"sku": "LF-61321",
                       "offer": _offer([("50", "17.80")], stock="800", lead=4, unit="把")},
        PRAWNS | {"sku": "LF-PRAWN-1KG",
                  "offer": _offer([("100", "58.00"), ("1000", "54.50")], stock="20000", lead=3,
                                  unit="袋")},
    ],
    ANXIN: [
        SCREWDRIVER | {"sku": "AX-SATA-61321",
                       "offer": _offer([("1", "21.00")], stock="0", lead=12, unit="把")},
        ACETONE | {"sku": "AX-ACETONE-200L",
                   "offer": _offer([("4", "1425.00")], stock="120", lead=3, unit="桶")},
    ],
}  # fmt: skip


def build_catalogue(base: str) -> dict[str, str]:
    """Make the categories and list every demo offer; the product ids by name."""
    step("The catalogue: ops keep the category tree, suppliers list under their own SKUs")
    ops = Caller(base, SUPERVISOR)
    for category in CATEGORIES:
        path = f"/catalogue/categories/{category['category_id']}"
        made = ops.call("PUT", path, json=category)
        print(f"category {made['path']}: {made['name_zh']} {made['name_en']}")
    products: dict[str, str] = {}
    for email, listings in LISTINGS.items():
        supplier = Caller(base, email)
        for listing in listings:
            written = supplier.call("PUT", f"/catalogue/listings/{listing['sku']}", json=listing)
            products[listing["name"]] = written["product_id"]
            price = written["offer"]["price_breaks"][0]["unit_price"]
            print(
                f"{email} lists {listing['sku']}: CNY {price} a {written['offer']['unit']}, "
                f"revision {written['revision']} of product {written['product_id']}"
            )
    return products
