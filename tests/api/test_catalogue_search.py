"""Catalogue search over the real API: relevance cases (a query and the products that must come
first), filters with their counts, keyset pages, the explanation, and who may be seen.

Products are listed through the API into a category of this module's own, and every search is
narrowed to it, since the database is shared.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import OPERATOR_ORG_ID, Role
from db import catalogue_vocabulary
from db.catalogue import CatalogueCategory
from db.catalogue_filters import SearchFilters
from db.catalogue_search import CLOSENESS, TYPICAL_LENGTH, matching, subtree
from db.catalogue_vocabulary import vocabulary
from db.models import Organisation
from rules.search_text import index_fields, parse_query
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller

TODAY = datetime.now(UTC).date()

# (key, name, brand, model, attributes, price, lead time, regions, extra listing fields; the
# offer's minimum order as "moq", else 1, and its "stock", else 50 when the lead time is under
# ten days, 0 when not).
PRODUCTS: list[tuple[str, str, str, str, dict[str, str], str, int, list[str], dict[str, Any]]] = [
    ("phillips", "十字螺丝刀 PH2", "Stanley", "STHT-65101", {"length": "5"}, "12.50", 3,
     ["CN-JS", "CN-SH"], {}),
    ("slotted", "螺丝起子 一字 5.0毫米", "世达", "SATA-09312", {"length": "100"}, "8.00", 5,
     ["CN-JS"], {}),
    ("electric", "螺丝刀 电动 GSR120-LI 12V", "Bosch", "GSR120-LI", {}, "499.00", 2, ["CN"],
     {"moq": "200", "stock": "500"}),
    ("wrench", "活动扳手 200mm", "Stanley", "STMT-87433", {"length": "200"}, "45.00", 7,
     ["CN-GD"], {"moq": "20"}),
    ("precision", "Precision screwdriver set 3 mm", "Wiha", "26197", {}, "150.00", 10,
     ["CN-SH"], {}),
    ("acetone", "丙酮 清洗剂 500毫升", "Lanxi", "AC-500", {}, "30.00", 4, ["CN-JS"],
     {"un_number": "UN1090", "packing_group": "II"}),
]  # fmt: skip


@dataclass
class Catalogue:
    buyer: TokenCaller
    supplier: TokenCaller
    category: str
    ids: dict[str, str]  # product key -> product id

    async def search(self, q: str = "", **params: Any) -> dict[str, Any]:
        response = await self.buyer.http.get(
            "/catalogue/search", params={"q": q, "category": self.category, **params}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def found(self, q: str = "", **params: Any) -> list[str]:
        """The product keys a search finds, in order."""
        names = {product_id: key for key, product_id in self.ids.items()}
        body = await self.search(q, **params)
        return [names.get(hit["product_id"], hit["product_id"]) for hit in body["results"]]


OFFERED = {"moq", "stock"}  # extra fields that are the offer's


def _listing(category: str, sku: str, product: tuple[Any, ...]) -> dict[str, Any]:
    _, name, brand, model, attributes, price, lead_time, regions, extra = product
    body: dict[str, Any] = {
        "sku": sku,
        "category_id": category,
        "name": name,
        "brand": brand,
        "model": model,
        "attributes": attributes,
        "offer": {
            "currency": "CNY",
            "unit": "件",
            "price_breaks": [
                {"min_quantity": "1", "unit_price": price},
                {"min_quantity": "100", "unit_price": str(Decimal(price) * Decimal("0.8"))},
            ],
            "stock": extra.get("stock", "50" if lead_time < 10 else "0"),
            "min_order_quantity": extra.get("moq", "1"),
            "lead_time_days": lead_time,
            "delivery_regions": regions,
            "valid_until": (TODAY + timedelta(days=30)).isoformat(),
        },
    }
    listed = {key: value for key, value in extra.items() if key not in OFFERED}
    merged: dict[str, Any] = body | listed
    return merged


@pytest.fixture(scope="module")
async def catalogue(
    api_url: str, settings: Settings, sessions: sessionmaker[Session], store: ObjectStore
) -> Catalogue:
    def caller(org: Organisation, role: Role) -> TokenCaller:
        return TokenCaller(api_url, settings.jwt_secret, s.member(sessions, org, role))

    with sessions() as session:
        operator = session.get(Organisation, OPERATOR_ORG_ID)
    assert operator is not None
    ops = caller(operator, Role.OPS_SUPERVISOR)
    supplier = caller(s.accredited_supplier(sessions, store), Role.SUPPLIER)
    category = f"hand-tools-{uuid.uuid4().hex[:8]}"
    made = await ops.http.put(
        f"/catalogue/categories/{category}",
        json={
            "category_id": category,
            "name_zh": "手动工具",
            "name_en": "Hand tools",
            "attributes": [
                {"key": "length", "label_zh": "长度", "label_en": "Length", "kind": "number",
                 "unit": "mm"},
            ],
            "synonyms": [["螺丝刀", "螺丝起子", "改锥"], ["扳手", "扳子"]],
        },
    )  # fmt: skip
    assert made.status_code == 201, made.text
    ids = {}
    for product in PRODUCTS:
        sku = f"{product[0]}-{uuid.uuid4().hex[:6]}"
        listed = await supplier.http.put(
            f"/catalogue/listings/{sku}", json=_listing(category, sku, product)
        )
        assert listed.status_code == 201, listed.text
        ids[product[0]] = listed.json()["product_id"]
    return Catalogue(caller(s.buyer_org(sessions), Role.BUYER), supplier, category, ids)


# Each a query and the products that must come first, in order (a set where ties are equal).
RELEVANCE = [
    # 5mm, 5.0mm, 5 mm and 5毫米 match; full-width and case are ignored.
    ("5mm", [{"phillips", "slotted"}]),
    ("5毫米", [{"phillips", "slotted"}]),
    ("５．０ ＭＭ", [{"phillips", "slotted"}]),  # noqa: RUF001 (full-width, as typed in Chinese)
    # The word itself first, then its synonym; words are found inside names.
    ("螺丝刀", [{"phillips", "electric"}, {"slotted"}]),
    ("螺丝起子", ["slotted", {"phillips", "electric"}]),
    ("改锥", [{"phillips", "electric", "slotted"}]),
    ("扳子", ["wrench"]),
    ("Stanley 扳手", ["wrench"]),
    # Pinyin initials of a Chinese run (螺丝刀 → lsd).
    ("lsd", ["electric"]),
    # Model numbers: whole, without separators, in part.
    ("sata09312", ["slotted"]),
    ("STHT65101", ["phillips"]),
    ("6510", ["phillips"]),
    # Misspelt: trigram similarity, to the nearest known words (both words misspelt here).
    ("screwdrier", ["precision"]),
    ("stanly", [{"phillips", "wrench"}]),
    ("precison screwdrivr", ["precision"]),
    # A size typed without its unit: 200 as 200mm (the wrench's name and length).
    ("200", ["wrench"]),
    # Part of a model number shaped as a size (GSR120-LI), though no product is 120 litres.
    ("120L", ["electric"]),
    # A Chinese word with a character mistyped: 济 for 剂, and 到 for its homophone 刀 (dao),
    # met by the pairs the category knows, half the word's or more (清洗; 螺丝).
    ("清洗济", ["acetone"]),
    ("螺丝到", [{"phillips", "slotted", "electric"}]),
    # Two words cut short and run together: near no known word (0.43), near the text (0.55).
    ("precisscrewdr", ["precision"]),
    # Chinese segmented around a synonym: 电动 and 螺丝起子 (螺丝刀) in another order.
    ("电动螺丝起子", ["electric"]),
]


@pytest.mark.parametrize(
    ("query", "first"), RELEVANCE, ids=[f"q{i}" for i in range(len(RELEVANCE))]
)
async def test_relevance(catalogue: Catalogue, query: str, first: list[Any]) -> None:
    found = await catalogue.found(query)
    at = 0
    for expected in first:
        wanted = expected if isinstance(expected, set) else {expected}
        assert set(found[at : at + len(wanted)]) == wanted, (query, found)
        at += len(wanted)


def test_a_misspelt_word_is_met_by_its_nearest_known_words(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """precison: the category's own word precision, asked of the terms index, and no product's
    whole text compared; precisscrewdr, near no word (0.43 at best): the whole text's
    similarity. A known word is not loose, and its unknown pinyin is not asked."""
    query = parse_query("precison precisscrewdr 螺丝刀", [])
    with sessions() as session:
        path = session.scalar(
            select(CatalogueCategory.path).where(CatalogueCategory.id == catalogue.category)
        )
        assert path is not None
        filters = SearchFilters(category_path=path, category_ids=subtree(session, path))
        words = vocabulary(session, query, filters)
    ((near, nearness),) = words.loose["precison"]
    assert near == "precision" and 0.5 <= nearness < 1
    assert words.loose["precisscrewdr"] == ()
    # No known word holds precison whole, so no text does: its substring is not asked.
    assert words.unheld == {"precison"}
    with sessions() as session:
        part = vocabulary(session, parse_query("precisi", []), filters)
    assert part.loose["precisi"] and not part.unheld  # part of precision: a substring too
    # ... met by the known words holding it, asked of the terms index, not of every text.
    assert part.parts == {"precisi": ("precision",)}
    (held,) = matching(parse_query("precisi", []), part, filters).conditions[:1]
    assert "LIKE" not in str(held.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]
    assert set(words.loose) == {"precison", "precisscrewdr"} and {"螺丝", "丝刀"} <= words.known
    conditions = [
        str(c.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]
        for c in matching(query, words, filters).conditions
    ]
    by_neighbours, by_text = conditions[1:3]  # the first: the known word's terms
    assert "&&" in by_neighbours and "<%" not in by_neighbours and "LIKE" not in by_neighbours
    assert "<%" in by_text and "py:" not in conditions[0]


async def test_a_part_of_a_word_is_found_alike_by_the_words_holding_it_or_by_every_text(
    catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Held by at most ``PARTS`` known words, a part of a word is asked of the terms index; by
    more, of every candidate's whole text: the same products, in the same order."""
    by_terms = [await catalogue.found(q) for q in ("precisi", "crewdriv", "recisio")]
    monkeypatch.setattr(catalogue_vocabulary, "PARTS", 0)
    by_text = [await catalogue.found(q) for q in ("precisi", "crewdriv", "recisio")]
    assert all(by_terms) and by_terms == by_text


