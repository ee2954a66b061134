"""A catalogue for broad searches' tests (``tests/db/test_catalogue_broad.py``,
``tests/db/test_catalogue_walk.py``), and searching it both ways.

A category of its own holds about a thousand products, two suppliers' offers on some, their
prices summed as the refresher sums them, but a few products logged as changed since (their sums
stale) and a few sums lapsed (and wrong): a walk that trusted either would show a wrong price
first. A search runs as a broad search (``broad=1``: any sampled match makes it broad) or as an
exact one (``EXACT``: none does), page after page.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from contracts.catalogue import ProductListing
from db.catalogue import FLOORS, CataloguePriceChange, CatalogueProductPrice
from db.catalogue_broad import FACET_MATCHES, Searched, search
from db.catalogue_filters import SearchFilters, Sort
from db.catalogue_page import Found
from db.catalogue_prices import refresh_prices, sum_prices
from db.catalogue_search import SAMPLE, matching, subtree
from db.catalogue_vocabulary import synonyms, vocabulary
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


# The products whose sums lapse, made wrong (by their place in the list).
LAPSED = range(5, 40, 7)


def listing_for(rng: random.Random, category_id: str, n: int, price: Decimal) -> ProductListing:
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


def write_listed(
    sessions: sessionmaker[Session], supplier: str, listings: list[ProductListing]
) -> list[str]:
    checked = [check_listing(listing, (LENGTH,)) for listing in listings]
    assert not any(isinstance(c, list) for c in checked), checked
    with transaction(sessions) as session:
        written = write_listings(session, supplier, checked, None)  # type: ignore[arg-type]
    return [w.product_id for w in written]


def in_sample(
    sessions: sessionmaker[Session],
    ids: list[str],
    named: str = "",
    brand: str | None = None,
    *,
    thinned: int = 1,
) -> int:
    """How many of ``ids`` (named ``named``, of ``brand``) the sample holds, by the hash
    migration 0028 states (``thinned``: the finer sample inside it, one in that many)."""
    with sessions() as session:
        return int(
            session.scalar(
                text(
                    "SELECT count(*) FROM products WHERE id = ANY(:ids) "
                    "AND strpos(name, :named) > 0 AND (hashtext(id) & :mask) = 0 "
                    "AND (CAST(:brand AS text) IS NULL OR lower(brand) = lower(:brand))"
                ),
                {"ids": ids, "named": named, "brand": brand, "mask": SAMPLE * thinned - 1},
            )
            or 0
        )


def broad_catalogue(sessions: sessionmaker[Session], store: ObjectStore) -> Catalogue:
    """The category above, listed, summed, some sums lapsed and some products changed since."""
    # What earlier tests on this database logged (an import's products), summed as a running
    # refresher would have: left logged, every walk asked them all and gave way.
    for _ in range(100):
        if not refresh_prices(sessions):
            break
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(CataloguePriceChange)) == 0
    rng = random.Random(20261205)
    category_id = category(sessions)
    first = accredited_supplier(sessions, store).id
    second = accredited_supplier(sessions, store).id
    third = accredited_supplier(sessions, store).id
    today = china_today()
    products: list[str] = []
    n = 0
    # Enough products that the sample holds several of the broad word's (a hash of random ids),
    # and a finer sample inside it some but not all of its products (the facets' thinning).
    while (
        len(products) < 960
        or in_sample(sessions, products, "螺丝刀") < 4
        or in_sample(sessions, products) < 8
        or not 0 < in_sample(sessions, products, thinned=4) < in_sample(sessions, products)
    ):
        batch: list[ProductListing] = []
        for _ in range(240):
            price = Decimal(rng.randint(100, 50_000)) / 100
            # Ties, broken by the product id; none undercut or lapsed, so each one's sum is
            # its price under any filter and only the ids can order a tie at a page's end
            # (the random ids put a product dearer than its sum anywhere among them).
            if rng.random() < 0.1 and len(batch) % 8 != 2 and n not in LAPSED:
                price = Decimal("9.90")
            batch.append(listing_for(rng, category_id, n, price))
            n += 1
        products.extend(write_listed(sessions, first, batch))
        # The second supplier lists every fourth product too: two offers to sum.
        again = [listing.model_copy(update={"sku": f"C-{listing.sku}"}) for listing in batch[::4]]
        write_listed(sessions, second, again)
        # A third undercuts every eighth in Guangdong alone: its sum is the third's price and
        # lead time, and anywhere else the others' (a walk trusting the sum misplaces it).
        write_listed(sessions, third, [_undercut(listing) for listing in batch[2::8]])
    with transaction(sessions) as session:
        sum_prices(session, products, today)
        session.execute(
            delete(CataloguePriceChange).where(CataloguePriceChange.product_id.in_(products))
        )
        # Lapsed sums, made wrong: searched from their offers, never at 0.01.
        session.execute(
            update(CatalogueProductPrice)
            .where(CatalogueProductPrice.product_id.in_([products[n] for n in LAPSED]))
            .values(
                fresh_until=today,
                price=Decimal("0.01"),
                lead_time_days=0,
                **dict.fromkeys(FLOORS, Decimal("0.01")),
            )
        )
    # Changed since their sums: the first supplier's price on a few falls to 0.50.
    changed = [
        listing_for(random.Random(i), category_id, i, Decimal("0.50")) for i in range(3, 60, 11)
    ]
    write_listed(sessions, first, changed)
    with transaction(sessions) as session:  # as autovacuum would after so many rows
        session.execute(text("ANALYZE products, catalogue_product_prices"))
    return Catalogue(category_id, products)


def lapse(session: Session, *where: Any, **also: Any) -> list[tuple[str, Decimal]]:
    """The sums meeting ``where`` lapsed today, as a day's lapse together at midnight, China
    time (and ``also`` set): each one's product and price as left."""
    prices = CatalogueProductPrice
    lapsed = session.execute(
        update(prices)
        .where(*where)
        .values(fresh_until=china_today(), **also)
        .returning(prices.product_id, prices.price)
    )
    return [(product, price) for product, price in lapsed]


