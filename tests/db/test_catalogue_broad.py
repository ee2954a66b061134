"""Broad searches (``db.catalogue_broad``) find the very pages an exact search finds: over the
catalogue of ``tests.harness.catalogue_broad``, every search runs twice, as a broad search and
as an exact one, page after page, and the pages must be equal, row for row. The walks' own
cases are in ``tests/db/test_catalogue_walk.py``.
"""

from __future__ import annotations

import re
import threading
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session, sessionmaker

from db import catalogue_broad, catalogue_relevance
from db.catalogue import IN_STOCK, CatalogueOffer, Product, visible_offer
from db.catalogue_broad import FACET_MATCHES, SCORED_MAX
from db.catalogue_filters import SearchFilters, Sort
from db.catalogue_relevance import TOP, longest_text
from db.catalogue_search import (
    CLOSENESS,
    SAMPLE,
    TYPICAL_LENGTH,
)
from db.catalogue_search import sampled as sampled_condition
from rules.waybill_parties import china_today
from tests.harness.catalogue_broad import (
    BRANDS,
    EXACT,
    LIMIT,
    Catalogue,
    filters_for,
    in_sample,
    pages_of,
    row,
    search_in,
    search_on,
)

CASES: list[tuple[str, dict[str, Any], Sort]] = [
    ("螺丝刀", {}, Sort.RELEVANCE),
    ("螺丝刀", {}, Sort.PRICE),
    ("螺丝刀", {}, Sort.LEAD_TIME),
    # One brand: walked along the brand's own sums (by price, by lead time; bounded to a
    # province), or along every product's at a quantity (no index holds the brand and a floor).
    ("螺丝刀", {"brand": "stanley"}, Sort.PRICE),
    ("螺丝刀", {"brand": "stanley"}, Sort.LEAD_TIME),
    ("螺丝刀", {"brand": "得力", "region": "CN-JS"}, Sort.PRICE),
    ("螺丝刀", {"brand": "bosch", "quantity": Decimal(100)}, Sort.PRICE),
    ("螺丝刀", {"brand": "世达"}, Sort.RELEVANCE),
    ("螺丝刀", {"price_min": Decimal("9.90"), "price_max": Decimal("120")}, Sort.PRICE),
    ("扳手 5mm", {}, Sort.RELEVANCE),
    # A province and a price ceiling keep few of the most relevant: more are taken, try by try.
    ("螺丝刀", {"region": "CN-JS", "price_max": Decimal("60")}, Sort.RELEVANCE),
    ("", {}, Sort.PRICE),
    ("", {}, Sort.RELEVANCE),
    ("螺丝刀", {"region": "CN-JS"}, Sort.PRICE),  # a province: the sums are lower bounds
    ("螺丝刀", {"region": "CN-JS"}, Sort.LEAD_TIME),
    (
        "螺丝刀",
        {"region": "CN-SH", "price_min": Decimal("9.90"), "price_max": Decimal("300")},
        Sort.PRICE,
    ),
    # In stock, under an MOQ: the sums are lower bounds too (the undercut holds no stock).
    ("螺丝刀", {"in_stock": True}, Sort.PRICE),
    ("螺丝刀", {"moq_max": Decimal("10")}, Sort.LEAD_TIME),
    ("螺丝刀", {"region": "CN-GD", "in_stock": True, "moq_max": Decimal("100")}, Sort.PRICE),
    # At a quantity: walked by the floor below the next power of ten (the breaks at 100 reached
    # or not); at 600 the undercut (500 the least order) qualifies too, to Guangdong.
    ("螺丝刀", {"quantity": Decimal(5)}, Sort.PRICE),
    ("螺丝刀", {"quantity": Decimal(10)}, Sort.PRICE),
    ("螺丝刀", {"quantity": Decimal("99.999")}, Sort.PRICE),  # below the break: the floor below 100
    ("螺丝刀", {"quantity": Decimal(100)}, Sort.PRICE),
    ("螺丝刀", {"quantity": Decimal(2000)}, Sort.PRICE),
    (
        "螺丝刀",
        {"quantity": Decimal(100), "price_min": Decimal(5), "price_max": Decimal(60)},
        Sort.PRICE,
    ),
    ("螺丝刀", {"quantity": Decimal(600), "region": "CN-GD"}, Sort.PRICE),
    ("螺丝刀", {"quantity": Decimal(600), "in_stock": True}, Sort.PRICE),
    ("螺丝刀", {"quantity": Decimal(100)}, Sort.LEAD_TIME),  # by lead time, then the floor
    ("stanly", {}, Sort.RELEVANCE),  # misspelt: by its nearest known word, stanley
    ("stanly", {}, Sort.PRICE),
    # 密 left out: near the texts holding 进口, and walked or bounded by length like any word.
    ("进口精螺丝刀", {}, Sort.PRICE),
    ("进口精螺丝刀", {}, Sort.RELEVANCE),
]


