"""A found product's best visible offer: its price (at the buyer's quantity, where given), the
shortest lead time, how many offers and where they deliver, among the offers buyers may see
(``db.catalogue.visible_offer``) that pass the offer filters.

Asked of the offers themselves (``asked``), or read from the products' summed prices
(``db.catalogue_prices``) where no filter but visibility and currency applies (``summed_best``),
falling back to the offers for a product whose sum is logged as changed or has lapsed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    CTE,
    BigInteger,
    CompoundSelect,
    Integer,
    Numeric,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import Text

from db.catalogue import (
    IN_STOCK,
    CatalogueOffer,
    CataloguePriceChange,
    CatalogueProductPrice,
    visible_offer,
)
from db.catalogue_filters import Day, SearchFilters
from rules.provinces import WHOLE_MAINLAND


def _price(filters: SearchFilters) -> ColumnElement[Any]:
    """An offer's unit price: at the quantity, the last price break it reaches (as
    ``rules.landed_cost_cents.applicable_price``; its breaks ascend, so ``width_bucket`` counts
    those it reaches), else the list price. Both are read from the covering index."""
    if filters.quantity is None:
        return CatalogueOffer.list_price.expression
    reached = func.width_bucket(
        cast(filters.quantity, Numeric), CatalogueOffer.break_quantities, type_=Integer
    )
    return func.coalesce(CatalogueOffer.break_prices[reached], CatalogueOffer.list_price)


def _offers_asked(
    filters: SearchFilters, today: Day, *, hashed: bool = False
) -> list[ColumnElement[bool]]:
    """The offers a product's best is looked for among: visible, in the currency, taking the
    quantity asked; in stock and under the MOQ asked are left to ``_stocked`` and ``_moq_ok``,
    so that their facets can count without their own filter. ``hashed``: the standing asked as
    ``visible_offer``'s hashed set."""
    conditions = [visible_offer(today, hashed=hashed), CatalogueOffer.currency == filters.currency]
    if filters.quantity is not None:
        conditions.append(CatalogueOffer.min_order_quantity <= filters.quantity)
    return conditions


def _in_stock(filters: SearchFilters) -> ColumnElement[bool]:
    return CatalogueOffer.stock >= (IN_STOCK if filters.quantity is None else filters.quantity)


def _stocked(filters: SearchFilters) -> ColumnElement[bool]:
    return _in_stock(filters) if filters.in_stock else true()


def _moq_ok(filters: SearchFilters) -> ColumnElement[bool]:
    if filters.moq_max is None:
        return true()
    return CatalogueOffer.min_order_quantity <= filters.moq_max


def delivering(region: str) -> ColumnElement[Any]:
    """What a regions column must overlap to deliver to ``region``: it, or the whole mainland.
    Typed as the columns are: a column cast to text[] instead was a copy of each row's regions
    for every aggregate that asked. ``region`` may be a parameter (``db.catalogue_shapes``)."""
    return cast(array([region, literal(WHOLE_MAINLAND, String(5))]), ARRAY(String(5)))


def _region_ok(filters: SearchFilters) -> ColumnElement[bool]:
    if filters.region is None:
        return true()
    overlap: ColumnElement[bool] = CatalogueOffer.delivery_regions.overlap(
        delivering(filters.region)
    )
    return overlap


