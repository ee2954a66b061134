"""What a catalogue search is narrowed and ordered by, and each filter as a condition on a found
product's row (``db.catalogue_found``'s results): the page applies them all, a facet all but
its own (``db.catalogue_facets``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import CTE, Subquery, Table, and_, func, or_, true
from sqlalchemy.sql.elements import ColumnElement

from rules.search_text import token_terms, tokens

# The day a statement is built for: a date, or a parameter standing for one
# (``db.catalogue_shapes``).
Day = date | ColumnElement[date]


class Sort(StrEnum):
    RELEVANCE = "relevance"
    PRICE = "price"
    LEAD_TIME = "lead_time"


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """What a buyer narrows a search by; None (or False) leaves a filter off."""

    currency: str = "CNY"
    category_path: str | None = None
    category_ids: tuple[str, ...] = ()  # the category at category_path and those below (subtree)
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    brand: str | None = None  # as asked: folded in SQL (``lower``) on both sides
    moq_max: Decimal | None = None
    in_stock: bool = False
    region: str | None = None
    hazard_class: str | None = None
    temperature: str | None = None
    quantity: Decimal | None = None
    # Set by ``db.catalogue_shapes.bound`` alone: ``brand_terms(brand)``, as a parameter.
    brand_terms: Any = None


def summed(filters: SearchFilters) -> bool:
    """Whether the products' summed prices (``db.catalogue_prices``) answer: no filter on the
    offers but their visibility and currency, which the sums already apply."""
    return (
        filters.region is None
        and filters.moq_max is None
        and filters.quantity is None
        and not filters.in_stock
    )


Results = CTE | Table | Subquery


@dataclass(frozen=True, slots=True)
class Flags:
    """Each filter as a condition on a ``results`` row, to leave one out for its facet."""

    price: ColumnElement[bool]
    price_anywhere: ColumnElement[bool]
    price_in_stock: ColumnElement[bool]
    price_any_moq: ColumnElement[bool]
    region: ColumnElement[bool]
    brand: ColumnElement[bool]
    hazard: ColumnElement[bool]
    temperature: ColumnElement[bool]

    def all(self, *, but: str = "") -> ColumnElement[bool]:
        names = ("price", "region", "brand", "hazard", "temperature")
        return and_(*(getattr(self, name) for name in names if name != but))


def _between(column: ColumnElement[Any], filters: SearchFilters) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [column.is_not(None)]
    if filters.price_min is not None:
        conditions.append(column >= filters.price_min)
    if filters.price_max is not None:
        conditions.append(column <= filters.price_max)
    return and_(*conditions)


def _described(
    columns: Any, filters: SearchFilters
) -> tuple[ColumnElement[bool], ColumnElement[bool], ColumnElement[bool]]:
    """The brand, hazard and temperature filters on ``columns`` (a product's or a found row's)."""
    brand = brand_filter(columns, filters)
    hazard: ColumnElement[bool] = true()
    if filters.hazard_class is not None:  # a class covers its divisions (2 covers 2.1)
        # The API's pattern for a class or division holds no LIKE wildcard: nothing to escape.
        hazard = or_(
            columns.hazard_class == filters.hazard_class,
            columns.hazard_class.startswith(filters.hazard_class + "."),
        )
    temperature: ColumnElement[bool] = true()
    if filters.temperature is not None:
        temperature = columns.temperature_profile == filters.temperature
    return brand, hazard, temperature


def brand_filter(columns: Any, filters: SearchFilters) -> ColumnElement[bool]:
    """The brand filter on ``columns`` (a product's or a found row's); true without one."""
    if filters.brand is None:
        return true()
    # Both folded by PostgreSQL's lower, as its index is: Python's casefold differs (Straße).
    return func.lower(columns.brand) == func.lower(filters.brand)


def brand_terms(brand: str) -> list[str] | None:
    """The terms every product of ``brand`` holds, for a brand of ASCII (None otherwise). A
    product's brand is indexed with its name (``rules.search_text.index_fields``), so a product
    whose ``lower(brand)`` is the brand's holds its terms, which the terms index finds with the
    words' (螺栓 Stanley: the 3,000 of 螺栓's 60,000 products holding stanley, where the brand's
    own index gave its 50,000 to intersect). Not for other brands: PostgreSQL's ``lower`` and
    the index's case folding differ beyond ASCII (Straße). Two things follow. A brand written
    with a capital dotted İ, which glibc lowers to an ASCII i, drops out of the pages a product
    filter decides (later pages, broad pages) when it is typed with I, though a narrow first
    page shows it; its facet value, the brand as written, finds it everywhere. And the brand's
    terms are split as products were when they were indexed: a change to ``tokens`` that splits
    names otherwise re-indexes the products, as every word search needs it to."""
    if not brand.isascii():
        return None
    return sorted({term for token in tokens(brand) for term in token_terms(token)}) or None


def described(columns: Any, filters: SearchFilters) -> list[ColumnElement[bool]]:
    """The filters a product's own row decides (brand, hazard class, temperature profile), as
    conditions on ``columns`` (a product's: also the terms its brand's products hold, where
    ``bound`` gave them): a page may apply them to products before it asks for prices (facets
    may not: each counts without its own filter)."""
    conditions = list(_described(columns, filters))
    if filters.brand_terms is not None and hasattr(columns, "terms"):
        # The terms hold the brand's products and the few others naming it. The brand's own
        # index, beside them, gave all its products to intersect (Stanley's 50,000: 8 of 螺栓
        # Stanley's 16 ms) for the planner, taking brand and terms for independent, to keep
        # one in twenty. ``IS TRUE`` (the same test in a WHERE) matches no index: the brand
        # is tested on the rows the terms find.
        conditions[0] = conditions[0].is_(true())
        conditions.append(columns.terms.contains(filters.brand_terms))
    return conditions


def flags(results: Results, filters: SearchFilters) -> Flags:
    c = results.c
    brand, hazard, temperature = _described(c, filters)
    return Flags(
        price=_between(c.price, filters),
        price_anywhere=_between(c.price_anywhere, filters),
        price_in_stock=_between(c.price_in_stock, filters),
        price_any_moq=_between(c.price_any_moq, filters),
        region=c.price.is_not(None),
        brand=brand,
        hazard=hazard,
        temperature=temperature,
    )
