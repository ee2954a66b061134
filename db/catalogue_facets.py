"""Catalogue search's facets: how many found products each filter value has.

Counted over ``db.catalogue_found``'s found products (the temporary table a first page reads,
or for a broad search its sample's, a CTE: ``db.catalogue_broad``), under every filter but the
facet's own, so a buyer sees what widening a filter would
give: brands, hazard classes, temperature profiles, price bands (each a decade of the unit
price, in the asked currency), delivery provinces (of each product's eligible offers, within
the price filter on its best price anywhere), in stock (the products one of whose offers
passing every other filter holds stock, within the price filter on the best of those, or on the
product's best where the sums answer) and MOQ (for each of ``MOQ_STEPS``, the products offered
at that minimum order or less, within the price filter on the best price under the others:
approximate under a price range).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Integer,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.catalogue_filters import Results, SearchFilters
from db.catalogue_filters import flags as flags_of

PRICE_BANDS: tuple[Decimal, ...] = (Decimal(10), Decimal(100), Decimal(1000), Decimal(10000))
# The MOQ facet's values: how many products a buyer taking at most this many finds (``moq_max``).
MOQ_STEPS = (1, 10, 100, 1000)
MAX_FACET_VALUES = 30


@dataclass(frozen=True, slots=True)
class FacetCount:
    facet: str
    value: str
    count: int


def price_band(price: ColumnElement[Any]) -> ColumnElement[Any]:
    """``<10``, ``10-100``, …, ``>=10000``: the facet's value for a unit price."""
    bounds = [Decimal(0), *PRICE_BANDS]
    whens = [
        (price < high, literal(f"{low}-{high}" if low else f"<{high}"))
        for low, high in zip(bounds, PRICE_BANDS, strict=False)
    ]
    return case(*whens, else_=literal(f">={PRICE_BANDS[-1]}"))


def read_counts(
    session: Session, statement: CompoundSelect[Any], values: Mapping[str, Any]
) -> list[FacetCount]:
    """``facet_counts``' rows, read with ``values``, its parameters'."""
    rows = session.execute(statement, values).all()
    return [FacetCount(facet, str(value), count) for facet, value, count in rows]


def facet_counts(results: Results, filters: SearchFilters) -> CompoundSelect[Any]:
    """The statement counting ``facets``: each facet's values and their counts."""
    flags = flags_of(results, filters)
    c = results.c
    # An array parameter, not VALUES: a statement with VALUES has no cache key, and was
    # compiled again at every search.
    steps = (
        func.unnest(cast(list(MOQ_STEPS), ARRAY(Integer)))
        .table_valued("at")
        .render_derived("moq_steps")
    )
    parts = [
        select(literal("brand"), c.brand, func.count())
        .where(flags.all(but="brand"))
        .group_by(c.brand),
        select(literal("hazard_class"), c.hazard_class, func.count())
        .where(flags.all(but="hazard"), c.hazard_class.is_not(None))
        .group_by(c.hazard_class),
        select(literal("temperature"), c.temperature_profile, func.count())
        .where(flags.all(but="temperature"), c.temperature_profile.is_not(None))
        .group_by(c.temperature_profile),
        select(literal("price"), price_band(c.price), func.count())
        .where(flags.all(but="price"))
        .group_by(price_band(c.price)),
        # In stock and MOQ are filters on the offers: in stock counted on the best price of the
        # in-stock offers passing every other filter (the page's were it on); MOQ on the best
        # price were its filter off (a product none of whose offers passes it has none).
        select(literal("in_stock"), literal("true"), func.count())
        .where(flags.brand, flags.hazard, flags.temperature, flags.price_in_stock)
        .having(func.count() > 0),
        select(literal("moq"), cast(steps.c.at, Text), func.count())
        .select_from(results)
        .join(steps, c.least_moq <= steps.c.at)
        .where(flags.brand, flags.hazard, flags.temperature, flags.price_any_moq)
        .group_by(steps.c.at),
    ]
    # Regions: of each product's eligible offers in any region (found with it: ``regions``),
    # within the price filter on its best price anywhere.
    others = and_(flags.brand, flags.hazard, flags.temperature, flags.price_anywhere)
    # Each product once a region (its offers may name one twice), hashed: a count of
    # distinct ids sorted every pair by collation, 5 ms of 4,000 pairs. Unnested in the select
    # list, which streams, not joined to a function scan, which fills a store a product.
    pairs = (
        select(c.id, func.unnest(func.string_to_array(c.regions, ",")).label("code"))
        .where(others)
        .distinct()
        .subquery("pairs")
    )
    parts.append(
        select(literal("region"), pairs.c.code, func.count())
        # An offer delivering nowhere leaves an empty name in the comma-separated list.
        .where(pairs.c.code != "")
        .group_by(pairs.c.code)
    )
    return union_all(*parts)
