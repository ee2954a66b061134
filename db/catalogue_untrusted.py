"""Which summed prices a broad walk (``db.catalogue_walk``) cannot trust, and so asks their
products' offers instead: those logged as changed (``catalogue_price_changes``), and lapsed ones
(one of the offers summed has lapsed since) where the walk takes the sums as the prices.

A lapsed sum still bounds its product's price from below: offers only drop out as days pass (a
new offer, or a supplier's standing that changes, is logged), so the best of those left costs
no less and comes no sooner. A walk that takes the sums as bounds reads it as one. A day's sums
lapse together at midnight, China time (15,272 of the benchmark's million): listing every one
that the words meet took 97 ms a search (each lapsed sum's product looked up by its key) until
the refresher had summed them all again, 20 to 30 s. Past ``LAPSED_MANY`` lapsed
(``many_lapsed``), a page without an offer filter takes the lapsed sums as bounds: it walks
from its cursor and price floor as before, every other sum its product's place, and asks the
offers of the lapsed products whose sums come before them, the only ones that could still
enter it: the deeper the page, the more (past ``UNSUMMED_MAX`` it gives way).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Integer, Select, bindparam, func, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.catalogue import CataloguePriceChange, CatalogueProductPrice, Product
from db.catalogue_best import lapsed as lapsed_sums
from db.catalogue_filters import Day, SearchFilters, described
from db.catalogue_page import Asked
from db.catalogue_search import Matching
from db.catalogue_shapes import SHAPES

UNSUMMED_MAX = 2_000  # logged or lapsed products a walk asks itself, at most
# Lapsed sums past which a page without an offer filter takes them as bounds: listing those the
# words meet costs about 6.5 µs a lapsed sum, the bounds a few ms a page.
LAPSED_MANY = 1_000


def many_lapsed(session: Session, asked: Asked) -> bool:
    """Whether more than ``LAPSED_MANY`` sums in the currency have lapsed (at midnight, China
    time, a day's lapse together, until the refresher has summed them again)."""
    values = {**asked.values, "lapsed_many": LAPSED_MANY + 1}

    def build() -> Select[tuple[int]]:
        some = lapsed_sums(asked.bound.filters, asked.bound.today).limit(
            bindparam("lapsed_many", type_=Integer)
        )
        return select(func.count()).select_from(some.subquery())

    # The same statement whatever the words and filters: the currency and the day.
    counted = SHAPES.statement(("lapsed",), build, values)
    return (session.scalar(counted, values) or 0) > LAPSED_MANY


def unsummed_ids(
    session: Session,
    asked: Asked,
    *,
    bounds: bool,
    lapsed: Callable[[], ColumnElement[bool] | None] | None,
) -> list[str] | None:
    """The products a walk skips, asked of their offers instead: those whose sums cannot be
    trusted that meet the words, the category and the product's own filters (None: more than
    ``UNSUMMED_MAX``, too many to walk); and the lapsed ones for which ``lapsed`` builds the
    condition (None: none), every one where the walk takes the sums as the prices, those
    before the page's start where it walks from there, the other lapsed sums as bounds (a
    first page from the cheapest has none before it). Any other the walk reads and leaves,
    stale sum or not: counted
    whatever they were, a day's lapsed sums made every broad walk give way, and each broad page
    took a second. (A logged product whose row comes to meet the words between this listing and
    the walk, each statement at READ COMMITTED, is shown at its stale sum by that one search;
    listed whatever it met, it was not.)"""
    filters, today = asked.bound.filters, asked.bound.today
    values = {**asked.values, "unsummed_max": UNSUMMED_MAX + 1}
    floors = bounds and filters.quantity is not None
    # Which lapsed sums are listed can depend on the page's order and cursor.
    shape = asked.shape(
        "unsummed", floors, bounds, lapsed is not None, asked.sort, asked.after is None
    )

    def build() -> Select[tuple[str]]:
        where = None if lapsed is None else lapsed()
        untrusted = _unsummed(asked.matching, filters, today, floors=floors, lapsed=where)
        return untrusted.limit(bindparam("unsummed_max", type_=Integer))

    unsummed = SHAPES.statement(shape, build, values)
    listed = list(session.scalars(unsummed, values))
    if len(listed) > UNSUMMED_MAX:
        return None
    return sorted(set(listed))


def _unsummed(
    matching: Matching,
    filters: SearchFilters,
    today: Day,
    *,
    floors: bool,
    lapsed: ColumnElement[bool] | None,
) -> Select[tuple[str]]:
    """The products meeting ``matching`` and the category and product filters whose sum in the
    currency cannot be trusted: logged as changed, or lapsed where ``lapsed`` holds (None:
    none); walking along ``floors``, also those summed with none (by a refresher older than
    migration 0033), which it would read last. A product may come more than once."""
    sources: list[Select[tuple[str]]] = [select(CataloguePriceChange.product_id)]
    if lapsed is not None:
        sources.append(lapsed_sums(filters, today).where(lapsed))
    if floors:
        prices = CatalogueProductPrice
        sources.append(
            select(prices.product_id).where(
                prices.currency == filters.currency, prices.floor_any.is_(None)
            )
        )
    untrusted = union_all(*sources).subquery("untrusted")
    return (
        select(untrusted.c.product_id)
        .join(Product, Product.id == untrusted.c.product_id)
        .where(*matching.conditions, *described(Product, filters))
    )