async def test_a_word_met_one_way_scores_its_weight(catalogue: Catalogue) -> None:
    """lsd meets the electric screwdriver by its pinyin initials alone: 0.8, and the bonus of
    its text's length."""
    (hit,) = (await catalogue.search("lsd"))["results"]
    text, _ = index_fields("螺丝刀 电动 GSR120-LI 12V", "Bosch", "GSR120-LI", {})
    bonus = CLOSENESS * TYPICAL_LENGTH / (TYPICAL_LENGTH + len(text))
    assert abs(Decimal(hit["relevance"]) - Decimal(0.8 + bonus)) < Decimal("0.000001")


async def test_words_that_match_nothing_find_nothing(catalogue: Catalogue) -> None:
    assert await catalogue.found("扳手 5mm") == []  # both words must be met
    assert await catalogue.found("qqqzzz") == []
    assert await catalogue.found("½") == []  # 1 and 2: too short to compare with any text
    assert await catalogue.found("mm") == []  # a unit alone is no size
    assert await catalogue.found("0.0mm") == []  # a size no product has (0mm of 10mm)
    assert await catalogue.found("16.0m") == []  # 16m is not 16mm
    assert await catalogue.found("200m") == []  # part of 200mm, a size, not of a model number
    assert await catalogue.found("螺到") == []  # its one pair unknown: not half of it right