def filters_for(
    catalogue: Catalogue, sessions: sessionmaker[Session], **narrowed: Any
) -> SearchFilters:
    """Filters narrowing a search to the catalogue's category (and ``narrowed``)."""
    with sessions() as session:
        ids = subtree(session, catalogue.category_path)
    return SearchFilters(category_path=catalogue.category_path, category_ids=ids, **narrowed)


def search_in(
    sessions: sessionmaker[Session],
    words: str,
    filters: SearchFilters,
    sort: Sort,
    after: list[Any] | None,
    *,
    broad: int,
    scored: int = 0,
    facet_matches: int = FACET_MATCHES,
) -> Searched:
    with sessions() as session:
        return search_on(
            session,
            words,
            filters,
            sort,
            after,
            broad=broad,
            scored=scored,
            facet_matches=facet_matches,
        )


def search_on(
    session: Session,
    words: str,
    filters: SearchFilters,
    sort: Sort,
    after: list[Any] | None,
    *,
    broad: int,
    counted: bool | None = None,
    scored: int = 0,
    facet_matches: int = FACET_MATCHES,
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
        facet_matches=facet_matches,
    )


def key_of(hit: Found, sort: Sort) -> list[Any]:
    if sort is Sort.PRICE:
        return [hit.price, hit.product_id]
    if sort is Sort.LEAD_TIME:
        return [hit.lead_time_days, hit.price, hit.product_id]
    return [hit.score, hit.product_id]


def row(hit: Found) -> tuple[Any, ...]:
    return (hit.product_id, hit.price, hit.score, hit.lead_time_days, hit.offers)


def pages_of(
    sessions: sessionmaker[Session], words: str, filters: SearchFilters, sort: Sort, broad: int
) -> Iterator[Searched]:
    after = None
    for _ in range(4):
        searched = search_in(sessions, words, filters, sort, after, broad=broad)
        yield searched
        if len(searched.hits) <= LIMIT:
            return
        after = key_of(searched.hits[LIMIT - 1], sort)


def both_ways(
    sessions: sessionmaker[Session],
    catalogue: Catalogue,
    words: str,
    narrowed: dict[str, Any],
    sort: Sort,
) -> tuple[list[list[tuple[Any, ...]]], list[list[tuple[Any, ...]]]]:
    """``words`` narrowed by ``narrowed`` searched broad and exact, page after page: each
    page's rows."""
    filters = filters_for(catalogue, sessions, **narrowed)
    broad = pages_of(sessions, words, filters, sort, broad=1)
    exact = pages_of(sessions, words, filters, sort, broad=EXACT)
    return [[row(h) for h in p.hits] for p in broad], [[row(h) for h in p.hits] for p in exact]
