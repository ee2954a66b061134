"""A brand typed as a word (Bosch 螺丝刀): a page by price or lead time walked along the brand's
own sums, with the other brands' products that name it found apart (``db.catalogue_brand_walk``).
Over a catalogue of ``tests.harness.catalogue_broad`` of this module's own, to which two
products of another brand naming Bosch are added, cheaper than any of Bosch's but one, each
page is the exact search's, row for row.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from db import catalogue_broad, catalogue_untrusted
from db.catalogue import CataloguePriceChange, CatalogueProductPrice
from db.catalogue_filters import Sort
from db.catalogue_page import Asked, Found
from db.catalogue_prices import sum_prices
from db.catalogue_search import matching
from db.catalogue_shapes import bound
from db.catalogue_vocabulary import synonyms, vocabulary
from db.session import transaction
from rules.search_text import parse_query
from rules.waybill_parties import china_today
from storage.object_store import ObjectStore
from tests.harness.catalogue_broad import (
    EXACT,
    LIMIT,
    Catalogue,
    filters_for,
    in_sample,
    key_of,
    lapse,
    listing_for,
    pages_of,
    row,
    search_on,
    write_listed,
)
from tests.harness.sourcing import accredited_supplier

WORDS = "Bosch 螺丝刀"


@pytest.fixture(scope="module")
def naming(catalogue: Catalogue, sessions: sessionmaker[Session], store: ObjectStore) -> list[str]:
    """Two products of 世达 whose names hold Bosch, a day away, at 0.60 (summed) and 0.70
    (logged as changed since: asked of its offers); and more of Bosch's own until the sample
    holds one (a hash of random ids), so that the sample tells the word for a brand."""
    supplier = accredited_supplier(sessions, store).id
    rng = random.Random(14)
    named = []
    for i, price in enumerate(("0.60", "0.70")):
        listed = listing_for(rng, catalogue.category_path, 10_000 + i, Decimal(price))
        offer = listed.offer.model_copy(update={"lead_time_days": 1})
        named.append(
            listed.model_copy(
                update={"name": f"兼容 Bosch 螺丝刀 {i}", "brand": "世达", "offer": offer}
            )
        )
    ids = write_listed(sessions, supplier, named)
    with transaction(sessions) as session:
        sum_prices(session, ids[:1], china_today())
        session.execute(
            delete(CataloguePriceChange).where(CataloguePriceChange.product_id == ids[0])
        )
    n = 20_000
    while not in_sample(sessions, catalogue.products, "螺丝刀", "bosch"):
        more = [listing_for(rng, catalogue.category_path, n + 4 * i + 1, Decimal("99.00"))
                for i in range(64)]  # fmt: skip
        catalogue.products.extend(write_listed(sessions, supplier, more))
        n += 256
    return ids


@pytest.fixture
def no_plain_walk(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every product's sums are never walked (this small catalogue's would always be): the
    page is walked along the brand's, or found exactly."""
    monkeypatch.setattr(catalogue_broad.Breadth, "walks", lambda *_, **__: False)
    yield


def test_the_sample_tells_a_word_for_a_brand(
    catalogue: Catalogue, sessions: sessionmaker[Session], naming: list[str]
) -> None:
    filters = filters_for(catalogue, sessions)
    with sessions() as session:
        query = parse_query(WORDS, synonyms(session, filters.category_path))
        found = matching(query, vocabulary(session, query, filters), filters)
        assert found.brand_words == ("bosch",)
        today = china_today()
        asked = Asked(found, filters, Sort.PRICE, None, LIMIT, today, bound(filters, today))
        wide = catalogue_broad.breadth(session, asked)
    assert wide.brand_word == "bosch"
    assert 0 < wide.worded <= wide.matched