@pytest.mark.parametrize(("words", "narrowed", "sort"), CASES)
def test_a_broad_search_pages_as_the_exact_search_does(
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
    words: str,
    narrowed: dict[str, Any],
    sort: Sort,
) -> None:
    filters = filters_for(catalogue, sessions, **narrowed)
    broad = list(pages_of(sessions, words, filters, sort, broad=1))
    exact = list(pages_of(sessions, words, filters, sort, broad=EXACT))
    assert [[row(h) for h in p.hits] for p in broad] == [[row(h) for h in p.hits] for p in exact]
    assert len(exact) > 1  # pages after the first were compared too
    assert {p.way for p in exact} == {"exact"}
    # The sums bound the prices: walked, unless the sample holds none of a brand's matches (a
    # hash of random ids), when no estimate says a walk would end and the page is found exactly.
    brand = narrowed.get("brand")
    if {"in_stock", "moq_max", "quantity"} & set(narrowed) and (
        brand is None or in_sample(sessions, catalogue.products, words, brand)
    ):
        assert {p.way for p in broad} == {"walked"}
    if words in ("螺丝刀", "") and not narrowed:  # the sample holds some: broad
        # By relevance, the texts short enough to outscore the sample's second best (a page of
        # ten), unless
        # (rarely) both best sampled products are on the page.
        relevant = {"shortest texts", "most relevant"} if words else {"most relevant"}
        assert broad[0].way in (relevant if sort is Sort.RELEVANCE else {"walked"})
    if words == "进口精螺丝刀" and in_sample(sessions, catalogue.products, "进口精密螺丝刀"):
        assert broad[0].way != "exact"  # a misspelling near its held pairs: broad, as any word
    prices = {h.product_id: h.price for p in exact for h in p.hits}
    assert Decimal("0.01") not in prices.values()  # lapsed sums were not trusted


@pytest.mark.parametrize("rows_per_match", [0, 10**9])
def test_a_relevance_page_reads_the_lengths_from_the_index_or_from_the_matches_alike(
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    rows_per_match: int,
) -> None:
    """The texts within the length bound read from the length index (where it holds few of
    them for the words' matches) or from the matches' own rows: the same pages as the exact
    search, and the statement read the index only in the first case."""
    monkeypatch.setattr(catalogue_relevance, "LENGTH_ROWS_PER_MATCH", rows_per_match)
    statements: list[str] = []
    with sessions() as session:
        event.listen(session.connection(), "before_cursor_execute", _recorded(statements))
        filters = filters_for(catalogue, sessions)
        first = search_on(session, "螺丝刀", filters, Sort.RELEVANCE, None, broad=1)
    exact = search_in(sessions, "螺丝刀", filters, Sort.RELEVANCE, None, broad=EXACT)
    assert first.way in ("shortest texts", "most relevant")  # the latter when the bound fails
    assert [row(h) for h in first.hits] == [row(h) for h in exact.hits]
    fills = [sql for sql in statements if "INSERT INTO catalogue_found" in sql]
    bounded = [sql for sql in fills if "length(products.search_text) <=" in sql]
    assert bounded and all(
        ("char_length(products.search_text) <=" in sql) == (rows_per_match == 0) for sql in bounded
    )


