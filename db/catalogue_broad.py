"""A catalogue search answered: a page of found products and, on a first page, facet counts;
broad searches without finding every product they match.

A word like 螺丝刀 meets 60,000 of a million products. Finding each with its best offer before
the first page could be sorted or counted took over a second, however the finding was tuned:
the products' rows alone are 47,000 blocks. A search engine answers such a query without
visiting every match: it reads an index in the page's order until the page is full, and counts
facets on a sample. So does this module, in PostgreSQL:

- **Breadth.** A search first counts its matches in the catalogue's fixed sample (one product
  in ``SAMPLE``: ``db.catalogue_search.sampled``, partial indexes of migration 0028), a probe of
  a sixty-fourth of the index. Fewer than ``BROAD`` there (about 2,000 products in all), or a
  word met by the whole text's similarity (a misspelling near no known word: trigrams, which
  have no sample), and the search is answered exactly, as it always was.
- **Facets of a broad search** are the sample's counts times ``SAMPLE``, and say so
  (``Searched.estimated``): a value held by a few products may be missing or rounded up. The
  broadest words' (800 sampled matches or more, of those the product's own filters keep:
  about 51,000 products) are counted on a finer sample inside it, a quarter or a sixteenth,
  and scaled by as much (``thinning``). They are counted on a connection of their own while
  the page is found.
- **Its page by price or lead time** is walked (``db.catalogue_walk``): the summed prices
  (``db.catalogue_prices``) in the page's order, each product read by its key and kept when it
  meets the words, the category and the filters, until the page is full; to a province, in
  stock, under an MOQ or at a quantity, the sums bound the prices from below, and
  the offers of those read are asked. Words naming a brand (Bosch 扳手) too sparse among all
  products to walk are walked along that brand's sums (``db.catalogue_brand_walk``).
- **Its page by relevance** is cut from the products whose text is short enough to score as
  well as one of the sample's best few (the third for a page of 20: the sample holds about
  twice the products the page considers above it; a score is the words' weights and a bonus
  that shrinks with the text's length), found from the terms index and, where it holds few
  enough of them, the length index; only they are priced. A page whose last product scores
  below that bound is cut from the most relevant few pages of every match instead, and priced
  the same way (``db.catalogue_relevance``).

Either way the page is the exact one. A walk that gives way (``db.catalogue_walk``), or too
few priced products among the most relevant, and the page is found from every match (those
the page's own filters keep).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Engine,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    column,
    func,
    select,
    table,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from db.catalogue import Product
from db.catalogue_brand_walk import holding, walked_along
from db.catalogue_facets import FacetCount, facet_counts, read_counts
from db.catalogue_filters import SearchFilters, Sort, brand_filter, described, summed
from db.catalogue_found import FOUND, clear_found, fill_found, filling, found
from db.catalogue_page import Asked, Found, kept_page
from db.catalogue_relevance import most_relevant
from db.catalogue_search import SAMPLE, Matching, sampled
from db.catalogue_shapes import SHAPES, bound
from db.catalogue_walk import WALK_MAX, by_brand, first_read, walked

BROAD = 32  # sampled matches from which a search is broad: about 2,000 products
# The broadest searches' facets are counted on a finer sample inside the sample (a quarter of
# it, or a sixteenth) while that still holds about this many of their matches (those the
# product's own filters keep). Counting looks up each counted product's best offer (and under
# an offer filter asks its offers), so 螺丝刀's 938 sampled matches took 14 to 30 ms beside its
# page, which then waited 10 to 24 ms for them. The price: a value held by 3% of the matches is
# counted on about 7 products instead of 28, its estimate within about 40% instead of 20% (one
# standard deviation).
FACET_MATCHES = 200
THINNED_MAX = 16  # a sixteenth of the sample at most: a finer sample each quarter
SCORED_MAX = 8_000  # products the page's own filters keep, about, that are all scored at once


@dataclass(frozen=True, slots=True)
class Searched:
    """A page (``limit + 1`` products at most: one more says there are more) and, on a first
    page, the facet counts; ``estimated`` when they were counted on the sample."""

    hits: list[Found]
    facets: list[FacetCount] | None
    estimated: bool
    way: str  # how the page was found: "exact", "walked", "most relevant" or "shortest texts"


@dataclass(frozen=True, slots=True)
class Breadth:
    matched: int  # matches in the sample
    kept: int  # of them, those the page's own filters keep (``described``)
    population: float  # products in the sample, as the planner last counted them (0: unknown)
    branded: int | None = None  # of the matches, those of the brand filtered on (all: none)
    # Of those kept, the products of a brand whose name is one of the words (Bosch 扳手), and
    # that name (``Matching.brand_words``). Were two words brands' names, both brands' products
    # are counted and the least name given: the estimate errs towards walking, and a walk that
    # does not fill its page within ``WALK_MAX`` sums gives way.
    worded: int = 0
    brand_word: str | None = None

    def walks(self, reads: int, *, summed: bool, brand: bool = False) -> bool:
        """Whether a walk is likely to read ``reads`` products well within ``WALK_MAX`` steps
        (else finding every match costs less): within a quarter of them where the sums are
        the prices, within half where they only bound them. Found from every match, a page
        the sums only bound asks every match's offers, so a walk is worth more risk there:
        washer by price to Jiangsu (15,000 matches, 40,000 offers) 274 -> 100 ms walked; a
        page by price from the sums, 不锈钢老虎钳子, took 52 -> 90 ms walked at half. A walk
        along one ``brand``'s sums reads that brand's share of them only, its share of the
        matches taken for its share of the catalogue: so the word is taken to be as common
        among the brand's products as among all, which errs short for a big brand that makes
        few of them (the walk then gives way at ``WALK_MAX``, the page still exact)."""
        if self.population <= 0:  # never counted: try, the walk gives way if it must
            return True
        margin = 4 if summed else 2
        share = 1.0
        if brand and self.branded is not None and self.matched > 0:
            share = self.branded / self.matched
        reach = reads * self.population * share / self.kept if self.kept > 0 else math.inf
        return reach * margin <= WALK_MAX

    def walks_along(self, reads: int, holding: int) -> bool:
        """Whether a walk along the sums of the brand typed as a word is likely to read
        ``reads`` of its matches within a quarter of ``WALK_MAX`` steps (the brand's
        ``worded`` matches are among the ``holding`` products of the sample that hold its name:
        its own, and others naming it), and the brand's are at least half the matches kept:
        the other brands' are priced one by one beside the walk (a brand named by a common
        word would leave most of them to price)."""
        if self.worded <= 0 or self.worded * 2 < self.kept:
            return False
        return reads * holding / self.worded * 4 <= WALK_MAX


def breadth(session: Session, asked: Asked) -> Breadth:
    """How many of the sample the search matches, keeps under the page's own filters and holds
    of the brand filtered on (none asked when a word is met by the whole text's similarity: the
    trigram index has no sample of its own), and how big the sample is."""
    matching, bound, values = asked.matching, asked.bound, asked.values
    if matching.loose:
        return Breadth(0, 0, 0.0)
    values = {**values, "brand_words": list(matching.brand_words)}
    statement = SHAPES.statement(
        asked.shape("sample"), lambda: _sample_count(matching, bound.filters), values
    )
    count, kept, size, branded, worded, word = session.execute(statement, values).one()
    return Breadth(int(count), int(kept), float(size or 0.0), int(branded), int(worded), word)


def _sample_count(matching: Matching, filters: SearchFilters) -> Select[Any]:
    """The search's matches in the sample, those the page's own filters keep, the sample's
    size as the planner last counted it (its index's row estimate), the matches of the
    brand filtered on (all of them without one), and of those kept, the products of a brand
    named by a word (``brand_words``) and the least such name."""
    kept = and_(true(), *described(Product, filters))
    branded = brand_filter(Product, filters)
    words = cast(bindparam("brand_words", [], type_=ARRAY(Text)), ARRAY(Text))
    brand = func.lower(Product.brand)
    worded = and_(kept, brand == any_(words))
    pg_class = table("pg_class", column("oid"), column("reltuples"))
    population = select(pg_class.c.reltuples).where(
        pg_class.c.oid == func.to_regclass("ix_products_category_sample")
    )
    return (
        select(
            func.count(),
            func.count().filter(kept),
            population.scalar_subquery(),
            func.count().filter(branded),
            func.count().filter(worded),
            func.min(brand).filter(worded),
        )
        .select_from(Product)
        .where(*matching.conditions, sampled())
    )


def search(
    session: Session,
    matching: Matching,
    filters: SearchFilters,
    *,
    sort: Sort,
    after: Sequence[Any] | None,
    limit: int,
    counted: bool,
    today: date,
    broad: int = BROAD,
    scored: int = SCORED_MAX,
    facet_matches: int = FACET_MATCHES,
) -> Searched:
    """The page after ``after`` and, when ``counted``, the facets (``broad``: the sampled
    matches from which a search is broad; ``scored``: the products kept, about, that a page by
    relevance scores every one of; ``facet_matches``: the sampled matches a finer sample for
    the facets must keep, ``thinning``)."""
    asked = Asked(matching, filters, sort, after, limit, today, bound(filters, today))
    wide = breadth(session, asked)
    if wide.matched < broad:
        if not counted:
            return Searched(_exact(session, asked), None, estimated=False, way="exact")
        b, values = asked.bound, asked.values
        clear_found(session)
        fill = SHAPES.statement(
            asked.shape("fill"),
            # Every match's offers where they are asked, underestimated as the matches are.
            lambda: filling(
                select(found(matching, b.filters, today=b.today, regions=True, hashed=True))
            ),
            values,
        )
        fill_found(session, fill, values)
        counting = SHAPES.statement(
            ("facets", FOUND.name, b.shape),
            lambda: facet_counts(FOUND, b.filters),
            values,
        )
        counts = read_counts(session, counting, values)
        page = kept_page(session, asked, FOUND.name, lambda: FOUND)
        return Searched(page, counts, estimated=False, way="exact")
    # On the matches the product's own filters keep, which every facet but the filter's own
    # counts: a brand's share of a broad word is too few to thin.
    thinned = thinning(wide.kept, facet_matches)
    estimate = _estimating(session, asked, thinned) if counted else None
    hits: list[Found] | None = None
    if sort is Sort.RELEVANCE:
        few = wide.kept * SAMPLE <= scored
        way, hits = most_relevant(session, asked, few, matches=wide.matched * SAMPLE)
    elif wide.walks(first_read(filters, limit), summed=summed(filters), brand=by_brand(filters)):
        way = "walked"
        hits = walked(session, asked)
    elif (
        wide.brand_word is not None
        and filters.brand is None
        and summed(filters)
        and wide.walks_along(limit + 1, holding(session, wide.brand_word))
    ):
        way = "walked"
        hits = walked_along(session, asked, wide.brand_word)
    if hits is None:
        way = "exact"
        hits = _exact(session, asked)
    return Searched(hits, None if estimate is None else estimate(), estimated=counted, way=way)


# A broad first page's facets are counted on a connection of their own while its page is found:
# the sample's estimate needs nothing of the page, and a first page waited for both in turn
# (counting is 12 ms of SQL for 螺丝刀, a third of the page's time). At most ``COUNTERS`` at
# once; the API's pool has as many connections more for them (``api.main``). Past them, or
# once the process is shutting down, a search counts in its own turn, as before.
COUNTERS = 4
_COUNTING = ThreadPoolExecutor(COUNTERS, thread_name_prefix="catalogue-facets")
_FREE = threading.BoundedSemaphore(COUNTERS)


def thinning(kept: int, least: int = FACET_MATCHES) -> int:
    """How much finer than the sample a broad search's facets are counted on, for ``kept``
    sampled matches (those the product's own filters keep): 1, 4 or 16, the finer sample
    keeping about ``least`` of them or more (a hash's share, so about)."""
    thinned = 1
    while thinned < THINNED_MAX and kept >= least * thinned * 4:
        thinned *= 4
    return thinned


def _estimating(session: Session, asked: Asked, thinned: int) -> Callable[[], list[FacetCount]]:
    """The facets estimated on the sample, or a finer one (``thinned``): one statement, the
    sample's products found, a CTE, and counted. Counted apart when a counter is free and the
    session has an engine of its own to connect with (a test's session bound to one
    connection has not), else now."""
    b, values = asked.bound, asked.values
    scale = SAMPLE * thinned

    def build() -> CompoundSelect[Any]:
        in_sample = found(
            asked.matching,
            b.filters,
            today=b.today,
            where=[sampled(thinned)],
            regions=True,
            hashed=True,  # a sample's offers: thousands for a broad word, estimated at 45
        )
        return facet_counts(in_sample, b.filters)

    statement = SHAPES.statement(asked.shape("sample facets", thinned), build, values)
    bind = session.get_bind()
    if isinstance(bind, Engine) and _FREE.acquire(blocking=False):
        try:
            future = _COUNTING.submit(_count_apart, bind, statement, values)
        except RuntimeError:  # the executor is shut down: the interpreter is exiting
            _FREE.release()
        except BaseException:
            _FREE.release()
            raise
        else:
            return lambda: _scaled(future.result(), scale)
    now = _scaled(read_counts(session, statement, values), scale)
    return lambda: now


def _count_apart(
    engine: Engine, statement: CompoundSelect[Any], values: Mapping[str, Any]
) -> list[FacetCount]:
    """The counts, on a connection and snapshot of their own (estimates anyway); the counter
    is free again before its result is seen."""
    try:
        with Session(engine) as session:
            return read_counts(session, statement, values)
    finally:
        _FREE.release()


def _scaled(counts: list[FacetCount], scale: int) -> list[FacetCount]:
    return [FacetCount(c.facet, c.value, c.count * scale) for c in counts]


def _exact(session: Session, asked: Asked) -> list[Found]:
    """The page from every matching product (those the product's own filters keep)."""
    b = asked.bound
    return kept_page(
        session,
        asked,
        asked.shape("exact"),
        lambda: found(
            asked.matching, b.filters, today=b.today, where=described(Product, b.filters)
        ),
    )
