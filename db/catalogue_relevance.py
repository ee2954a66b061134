"""A broad search's page by relevance (``db.catalogue_broad``), without scoring every match.

A score is the words' weights and a bonus that shrinks with the text's length
(``db.catalogue_search``), so a score bounds the length. The page is cut from the products
whose text is short enough to score as well as one of the sample's best few, found from the
terms index and, where it holds few enough of them, the length index; only they are priced. A
page whose last product scores below that bound is cut from the ``TOP`` pages' most relevant of
every match instead, and priced the same way.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import Insert, Integer, Numeric, Select, String, bindparam, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.catalogue import Product
from db.catalogue_filters import SearchFilters, described, summed
from db.catalogue_found import FOUND, clear_found, fill_found, filling, found
from db.catalogue_page import Asked, Found, kept_page
from db.catalogue_search import CLOSENESS, SAMPLE, TYPICAL_LENGTH, Matching, sampled
from db.catalogue_shapes import SHAPES

TOP = 4  # a relevance page's products taken by score alone, in pages
TOP_TRIES = 3  # tries of a relevance page's shortest texts, each taking four times as many


def most_relevant(
    session: Session, asked: Asked, few: bool, *, matches: int
) -> tuple[str, list[Found] | None]:
    """The page by relevance from the ``TOP`` pages' most relevant matching products and their
    prices; None when fewer than a page of them had a price the filters keep (more might have,
    or the last page is reached).

    A score is the words' weights plus a bonus that shrinks with the text's length, so a score
    bounds the length: the sample's few best scores give a length no better-scoring product
    exceeds, and the products within it are found from the terms index and, where it holds at
    most ``LENGTH_ROWS_PER_MATCH`` of them for each of the words' ``matches`` (estimated from
    the sample), the length index, without reading the others. The page holds when its last
    product scores at least that much; otherwise, or when the page's own filters keep ``few``,
    every matching product is scored."""
    matching, limit, b = asked.matching, asked.limit, asked.bound
    clear_found(session)

    def where() -> list[ColumnElement[bool]]:
        """The page's own filters and its cursor, as conditions on a product."""
        kept = described(Product, b.filters)
        if asked.after is not None:
            after_score, after_id = asked.after
            score = bindparam("after0", after_score, type_=Numeric)
            product_id = bindparam("after1", after_id, type_=String)
            kept.append(
                (matching.score < score) | ((matching.score == score) & (Product.id > product_id))
            )
        return kept

    top = TOP * (limit + 1)
    if few:
        # A product filter has narrowed the matches already (a brand: 螺栓 Stanley, the 3,000
        # products the terms index gives for the words and the brand's terms), and the length
        # bound's bitmap would be read for nothing (380,000 rows, 29 ms, to keep 451 of them).
        return _top_scored(session, asked, where, top)
    # A price range or a province keeps few of the most relevant (heavy, to CN-JS under 100:
    # too few of the best 84, then every match's offers asked, 540 ms): each try takes four
    # times as many, and a lower bar. Where a try reads every match's own row (not the length
    # index), such a page starts at the second: the rows cost the same for either, a few
    # hundred more priced little beside them (heavy to CN-JS under 100 took two tries, 27 and
    # 31 ms: 80 -> 46 ms a search). From the length index a lower bar reads more of it: 螺丝刀
    # to CN-JS, whose first try holds, took 37 -> 58 ms starting at the second.
    for attempt in range(TOP_TRIES):
        top = TOP * (limit + 1) * 4**attempt
        # Above the bar, about twice the TOP pages in all.
        values = {**asked.values, "offset": top // SAMPLE + 1}
        bar_statement = SHAPES.statement(
            asked.shape("bar", asked.after is None),
            partial(_bar, matching, where, values["offset"]),
            values,
        )
        bar: Decimal | None = session.scalar(bar_statement, values)
        longest = None if bar is None else longest_text(bar, matching.weight)
        if bar is None or longest is None:
            break
        values = {**asked.values, "longest": longest, "top": top}
        indexed = texts_within(session, longest) <= LENGTH_ROWS_PER_MATCH * matches
        if attempt == 0 and not indexed and priced_after(b.filters):
            continue
        fill = SHAPES.statement(
            asked.shape("shortest texts", asked.after is None, indexed),
            partial(_shortest, asked, where, longest, top, indexed),
            values,
        )
        fill_found(session, fill, values)
        hits = _relevant_page(session, asked)
        if len(hits) > limit and hits[-1].score >= bar:
            return "shortest texts", hits
        clear_found(session)
    return _top_scored(session, asked, where, top)


def priced_after(filters: SearchFilters) -> bool:
    """Whether the page's filters leave out products only once they are priced: a price range,
    or an offer filter (a province, in stock, an MOQ, a quantity) that leaves a product no
    price of its own."""
    return filters.price_min is not None or filters.price_max is not None or not summed(filters)


def _bar(
    matching: Matching, where: Callable[[], list[ColumnElement[bool]]], offset: int
) -> Select[Any]:
    """The sample's score ``offset`` below its best (among those ``where`` keeps)."""
    return (
        select(matching.score)
        .where(*matching.conditions, *where(), sampled())
        .order_by(matching.score.desc())
        .offset(bindparam("offset", offset, type_=Integer))
        .limit(1)
    )


# A page by relevance reads the products within its length bound from the length index where
# the index holds at most this many of them for each of its words' matches; otherwise it reads
# the matches' own rows for their length. The index's bitmap costs about 47 ns a row, a match's
# row about 0.9 µs: pliers, whose 15,000 products have long texts, read 600,000 rows of the index
# up to 48 characters (29 ms) to keep 270, where its own rows alone took 16. PostgreSQL, taking
# length for independent of the words, intersected them.
LENGTH_ROWS_PER_MATCH = 20


def _shortest(
    asked: Asked,
    where: Callable[[], list[ColumnElement[bool]]],
    longest: int,
    top: int,
    indexed: bool,
) -> Insert:
    """``FOUND`` filled with the ``top`` most relevant of the matches ``where`` keeps whose
    text is at most ``longest`` long, read from the length index where ``indexed``."""
    b = asked.bound
    # char_length is length under another name, which no index holds.
    measure = func.length if indexed else func.char_length
    within = [
        *where(),
        measure(Product.search_text) <= bindparam("longest", longest, type_=Integer),
    ]
    return filling(select(found(asked.matching, b.filters, today=b.today, where=within, top=top)))


def _top_scored(
    session: Session, asked: Asked, where: Callable[[], list[ColumnElement[bool]]], top: int
) -> tuple[str, list[Found] | None]:
    """The page from the ``top`` most relevant of every match ``where`` keeps, priced; None
    when fewer than a page of them had a price the filters keep."""
    b, values = asked.bound, {**asked.values, "top": top}
    fill = SHAPES.statement(
        asked.shape("top scored", asked.after is None),
        lambda: filling(
            select(found(asked.matching, b.filters, today=b.today, where=where(), top=top))
        ),
        values,
    )
    fill_found(session, fill, values)
    hits = _relevant_page(session, asked)
    if len(hits) > asked.limit:
        return "most relevant", hits
    clear_found(session)
    return "exact", None


def _relevant_page(session: Session, asked: Asked) -> list[Found]:
    """The page by relevance of ``FOUND``, which holds only products after the cursor."""
    return kept_page(session, replace(asked, after=None), FOUND.name, lambda: FOUND)


def longest_text(score: Decimal, weight: float) -> int | None:
    """The longest text a product scoring ``score`` or more may have, when the words' weights
    (at most ``weight``) leave the length bonus to make up the rest (None: they need not)."""
    needed = float(score) - weight - 1e-6  # scores are rounded to six places
    if needed <= 0:
        return None
    return math.floor(CLOSENESS * TYPICAL_LENGTH / needed - TYPICAL_LENGTH)


# The planner's statistics move as autovacuum analyses the table: an estimate is asked again
# once it is this old.
KEPT_S = 600.0

_ESTIMATE = text("EXPLAIN (FORMAT JSON) SELECT FROM products WHERE length(search_text) <= :longest")
# A database and a length: its rows, and when they were asked.
_ESTIMATES: dict[tuple[str, int], tuple[float, float]] = {}
_LOCK = threading.Lock()


def texts_within(session: Session, longest: int) -> float:
    """The products whose text is at most ``longest`` long, by the planner's statistics of the
    length index (one EXPLAIN, kept for ``KEPT_S`` in the process, by database)."""
    now = time.monotonic()
    key = (str(session.connection().engine.url), longest)
    with _LOCK:
        kept = _ESTIMATES.get(key)
    if kept is not None and now - kept[1] < KEPT_S:
        return kept[0]
    plan = session.scalar(_ESTIMATE, {"longest": longest})
    rows = float(plan[0]["Plan"]["Plan Rows"])
    with _LOCK:
        _ESTIMATES[key] = (rows, now)
    return rows
