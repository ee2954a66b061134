"""A large catalogue for ``bench.catalogue_search``: a million products, three million offers.

The products' names are generated from a vocabulary of trade goods (Chinese and, for a fifth,
English names; qualifiers, sizes with their units written several ways, brands, model numbers)
and indexed by ``rules.search_text.index_fields`` exactly as a listing is, then COPYed in
(``bench.large_copy.copy_rows``); the offers are written by PostgreSQL itself over
``generate_series`` as ``bench.large_data`` writes its tables, spread over suppliers whose
standing ``bench.large_copy.write_accreditation`` writes (most accredited, some suspended,
some expired), with a tenth of the offers past their validity.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, text

from bench.large_copy import copy_rows
from contracts.common import OPERATOR_ORG_ID
from rules.search_text import index_fields

# (category id, 中文, English, synonyms, kinds (中文, English), hazard (UN, PG, class), profile)
NOUNS: tuple[tuple[str, str, str, tuple[str, ...], tuple[tuple[str, str], ...]], ...] = (
    ("screwdriver", "螺丝刀", "screwdriver", ("螺丝起子", "改锥"),
     (("十字", "Phillips"), ("一字", "slotted"), ("内六角", "hex"), ("梅花", "Torx"))),
    ("wrench", "扳手", "wrench", ("扳子",),
     (("活动", "adjustable"), ("梅花", "ring"), ("开口", "open-end"), ("扭力", "torque"))),
    ("pliers", "钳子", "pliers", ("钳",),
     (("尖嘴", "needle-nose"), ("斜口", "diagonal"), ("老虎", "combination"), ("剥线", "strip"))),
    ("hammer", "锤子", "hammer", ("榔头",),
     (("羊角", "claw"), ("橡胶", "rubber"), ("八角", "sledge"), ("圆头", "ball-peen"))),
    ("drill", "电钻", "drill", ("手电钻",),
     (("冲击", "impact"), ("充电", "cordless"), ("台式", "bench"), ("磁座", "magnetic"))),
    ("grinder", "角磨机", "angle grinder", ("磨光机",),
     (("充电", "cordless"), ("大功率", "heavy-duty"), ("调速", "variable"), ("迷你", "mini"))),
    ("bolt", "螺栓", "bolt", ("螺杆",),
     (("六角", "hex"), ("内六角", "socket"), ("法兰", "flange"), ("马车", "carriage"))),
    ("nut", "螺母", "nut", ("螺帽",),
     (("六角", "hex"), ("防松", "lock"), ("法兰", "flange"), ("盖形", "cap"))),
    ("washer", "垫圈", "washer", ("垫片",),
     (("平", "flat"), ("弹簧", "spring"), ("齿形", "tooth"), ("方形", "square"))),
    ("cable", "电缆", "cable", ("电线",),
     (("铜芯", "copper"), ("阻燃", "flame-retardant"), ("屏蔽", "shielded"), ("橡套", "rubber"))),
    ("glove", "手套", "gloves", ("劳保手套",),
     (("丁腈", "nitrile"), ("防割", "cut-resistant"), ("棉纱", "cotton"), ("乳胶", "latex"))),
    ("helmet", "安全帽", "safety helmet", ("头盔",),
     (("ABS", "ABS"), ("玻璃钢", "fibreglass"), ("透气", "vented"), ("电工", "electrician"))),
)  # fmt: skip
CHEMICALS = (  # (category, 中文, English, UN, packing group, class)
    ("acetone", "丙酮", "acetone", "UN1090", "II", "3"),
    ("ethanol", "乙醇", "ethanol", "UN1170", "II", "3"),
    ("toluene", "甲苯", "toluene", "UN1294", "II", "3"),
    ("sodium-hydroxide", "氢氧化钠", "sodium hydroxide", "UN1823", "II", "8"),
)
FOODS = (  # (category, 中文, English, temperature profile)
    ("prawns", "冻虾", "frozen prawns", "frozen"),
    ("beef", "冷鲜牛肉", "chilled beef", "chilled"),
    ("yoghurt", "酸奶", "yoghurt", "refrigerated"),
)
QUALIFIERS = (
    ("不锈钢", "stainless"), ("碳钢", "carbon steel"), ("重型", "heavy duty"), ("迷你", "mini"),
    ("专业级", "professional"), ("进口", "imported"), ("工业级", "industrial"), ("家用", "home"),
)  # fmt: skip
BRANDS = (
    "Stanley", "Bosch", "Makita", "Wiha", "Wera", "Knipex", "DeWalt", "Hilti", "Fluke", "3M",
    "世达", "长城精工", "得力", "东成", "锐奇", "宝工", "威达", "捷科", "力易得", "钢盾",
)  # fmt: skip
SIZES = (3, 4, 5, 6, 8, 10, 12, 16, 20, 25, 50, 100, 150, 200, 300)
# A size written as suppliers write it: 5mm, 5.0mm, 5 mm, 5毫米, full-width.
SIZE_FORMS = ("{}mm", "{}.0mm", "{} mm", "{}毫米", "{}ｍｍ")  # noqa: RUF001


@dataclass(frozen=True)
class Category:
    id: str
    parent: str | None
    name_zh: str
    name_en: str
    synonyms: list[list[str]]


def categories() -> list[Category]:
    found = [
        Category("tools", None, "工具五金", "Tools and hardware", []),
        Category("chemicals", None, "化学品", "Chemicals", []),
        Category("food", None, "冷链食品", "Cold-chain food", []),
    ]
    for cid, zh, en, synonyms, _ in NOUNS:
        found.append(Category(cid, "tools", zh, en, [[zh, *synonyms], [en, f"{en}s"]]))
    found += [Category(c[0], "chemicals", c[1], c[2], []) for c in CHEMICALS]
    found += [Category(c[0], "food", c[1], c[2], []) for c in FOODS]
    return found


def write_categories(conn: Connection) -> None:
    spec = [{"key": "length", "label_zh": "长度", "label_en": "Length", "kind": "number",
             "unit": "mm"}]  # fmt: skip
    for c in categories():
        path = c.id if c.parent is None else f"{c.parent}/{c.id}"
        conn.execute(
            text(
                "INSERT INTO catalogue_categories (id, parent_id, path, name_zh, name_en, "
                "attributes, synonyms, updated_by) VALUES (:id, :parent, :path, :zh, :en, "
                "CAST(:attributes AS jsonb), CAST(:synonyms AS jsonb), 'usr_large')"
            ),
            {"id": c.id, "parent": c.parent, "path": path, "zh": c.name_zh, "en": c.name_en,
             "attributes": json.dumps(spec if c.parent == "tools" else []),
             "synonyms": json.dumps(c.synonyms, ensure_ascii=False)},
        )  # fmt: skip


def _array(values: Iterable[str]) -> str:
    """A PostgreSQL array literal, every element quoted."""
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


def product(i: int, rng: random.Random) -> list[object]:
    """One product row: name, brand, model and specification drawn, then indexed."""
    brand = BRANDS[rng.randrange(len(BRANDS))]
    model = f"{brand[:2].upper() if brand.isascii() else 'CN'}-{rng.randrange(100000):05d}"
    un = pg = hazard = profile = None
    attributes: dict[str, str] = {}
    draw = rng.random()
    english = rng.random() < 0.2
    if draw < 0.9:
        cid, zh, en, _, kinds = NOUNS[i % len(NOUNS)]
        kind_zh, kind_en = kinds[rng.randrange(len(kinds))]
        qual_zh, qual_en = QUALIFIERS[rng.randrange(len(QUALIFIERS))]
        size = SIZES[rng.randrange(len(SIZES))]
        written = SIZE_FORMS[rng.randrange(len(SIZE_FORMS))].format(size)
        if english:
            name = f"{qual_en} {kind_en} {en} {size}mm"
        else:
            name = f"{qual_zh}{kind_zh}{zh} {written}"
        attributes = {"length": str(size)}
    elif draw < 0.95:
        cid, zh, en, un, pg, hazard = CHEMICALS[i % len(CHEMICALS)]
        litres = rng.choice((0.5, 1, 5, 25, 200))
        name = f"{en} {litres} l" if english else f"{zh} 分析纯 {litres}升"
    else:
        cid, zh, en, profile = FOODS[i % len(FOODS)]
        kilos = rng.choice((0.5, 1, 2, 5, 10))
        name = f"{en} {kilos}kg" if english else f"{zh} {kilos}公斤"
    search_text, terms = index_fields(
        name, brand, model, attributes, units={"length": "mm"} if attributes else None
    )
    identity = f"{brand.casefold()}|{model.replace('-', '').casefold()}|{i}"
    return [
        f"prd_l{i:07d}", cid, identity, name, brand, model, json.dumps(attributes), un, pg,
        hazard, profile, search_text, _array(terms), "[]", OPERATOR_ORG_ID,
    ]  # fmt: skip


def write_products(conn: Connection, count: int, *, seed: int) -> int:
    rng = random.Random(seed)

    def rows() -> Iterator[list[object]]:
        for i in range(1, count + 1):
            yield product(i, rng)

    columns = [
        "id", "category_id", "identity", "name", "brand", "model", "attributes", "un_number",
        "packing_group", "hazard_class", "temperature_profile", "search_text", "terms", "media",
        "listed_by_org_id",
    ]  # fmt: skip
    return copy_rows(conn, "products", columns, rows())


def write_vocabulary(conn: Connection) -> None:
    """Each category's terms, as ``db.catalogue_writes.write_listings`` records them beside a
    product (the products here are COPYed past it)."""
    conn.exec_driver_sql(
        "INSERT INTO catalogue_terms (term, category_id) "
        "SELECT DISTINCT unnest(terms), category_id FROM products ON CONFLICT DO NOTHING"
    )


def write_offers(conn: Connection, products: int, offers: int, suppliers: int) -> None:
    """``offers`` offers spread evenly over the products, each from a random supplier: a list
    price drawn log-uniform from 1 to 5,000 with a 10% break at 100, stock (a fifth made to
    order), MOQ, lead time, two or three delivery regions (some nationwide), and a validity
    from twenty days ago to half a year ahead."""
    conn.execute(
        text(
            "INSERT INTO catalogue_offers (id, product_id, supplier_org_id, sku, currency, unit, "
            "list_price, terms, stock, min_order_quantity, lead_time_days, delivery_regions, "
            "valid_until, revision) "
            "SELECT 'ofr_l' || j, 'prd_l' || lpad((1 + (j - 1) % :products)::text, 7, '0'), "
            "'org_supplier_' || lpad((1 + floor(random() * :suppliers))::int::text, 6, '0'), "
            "'SKU-' || j, 'CNY', '件', p, jsonb_build_object('currency', 'CNY', 'unit', '件', "
            "'price_breaks', jsonb_build_array("
            "jsonb_build_object('min_quantity', '1', 'unit_price', p::text), "
            "jsonb_build_object('min_quantity', '100', 'unit_price', round(p * 0.9, 2)::text)), "
            "'stock', s::text, 'min_order_quantity', m::text, 'lead_time_days', l, "
            "'delivery_regions', to_jsonb(r), 'valid_until', v::text), "
            "s, m, l, r, v, 1 FROM ("
            "SELECT j, round(exp(random() * ln(5000))::numeric, 2) p, "
            "CASE WHEN random() < 0.2 THEN 0 ELSE 100 + floor(random() * 5000) END s, "
            "(ARRAY[1, 1, 10, 50, 100])[1 + floor(random() * 5)::int] m, "
            "1 + floor(random() * 30)::int l, "
            "CASE WHEN random() < 0.2 THEN ARRAY['CN']::varchar[] ELSE (ARRAY['CN-JS', "
            "'CN-SH', 'CN-ZJ', 'CN-GD', 'CN-BJ', 'CN-SD'])[1 + (j % 6) : 2 + (j % 6) + (j % 2)] "
            "END r, (current_date + (floor(random() * 200) - 20)::int) v "
            "FROM generate_series(1, :offers) j) g"
        ),
        {"products": products, "offers": offers, "suppliers": suppliers},
    )
