"""A catalogue search's statements, built once for each shape of search and reused with the
next search's values.

SQLAlchemy builds a statement as a tree of Python objects, derives a cache key from the tree
and looks up its SQL by that key. For a catalogue search that was most of the API's own time
(py-spy, 2026-12-06: building about 10 ms and cache keys 4 ms of a broad search's 31 ms of
CPU), and the trees it dropped were most of the cyclic garbage behind the collector's pauses.
Two searches differ mostly in their values: the words' terms, the filters, the day. So a
statement is built once for its shape (which filters are set, how each word is met, the page's
order), with its values as named parameters (``bound``, ``Matching.values``), and executed
with each search's values.

A shape that left something out would reuse a statement built for another search. With
``SHAPES.checked`` on (the tests), every reuse is built afresh too and both are compiled with the
search's values: any difference fails the search.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Date, bindparam, cast
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import BindParameter, ClauseElement
from sqlalchemy.types import Text

from db.catalogue_filters import SearchFilters, brand_terms

# The filters' fields that are values (the others say what is searched, or are a switch).
_VALUES = frozenset(
    {"currency", "price_min", "price_max", "brand", "moq_max", "region", "hazard_class",
     "temperature", "quantity"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Bound:
    """A search's filters and day as parameters: ``filters`` holds a named parameter in place
    of each value set, ``today`` is one too, and ``values`` gives each its value."""

    filters: SearchFilters
    today: BindParameter[date]
    values: Mapping[str, Any]
    shape: tuple[Hashable, ...]


def bound(filters: SearchFilters, today: date) -> Bound:
    """``filters`` and ``today`` as named parameters."""
    values: dict[str, Any] = {"today": today}
    symbols: dict[str, Any] = {}
    for f in fields(SearchFilters):
        value = getattr(filters, f.name)
        if f.name in _VALUES and value is not None:
            values[f.name] = value
            symbols[f.name] = bindparam(f.name, value)
    if isinstance(filters.brand, str) and (terms := brand_terms(filters.brand)):
        values["brand_terms"] = terms
        symbols["brand_terms"] = cast(
            bindparam("brand_terms", terms, type_=ARRAY(Text)), ARRAY(Text)
        )
    if filters.category_path is not None:
        values["category_ids"] = list(filters.category_ids)
        symbols["category_ids"] = bindparam("category_ids", values["category_ids"], expanding=True)
    shape = (
        tuple(sorted(symbols)),
        filters.in_stock,
    )
    today_bound: BindParameter[date] = bindparam("today", today, type_=Date)
    return Bound(replace(filters, **symbols), today_bound, values, shape)


Statement = TypeVar("Statement", bound=ClauseElement)


class Shapes:
    """Statements by shape, the ``size`` most recently used kept."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.checked = False
        self.keeping = True  # off: every statement built afresh (``bench.catalogue_shapes``)
        self._built: OrderedDict[Hashable, ClauseElement] = OrderedDict()
        self._lock = threading.Lock()
        self.built = 0  # statements built (a reuse checked builds one more, not counted)

    def statement(
        self, shape: Hashable | None, build: Callable[[], Statement], values: Mapping[str, Any]
    ) -> Statement:
        """The statement of this shape, built by ``build`` when none is kept (None: no shape,
        built afresh and not kept); ``values``, the search's, are what a checked reuse is
        compared with."""
        if shape is None or not self.keeping:
            return build()
        with self._lock:
            kept = self._built.get(shape)
            if kept is not None:
                self._built.move_to_end(shape)
        if kept is None:
            made = build()
            # Compiled once here: a statement's column collections and cache key are made
            # lazily, and a kept one is shared by the API's threads.
            made.compile(dialect=_DIALECT)
            made._generate_cache_key()
            with self._lock:
                self.built += 1
                self._built[shape] = made
                while len(self._built) > self.size:
                    self._built.popitem(last=False)
            return made
        if self.checked:
            _same(build(), kept, values)
        return kept  # type: ignore[return-value]  # a shape is built by one builder


_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def _same(fresh: ClauseElement, kept: ClauseElement, values: Mapping[str, Any]) -> None:
    """Raise unless both statements compile to the same SQL with the same parameters."""
    compiled = [statement.compile(dialect=_DIALECT) for statement in (fresh, kept)]
    sql = [str(c) for c in compiled]
    params = [c.construct_params(dict(values)) for c in compiled]
    if sql[0] != sql[1] or params[0] != params[1]:
        raise AssertionError(
            f"a kept statement differs from its shape's fresh one:\n{sql[0]}\n{params[0]}\n"
            f"--- kept ---\n{sql[1]}\n{params[1]}"
        )


# A search runs about ten statement shapes; a few hundred cover the filters and words buyers
# combine (each kept statement is tens of kilobytes).
SHAPES = Shapes(512)
