"""One page of a catalogue search: the found products cut in the page's order after its keyset
cursor, then joined to their product rows for display and explanation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping, Select, Subquery, and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.catalogue import CatalogueCategory, Product
from db.catalogue_filters import Results, SearchFilters, Sort, flags
from db.catalogue_search import Matching


@dataclass(frozen=True, slots=True)
class Asked:
    """The page a search asks for: its products, filters, order, cursor and size."""

    matching: Matching
    filters: SearchFilters
    sort: Sort
    after: Sequence[Any] | None
    limit: int
    today: date


@dataclass(frozen=True, slots=True)
class Found:
    """One product of a page: its fields for display and explanation, its best offer."""

    product_id: str
    category_id: str
    name: str
    brand: str
    model: str
    attributes: dict[str, str]
    hazard_class: str | None
    temperature_profile: str | None
    score: Decimal
    price: Decimal
    lead_time_days: int
    offers: int
    # Its category's number attributes' units, to read a bare number as a size.
    units: dict[str, str]


def _found(row: RowMapping) -> Found:
    """A page's row: the product's fields by name, and its category's attribute specs."""
    values = dict(row)
    specs = values.pop("specs")
    units = {spec["key"]: spec["unit"] for spec in specs if spec.get("unit")}
    return Found(**values, units=units)


def ordering(results: Results | Subquery, sort: Sort) -> list[ColumnElement[Any]]:
    """The page's order: a unique key, ``(…, product id)``."""
    c = results.c
    if sort is Sort.PRICE:
        return [c.price, c.id]
    if sort is Sort.LEAD_TIME:
        return [c.lead_time_days, c.price, c.id]
    return [c.score, c.id]


def search_page(
    session: Session,
    results: Results,
    filters: SearchFilters,
    *,
    sort: Sort,
    after: Sequence[Any] | None,
    limit: int,
) -> list[Found]:
    """Up to ``limit + 1`` products of ``results`` (``found``, or ``FOUND`` filled from it) in
    ``sort`` order strictly after the key ``after``."""
    keys = ordering(results, sort)
    descending = [sort is Sort.RELEVANCE] + [False] * (len(keys) - 1)
    order = [k.desc() if d else k.asc() for k, d in zip(keys, descending, strict=True)]
    # The page is cut from the results first, then joined to its products: joined before the
    # cut, a broad query fetched every matching product's row (59,000 of them) for 21 shown.
    chosen = select(results).where(flags(results, filters).all()).order_by(*order)
    if after is not None:
        chosen = chosen.where(after_key(keys, descending, after))
    page = chosen.limit(limit + 1).subquery("page")
    shown = ordering(page, sort)
    statement: Select[Any] = (
        select(
            page.c.id.label("product_id"),
            Product.category_id,
            Product.name,
            page.c.brand,
            Product.model,
            Product.attributes,
            page.c.hazard_class,
            page.c.temperature_profile,
            page.c.score,
            page.c.price,
            page.c.lead_time_days,
            page.c.offers,
            CatalogueCategory.attributes.label("specs"),
        )
        .join(Product, Product.id == page.c.id)
        # The categories' units with the page, not in a statement of their own (1 ms a page).
        .join(CatalogueCategory, CatalogueCategory.id == Product.category_id)
        .order_by(*(k.desc() if d else k.asc() for k, d in zip(shown, descending, strict=True)))
    )
    return [_found(row) for row in session.execute(statement).mappings()]


def after_key(
    keys: list[ColumnElement[Any]], descending: list[bool], values: Sequence[Any]
) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in this order (``api.pagination.Keyset.after``'s rule)."""
    ways = []
    for i, key in enumerate(keys):
        equal = [k == v for k, v in zip(keys[:i], values, strict=False)]
        beyond = key < values[i] if descending[i] else key > values[i]
        ways.append(and_(*equal, beyond))
    return or_(*ways)
