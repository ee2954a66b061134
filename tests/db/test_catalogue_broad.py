"""Broad searches (``db.catalogue_broad``) find the very pages an exact search finds.

A category of its own holds about a thousand products, two suppliers' offers on some, their
prices summed as the refresher sums them, but a few products logged as changed since (their sums
stale) and a few sums lapsed (and wrong): a walk that trusted either would show a wrong price
first. Every search runs twice: as a broad search (any sampled match makes it broad) and as an
exact one (none does), page after page, and the pages must be equal, row for row.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, event, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from contracts.catalogue import ProductListing
from db import catalogue_broad, catalogue_walk
from db.catalogue import FLOORS, CataloguePriceChange, CatalogueProductPrice
from db.catalogue_broad import SCORED_MAX, Searched, longest_text, search
from db.catalogue_filters import SearchFilters, Sort
from db.catalogue_page import Found
from db.catalogue_prices import sum_prices
from db.catalogue_search import (
    CLOSENESS,
    SAMPLE,
    TYPICAL_LENGTH,
    matching,
    subtree,
    synonyms,
    vocabulary,
)
from db.catalogue_writes import write_listings
from db.session import transaction
from rules.catalogue_listing import check_listing
from rules.search_text import parse_query
from rules.waybill_parties import china_today
from storage.object_store import ObjectStore
from tests.harness.catalogue_offers import LENGTH, category, terms
from tests.harness.sourcing import accredited_supplier

NOUNS = ("十字螺丝刀", "螺丝刀", "活动扳手")
ADJECTIVES = ("", "重型", "进口精密", "家用多功能绝缘")
BRANDS = ("Stanley", "Bosch", "世达", "得力")
REGIONS = ("CN-JS", "CN-SH", "CN-GD", "CN")
LIMIT = 10
EXACT = 10**9  # no sample holds that many matches: every search is exact


@dataclass(frozen=True)
class Catalogue:
    category_path: str
    products: list[str]


def _listing(rng: random.Random, category_id: str, n: int, price: Decimal) -> ProductListing:
    noun = NOUNS[n % len(NOUNS)]
    name = f"{rng.choice(ADJECTIVES)}{noun} {rng.choice((3, 5, 8))}mm"
    regions = tuple(rng.sample(REGIONS, rng.randint(1, 2)))
    # The break at 100 takes 10% off, or half on every fifth: at 100 the order of the list
    # prices is not the order of the prices.
    at_100 = (price * (Decimal("0.5") if n % 5 == 1 else Decimal("0.9"))).quantize(Decimal("0.01"))
    offer = terms(
        [("1", str(price)), ("100", str(at_100))],
        lead_time_days=rng.randint(1, 20),
        regions=regions,
        moq="50" if n % 3 == 0 else "0",
        stock="0" if n % 7 == 0 else "1000",  # and none in stock: a walk in stock skips its sum
    )
    return ProductListing(
        sku=f"B-{n}",
        category_id=category_id,
        name=name,
        brand=BRANDS[n % len(BRANDS)],
        model=f"M-{n:05d}",
        attributes={"length": str(rng.choice((50, 100, 200)))},
        offer=offer,
    )


def _undercut(listing: ProductListing) -> ProductListing:
    """Another supplier's offer of the same product: cheaper and sooner, to Guangdong alone,
    but none in stock and 500 the least order."""
    price = (listing.offer.price_breaks[0].unit_price * Decimal("0.6")).quantize(Decimal("0.01"))
    offer = terms([("1", str(price))], lead_time_days=1, regions=("CN-GD",), stock="0", moq="500")
    return listing.model_copy(update={"sku": f"D-{listing.sku}", "offer": offer})


def _write(
    sessions: sessionmaker[Session], supplier: str, listings: list[ProductListing]
) -> list[str]:
    checked = [check_listing(listing, (LENGTH,)) for listing in listings]
    assert not any(isinstance(c, list) for c in checked), checked
    with transaction(sessions) as session:
        written = write_listings(session, supplier, checked, None)  # type: ignore[arg-type]
    return [w.product_id for w in written]


def _sampled(sessions: sessionmaker[Session], ids: list[str], named: str = "") -> int:
    """How many of ``ids`` (named ``named``) the sample holds, by the hash migration 0028
    states."""
    with sessions() as session:
        return int(
            session.scalar(
                text(
                    "SELECT count(*) FROM products WHERE id = ANY(:ids) "
                    "AND strpos(name, :named) > 0 AND (hashtext(id) & 63) = 0"
                ),
                {"ids": ids, "named": named},
            )
            or 0
        )


@pytest.fixture(scope="module")
def catalogue(sessions: sessionmaker[Session], store: ObjectStore) -> Catalogue:
    rng = random.Random(20261205)
    category_id = category(sessions)
    first = accredited_supplier(sessions, store).id
    second = accredited_supplier(sessions, store).id
    third = accredited_supplier(sessions, store).id
    today = china_today()
    products: list[str] = []
    n = 0
    # Enough products that the sample holds several of the broad word's (a hash of random ids).
    while len(products) < 960 or _sampled(sessions, products, "螺丝刀") < 4:
        batch = []
        for _ in range(240):
            price = Decimal(rng.randint(100, 50_000)) / 100
            if rng.random() < 0.1:
                price = Decimal("9.90")  # ties, broken by the product id
            batch.append(_listing(rng, category_id, n, price))
            n += 1
        products.extend(_write(sessions, first, batch))
        # The second supplier lists every fourth product too: two offers to sum.
        again = [listing.model_copy(update={"sku": f"C-{listing.sku}"}) for listing in batch[::4]]
        _write(sessions, second, again)
        # A third undercuts every eighth in Guangdong alone: its sum is the third's price and
        # lead time, and anywhere else the others' (a walk trusting the sum misplaces it).
        _write(sessions, third, [_undercut(listing) for listing in batch[2::8]])
    with transaction(sessions) as session:
        sum_prices(session, products, today)
        session.execute(
            delete(CataloguePriceChange).where(CataloguePriceChange.product_id.in_(products))
        )
        # Lapsed sums, made wrong: searched from their offers, never at 0.01.
        session.execute(
            update(CatalogueProductPrice)
            .where(CatalogueProductPrice.product_id.in_(products[5:40:7]))
            .values(
                fresh_until=today,
                price=Decimal("0.01"),
                lead_time_days=0,
                **dict.fromkeys(FLOORS, Decimal("0.01")),
            )
        )
    # Changed since their sums: the first supplier's price on a few falls to 0.50.
    changed = [
        _listing(random.Random(i), category_id, i, Decimal("0.50")) for i in range(3, 60, 11)
    ]
    _write(sessions, first, changed)
    with transaction(sessions) as session:  # as autovacuum would after so many rows
        session.execute(text("ANALYZE products, catalogue_product_prices"))
    return Catalogue(category_id, products)


def _in(catalogue: Catalogue, sessions: sessionmaker[Session], **narrowed: Any) -> SearchFilters:
    """Filters narrowing a search to the catalogue's category (and ``narrowed``)."""
    with sessions() as session:
        ids = subtree(session, catalogue.category_path)
    return SearchFilters(category_path=catalogue.category_path, category_ids=ids, **narrowed)