@pytest.mark.parametrize(("rows_per_match", "first_pages"), [(0, 4 * TOP), (10**9, TOP)])
def test_a_relevance_page_filtered_once_priced_takes_more_at_first_where_it_reads_every_match(
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    rows_per_match: int,
    first_pages: int,
) -> None:
    """A province and a price ceiling keep few of the most relevant. Where the texts within the
    length bound are read from the matches' own rows, the first try takes four times as many
    (the second try's); from the length index, the first try's own; the same pages either way
    as the exact search's."""
    monkeypatch.setattr(catalogue_relevance, "LENGTH_ROWS_PER_MATCH", rows_per_match)
    tops: list[int] = []

    def record(_c: Any, _cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
        if "INSERT INTO catalogue_found" in sql and "length(products.search_text) <=" in sql:
            tops.append(parameters["top"])

    narrowed = {"region": "CN-JS", "price_max": Decimal("60")}
    filters = filters_for(catalogue, sessions, **narrowed)
    with sessions() as session:
        event.listen(session.connection(), "before_cursor_execute", record)
        first = search_on(session, "螺丝刀", filters, Sort.RELEVANCE, None, broad=1)
    exact = search_in(sessions, "螺丝刀", filters, Sort.RELEVANCE, None, broad=EXACT)
    assert [row(h) for h in first.hits] == [row(h) for h in exact.hits]
    assert tops and tops[0] == first_pages * (LIMIT + 1), tops


def test_the_texts_within_a_length_are_the_planners_estimate_kept_a_while(
    sessions: sessionmaker[Session],
) -> None:
    estimate = text("EXPLAIN (FORMAT JSON) SELECT FROM products WHERE length(search_text) <= 31")
    with sessions() as session:
        planned = session.scalar(estimate)[0]["Plan"]["Plan Rows"]
        statements: list[str] = []
        event.listen(session.connection(), "before_cursor_execute", _recorded(statements))
        assert catalogue_relevance.texts_within(session, 31) == planned
        assert catalogue_relevance.texts_within(session, 31) == planned
    assert len(statements) <= 1  # asked once at most (another test may have asked already)


def _recorded(statements: list[str]) -> Any:
    def record(_c: Any, _cursor: Any, sql: str, *_: Any) -> None:
        statements.append(sql)

    return record


def test_a_broad_search_whose_filters_keep_few_scores_every_one_kept(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """By relevance, a brand kept by few products: every one scored, the length bound not
    tried (its index would be read for nothing), and the same pages as the exact search."""
    filters = filters_for(catalogue, sessions, brand="世达")
    broad = search_in(sessions, "螺丝刀", filters, Sort.RELEVANCE, None, broad=1, scored=SCORED_MAX)
    exact = search_in(sessions, "螺丝刀", filters, Sort.RELEVANCE, None, broad=EXACT)
    assert broad.way == "most relevant"
    assert [row(h) for h in broad.hits] == [row(h) for h in exact.hits]


def test_the_in_stock_count_is_the_in_stock_pages_own(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """To Guangdong under a ceiling, a product undercut there by an offer holding no stock is
    within the ceiling, but its offer in stock may not be: counted as the in-stock page would
    find it, not by its best price."""
    narrowed = {"region": "CN-GD", "price_max": Decimal("60")}
    off_filters = filters_for(catalogue, sessions, **narrowed)
    on_filters = filters_for(catalogue, sessions, in_stock=True, **narrowed)
    off = search_in(sessions, "螺丝刀", off_filters, Sort.PRICE, None, broad=EXACT)
    on = search_in(sessions, "螺丝刀", on_filters, Sort.PRICE, None, broad=EXACT)
    assert off.facets is not None and on.facets is not None
    stocked = [c.count for c in off.facets if c.facet == "in_stock"]
    found = sum(c.count for c in on.facets if c.facet == "brand")
    everything = sum(c.count for c in off.facets if c.facet == "brand")
    assert stocked == [found] and 0 < found < everything


@pytest.mark.parametrize(
    "narrowed",
    [
        {},
        {"in_stock": True},
        {"region": "CN-JS"},
        {"moq_max": Decimal("10"), "price_max": Decimal("150")},
        {"quantity": Decimal("100"), "region": "CN-GD"},
        {"region": "CN-SH", "in_stock": True, "price_min": Decimal("20")},
    ],
)
def test_the_region_facet_counts_the_offers_passing_every_other_filter(
    catalogue: Catalogue, sessions: sessionmaker[Session], narrowed: dict[str, Any]
) -> None:
    """Each province's count: the found products one of whose offers passing every filter but
    the province (visible, in stock, the MOQ, taking the quantity) delivers there, within the
    price range on the best of those offers. Counted here from the offers themselves, in
    Python, against the search's facet."""
    filters = filters_for(catalogue, sessions, **narrowed)
    exact = search_in(sessions, "螺丝刀", filters, Sort.PRICE, None, broad=EXACT)
    assert exact.facets is not None
    counted = {c.value: c.count for c in exact.facets if c.facet == "region"}
    assert counted == _regions_of_offers(catalogue, sessions, filters, "螺丝刀")
    assert counted


def _regions_of_offers(
    catalogue: Catalogue, sessions: sessionmaker[Session], filters: SearchFilters, named: str
) -> dict[str, int]:
    """The region facet's counts for the products named ``named``, from their visible offers."""
    with sessions() as session:
        offers = session.execute(
            select(CatalogueOffer)
            .join(Product, Product.id == CatalogueOffer.product_id)
            .where(
                CatalogueOffer.product_id.in_(catalogue.products),
                Product.name.contains(named),
                CatalogueOffer.currency == filters.currency,
                visible_offer(china_today()),
            )
        ).scalars()
        eligible: dict[str, list[tuple[Decimal, list[str]]]] = {}
        quantity = filters.quantity
        for offer in offers:
            if quantity is not None and offer.min_order_quantity > quantity:
                continue
            if filters.in_stock and offer.stock < (quantity or IN_STOCK):
                continue
            if filters.moq_max is not None and offer.min_order_quantity > filters.moq_max:
                continue
            price = offer.list_price
            for at, broken in zip(
                offer.break_quantities or [], offer.break_prices or [], strict=True
            ):
                if quantity is not None and at <= quantity:
                    price = broken
            eligible.setdefault(offer.product_id, []).append((price, offer.delivery_regions))
    counts: dict[str, int] = {}
    for held in eligible.values():
        best = min(price for price, _ in held)
        if filters.price_min is not None and best < filters.price_min:
            continue
        if filters.price_max is not None and best > filters.price_max:
            continue
        for region in {code for _, regions in held for code in regions}:
            counts[region] = counts.get(region, 0) + 1
    return counts


def test_a_broad_searchs_facets_are_the_samples_counts_scaled(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    filters = filters_for(catalogue, sessions)
    broad = search_in(sessions, "", filters, Sort.PRICE, None, broad=1)
    exact = search_in(sessions, "", filters, Sort.PRICE, None, broad=EXACT)
    assert broad.estimated and not exact.estimated
    assert broad.facets is not None and exact.facets is not None
    brands = [c for c in broad.facets if c.facet == "brand"]
    assert all(c.count % SAMPLE == 0 for c in broad.facets)
    sampled = in_sample(sessions, catalogue.products)
    assert sum(c.count for c in brands) == sampled * SAMPLE
    assert sum(c.count for c in exact.facets if c.facet == "brand") == len(catalogue.products)


def test_the_broadest_searches_count_their_facets_on_a_finer_sample(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """Past four times ``facet_matches`` sampled matches, the facets are the counts of a
    quarter of the sample (past sixteen times, a sixteenth) scaled by as much; a search with
    fewer keeps the whole sample's."""
    filters = filters_for(catalogue, sessions)
    sampled = in_sample(sessions, catalogue.products)
    assert sampled >= 8, "the catalogue's sample too small to thin"
    least = sampled // 4  # a quarter of the sample holds about that many: thinned once
    thinned = catalogue_broad.thinning(sampled, least)
    assert thinned == 4
    finer = in_sample(sessions, catalogue.products, thinned=thinned)
    assert 0 < finer < sampled
    broad = search_in(sessions, "", filters, Sort.PRICE, None, broad=1, facet_matches=least)
    assert broad.estimated and broad.facets is not None
    assert all(c.count % (SAMPLE * thinned) == 0 for c in broad.facets)
    brands = [c for c in broad.facets if c.facet == "brand"]
    assert sum(c.count for c in brands) == finer * SAMPLE * thinned
    whole = search_in(sessions, "", filters, Sort.PRICE, None, broad=1, facet_matches=sampled)
    assert whole.facets is not None
    assert sum(c.count for c in whole.facets if c.facet == "brand") == sampled * SAMPLE
    # Thinned on the matches the product's own filters keep: a brand's quarter of them is not.
    branded = filters_for(catalogue, sessions, brand=BRANDS[0])
    few = search_in(sessions, "", branded, Sort.PRICE, None, broad=1, facet_matches=least)
    assert few.facets is not None
    assert sum(c.count for c in few.facets if c.facet == "brand") == sampled * SAMPLE
    # The finer sample is read from the sample's partial indexes (migration 0028): their
    # predicate stays in the statement as they state it.
    assert "(hashtext(products.id) & 63) = 0" in str(sampled_condition(thinned))


@pytest.mark.parametrize(
    ("matched", "thinned"),
    [(0, 1), (799, 1), (800, 4), (3199, 4), (3200, 16), (1_000_000, 16)],
)
def test_thinning_keeps_at_least_the_least_matches(matched: int, thinned: int) -> None:
    assert catalogue_broad.thinning(matched, 200) == thinned
    assert matched // thinned >= 200 or thinned == 1


@pytest.mark.parametrize("thinned", [False, True])
def test_facets_are_counted_the_same_when_no_counter_is_free(
    catalogue: Catalogue, sessions: sessionmaker[Session], thinned: bool
) -> None:
    """Counted apart on a connection of their own, or in the search's own turn when every
    counter is busy: the same counts, on the sample or a finer one."""
    filters = filters_for(catalogue, sessions)
    least = in_sample(sessions, catalogue.products) // 4 if thinned else FACET_MATCHES
    threads: list[str] = []

    def seen(*_: Any) -> None:
        threads.append(threading.current_thread().name)

    engine = sessions.kw["bind"]
    event.listen(engine, "after_cursor_execute", seen)
    try:
        apart = search_in(sessions, "", filters, Sort.PRICE, None, broad=1, facet_matches=least)
        counters = [name for name in threads if name.startswith("catalogue-facets")]
        threads.clear()
        taken = 0
        while catalogue_broad._FREE.acquire(blocking=False):
            taken += 1
        try:
            assert taken == catalogue_broad.COUNTERS
            now = search_in(sessions, "", filters, Sort.PRICE, None, broad=1, facet_matches=least)
        finally:
            for _ in range(taken):
                catalogue_broad._FREE.release()
    finally:
        event.remove(engine, "after_cursor_execute", seen)
    assert len(counters) == 1  # the facets' one statement, on a counter's thread
    assert not any(name.startswith("catalogue-facets") for name in threads)
    assert apart.facets is not None and now.facets is not None and apart.facets
    assert sorted(apart.facets, key=repr) == sorted(now.facets, key=repr)
    assert apart.hits == now.hits


def test_a_score_bounds_the_text_length() -> None:
    """One word met exactly scores 1 plus 13.33 / (40 + length): a page whose last product
    scores 1.2 holds only texts of 26 characters or fewer, and no product can score below the
    words' weight by its length alone."""
    assert longest_text(Decimal("1.2"), 1.0) == 26
    assert 1 + CLOSENESS * TYPICAL_LENGTH / (TYPICAL_LENGTH + 26) >= 1.2
    assert 1 + CLOSENESS * TYPICAL_LENGTH / (TYPICAL_LENGTH + 27) < 1.2
    assert longest_text(Decimal("1.0"), 1.0) is None
    assert longest_text(Decimal("2.3"), 2.0) == 4


def test_the_sample_is_one_product_in_sixty_four(sessions: sessionmaker[Session]) -> None:
    """The hash spreads ids evenly: of 64,000 made-up ids, about a thousand are sampled."""
    with sessions() as session:
        count = session.scalar(
            text(
                "SELECT count(*) FROM generate_series(1, 64000) AS n "
                "WHERE (hashtext('prd_' || md5(n::text)) & 63) = 0"
            )
        )
    assert 850 <= (count or 0) <= 1150


def _explain(session: Session, sql: str, params: Any) -> str:
    rows = session.connection().exec_driver_sql("EXPLAIN " + sql, params)
    return "\n".join(line for (line,) in rows)


def _walked_plans(
    catalogue: Catalogue, sessions: sessionmaker[Session], **narrowed: Any
) -> tuple[str, str]:
    """The EXPLAINed plans of the sample's count and of the walk of 螺丝刀 by price, broad and
    narrowed by ``narrowed``, with sequential scans priced out (on a test database of a few
    thousand rows PostgreSQL would rightly read the tables)."""
    statements: list[tuple[str, Any]] = []

    def seen(_c: Any, _cursor: Any, sql: str, params: Any, _context: Any, _many: bool) -> None:
        statements.append((sql, params))

    filters = filters_for(catalogue, sessions, **narrowed)
    with sessions() as session:
        session.connection().exec_driver_sql("SET LOCAL enable_seqscan = off")
        event.listen(session.connection(), "before_cursor_execute", seen)
        searched = search_on(session, "螺丝刀", filters, Sort.PRICE, None, broad=1)
        event.remove(session.connection(), "before_cursor_execute", seen)
        assert searched.way == "walked"
        (counted,) = [(q, p) for q, p in statements if "reltuples" in q]
        (walked,) = [(q, p) for q, p in statements if "steps" in q]
        return _explain(session, *counted), _explain(session, *walked)


def test_a_broad_search_reads_the_sample_index_and_walks_the_price_index(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """The statements a broad search by price runs: the sample counted from its partial
    index, the page walked along the price index product by product, never a hash of every
    match."""
    counting, walking = _walked_plans(catalogue, sessions)
    # The category's or the word's sample index, whichever the planner deems narrower, read
    # by index or by bitmap as the statistics (other tests' products too) make it cheaper.
    sample_index = r"(Index Scan using|Bitmap Index Scan on) ix_products_\w+_sample"
    assert re.search(sample_index, counting) and "Seq Scan" not in counting, counting
    assert "Index Scan using ix_catalogue_product_prices_price" in walking, walking
    assert "Index Scan using products_pkey" in walking, walking
    assert "Hash" not in walking and "Bitmap" not in walking, walking


def test_a_brands_walk_reads_the_brands_sums_alone(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """A page of one brand by price is walked along the brand's sums (migration 0035's
    index), never along every product's. The brand the sample holds most of: with none of a
    brand's sampled (the products' ids are random), its page is found exactly, not walked."""
    brand = max(BRANDS, key=lambda b: in_sample(sessions, catalogue.products, "螺丝刀", b))
    _, walking = _walked_plans(catalogue, sessions, brand=brand.lower())
    assert "Index Scan using ix_catalogue_product_prices_brand_price" in walking, walking
    assert "Sort" not in walking and "Hash" not in walking, walking


def test_a_samples_facets_ask_the_standing_as_one_set_and_pages_the_plain_one(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """A sample's offers (a broad word's thousands, which the planner estimates at a few dozen)
    are checked against the suppliers' standing as a subplan, which PostgreSQL hashes once
    (``visible_offer``'s ``hashed``), not joined to it a probe an offer; the page's own
    statements keep the plain set, which the planner may join. Whether the subplan is hashed is
    the planner's choice by cost, so the plan is asked only for the subplan in a filter."""
    statements: list[tuple[str, Any]] = []

    def seen(_c: Any, _cursor: Any, sql: str, params: Any, _context: Any, _many: bool) -> None:
        statements.append((sql, params))

    filters = filters_for(catalogue, sessions, region="CN-JS")
    engine = sessions.kw["bind"]  # the facets may be counted on a connection of their own
    event.listen(engine, "before_cursor_execute", seen)
    try:
        searched = search_in(sessions, "螺丝刀", filters, Sort.PRICE, None, broad=1)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert searched.facets is not None and searched.estimated
    standing = [(q, p) for q, p in statements if "supplier_accreditations" in q]
    (counting,) = [(q, p) for q, p in standing if "string_agg" in q]
    pages = [q for q, _ in standing if "string_agg" not in q]
    assert pages and all("IS true" not in q for q in pages)
    with sessions() as session:
        plan = _explain(session, *counting)
    filtered = [line for line in plan.splitlines() if "Filter:" in line and "SubPlan" in line]
    assert any("IS TRUE" in line for line in filtered), plan
