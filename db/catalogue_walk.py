"""A broad search's page by price or lead time, walked along the products' summed prices
(``db.catalogue_prices``) in the page's order instead of found from every match: each summed
product is read by its key and kept when it meets the words, the category and the filters.

- **No offer filter.** The sums are the prices asked for, and the walk stops once the page is
  full.
- **Delivering to a province** (``region``), **in stock**, **under an MOQ**, **at a
  quantity**. A product's price is then that of its best offer passing them,
  which its sum (the best of all its offers) can only undercut, as its shortest lead time can
  only undercut that offer's; at a quantity the breaks reached can go below the list price,
  and the sum's floor below the next power of ten (``db.catalogue.FLOORS``) bounds them
  instead. So the walk reads the products whose sums say some offer could pass (they deliver
  there, one holds stock, the least MOQ is low enough), asks the offers of those read, and
  holds the page once its last product comes before the next unread sum: every product not
  read is dearer or slower still. This is the threshold algorithm (Fagin, Lotem and Naor,
  "Optimal aggregation algorithms for middleware", 2003) over one sorted list. A page that
  does not hold so is settled by reading every sum up to its last product. Found from every
  match instead, 6毫米 by price to CN-JS priced 60,000 products' offers (530 ms), 螺丝刀 at 10
  97,000 offers (0.9 s).
- **One brand.** The sums keep their product's brand (migration 0035): a brand's page by
  price or lead time walks that brand's sums alone, so 螺丝刀 Stanley reads one brand's sums
  and keeps one in twenty, where along every product's it kept one in three hundred (75.8 ->
  25.8 ms p50 on the million products, ``bench.catalogue_search``). At a quantity it walks
  every product's floors, which no index holds beside the brand.

Either way the products whose sums cannot be trusted (``db.catalogue_untrusted``: logged as
changed; lapsed, where the sums are the prices) are read once, first, and asked of their
offers: asked twice, a product summed or logged in between would be missed or shown twice.
Past ``LAPSED_MANY`` lapsed sums (a day's lapse together at midnight, China time), a page
without an offer filter takes the lapsed ones as bounds too, and asks those before its start.
A walk gives way (None) when more than ``UNSUMMED_MAX`` products are to be asked, or when it
does not settle the page within ``WALK_MAX`` sums; the page is then found from every match.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import (
    Insert,
    Integer,
    Row,
    Select,
    String,
    Subquery,
    all_,
    and_,
    any_,
    bindparam,
    cast,
    func,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from db.catalogue import FLOORS, CatalogueProductPrice, Product
from db.catalogue_best import delivering, summed_columns, summed_of
from db.catalogue_filters import SearchFilters, Sort, described, flags, summed
from db.catalogue_found import FOUND, clear_found, fill_found, filling, found
from db.catalogue_page import Asked, Found, kept_page, ordering
from db.catalogue_shapes import SHAPES
from db.catalogue_untrusted import many_lapsed, unsummed_ids

WALK_MAX = 20_000  # summed prices a walk reads at most before the page is found exactly
FIRST_READ = 4  # pages' worth of products a bounded walk's first try reads
BOUNDED_TRIES = 3  # a bounded walk's tries, each reading four times the last, before it gives way


def walked(session: Session, asked: Asked) -> list[Found] | None:
    """The page by price or lead time, walked; None when the walk gives way. Every offer
    filter the sums do not apply (a province, in stock, an MOQ ceiling, a quantity) keeps some
    of a product's offers, whose best list price and lead time the sum's can only undercut; at a
    quantity the breaks reached can go below the list price, and the sum's floor below the
    next power of ten bounds them instead. So the sums are the prices, or bound them."""
    if summed(asked.filters) and not many_lapsed(session, asked):
        return _walked(session, asked)
    return bounded(session, asked)


def _lapsed_only(asked: Asked) -> bool:
    """Whether the sums bound the prices only where they have lapsed (no offer filter): every
    other sum is its product's place, so the walk starts at the page's cursor and price floor,
    and a lapsed sum before them is asked of its offers (``_before_start``). Where an offer
    filter makes every sum a bound, a product's sum before the cursor may be undercut by none
    of its offers, and the sums are read from the cheapest (or quickest) whatever the cursor."""
    return summed(asked.filters)


def _before_start(asked: Asked) -> ColumnElement[bool] | None:
    """Whether a sum comes before the page's start (its cursor, its price floor); None for a
    first page from the cheapest. A brand's walk asks only its brand's (``by_brand``): found
    by the products' brand instead, Bosch 扳手's second page at midnight read every lapsed sum
    below its cursor to keep a few (26 ms)."""
    prices = CatalogueProductPrice
    keys = _keys(asked.sort, prices.price.expression)
    before: list[ColumnElement[bool]] = []
    if asked.after is not None:
        before.append(tuple_(*keys) <= tuple_(*_named("after", keys, asked.after)))
    if asked.filters.price_min is not None:
        before.append(prices.price < asked.bound.filters.price_min)
    if not before:
        return None
    started = or_(*before)
    if by_brand(asked.filters):
        return and_(prices.brand == func.lower(asked.bound.filters.brand), started)
    return started


def by_brand(filters: SearchFilters) -> bool:
    """Whether the walk reads only the brand's sums: where an index holds the brand before the
    page's order (by price, or by lead time and price; not a quantity's floors). Every product
    of another brand would be read and left anyway."""
    return filters.brand is not None and filters.quantity is None


def first_read(filters: SearchFilters, limit: int) -> int:
    """The products a walk reads first for a page of ``limit``: the page and one more, or
    ``FIRST_READ`` pages' worth when the sums only bound the prices."""
    return (limit + 1) * (1 if summed(filters) else FIRST_READ)


