"""Broad pages walked along the summed prices (``db.catalogue_walk``) where the sums only bound
the prices (a province, in stock, an MOQ, a quantity's floors), settled or given way, and the
products whose sums cannot be trusted: over the catalogue of ``tests.harness.catalogue_broad``,
each page the exact search's, row for row.
"""

from __future__ import annotations

import bisect
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from db import catalogue_broad, catalogue_untrusted, catalogue_walk
from db.catalogue import (
    FLOORS,
    CatalogueOffer,
    CataloguePriceChange,
    CatalogueProductPrice,
    Product,
)
from db.catalogue_filters import Sort
from db.catalogue_page import Found
from db.catalogue_prices import sum_prices
from db.session import transaction
from rules.waybill_parties import china_today
from tests.harness.catalogue_broad import (
    EXACT,
    LIMIT,
    Catalogue,
    both_ways,
    filters_for,
    key_of,
    lapse,
    pages_of,
    row,
    search_in,
    search_on,
)


@pytest.mark.parametrize(
    "narrowed", [{"region": "CN-JS"}, {"in_stock": True}, {"moq_max": Decimal("100")}]
)
def test_a_bounded_walk_asks_the_offers_of_the_sums_it_reads(
    catalogue: Catalogue, sessions: sessionmaker[Session], narrowed: dict[str, Any]
) -> None:
    """To Jiangsu, in stock or under an MOQ of 100, a product undercut in Guangdong alone (by
    an offer holding no stock, of 500 at least) costs more than its sum: the walk takes the
    sums as lower bounds, asks the offers of those it reads, and settles each page (the pages
    are the exact search's: tests/db/test_catalogue_broad.py)."""
    filters = filters_for(catalogue, sessions, **narrowed)
    above = 0
    for sort in (Sort.PRICE, Sort.LEAD_TIME):
        pages = list(pages_of(sessions, "螺丝刀", filters, sort, broad=1))
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
    asked of their offers). The pages are the exact search's: tests/db/test_catalogue_broad.py."""
    filters = filters_for(catalogue, sessions, quantity=Decimal(100))
    pages = list(pages_of(sessions, "螺丝刀", filters, Sort.PRICE, broad=1))
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
    filters = filters_for(catalogue, sessions, quantity=Decimal(10))
    exact = search_in(sessions, "螺丝刀", filters, Sort.PRICE, None, broad=EXACT).hits
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
        walked = search_in(sessions, "螺丝刀", filters, Sort.PRICE, None, broad=1)
    finally:
        with transaction(sessions) as session:
            session.execute(floorless.values(**floors))
    assert walked.way == "walked"
    assert [row(h) for h in walked.hits] == [row(h) for h in exact]


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
        broad, exact = both_ways(sessions, catalogue, "螺丝刀", narrowed, sort)
        assert broad == exact, narrowed


@pytest.mark.parametrize("cut_to", [None, 5])
def test_a_page_that_does_not_hold_is_settled_by_the_sums_up_to_its_last(
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    cut_to: int | None,
) -> None:
    """A first read of a page and one product does not hold a page of ten: every sum up to
    its last product is read then, and the pages are the exact search's. With more sums up to
    it than a walk may read (``cut_to``), it gives way, and the page is found exactly."""
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
        broad, exact = both_ways(sessions, catalogue, "螺丝刀", narrowed, sort)
        assert broad == exact, narrowed
    assert settled and set(settled) == {cut_to is None}


@pytest.mark.parametrize("narrowed", [{"in_stock": True}, {"moq_max": Decimal(100)}])
def test_a_page_ending_in_a_tie_with_the_next_sum_holds_by_the_product_ids(
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    narrowed: dict[str, Any],
) -> None:
    """Pages by price end among the products at 9.90, whose sums tie with their prices: the
    next unread sum's product comes after the page's last by id, so the page holds as it was
    read. Comparing prices alone, it did not, and every sum up to 9.90 was read again. The
    pages are the exact search's."""
    read_up_to: list[Decimal] = []
    up_to = catalogue_walk._up_to

    def spied(session: Session, asked: Any, unsummed: list[str], last: tuple[Any, ...]) -> Any:
        read_up_to.append(last[0])
        return up_to(session, asked, unsummed, last)

    monkeypatch.setattr(catalogue_walk, "_up_to", spied)
    filters = filters_for(catalogue, sessions, **narrowed)
    broad = list(pages_of(sessions, "螺丝刀", filters, Sort.PRICE, broad=1))
    exact = list(pages_of(sessions, "螺丝刀", filters, Sort.PRICE, broad=EXACT))
    assert [[row(h) for h in p.hits] for p in broad] == [[row(h) for h in p.hits] for p in exact]
    assert {p.way for p in broad} == {"walked"}
    tied = [p for p in broad if p.hits[-1].price == p.hits[-2].price == Decimal("9.90")]
    assert len(tied) >= 2
    assert Decimal("9.90") not in read_up_to