def test_short_words_and_unheld_sizes_are_not_compared_with_every_text(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """A short word near no known word, or a size no product holds, is met by no product: their
    two or three trigrams are in most texts, and comparing each took seconds. A longer part of
    a model number is still a substring and a near text; a mistyped Chinese word is met by the
    pairs of it the category knows."""
    with sessions() as session:
        path = session.scalar(
            select(CatalogueCategory.path).where(CatalogueCategory.id == catalogue.category)
        )
        assert path is not None
        filters = SearchFilters(category_path=path, category_ids=subtree(session, path))
        found = {}
        for q in ("m", "mm", "0mm", "6510", "清洗济"):
            query = parse_query(q, [])
            found[q] = matching(query, vocabulary(session, query, filters), filters)
    sql = {
        q: [
            str(c.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]
            for c in m.conditions
        ]
        for q, m in found.items()
    }
    for q in ("m", "mm", "0mm"):
        assert sql[q][0] == "false" and not found[q].loose, q
    assert "LIKE" in sql["6510"][0] and "<%" in sql["6510"][0] and found["6510"].loose
    # A mistyped Chinese word: its known pairs, which the terms index (and its sample) answers.
    assert "@>" in sql["清洗济"][0] and "<%" not in sql["清洗济"][0] and not found["清洗济"].loose


async def test_the_explanation_names_fields_and_kinds(catalogue: Catalogue) -> None:
    body = await catalogue.search("螺丝刀 5mm")
    by_id = {hit["product_id"]: hit for hit in body["results"]}
    slotted = by_id[catalogue.ids["slotted"]]
    assert {"query": "螺丝刀", "field": "name", "kind": "synonym", "matched": "螺丝起子",
            "similarity": None} in slotted["matches"]  # fmt: skip
    assert {"query": "5mm", "field": "name", "kind": "exact", "matched": "5mm",
            "similarity": None} in slotted["matches"]  # fmt: skip
    phillips = by_id[catalogue.ids["phillips"]]
    assert {"query": "5mm", "field": "attributes.length", "kind": "exact", "matched": "5mm",
            "similarity": None} in phillips["matches"]  # fmt: skip
    assert body["words"][0] == {
        "text": "螺丝刀",
        "alternatives": {"exact": ["螺丝刀"], "synonym": ["改锥", "螺丝起子"]},
    }
    fuzzy = (await catalogue.search("screwdrier"))["results"][0]["matches"]
    assert fuzzy[0]["field"] == "name" and fuzzy[0]["kind"] == "fuzzy"
    assert fuzzy[0]["matched"] == "screwdriver" and fuzzy[0]["similarity"] > 0.5


async def test_best_price_and_filters(catalogue: Catalogue) -> None:
    body = await catalogue.search("螺丝刀", sort="price")
    assert [hit["best_price"] for hit in body["results"]] == [
        {"amount": "8.0000", "currency": "CNY"},
        {"amount": "12.5000", "currency": "CNY"},
        {"amount": "499.0000", "currency": "CNY"},
    ]
    # At a quantity, the price break it reaches.
    at_100 = await catalogue.search("螺丝起子", quantity="100")
    assert at_100["results"][0]["best_price"]["amount"] == "6.4000"
    assert await catalogue.found("螺丝刀", price_max="20", sort="price") == ["slotted", "phillips"]
    assert await catalogue.found("螺丝刀", brand="stanley") == ["phillips"]
    assert await catalogue.found("", region="CN-GD", sort="price") == ["wrench", "electric"]
    assert "precision" not in await catalogue.found("", in_stock="true")
    assert await catalogue.found("", hazard_class="3") == ["acetone"]
    assert await catalogue.found("", sort="lead_time", limit=2) == ["electric", "phillips"]


async def test_a_brand_is_found_as_its_facet_shows_it(catalogue: Catalogue) -> None:
    """A brand filter matches as PostgreSQL folds case (``lower``), on both sides: the facet's
    value and any casing of it find the brand's products, ß included (Python's casefold makes
    it ss, which ``lower`` never does, and found nothing)."""
    product: tuple[Any, ...] = (
        "weiss",
        "活动扳手 300mm",
        "Weiß",
        "W-300",
        {},
        "88.00",
        3,
        ["CN-JS"],
        {},
    )
    sku = f"weiss-{uuid.uuid4().hex[:6]}"
    listed = await catalogue.supplier.http.put(
        f"/catalogue/listings/{sku}", json=_listing(catalogue.category, sku, product)
    )
    assert listed.status_code == 201, listed.text
    weiss = listed.json()["product_id"]
    try:
        brands = {f["value"] for f in (await catalogue.search("扳手"))["facets"]["brand"]}
        assert "Weiß" in brands
        for asked in ("Weiß", "WEIß", "weiß"):
            assert await catalogue.found("扳手", brand=asked) == [weiss], asked
    finally:
        withdrawn = await catalogue.supplier.http.delete(f"/catalogue/offers/{sku}")
        assert withdrawn.status_code == 204, withdrawn.text
    assert weiss not in await catalogue.found("扳手")


async def _paged(catalogue: Catalogue, q: str, **params: str) -> list[str]:
    """The products a search finds, a page of one at a time."""
    found: list[str] = []
    cursor: dict[str, str] = {}
    while True:
        body = await catalogue.search(q, limit="1", **params, **cursor)
        found.extend(hit["product_id"] for hit in body["results"])
        if not body["next_cursor"]:
            return found
        cursor = {"cursor": body["next_cursor"]}


async def test_a_brand_of_ascii_finds_its_products_not_those_holding_its_words(
    catalogue: Catalogue,
) -> None:
    """Such a brand is also asked of its words' terms (``db.catalogue_filters.brand_terms``):
    any casing of it finds its product, and a product holding its words in its name only is
    found by the words, not by the brand."""
    products: dict[str, tuple[Any, ...]] = {
        "decker": ("decker", "活动扳手 200mm", "Black & Decker", "BD-1", {}, "66.00", 3,
                   ["CN-JS"], {}),
        "decker_2": ("decker_2", "活动扳手 250mm", "BLACK & DECKER", "BD-2", {}, "68.00", 3,
                     ["CN-JS"], {}),
        "named": ("named", "活动扳手 Black & Decker 款", "世达", "SD-1", {}, "67.00", 3,
                  ["CN-JS"], {}),
    }  # fmt: skip
    skus = {key: f"{key}-{uuid.uuid4().hex[:6]}" for key in products}
    ids: dict[str, str] = {}
    try:
        for key, product in products.items():
            listed = await catalogue.supplier.http.put(
                f"/catalogue/listings/{skus[key]}",
                json=_listing(catalogue.category, skus[key], product),
            )
            assert listed.status_code == 201, listed.text
            ids[key] = listed.json()["product_id"]
        deckers = [ids["decker"], ids["decker_2"]]
        for asked in ("Black & Decker", "BLACK & DECKER", "black & decker"):
            assert await catalogue.found("扳手", brand=asked, sort="price") == deckers, asked
            # Page by page: a later page applies the product's own filters before its prices.
            assert await _paged(catalogue, "扳手", brand=asked, sort="price") == deckers, asked
        assert {ids["decker"], ids["named"]} <= set(await catalogue.found("扳手 black decker"))
    finally:
        for sku in skus.values():
            withdrawn = await catalogue.supplier.http.delete(f"/catalogue/offers/{sku}")
            assert withdrawn.status_code == 204, withdrawn.text


async def test_facets_count_under_every_filter_but_their_own(catalogue: Catalogue) -> None:
    body = await catalogue.search("", brand="Stanley", price_max="100")
    facets = body["facets"]
    assert body["facets_estimated"] is False  # six products: counted, not sampled
    # Brands: counted without the brand filter, with the price filter (Bosch's is 499).
    assert {f["value"]: f["count"] for f in facets["brand"]} == {
        "Stanley": 2, "世达": 1, "Lanxi": 1,
    }  # fmt: skip
    assert {f["value"]: f["count"] for f in facets["price"]} == {"10-100": 2}
    assert {f["value"]: f["count"] for f in facets["region"]} == {
        "CN-JS": 1, "CN-SH": 1, "CN-GD": 1,
    }  # fmt: skip
    assert facets["hazard_class"] == [] and facets["temperature"] == []
    everything = (await catalogue.search(""))["facets"]
    assert {f["value"]: f["count"] for f in everything["hazard_class"]} == {"3": 1}
    assert {f["value"]: f["count"] for f in everything["price"]} == {
        "<10": 1, "10-100": 3, "100-1000": 2,
    }  # fmt: skip


def _counts(body: dict[str, Any], facet: str) -> dict[str, int]:
    return {f["value"]: f["count"] for f in body["facets"][facet]}


async def test_stock_and_moq_facets_count_without_their_own_filter(catalogue: Catalogue) -> None:
    """In stock: every product but the precision set (none in stock). MOQ, products offered at
    that minimum order or less: the wrench's is 20, the electric screwdriver's 200."""
    everything = await catalogue.search("")
    assert _counts(everything, "in_stock") == {"true": 5}
    assert [(f["value"], f["count"]) for f in everything["facets"]["moq"]] == [
        ("1", 4), ("10", 4), ("100", 5), ("1000", 6),
    ]  # fmt: skip
    # Each under the other's filter, not its own.
    stocked = await catalogue.search("", in_stock="true")
    assert _counts(stocked, "in_stock") == {"true": 5}
    assert _counts(stocked, "moq") == {"1": 3, "10": 3, "100": 4, "1000": 5}
    small = await catalogue.search("", moq_max="10")
    assert sorted(await catalogue.found("", moq_max="10")) == [
        "acetone", "phillips", "precision", "slotted",
    ]  # fmt: skip
    assert _counts(small, "moq") == _counts(everything, "moq")
    assert _counts(small, "in_stock") == {"true": 3}
    # And under the product's own filters: the price range leaves out the 499 one.
    cheap = await catalogue.search("", moq_max="10", price_max="100")
    assert _counts(cheap, "moq") == {"1": 3, "10": 3, "100": 4, "1000": 4}
    assert _counts(await catalogue.search("", brand="Stanley"), "moq") == {
        "1": 1, "10": 1, "100": 2, "1000": 2,
    }  # fmt: skip


async def test_keyset_pages_neither_repeat_nor_skip(catalogue: Catalogue) -> None:
    for sort in ("relevance", "price", "lead_time"):
        whole = await catalogue.found("", sort=sort, limit=100)
        assert len(whole) == len(PRODUCTS)
        pages: list[str] = []
        cursor = None
        while True:
            params = {"sort": sort, "limit": 2} | ({"cursor": cursor} if cursor else {})
            response = await catalogue.buyer.http.get(
                "/catalogue/search", params={"category": catalogue.category, **params}
            )
            body = response.json()
            names = {v: k for k, v in catalogue.ids.items()}
            pages += [names[hit["product_id"]] for hit in body["results"]]
            assert (body["facets"] is None) == (cursor is not None)
            cursor = body["next_cursor"]
            assert response.headers.get("X-Next-Cursor") == cursor
            if cursor is None:
                break
        assert pages == whole


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


async def test_bad_requests_name_their_field(catalogue: Catalogue) -> None:
    async def refused(**params: Any) -> str:
        response = await catalogue.buyer.http.get("/catalogue/search", params=params)
        assert response.status_code == 422, response.text
        field: str = response.json()["errors"][0]["field"]
        return field

    assert await refused(q="") == "q"
    assert await refused(q="x", category="no-such-category") == "category"
    assert await refused(q="x", price_min="10", price_max="5") == "price_max"
    first = await catalogue.buyer.http.get(
        "/catalogue/search", params={"category": catalogue.category, "limit": 1}
    )
    cursor = first.json()["next_cursor"]
    assert await refused(category=catalogue.category, sort="price", cursor=cursor) == "cursor"
    # Forged cursors: numbers past PostgreSQL's numeric, and ids it cannot hold, were 500s.
    for keyset, key in [
        ("catalogue-search-price", ["1e999999", "prd_x"]),
        ("catalogue-search-price", ["1e-999999", "prd_x"]),
        ("catalogue-search-price", ["NaN", "prd_x"]),
        ("catalogue-search", ["1", "prd_\\u0000"]),
        ("catalogue-search", ["1", "prd_\\ud800"]),
    ]:
        sort = "price" if keyset.endswith("price") else "relevance"
        forged = _cursor(f'["{keyset}", "{key[0]}", "{key[1]}"]')
        assert await refused(category=catalogue.category, sort=sort, cursor=forged) == "cursor"
    assert await refused(q="x", sort="newest") == "sort"
    anonymous = await catalogue.buyer.http.get(
        "/catalogue/search", params={"q": "x"}, headers={"Authorization": ""}
    )
    assert anonymous.status_code == 401


async def test_a_suspended_suppliers_offers_disappear(
    catalogue: Catalogue, api_url: str, settings: Settings, sessions: sessionmaker[Session],
    store: ObjectStore,
) -> None:  # fmt: skip
    org = s.accredited_supplier(sessions, store)
    seller = TokenCaller(api_url, settings.jwt_secret, s.member(sessions, org, Role.SUPPLIER))
    # The same product (brand and model) cheaper from a second supplier, and one of its own.
    shared = _listing(catalogue.category, "CHEAP-1", PRODUCTS[0]) | {"offer": {
        **_listing(catalogue.category, "x", PRODUCTS[0])["offer"],
        "price_breaks": [{"min_quantity": "1", "unit_price": "9.99"}],
    }}  # fmt: skip
    own = _listing(catalogue.category, "OWN-1", PRODUCTS[0]) | {
        "name": "棘轮螺丝刀 魔术师",
        "model": f"MAGIC-{uuid.uuid4().hex[:6]}",
    }
    for body in (shared, own):
        response = await seller.http.put(f"/catalogue/listings/{body['sku']}", json=body)
        assert response.status_code == 201, response.text
    seen = await catalogue.search("STHT65101")
    assert seen["results"][0]["best_price"]["amount"] == "9.9900"
    assert seen["results"][0]["visible_offers"] == 2
    assert await catalogue.found("魔术师") != []
    s.set_standing(sessions, org.id, "suspended")
    unseen = await catalogue.search("STHT65101")
    assert unseen["results"][0]["best_price"]["amount"] == "12.5000"
    assert unseen["results"][0]["visible_offers"] == 1
    assert await catalogue.found("魔术师") == []