def _floor(quantity: Decimal) -> ColumnElement[Decimal | None]:
    """The sums' floor for a price at ``quantity``: that of the least step above it."""
    floor: InstrumentedAttribute[Decimal | None] = getattr(
        CatalogueProductPrice, _floor_name(quantity)
    )
    return floor.expression


def _floor_name(quantity: Decimal) -> str:
    return next(n for n, up_to in FLOORS.items() if up_to is None or quantity < up_to)


def _sums(
    asked: Asked, unsummed: list[str], *, bounds: bool, up_to: tuple[Any, ...] | None = None
) -> Subquery:
    """The summed prices to walk but ``unsummed``, in the page's order: at most ``WALK_MAX``,
    or with ``up_to``, those whose key is at most it and one more than ``WALK_MAX`` at most.
    With ``bounds`` the sums are lower bounds of the prices asked for (a province's, in stock,
    under an MOQ, at a quantity): only the price ceiling and what the sum says of its offers at
    all (they deliver there, one holds stock, the least MOQ) narrow them, and the cursor does
    not (a product after it may have a sum before it). A brand narrows them either way
    (``by_brand``)."""
    filters, today = asked.bound.filters, asked.bound.today
    sort, after = asked.sort, asked.after
    prices = CatalogueProductPrice
    # Which floor bounds the prices is the quantity's value's to say, not its parameter's.
    floor = asked.filters.quantity if bounds else None
    price = prices.price.expression if floor is None else _floor(floor)
    keys = _keys(sort, price)
    # Where the sums are the prices, or only the lapsed bound them, the walk starts at the
    # page's start; where every sum is a bound, at the cheapest.
    started = not bounds or _lapsed_only(asked)
    conditions = [prices.currency == filters.currency]
    if not bounds:  # as bounds, a lapsed sum still undercuts what its offers left ask
        conditions.append(prices.fresh_until > today)
    if by_brand(asked.filters):
        conditions.append(prices.brand == func.lower(filters.brand))
    if filters.price_min is not None and started:
        conditions.append(prices.price >= filters.price_min)
    if filters.price_max is not None:
        conditions.append(price <= filters.price_max)
    if after is not None and started:  # every key ascends: one row comparison, indexed
        conditions.append(tuple_(*keys) > tuple_(*_named("after", keys, after)))
    if up_to is not None:  # likewise, without the id
        conditions.append(tuple_(*keys[:-1]) <= tuple_(*_named("up_to", keys, up_to)))
    if bounds and filters.region is not None:
        conditions.append(prices.regions.overlap(delivering(filters.region)))
    # A sum that does not say (written by a refresher older than migration 0030) keeps its
    # product in the walk: leaving it out would break the bound.
    if bounds and filters.in_stock:
        conditions.append(prices.in_stock.is_not(False))
    if bounds and filters.moq_max is not None:
        conditions.append(or_(prices.least_moq.is_(None), prices.least_moq <= filters.moq_max))
    if floor is not None:  # an offer asking more than the quantity as its minimum is left
        conditions.append(or_(prices.least_moq.is_(None), prices.least_moq <= filters.quantity))
        # A floorless sum is asked of its offers (``db.catalogue_untrusted``); one written
        # since by an older refresher is left out here too, rather than compared as a NULL.
        conditions.append(price.is_not(None))
    if unsummed:
        conditions.append(prices.product_id != all_(_ids("unsummed", unsummed)))
    return (
        select(prices.product_id, *summed_of(prices, price))
        .where(*conditions)
        .order_by(*keys)
        .limit(bindparam("walk_max", WALK_MAX if up_to is None else WALK_MAX + 1, type_=Integer))
        .subquery("steps")
    )