def _search(
    sessions: sessionmaker[Session],
    words: str,
    filters: SearchFilters,
    sort: Sort,
    after: list[Any] | None,
    *,
    broad: int,
    scored: int = 0,
) -> Searched:
    with sessions() as session:
        return _searched(session, words, filters, sort, after, broad=broad, scored=scored)


def _searched(
    session: Session,
    words: str,
    filters: SearchFilters,
    sort: Sort,
    after: list[Any] | None,
    *,
    broad: int,
    counted: bool | None = None,
    scored: int = 0,
) -> Searched:
    """``words`` searched in ``session`` (facets counted on a first page unless ``counted``;
    ``scored`` 0: a broad page by relevance tries the length bound however few are kept, as
    this small catalogue's always are)."""
    query = parse_query(words, synonyms(session, filters.category_path))
    return search(
        session,
        matching(query, vocabulary(session, query, filters), filters),
        filters,
        sort=sort,
        after=after,
        limit=LIMIT,
        counted=after is None if counted is None else counted,
        today=china_today(),
        broad=broad,
        scored=scored,
    )


def _key(hit: Found, sort: Sort) -> list[Any]:
    if sort is Sort.PRICE:
        return [hit.price, hit.product_id]
    if sort is Sort.LEAD_TIME:
        return [hit.lead_time_days, hit.price, hit.product_id]
    return [hit.score, hit.product_id]


