"""The catalogue act of ``make demo``: ops keep the tree, suppliers list, a buyer shops.

Ops (Wang Fang, the supervisor) make three categories with their specifications and the synonyms
buyers type (螺丝起子 and 改锥 for 螺丝刀; 二甲基酮 for 丙酮). The three accredited suppliers list
under their own SKUs: the same screwdriver by all three at different prices (one product, three
offers), acetone (UN1090, packing group II) by two, frozen prawns at -18 °C by one. Listing
again (every run of the demo) updates the offers in place.

Then Huadong's buyer shops (``shop``): finds the screwdriver by a synonym and a size, compares
every offer at its quantity, orders the best one in stock on its standard terms (the same
contract, signatures and order as a sourced award), and asks the acetone suppliers for quotes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from stack.demo_client import BUYER, DESTINATION, FINANCE, Caller, step, wait_for
from stack.demo_sourcing import sign

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


def shop(base: str, out: Path) -> None:
    """The buyer finds the screwdriver by a synonym and a size, compares every offer at its
    quantity, orders the best one in stock (signed by both; the order starts), and asks the two
    acetone suppliers for quotes on a larger quantity."""
    buyer, finance = Caller(base, BUYER), Caller(base, FINANCE)
    sellers = {email: Caller(base, email) for email in LISTINGS}
    step("The buyer searches the catalogue: 螺丝起子 100mm (a synonym and a size)")
    found = buyer.call(
        "GET", "/catalogue/search", params={"q": "螺丝起子 100mm", "region": "CN-SH"}
    )
    for hit in found["results"]:
        why = ", ".join(f"{m['query']}→{m['field']} ({m['kind']})" for m in hit["matches"])
        print(f"{hit['name']}: from CNY {hit['best_price']['amount']}, {why}")
    product_id = found["results"][0]["product_id"]
    step("One click: every offer side by side at 300 pieces, delivered to Shanghai in 14 days")
    needed_by = (datetime.now(UTC) + timedelta(days=14)).date().isoformat()
    offers = _compare(buyer, product_id, "300", needed_by)
    for offer in offers:
        figures = offer["figures"]
        print(
            f"#{figures['rank']} {offer['supplier_name']} {offer['sku']}: "
            f"landed CNY {figures['landed_cost']}, stock {offer['stock']}, "
            f"{'orderable' if offer['orderable'] else 'not orderable now'}"
        )
    best = next(offer for offer in offers if offer["orderable"])
    step(f"The buyer orders {best['sku']} straight from the catalogue (its standard terms)")
    accepted = buyer.call(
        "POST",
        "/catalogue/orders",
        json={
            "lines": [{"offer_id": best["offer_id"], "quantity": "300"}],
            "delivery_region": "CN-SH",
            "delivery_place": DESTINATION,
            "needed_by": needed_by,
        },
    )
    url = accepted["url"]
    purchase = wait_for("the purchase's contract", partial(_purchase, buyer, url, "contract_id"))
    print(f"purchase {purchase['purchase_id']}: {purchase['status']}, stock reserved")
    sign(buyer, finance, sellers, purchase["contract_id"], out)
    ordered = wait_for("the order", partial(_purchase, buyer, url, "order_id"))
    print(f"order {ordered['order_id']}: {ordered['order_status']}")
    _ask_for_acetone(buyer, needed_by)


def _compare(buyer: Caller, product_id: str, quantity: str, needed_by: str) -> list[Any]:
    """Every offer of the product side by side, delivered to Shanghai: best first."""
    compared = buyer.call(
        "POST",
        "/catalogue/comparisons",
        json={
            "products": [{"product_id": product_id, "quantity": quantity}],
            "needed_by": needed_by,
            "delivery_region": "CN-SH",
            "delivery_place": DESTINATION,
        },
    )
    offers: list[Any] = compared["products"][0]["offers"]
    return offers


def _purchase(buyer: Caller, url: str, once: str) -> dict[str, Any] | None:
    """The purchase once it names ``once`` (404 until its process has recorded it)."""
    answer = buyer.http.get(url)
    view: dict[str, Any] = answer.json() if answer.status_code == 200 else {}
    return view if view.get(once) else None


def _ask_for_acetone(buyer: Caller, needed_by: str) -> None:
    step("Acetone, class 3: the buyer asks both suppliers for quotes on 100 drums")
    found = buyer.call(
        "GET", "/catalogue/search", params={"q": "二甲基酮", "hazard_class": "3", "quantity": "100"}
    )
    hit = found["results"][0]
    print(f"{hit['name']}: {hit['visible_offers']} offers, from CNY {hit['best_price']['amount']}")
    offers = _compare(buyer, hit["product_id"], "100", needed_by)
    suppliers = [offer["supplier_org_id"] for offer in offers]
    opened = buyer.call(
        "POST",
        "/catalogue/rfqs",
        json={
            "products": [{"product_id": hit["product_id"], "quantity": "100"}],
            "supplier_ids": suppliers,
            "delivery_place": DESTINATION,
            "needed_by": needed_by,
            "quote_deadline": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
            "payment_terms": "验收后30天付款 30 days after acceptance",
        },
    )
    print(f"RFQ {opened['rfq_id']} to {len(suppliers)} suppliers: {opened['status']}")