def _keys(sort: Sort, price: ColumnElement[Any]) -> list[Any]:
    """The sums' order for a page by ``sort``, at ``price`` (the list price or a floor)."""
    prices = CatalogueProductPrice
    keys: list[Any] = [price, prices.product_id]
    if sort is Sort.LEAD_TIME:
        keys.insert(0, prices.lead_time_days)
    return keys


def _named(name: str, keys: list[Any], values: Sequence[Any]) -> list[Any]:
    """A key's ``values`` as parameters named ``name0``, ``name1``, …"""
    return [
        bindparam(f"{name}{i}", value, type_=key.type)
        for i, (key, value) in enumerate(zip(keys, values, strict=False))
    ]


def _ids(name: str, ids: list[str]) -> ColumnElement[Any]:
    return cast(bindparam(name, ids, type_=ARRAY(String)), ARRAY(String))


def _walk(asked: Asked, steps: Subquery) -> Subquery:
    """The walked products that meet the words, the category and the product's own filters,
    each with its sum as its best offer."""
    matching, filters = asked.matching, asked.bound.filters
    # Read product by product: joined as sets, PostgreSQL hashed every match of a broad word
    # (OFFSET 0 keeps it from flattening the lateral read into such a join).
    product = (
        select(
            Product.brand,
            Product.hazard_class,
            Product.temperature_profile,
            matching.score.label("score"),
        )
        .where(Product.id == steps.c.product_id, *matching.conditions, *described(Product, filters))
        .offset(0)
        .lateral("product")
    )
    return (
        select(
            steps.c.product_id.label("id"),
            product.c.brand,
            product.c.hazard_class,
            product.c.temperature_profile,
            product.c.score,
            *summed_columns(steps),
        )
        .select_from(steps.join(product, true()))
        .subquery("walk")
    )


def _by_offers(session: Session, asked: Asked, ids: list[str]) -> None:
    """``ids`` found again from their offers, into ``FOUND``."""
    b, values = asked.bound, {**asked.values, "ids": ids}

    def build() -> Insert:
        # The product's own filters too: a walk along a brand typed as a word finds the other
        # brands' products apart (``db.catalogue_brand_walk``).
        where = [Product.id == any_(_ids("ids", ids)), *described(Product, b.filters)]
        by_offers = found(asked.matching, b.filters, today=b.today, where=where, by_offers=True)
        return filling(select(by_offers))

    fill_found(session, SHAPES.statement(asked.shape("by offers"), build, values), values)


def _walked(session: Session, asked: Asked) -> list[Found] | None:
    """The page walked along the sums, which are the prices asked for; None when the walk did
    not fill the page within ``WALK_MAX`` steps."""
    if not walked_into_found(session, asked):
        return None
    return found_page(session, asked)


def walked_into_found(session: Session, asked: Asked) -> bool:
    """``FOUND`` emptied and given the page walked along the sums, but the products whose sums
    cannot be trusted, and those asked of their offers; False (``FOUND`` emptied) when more
    than ``UNSUMMED_MAX`` are, or the walk did not fill the page within ``WALK_MAX`` steps."""
    unsummed = unsummed_ids(session, asked, bounds=False, lapsed=true)
    if unsummed is None:
        return False
    clear_found(session)
    values = {**asked.values, "unsummed": unsummed, "walk_max": WALK_MAX}

    def build() -> Insert:
        walk = _walk(asked, _sums(asked, unsummed, bounds=False))
        page = (
            select(walk)
            .where(flags(walk, asked.bound.filters).all())
            .order_by(*ordering(walk, asked.sort))
            .limit(bindparam("rows", values["rows"], type_=Integer))
        )
        return filling(page)

    shape = asked.shape("walk", asked.sort, asked.after is None, not unsummed)
    if fill_found(session, SHAPES.statement(shape, build, values), values) <= asked.limit:
        clear_found(session)
        return False
    if unsummed:
        _by_offers(session, asked, unsummed)
    return True