def _row(hit: Found) -> tuple[Any, ...]:
    return (hit.product_id, hit.price, hit.score, hit.lead_time_days, hit.offers)


def _pages(
    sessions: sessionmaker[Session], words: str, filters: SearchFilters, sort: Sort, broad: int
) -> Iterator[Searched]:
    after = None
    for _ in range(4):
        searched = _search(sessions, words, filters, sort, after, broad=broad)
        yield searched
        if len(searched.hits) <= LIMIT:
            return
        after = _key(searched.hits[LIMIT - 1], sort)


CASES: list[tuple[str, dict[str, Any], Sort]] = [
    ("螺丝刀", {}, Sort.RELEVANCE),
    ("螺丝刀", {}, Sort.PRICE),
    ("螺丝刀", {}, Sort.LEAD_TIME),
    ("螺丝刀", {"brand": "stanley"}, Sort.PRICE),
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
    filters = _in(catalogue, sessions, **narrowed)
    broad = list(_pages(sessions, words, filters, sort, broad=1))
    exact = list(_pages(sessions, words, filters, sort, broad=EXACT))
    assert [[_row(h) for h in p.hits] for p in broad] == [[_row(h) for h in p.hits] for p in exact]
    assert len(exact) > 1  # pages after the first were compared too
    assert {p.way for p in exact} == {"exact"}
    if {"in_stock", "moq_max", "quantity"} & set(narrowed):  # the sums bound the prices
        assert {p.way for p in broad} == {"walked"}
    if words in ("螺丝刀", "") and not narrowed:  # the sample holds some: broad
        # By relevance, the texts short enough to outscore the sample's second best (a page of
        # ten), unless
        # (rarely) both best sampled products are on the page.
        relevant = {"shortest texts", "most relevant"} if words else {"most relevant"}
        assert broad[0].way in (relevant if sort is Sort.RELEVANCE else {"walked"})
    if words == "进口精螺丝刀" and _sampled(sessions, catalogue.products, "进口精密螺丝刀"):
        assert broad[0].way != "exact"  # a misspelling near its held pairs: broad, as any word
    prices = {h.product_id: h.price for p in exact for h in p.hits}
    assert Decimal("0.01") not in prices.values()  # lapsed sums were not trusted


@pytest.mark.parametrize(
    "narrowed", [{"region": "CN-JS"}, {"in_stock": True}, {"moq_max": Decimal("100")}]
)
def test_a_bounded_walk_asks_the_offers_of_the_sums_it_reads(
    catalogue: Catalogue, sessions: sessionmaker[Session], narrowed: dict[str, Any]
) -> None:
    """To Jiangsu, in stock or under an MOQ of 100, a product undercut in Guangdong alone (by
    an offer holding no stock, of 500 at least) costs more than its sum: the walk takes the
    sums as lower bounds, asks the offers of those it reads, and settles each page (the pages
    are the exact search's: above)."""
    filters = _in(catalogue, sessions, **narrowed)
    above = 0
    for sort in (Sort.PRICE, Sort.LEAD_TIME):
        pages = list(_pages(sessions, "螺丝刀", filters, sort, broad=1))
        assert len(pages) > 1 and {p.way for p in pages} == {"walked"}
        shown = {h.product_id: (h.price, h.lead_time_days) for p in pages for h in p.hits}
        with sessions() as session:
            sums = session.execute(
                select(
                    CatalogueProductPrice.product_id,
                    CatalogueProductPrice.price,
                    CatalogueProductPrice.lead_time_days,
                ).where(CatalogueProductPrice.product_id.in_(shown))
            ).all()
        above += sum(shown[p][0] > price for p, price, _ in sums)
    assert above  # some shown were dearer there than their sums: the bound was needed


def test_a_walk_at_a_quantity_takes_the_floors_not_the_list_prices_as_bounds(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """At 100 every offer's break undercuts its list price, the sums' price: most shown are
    below it, so it could not bound them (the sums trusted: the products changed since are
    asked of their offers). The pages are the exact search's: above."""
    filters = _in(catalogue, sessions, quantity=Decimal(100))
    pages = list(_pages(sessions, "螺丝刀", filters, Sort.PRICE, broad=1))
    assert len(pages) > 1 and {p.way for p in pages} == {"walked"}
    shown = {h.product_id: h.price for p in pages for h in p.hits}
    with sessions() as session:
        sums = session.execute(
            select(CatalogueProductPrice.product_id, CatalogueProductPrice.price).where(
                CatalogueProductPrice.product_id.in_(shown),
                CatalogueProductPrice.fresh_until > china_today(),
                CatalogueProductPrice.product_id.not_in(select(CataloguePriceChange.product_id)),
            )
        ).all()
    assert sum(shown[p] < price for p, price in sums) > len(sums) // 2


def test_a_sum_without_floors_is_asked_of_its_offers_at_a_quantity(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """A sum written by a refresher older than migration 0033 has no floors: walked along
    them, its product would be read last, if at all. It is asked of its offers instead, and
    the first page is still the exact search's."""
    filters = _in(catalogue, sessions, quantity=Decimal(10))
    exact = _search(sessions, "螺丝刀", filters, Sort.PRICE, None, broad=EXACT).hits
    with sessions() as session:
        changed = set(session.scalars(select(CataloguePriceChange.product_id)))
    cheapest = next(hit for hit in exact if hit.product_id not in changed)  # trusted, but
    floorless = (
        update(CatalogueProductPrice)
        .where(CatalogueProductPrice.product_id == cheapest.product_id)
        .values(**dict.fromkeys(FLOORS))
    )
    with sessions() as session:
        kept = session.get(CatalogueProductPrice, (cheapest.product_id, "CNY"))
        assert kept is not None and kept.fresh_until > china_today()  # else asked anyway
        floors = {floor: getattr(kept, floor) for floor in FLOORS}
    with transaction(sessions) as session:
        session.execute(floorless)
    try:
        walked = _search(sessions, "螺丝刀", filters, Sort.PRICE, None, broad=1)
    finally:
        with transaction(sessions) as session:
            session.execute(floorless.values(**floors))
    assert walked.way == "walked"
    assert [_row(h) for h in walked.hits] == [_row(h) for h in exact]


@pytest.mark.parametrize(("walk_max", "first_read"), [(40, 1), (150, 4), (20_000, 1)])
def test_a_walk_to_a_province_that_gives_way_or_reads_every_sum_pages_as_exact(
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    walk_max: int,
    first_read: int,
) -> None:
    """Walks cut short (a few dozen sums: it gives way, the page found exactly), a page of
    one product read at first (four tries settle, or do not), and provinces few products
    deliver to cheaply (every sum read): each page is the exact search's."""
    monkeypatch.setattr(catalogue_walk, "WALK_MAX", walk_max)
    monkeypatch.setattr(catalogue_walk, "FIRST_READ", first_read)
    walks: list[tuple[dict[str, Any], Sort]] = [
        ({"region": "CN-JS"}, Sort.PRICE),
        ({"region": "CN-GD", "price_max": Decimal("9.90")}, Sort.PRICE),
        ({"region": "CN", "price_min": Decimal("100")}, Sort.LEAD_TIME),
        ({"quantity": Decimal(50)}, Sort.PRICE),
        ({"quantity": Decimal(600), "region": "CN-GD"}, Sort.PRICE),
    ]
    for narrowed, sort in walks:
        filters = _in(catalogue, sessions, **narrowed)
        broad = list(_pages(sessions, "螺丝刀", filters, sort, broad=1))
        exact = list(_pages(sessions, "螺丝刀", filters, sort, broad=EXACT))
        assert [[_row(h) for h in p.hits] for p in broad] == [
            [_row(h) for h in p.hits] for p in exact
        ], narrowed


@pytest.mark.parametrize("cut_to", [None, 5])
def test_a_page_that_does_not_hold_is_settled_by_the_sums_up_to_its_last(
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    cut_to: int | None,
) -> None:
    """A first read of a page and one product does not hold a page of ten (the sums of the
    products at 9.90 tie with their prices); every sum up to its last product is read then,
    and the pages are the exact search's. With more sums up to it than a walk may read
    (``cut_to``), it gives way, and the page is found exactly."""
    settled: list[bool] = []
    read_up_to = catalogue_walk._up_to

    def spied(*args: Any) -> list[Found] | None:
        with monkeypatch.context() as cut:
            if cut_to is not None:
                cut.setattr(catalogue_walk, "WALK_MAX", cut_to)
            page = read_up_to(*args)
        settled.append(page is not None)
        return page

    monkeypatch.setattr(catalogue_walk, "_up_to", spied)
    monkeypatch.setattr(catalogue_walk, "FIRST_READ", 1)
    walks: list[tuple[dict[str, Any], Sort]] = [
        ({"in_stock": True}, Sort.PRICE),
        ({"quantity": Decimal(50)}, Sort.PRICE),
        ({"quantity": Decimal(50)}, Sort.LEAD_TIME),
    ]
    for narrowed, sort in walks:
        filters = _in(catalogue, sessions, **narrowed)
        broad = list(_pages(sessions, "螺丝刀", filters, sort, broad=1))
        exact = list(_pages(sessions, "螺丝刀", filters, sort, broad=EXACT))
        assert [[_row(h) for h in p.hits] for p in broad] == [
            [_row(h) for h in p.hits] for p in exact
        ], narrowed
    assert settled and set(settled) == {cut_to is None}


def test_a_broad_search_whose_filters_keep_few_scores_every_one_kept(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """By relevance, a brand kept by few products: every one scored, the length bound not
    tried (its index would be read for nothing), and the same pages as the exact search."""
    filters = _in(catalogue, sessions, brand="世达")
    broad = _search(sessions, "螺丝刀", filters, Sort.RELEVANCE, None, broad=1, scored=SCORED_MAX)
    exact = _search(sessions, "螺丝刀", filters, Sort.RELEVANCE, None, broad=EXACT)
    assert broad.way == "most relevant"
    assert [_row(h) for h in broad.hits] == [_row(h) for h in exact.hits]


def test_the_changed_and_lapsed_products_lead_the_price_walk(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    filters = _in(catalogue, sessions)
    first = _search(sessions, "", filters, Sort.PRICE, None, broad=1)
    assert first.way == "walked"
    # The re-listed products' new price, 0.50, asked of their offers though their sums are older.
    assert [h.price for h in first.hits[:5]] == [Decimal("0.50")] * 5


def test_a_refresh_between_the_walks_statements_neither_drops_nor_repeats(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """The refresher sums the changed products and takes them off the log just after the walk
    read the log: the walk, which skips the products it read, and their pricing from offers
    take the same list, so each shows once, at its new price."""
    filters = _in(catalogue, sessions)
    refreshed: list[str] = []

    def refresh_now(_c: Any, _cursor: Any, sql: str, _p: Any, _context: Any, _many: bool) -> None:
        if refreshed or "catalogue_price_changes" not in sql or "UNION ALL" not in sql:
            return
        with transaction(sessions) as other:
            changed = other.scalars(
                select(CataloguePriceChange.product_id).where(
                    CataloguePriceChange.product_id.in_(catalogue.products)
                )
            ).all()
            refreshed.extend(changed)
            sum_prices(other, sorted(set(changed)), china_today())
            other.execute(
                delete(CataloguePriceChange).where(CataloguePriceChange.product_id.in_(changed))
            )

    with sessions() as session:
        event.listen(session.connection(), "after_cursor_execute", refresh_now)
        searched = _searched(session, "", filters, Sort.PRICE, None, broad=1, counted=False)
        event.remove(session.connection(), "after_cursor_execute", refresh_now)
    assert refreshed and searched.way == "walked"
    shown = [h.product_id for h in searched.hits]
    assert len(shown) == len(set(shown))
    cheapest = {h.product_id for h in searched.hits if h.price == Decimal("0.50")}
    assert cheapest == set(refreshed) & set(shown) and len(cheapest) >= 5


def test_the_in_stock_count_is_the_in_stock_pages_own(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """To Guangdong under a ceiling, a product undercut there by an offer holding no stock is
    within the ceiling, but its offer in stock may not be: counted as the in-stock page would
    find it, not by its best price."""
    narrowed = {"region": "CN-GD", "price_max": Decimal("60")}
    off = _search(sessions, "螺丝刀", _in(catalogue, sessions, **narrowed), Sort.PRICE, None,
                  broad=EXACT)  # fmt: skip
    on = _search(sessions, "螺丝刀", _in(catalogue, sessions, in_stock=True, **narrowed),
                 Sort.PRICE, None, broad=EXACT)  # fmt: skip
    assert off.facets is not None and on.facets is not None
    stocked = [c.count for c in off.facets if c.facet == "in_stock"]
    found = sum(c.count for c in on.facets if c.facet == "brand")
    everything = sum(c.count for c in off.facets if c.facet == "brand")
    assert stocked == [found] and 0 < found < everything


def test_a_broad_searchs_facets_are_the_samples_counts_scaled(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    filters = _in(catalogue, sessions)
    broad = _search(sessions, "", filters, Sort.PRICE, None, broad=1)
    exact = _search(sessions, "", filters, Sort.PRICE, None, broad=EXACT)
    assert broad.estimated and not exact.estimated
    assert broad.facets is not None and exact.facets is not None
    brands = [c for c in broad.facets if c.facet == "brand"]
    assert all(c.count % SAMPLE == 0 for c in broad.facets)
    sampled = _sampled(sessions, catalogue.products)
    assert sum(c.count for c in brands) == sampled * SAMPLE
    assert sum(c.count for c in exact.facets if c.facet == "brand") == len(catalogue.products)


def test_facets_are_counted_the_same_when_no_counter_is_free(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """Counted apart on a connection of their own, or in the search's own turn when every
    counter is busy: the same counts."""
    filters = _in(catalogue, sessions)
    threads: list[str] = []

    def seen(*_: Any) -> None:
        threads.append(threading.current_thread().name)

    engine = sessions.kw["bind"]
    event.listen(engine, "after_cursor_execute", seen)
    try:
        apart = _search(sessions, "", filters, Sort.PRICE, None, broad=1)
        counters = [name for name in threads if name.startswith("catalogue-facets")]
        threads.clear()
        taken = 0
        while catalogue_broad._FREE.acquire(blocking=False):
            taken += 1
        try:
            assert taken == catalogue_broad.COUNTERS
            now = _search(sessions, "", filters, Sort.PRICE, None, broad=1)
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


def test_a_walk_the_sums_only_bound_is_tried_on_a_thinner_sample() -> None:
    """washer to Jiangsu by price: 235 of the sample's 15,600 products match, so 84 products
    are expected within about 5,600 sums. From the sums (no offer filter) that is not a
    quarter of the walk's reach, and the page is found from every match; where the sums only
    bound the prices, half is enough: the page found from every match would ask their offers."""
    wide = catalogue_broad.Breadth(matched=235, kept=235, population=15_600)
    assert not wide.walks(84, summed=True)
    assert wide.walks(84, summed=False)
    assert not catalogue_broad.Breadth(235, 100, 15_600).walks(84, summed=False)
    assert catalogue_broad.Breadth(0, 0, 0.0).walks(84, summed=True)  # never counted: tried


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


def test_a_broad_search_reads_the_sample_index_and_walks_the_price_index(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """The statements a broad search by price runs, EXPLAINed with sequential scans priced out
    (on a test database of a few thousand rows PostgreSQL would rightly read the tables): the
    sample counted from its partial index, the page walked along the price index product by
    product, never a hash of every match."""
    statements: list[tuple[str, Any]] = []

    def seen(_c: Any, _cursor: Any, sql: str, params: Any, _context: Any, _many: bool) -> None:
        statements.append((sql, params))

    filters = _in(catalogue, sessions)
    with sessions() as session:
        session.connection().exec_driver_sql("SET LOCAL enable_seqscan = off")
        event.listen(session.connection(), "before_cursor_execute", seen)
        searched = _searched(session, "螺丝刀", filters, Sort.PRICE, None, broad=1)
        event.remove(session.connection(), "before_cursor_execute", seen)
        assert searched.way == "walked"
        (counted,) = [(q, p) for q, p in statements if "reltuples" in q]
        (walked,) = [(q, p) for q, p in statements if "steps" in q]
        counting = _explain(session, *counted)
        walking = _explain(session, *walked)
    # The category's or the word's sample index, whichever the planner deems narrower.
    assert "sample on products" in counting and "Seq Scan" not in counting, counting
    assert "Index Scan using ix_catalogue_product_prices_price" in walking, walking
    assert "Index Scan using products_pkey" in walking, walking
    assert "Hash" not in walking and "Bitmap" not in walking, walking