def asked(
    ids: Select[tuple[str]] | CompoundSelect[tuple[str]],
    filters: SearchFilters,
    today: Day,
    *,
    regions: bool = False,
    hashed: bool = False,
) -> CTE:
    """The best offer of each of ``ids``, asked of the offers themselves; with ``regions``, for
    the region facet, where those passing every filter but the province deliver; and, for the
    in-stock and MOQ facets, the best of those passing every other filter that hold stock
    (None: none does) and the least MOQ of those passing every other filter. ``hashed``: the
    standing asked as ``visible_offer``'s hashed set, for offers the planner underestimates."""
    each = select(
        CatalogueOffer.product_id,
        _price(filters).label("price"),
        CatalogueOffer.lead_time_days,
        CatalogueOffer.min_order_quantity,
        CatalogueOffer.delivery_regions,
        _region_ok(filters).label("delivers"),
        _stocked(filters).label("stocked"),
        _moq_ok(filters).label("moq_ok"),
        _in_stock(filters).label("holds"),
    ).where(CatalogueOffer.product_id.in_(ids), *_offers_asked(filters, today, hashed=hashed))
    if filters.quantity is not None:
        # Each offer priced once at the quantity: pulled up into the aggregates below, it was
        # priced once for each (measured when the breaks were read from JSON; from migration
        # 0031's arrays, A/B runs could not tell the two apart). Not otherwise: kept apart,
        # the offers' groups are estimated so few that the matches were joined to them in a
        # nested loop (1,900 products: 330 ms).
        each = each.offset(0)
    o = each.subquery("each").c
    # Each aggregate's offers: those passing every filter but one. A filter that is off leaves
    # the very condition of the best price, so PostgreSQL keeps one state for both: each state
    # more made it sort the offers to group them (10,000 products: 21 -> 36 ms).
    best = and_(o.delivers, o.stocked, o.moq_ok)
    anywhere = and_(o.stocked, o.moq_ok) if filters.region is not None else best
    in_stock = best if filters.in_stock else and_(o.delivers, o.moq_ok, o.holds)
    any_moq = and_(o.delivers, o.stocked) if filters.moq_max is not None else best
    # Aggregated with the rest for facets to count: asked of the offers again, they were half
    # a sample's facets under an offer filter (in stock: 28-32 -> 21-25 ms). Not for a page.
    delivers: ColumnElement[Any] = literal(None, Text)
    if regions:
        delivers = func.string_agg(func.array_to_string(o.delivery_regions, ","), ",")
        delivers = delivers.filter(anywhere)
    return (
        select(
            o.product_id,
            func.min(o.price).filter(best).label("price"),
            func.min(o.price).filter(anywhere).label("price_anywhere"),
            func.min(o.lead_time_days).filter(best).label("lead_time_days"),
            func.count().filter(best).label("offers"),
            delivers.label("regions"),
            func.min(o.min_order_quantity).filter(any_moq).label("least_moq"),
            # The in-stock facet's price, the page's were the filter on (its count is exact);
            # the MOQ facet's, the page's were the filter off (its steps' are not kept).
            func.min(o.price).filter(in_stock).label("price_in_stock"),
            func.min(o.price).filter(any_moq).label("price_any_moq"),
        )
        .group_by(o.product_id)
        .cte("asked")
        .prefix_with("MATERIALIZED")
    )


def summed_of(
    prices: type[CatalogueProductPrice], price: ColumnElement[Any] | None = None
) -> list[Any]:
    """The summed prices' columns ``summed_columns`` reads; ``price`` in place of the best list
    price (a floor at a quantity)."""
    return [
        prices.price if price is None else price.label("price"),
        prices.lead_time_days,
        prices.offers,
        prices.regions,
        prices.in_stock,
        prices.least_moq,
    ]


def summed_columns(sums: Any) -> list[ColumnElement[Any]]:
    """A row of summed prices as a product's best offer, in ``asked``'s columns (a product's
    one sum is its best price anywhere too)."""
    return [
        sums.c.price,
        sums.c.price.label("price_anywhere"),
        sums.c.lead_time_days,
        cast(sums.c.offers, BigInteger).label("offers"),
        func.array_to_string(sums.c.regions, ",").label("regions"),
        sums.c.least_moq,
        # Not the in-stock offers' own best, which the sums do not keep: their product's.
        case((sums.c.in_stock, sums.c.price)).label("price_in_stock"),
        sums.c.price.label("price_any_moq"),
    ]


def lapsed(filters: SearchFilters, today: Day) -> Select[tuple[str]]:
    """The products whose sum in the asked currency has lapsed: asked of their offers."""
    prices = CatalogueProductPrice
    return select(prices.product_id).where(
        prices.currency == filters.currency, prices.fresh_until <= today
    )


def summed_best(matched: CTE, filters: SearchFilters, today: Day) -> CTE:
    """The best offer of each matched product from its summed prices where they hold; asked of
    the offers for the products whose offers or suppliers changed since (logged) or whose sum
    has lapsed, so what a search shows is never older than the request."""
    prices = CatalogueProductPrice
    ids = select(matched.c.id)
    logged = select(CataloguePriceChange.product_id).where(CataloguePriceChange.product_id.in_(ids))
    # Looked up product by product (LATERAL): joined as sets, PostgreSQL hashed the whole table
    # of a million sums for 3,000 products (260 ms, where the lookups take 10).
    summed = (
        select(*summed_of(prices))
        .where(
            prices.product_id == matched.c.id,
            prices.currency == filters.currency,
            prices.fresh_until > today,
        )
        .limit(1)  # one at most (the key); keeps PostgreSQL from making it a join again
        .lateral("summed")
    )
    held = (
        select(matched.c.id.label("product_id"), *summed_columns(summed))
        .select_from(matched.join(summed, true()))
        .where(matched.c.id.not_in(logged))
    )
    by_offers = asked(
        logged.union(lapsed(filters, today).where(prices.product_id.in_(ids))),
        filters,
        today,
        regions=True,
    )
    return held.union_all(select(by_offers)).cte("best").prefix_with("MATERIALIZED")