def bounded(session: Session, asked: Asked) -> list[Found] | None:
    """The page walked along the sums as lower bounds of the prices asked for: the first
    ``reads`` products whose offers could pass are asked of their offers, and the page holds
    when its last product comes before the next one's sum. When it does not, every sum up to
    that last product is read (``_up_to``). When the page is not full, four times as many are
    read, up to ``BOUNDED_TRIES`` times. When the walk reads every sum there is, the page is
    theirs. None when the walk stops at ``WALK_MAX`` sums, or its tries, without settling it.
    A page is left in ``FOUND`` with every product asked, each at its offers' price: products
    found apart and added there can only end it sooner (``db.catalogue_brand_walk``)."""
    before = partial(_before_start, asked) if _lapsed_only(asked) else None
    unsummed = unsummed_ids(session, asked, bounds=True, lapsed=before)
    if unsummed is None:
        return None
    reads = first_read(asked.filters, asked.limit)
    # Which floor bounds the prices (at a quantity) is part of the statement's shape.
    quantity = asked.filters.quantity
    floor = None if quantity is None else _floor_name(quantity)
    shape = asked.shape("bounded", asked.sort, floor, asked.after is None, not unsummed)
    for _ in range(BOUNDED_TRIES):
        values = {**asked.values, "unsummed": unsummed, "walk_max": WALK_MAX, "reads": reads + 1}
        keys = SHAPES.statement(shape, partial(_bound_keys, asked, unsummed, reads), values)
        rows = session.execute(keys, values).all()
        clear_found(session)
        if len(rows) <= reads:  # every sum read, unless the walk stopped at WALK_MAX
            steps = _sums(asked, unsummed, bounds=True)
            walked_all = session.scalar(select(func.count()).select_from(steps))
            if walked_all is None or walked_all >= WALK_MAX:
                return None
            _by_offers(session, asked, [row[-1] for row in rows] + unsummed)
            return found_page(session, asked)
        _by_offers(session, asked, [row[-1] for row in rows[:reads]] + unsummed)
        hits = found_page(session, asked)
        if len(hits) > asked.limit:
            if _holds(session, hits[-1], asked.sort, rows[reads]):
                return hits
            return _up_to(session, asked, unsummed, _key(hits[-1], asked.sort))
        reads *= 4
    clear_found(session)
    return None


def _bound_keys(asked: Asked, unsummed: list[str], reads: int) -> Select[Any]:
    """The keys of the first ``reads`` and one more products walked along the sums as bounds."""
    walk = _walk(asked, _sums(asked, unsummed, bounds=True))
    keys = ordering(walk, asked.sort)
    return select(*keys).order_by(*keys).limit(bindparam("reads", reads + 1, type_=Integer))


def _up_to(
    session: Session, asked: Asked, unsummed: list[str], last: tuple[Any, ...]
) -> list[Found] | None:
    """The page settled by reading every sum up to ``last``, the key of the last product of a
    page found from fewer: more products read can only end the page sooner, and a product
    whose sum comes after ``last`` cannot enter it. Far cheaper than reading four times as
    many when the sums bound loosely (a floor at a quantity below a break it counts). None
    when more than ``WALK_MAX`` sums are up to ``last``."""
    steps = _sums(asked, unsummed, bounds=True, up_to=last)
    read = session.scalar(select(func.count()).select_from(steps))
    clear_found(session)
    if read is None or read > WALK_MAX:
        return None
    walk = _walk(asked, steps)
    ids = session.scalars(select(walk.c.id)).all()
    _by_offers(session, asked, [*ids, *unsummed])
    return found_page(session, asked)


def _holds(session: Session, last: Found, sort: Sort, following: Row[Any]) -> bool:
    """Whether a page ending with ``last`` holds: it comes strictly before the next unread sum
    (``following``: its keys, then its product's id) in the page's order. An unread product's
    own price and lead time are no better than its sum's, and where they equal it, its id
    comes after the sum's, as the sums are read in that order. The ids are compared in
    PostgreSQL's collation (the page's order), asked only when the rest ties, which prices
    often do: compared by price alone, 螺丝刀 at 100, whose first page ends among products at
    0.90, read every sum up to 0.90 again (``_up_to``: 13 ms more, on the million products)."""
    key, next_key = _key(last, sort), tuple(following[:-1])
    if key != next_key:
        return key < next_key
    before = cast(bindparam("last", last.product_id, String), String) < cast(
        bindparam("following", following[-1], String), String
    )
    return bool(session.scalar(select(before)))


def _key(last: Found, sort: Sort) -> tuple[Any, ...]:
    """A found product's place in the page's order, but for its id."""
    return (last.lead_time_days, last.price) if sort is Sort.LEAD_TIME else (last.price,)


def found_page(session: Session, asked: Asked) -> list[Found]:
    return kept_page(session, asked, FOUND.name, lambda: FOUND)