@pytest.mark.usefixtures("no_plain_walk")
@pytest.mark.parametrize("sort", [Sort.PRICE, Sort.LEAD_TIME])
def test_a_brand_typed_as_a_word_is_walked_along_its_sums_with_the_others_naming_it(
    catalogue: Catalogue, sessions: sessionmaker[Session], naming: list[str], sort: Sort
) -> None:
    filters = filters_for(catalogue, sessions)
    broad = list(pages_of(sessions, WORDS, filters, sort, broad=1))
    exact = list(pages_of(sessions, WORDS, filters, sort, broad=EXACT))
    assert [[row(h) for h in p.hits] for p in broad] == [[row(h) for h in p.hits] for p in exact]
    assert len(exact) > 1
    assert {p.way for p in broad} == {"walked"}
    # Among the first three: a product of Bosch's changed to 0.50, and the two a day away.
    assert set(naming) <= {h.product_id for h in exact[0].hits[:3]}, exact[0].hits[:3]


@pytest.mark.usefixtures("no_plain_walk")
@pytest.mark.parametrize("sort", [Sort.PRICE, Sort.LEAD_TIME])
def test_past_many_lapsed_sums_a_brand_named_by_a_word_walks_its_sums_as_bounds(
    catalogue: Catalogue,
    sessions: sessionmaker[Session],
    naming: list[str],
    monkeypatch: pytest.MonkeyPatch,
    sort: Sort,
) -> None:
    """A day's sums lapse together at midnight, each below what the offers left ask (the
    cheapest lapsed). Taken as the prices, the brand's sums would list every lapsed product
    the words meet; the walk takes them as bounds instead, as a brand's page does then: the
    exact search's pages, none at its lapsed sum, the others naming the brand among them."""
    filters = filters_for(catalogue, sessions)
    prices = CatalogueProductPrice
    with sessions() as session:
        lapsed_already = session.scalar(
            select(func.count()).where(
                prices.currency == filters.currency, prices.fresh_until <= china_today()
            )
        )
        monkeypatch.setattr(catalogue_untrusted, "LAPSED_MANY", lapsed_already)
        lapsing = lapse(session, prices.product_id.in_(catalogue.products), price=prices.price / 2)
        logged = set(session.scalars(select(CataloguePriceChange.product_id)))
        halved = {product: price for product, price in lapsing if product not in logged}
        after: list[Any] | None = None
        shown: list[Found] = []
        for _ in range(3):
            walked = search_on(session, WORDS, filters, sort, after, broad=1, counted=False)
            exact = search_on(session, WORDS, filters, sort, after, broad=EXACT, counted=False)
            assert walked.way == "walked"
            assert [row(h) for h in walked.hits] == [row(h) for h in exact.hits]
            shown.extend(walked.hits[:LIMIT])
            after = key_of(walked.hits[LIMIT - 1], sort)
        assert set(naming) <= {h.product_id for h in shown}
        assert all(h.price > halved[h.product_id] for h in shown if h.product_id in halved)
        assert any(h.product_id in halved for h in shown)
        session.rollback()


@pytest.mark.usefixtures("no_plain_walk")
def test_a_word_that_names_no_brand_is_found_exactly(
    catalogue: Catalogue, sessions: sessionmaker[Session], naming: list[str]
) -> None:
    filters = filters_for(catalogue, sessions)
    pages = list(pages_of(sessions, "螺丝刀", filters, Sort.PRICE, broad=1))
    assert {p.way for p in pages} == {"exact"}


def test_a_walk_along_a_brand_named_by_a_word_is_tried_where_the_brand_holds_most_matches() -> None:
    """The brand's matches among the sample's products holding its name say how far the walk
    reads; the other brands' matches, priced beside it, must be fewer than the brand's."""
    wide = catalogue_broad.Breadth(matched=47, kept=47, population=15_600, worded=46)
    assert wide.walks_along(21, holding=780)  # Bosch 扳手: about 360 sums for a page
    assert not wide.walks_along(21, holding=50_000)  # the name common among all products
    assert not catalogue_broad.Breadth(47, 47, 15_600, worded=20).walks_along(21, holding=780)
    assert not catalogue_broad.Breadth(47, 47, 15_600).walks_along(21, holding=780)
