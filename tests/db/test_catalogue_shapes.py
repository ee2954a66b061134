"""A search's statements are kept by shape (``db.catalogue_shapes``): a search of the same
shape with other values builds none and finds its own products; a kept statement that does
not match what its shape's builder makes now is caught when checked (as every test runs)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import literal, select
from sqlalchemy.orm import Session, sessionmaker

from db.catalogue_filters import Sort
from db.catalogue_shapes import SHAPES, Shapes
from tests.harness.catalogue_broad import EXACT, Catalogue, filters_for, search_in


# A broad page by relevance is not here: how many tries of the length bound it takes, and so
# which statements it runs, depends on the products each brand has.
@pytest.mark.parametrize(
    ("broad", "sort"),
    [(1, Sort.PRICE), (EXACT, Sort.PRICE), (EXACT, Sort.RELEVANCE)],
    ids=["walked", "exact by price", "exact by relevance"],
)
def test_a_search_of_a_kept_shape_builds_nothing_and_finds_its_own_products(
    catalogue: Catalogue, sessions: sessionmaker[Session], broad: int, sort: Sort
) -> None:
    def brands(brand: str, price_max: str) -> set[str]:
        filters = filters_for(catalogue, sessions, brand=brand, price_max=Decimal(price_max))
        searched = search_in(sessions, "螺丝刀", filters, sort, None, broad=broad)
        assert searched.hits
        assert all(hit.price <= Decimal(price_max) for hit in searched.hits)
        return {hit.brand for hit in searched.hits}

    assert brands("stanley", "400") == {"Stanley"}
    built = SHAPES.built
    assert brands("bosch", "200") == {"Bosch"}
    assert brands("世达", "300") == {"世达"}
    assert SHAPES.built == built


def test_a_kept_statement_unlike_its_shapes_fresh_one_is_caught_when_checked() -> None:
    shapes = Shapes(4)
    shapes.checked = True
    # A value not given as a named parameter is part of the statement, not of its shape.
    shapes.statement("one", lambda: select(literal(1)), {})
    shapes.statement("one", lambda: select(literal(1)), {})
    with pytest.raises(AssertionError, match="differs from its shape's fresh one"):
        shapes.statement("one", lambda: select(literal(2)), {})


def test_only_the_most_recently_used_shapes_are_kept() -> None:
    shapes = Shapes(2)
    for shape in ("a", "b", "a", "c", "a", "b"):
        shapes.statement(shape, lambda: select(literal(1)), {})
    assert shapes.built == 4  # a, b, c; then b again, pushed out by c