def test_the_changed_and_lapsed_products_lead_the_price_walk(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    filters = filters_for(catalogue, sessions)
    first = search_in(sessions, "", filters, Sort.PRICE, None, broad=1)
    assert first.way == "walked"
    # The re-listed products' new price, 0.50, asked of their offers though their sums are older.
    assert [h.price for h in first.hits[:5]] == [Decimal("0.50")] * 5


def test_untrusted_sums_the_words_do_not_meet_leave_the_walk_alone(
    catalogue: Catalogue, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A day's sums lapse together at midnight: here every wrench's (活动扳手), more than a walk
    may ask of their offers. 螺丝刀 still walks, its pages the exact search's (the lapsed
    screwdrivers asked of their offers); a search the lapsed wrenches meet gives way where the
    sums are the prices, and walks where they bound them (a lapsed sum still does)."""
    with sessions() as session:
        wrenches = session.scalars(
            select(Product.id).where(
                Product.id.in_(catalogue.products), Product.name.contains("活动扳手")
            )
        ).all()
        monkeypatch.setattr(catalogue_untrusted, "UNSUMMED_MAX", len(wrenches) - 1)
        kinds = [
            filters_for(catalogue, sessions, **narrowed) for narrowed in ({}, {"region": "CN-JS"})
        ]
        ways = list(zip(kinds, (Sort.PRICE, Sort.LEAD_TIME), strict=True))

        def page(words: str, broad: int, filters: Any, sort: Sort) -> Any:
            return search_on(session, words, filters, sort, None, broad=broad, counted=False)

        assert [page("", 1, *way).way for way in ways] == ["walked", "walked"]
        lapse(session, CatalogueProductPrice.product_id.in_(wrenches))
        for way in ways:
            walked = page("螺丝刀", 1, *way)
            assert walked.way == "walked"
            exact = page("螺丝刀", EXACT, *way)
            assert [row(h) for h in walked.hits] == [row(h) for h in exact.hits]
        assert page("", 1, *ways[0]).way == "exact"  # the lapsed wrenches too many to ask
        bounded = page("", 1, *ways[1])
        assert bounded.way == "walked"
        assert [row(h) for h in bounded.hits] == [row(h) for h in page("", EXACT, *ways[1]).hits]
        session.rollback()


@pytest.mark.parametrize("sort", [Sort.PRICE, Sort.LEAD_TIME])
def test_past_many_lapsed_sums_a_walk_takes_the_sums_as_bounds(
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    sort: Sort,
) -> None:
    """At midnight a day's sums lapse together, each below what the offers left ask (the
    cheapest lapsed). Past ``LAPSED_MANY`` a page without an offer filter takes the lapsed sums
    as bounds, rather than list every lapsed product the words meet (more than a walk may ask
    here): the exact search's pages, none at its lapsed sum. A later page asks the offers of
    the lapsed products whose sums come before its cursor, and shows those whose offers come
    after it."""
    monkeypatch.setattr(catalogue_untrusted, "LAPSED_MANY", 2)
    filters = filters_for(catalogue, sessions)
    prices = CatalogueProductPrice
    with sessions() as session:
        lapsing = lapse(session, prices.product_id.in_(catalogue.products), price=prices.price / 2)
        # Listed, the lapsed would be too many to ask (the logged, fewer, are asked still).
        monkeypatch.setattr(catalogue_untrusted, "UNSUMMED_MAX", len(lapsing) - 1)
        logged = set(session.scalars(select(CataloguePriceChange.product_id)))
        keys = select(prices.product_id, prices.lead_time_days, prices.price).where(
            prices.product_id.in_([product for product, _ in lapsing if product not in logged])
        )
        lapsed = {
            product: (price,) if sort is Sort.PRICE else (lead, price)
            for product, lead, price in session.execute(keys)
        }
        after: list[Any] | None = None
        overtaken = 0  # products shown after a cursor their lapsed sums came before
        for _ in range(4):
            walked = search_on(session, "", filters, sort, after, broad=1, counted=False)
            exact = search_on(session, "", filters, sort, after, broad=EXACT, counted=False)
            assert walked.way == "walked"
            assert [row(h) for h in walked.hits] == [row(h) for h in exact.hits]
            shown = [(tuple(key_of(h, sort)[:-1]), h.product_id) for h in walked.hits]
            shown = [(key, product) for key, product in shown if product in lapsed]
            assert shown and all(key > lapsed[product] for key, product in shown)
            if after is not None:
                overtaken += sum(lapsed[product] < tuple(after[:-1]) for _, product in shown)
            after = key_of(walked.hits[LIMIT - 1], sort)
        assert overtaken
        session.rollback()


def test_past_many_lapsed_sums_pages_from_a_price_floor_ask_the_lapsed_below_it(
    catalogue: Catalogue, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between a price floor and a ceiling, at midnight, each lapsed sum a tenth below what the
    offers ask: the lapsed products whose sums are below the floor or the cursor are asked of
    their offers, and those whose offers reach the page are shown, to the last page (where the
    walk reads every sum after the cursor)."""
    monkeypatch.setattr(catalogue_untrusted, "LAPSED_MANY", 2)
    prices = CatalogueProductPrice
    with sessions() as session:
        ours = prices.product_id.in_(catalogue.products)
        summed = session.execute(select(prices.product_id, prices.price).where(ours))
        offered = {product: price for product, price in summed}
        lapsing = lapse(session, ours, price=prices.price * Decimal("0.9"))
        monkeypatch.setattr(catalogue_untrusted, "UNSUMMED_MAX", len(lapsing) - 1)
        logged = set(session.scalars(select(CataloguePriceChange.product_id)))
        lowered = {product: price for product, price in lapsing if product not in logged}
        # From the floor to two pages past the first product whose lowered sum reaches it, at
        # the offers' prices: those sums are after the floor but before a later page's cursor.
        priced = sorted(offered[product] for product in lowered)
        floor = priced[len(priced) // 10]
        ceiling = priced[bisect.bisect_left(priced, floor / Decimal("0.9")) + 2 * LIMIT]
        filters = filters_for(catalogue, sessions, price_min=floor, price_max=ceiling)
        after: list[Any] | None = None
        pages, below, before = 0, 0, 0
        while True:
            walked = search_on(session, "", filters, Sort.PRICE, after, broad=1, counted=False)
            exact = search_on(session, "", filters, Sort.PRICE, after, broad=EXACT, counted=False)
            assert walked.way == "walked"
            assert [row(h) for h in walked.hits] == [row(h) for h in exact.hits]
            sums = [
                (lowered[h.product_id], h.product_id)
                for h in walked.hits
                if h.product_id in lowered
            ]
            below += sum(price < floor for price, _ in sums)
            before += after is not None and sum(
                floor <= price and (price, product) <= tuple(after) for price, product in sums
            )
            pages += 1
            if len(walked.hits) <= LIMIT:
                break
            after = key_of(walked.hits[LIMIT - 1], Sort.PRICE)
        assert pages >= 2 and below and before
        session.rollback()


def test_past_many_lapsed_sums_the_cursors_own_product_is_asked_again(
    catalogue: Catalogue, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page ends with a product at its sum. At midnight that sum lapses as it was while the
    product's offers come to ask more, as when its cheapest lapses (nothing logged): the next
    page, whose cursor is the lapsed sum's own key, asks it of its offers and shows it."""
    filters = filters_for(catalogue, sessions)
    prices = CatalogueProductPrice
    with sessions() as session:
        first = search_on(session, "", filters, Sort.PRICE, None, broad=1, counted=False)
        last = first.hits[LIMIT - 1]
        changes = CataloguePriceChange.product_id == last.product_id
        assert not session.scalar(select(func.count()).where(changes))  # its sum is trusted
        after = key_of(last, Sort.PRICE)
        lapsed_already = session.scalar(
            select(func.count()).where(
                prices.currency == filters.currency, prices.fresh_until <= china_today()
            )
        )
        monkeypatch.setattr(catalogue_untrusted, "LAPSED_MANY", lapsed_already)
        lapse(session, prices.product_id == last.product_id)
        offers = CatalogueOffer.product_id == last.product_id
        session.execute(update(CatalogueOffer).where(offers).values(list_price=last.price + 1))
        session.execute(delete(CataloguePriceChange).where(changes))  # as a lapse is not logged
        walked = search_on(session, "", filters, Sort.PRICE, after, broad=1, counted=False)
        exact = search_on(session, "", filters, Sort.PRICE, after, broad=EXACT, counted=False)
        assert walked.way == "walked"
        assert [row(h) for h in walked.hits] == [row(h) for h in exact.hits]
        assert last.product_id in {h.product_id for h in walked.hits}
        session.rollback()


def test_a_refresh_between_the_walks_statements_neither_drops_nor_repeats(
    catalogue: Catalogue, sessions: sessionmaker[Session]
) -> None:
    """The refresher sums the changed products and takes them off the log just after the walk
    read the log: the walk, which skips the products it read, and their pricing from offers
    take the same list, so each shows once, at its new price."""
    filters = filters_for(catalogue, sessions)
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
        searched = search_on(session, "", filters, Sort.PRICE, None, broad=1, counted=False)
        event.remove(session.connection(), "after_cursor_execute", refresh_now)
    assert refreshed and searched.way == "walked"
    shown = [h.product_id for h in searched.hits]
    assert len(shown) == len(set(shown))
    cheapest = {h.product_id for h in searched.hits if h.price == Decimal("0.50")}
    assert cheapest == set(refreshed) & set(shown) and len(cheapest) >= 5


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
    # One brand in twenty, of 470 matches: along every sum, twenty times as far as along the
    # brand's own.
    branded = catalogue_broad.Breadth(matched=470, kept=24, population=15_600, branded=24)
    assert not branded.walks(21, summed=True)
    assert branded.walks(21, summed=True, brand=True)
