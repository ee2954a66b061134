"""One page of a catalogue search: the found products cut in the page's order after its keyset
cursor, then joined to their product rows for display and explanation.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, RowMapping, Select, Subquery, and_, bindparam, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression

from db.catalogue import CatalogueCategory, Product
from db.catalogue_filters import Results, SearchFilters, Sort, flags
from db.catalogue_search import Matching
from db.catalogue_shapes import SHAPES, Bound


@dataclass(frozen=True, slots=True)
class Asked:
    """The page a search asks for: its products, filters, order, cursor and size."""

    matching: Matching
    filters: SearchFilters
    sort: Sort
    after: Sequence[Any] | None
    limit: int
    today: date
    bound: Bound  # the filters and the day as parameters, for statements kept by shape

    def shape(self, *statement: Hashable) -> tuple[Hashable, ...] | None:
        """A statement's shape (``db.catalogue_shapes``): which it is, as ``statement`` says,
        and the shapes of the words and filters it is built from (None: the words' has none,
        and it is built afresh)."""
        if self.matching.shape is None:
            return None
        return (*statement, self.matching.shape, self.bound.shape)

    @property
    def values(self) -> dict[str, Any]:
        """Every parameter's value: the filters', the day's, the words', the page's."""
        return {**self.bound.values, **self.matching.values, **_page_values(self.after, self.limit)}


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


def kept_page(
    session: Session, asked: Asked, shape: Hashable | None, results: Callable[[], Results]
) -> list[Found]:
    """Up to ``limit + 1`` products of ``results`` (``found``, or ``FOUND`` filled from it) in
    the page's order strictly after its cursor. The statement is kept by shape
    (``db.catalogue_shapes``): ``results`` are built from ``asked``'s parameters, and ``shape``
    is theirs (None: built afresh)."""
    bound, values = asked.bound, asked.values
    key = None if shape is None else ("page", shape, bound.shape, asked.sort, asked.after is None)
    statement = SHAPES.statement(
        key,
        lambda: _page(
            results(), bound.filters, sort=asked.sort, after=asked.after, limit=asked.limit
        ),
        values,
    )
    return _read(session, statement, values)


def _read(session: Session, statement: Select[Any], values: Mapping[str, Any]) -> list[Found]:
    return [_found(row) for row in session.execute(statement, values).mappings()]


def _page_values(after: Sequence[Any] | None, limit: int) -> dict[str, Any]:
    """The page's parameters (``_page``'s): the cursor's key, the rows asked."""
    values = {f"after{i}": value for i, value in enumerate(after or ())}
    values["rows"] = limit + 1
    return values


def _page(
    results: Results,
    filters: SearchFilters,
    *,
    sort: Sort,
    after: Sequence[Any] | None,
    limit: int,
) -> Select[Any]:
    # The page is cut from the results first, then joined to its products: joined before the
    # cut, a broad query fetched every matching product's row (59,000 of them) for 21 shown.
    page = cut(results, filters, sort=sort, after=after, limit=limit).subquery("page")
    _, order = _ordered(ordering(page, sort), sort)
    return (
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
        .order_by(*order)
    )


def cut(
    results: Results,
    filters: SearchFilters,
    *,
    sort: Sort,
    after: Sequence[Any] | None,
    limit: int,
) -> Select[Any]:
    """``results``' rows the filters keep, in the page's order strictly after its cursor,
    ``limit + 1`` at most (``_page_values``' parameters)."""
    keys = ordering(results, sort)
    descending, order = _ordered(keys, sort)
    chosen = select(results).where(flags(results, filters).all()).order_by(*order)
    values = _page_values(after, limit)
    if after is not None:
        named = [
            bindparam(f"after{i}", values[f"after{i}"], type_=key.type)
            for i, key in enumerate(keys)
        ]
        chosen = chosen.where(after_key(keys, descending, named))
    return chosen.limit(bindparam("rows", values["rows"], type_=Integer))


def _ordered(
    keys: list[ColumnElement[Any]], sort: Sort
) -> tuple[list[bool], list[UnaryExpression[Any]]]:
    """Which of the page's keys descend (relevance's score, its first), and the ORDER BY."""
    descending = [sort is Sort.RELEVANCE] + [False] * (len(keys) - 1)
    return descending, [k.desc() if d else k.asc() for k, d in zip(keys, descending, strict=True)]


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
