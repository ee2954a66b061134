"""A search's statements are kept by shape (``db.catalogue_shapes``): a search of the same
shape with other values builds none and finds its own products; a kept statement that does
not match what its shape's builder makes now is caught when checked (as every test runs)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import literal, select
from sqlalchemy.orm import Session, sessionmaker

from db.catalogue import Product
from db.catalogue_filters import SearchFilters, Sort, brand_terms, described
from db.catalogue_shapes import SHAPES, Shapes, bound
from rules.waybill_parties import china_today
from tests.harness.catalogue_broad import EXACT, Catalogue, filters_for, search_in


# A broad page by relevance is not here: how many tries of the length bound it takes, and so
# which statements it runs, depends on the products the filters keep. Nor a brand: whether a
# brand's products are in the sample (by their random ids' hash) decides whether it walks.
@pytest.mark.parametrize(
    ("broad", "sort"),
    [(1, Sort.PRICE), (EXACT, Sort.PRICE), (EXACT, Sort.RELEVANCE)],
    ids=["walked", "exact by price", "exact by relevance"],
)
def test_a_search_of_a_kept_shape_builds_nothing_and_finds_its_own_products(
    catalogue: Catalogue, sessions: sessionmaker[Session], broad: int, sort: Sort
) -> None:
    def page(price_min: str) -> list[str]:
        filters = filters_for(catalogue, sessions, price_min=Decimal(price_min))
        searched = search_in(sessions, "螺丝刀", filters, sort, None, broad=broad)
        assert len(searched.hits) > 1
        assert searched.way == ("walked" if broad == 1 else "exact")
        assert all(hit.price >= Decimal(price_min) for hit in searched.hits)
        return [hit.product_id for hit in searched.hits]

    first = page("1")
    built = SHAPES.built
    second, third = page("150"), page("300")
    assert SHAPES.built == built
    assert first != second != third


def test_a_kept_statement_unlike_its_shapes_fresh_one_is_caught_when_checked() -> None:
    shapes = Shapes(4)
    shapes.checked = True
    # A value not given as a named parameter is part of the statement, not of its shape.
    shapes.statement("one", lambda: select(literal(1)), {})
    shapes.statement("one", lambda: select(literal(1)), {})
    with pytest.raises(AssertionError, match="differs from its shape's fresh one"):
        shapes.statement("one", lambda: select(literal(2)), {})


def test_a_statement_of_no_shape_is_built_afresh_each_time() -> None:
    shapes = Shapes(4)
    first = shapes.statement(None, lambda: select(literal(1)), {})
    assert shapes.statement(None, lambda: select(literal(2)), {}) is not first
    assert shapes.built == 0


def test_only_the_most_recently_used_shapes_are_kept() -> None:
    shapes = Shapes(2)
    for shape in ("a", "b", "a", "c", "a", "b"):
        shapes.statement(shape, lambda: select(literal(1)), {})
    assert shapes.built == 4  # a, b, c; then b again, pushed out by c


def test_a_brand_of_ascii_is_asked_of_the_terms_its_products_hold() -> None:
    """Its words as a product's brand is indexed (case, punctuation and a model-like 3M as the
    index reads them); none beyond ASCII, where PostgreSQL's lower and the index's folding
    differ (Straße), nor for a brand of no word."""
    assert brand_terms("Stanley") == ["stanley"]
    assert brand_terms("BLACK & Decker") == ["black", "decker"]
    assert brand_terms("3M") == ["3m"]
    assert brand_terms("Straße") is None and brand_terms("得力") is None
    assert brand_terms("&") is None
    asked = bound(SearchFilters(brand="Black & Decker"), china_today())
    assert asked.values["brand_terms"] == ["black", "decker"]
    assert asked.shape[0] == ("brand", "brand_terms", "currency")
    assert "brand_terms" not in bound(SearchFilters(brand="得力"), china_today()).values


@pytest.mark.parametrize(("brand", "indexed"), [("Stanley", False), ("得力", True)])
def test_a_brand_of_ascii_is_tested_on_the_rows_its_terms_find(
    sessions: sessionmaker[Session], brand: str, indexed: bool
) -> None:
    """Its own index would give every product of the brand to intersect with the terms, which
    already hold the brand; a brand without terms is still read from its index. The brand's
    test alone, sequential scans priced out: only the index could avoid one."""
    asked = bound(SearchFilters(brand=brand), china_today())
    brand_test = described(Product, asked.filters)[0]
    compiled = select(Product.id).where(brand_test).compile(dialect=sessions.kw["bind"].dialect)
    with sessions() as session:
        session.execute(select(1))  # a transaction for SET LOCAL
        connection = session.connection()
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = (
            connection.exec_driver_sql(
                f"EXPLAIN {compiled}", compiled.construct_params(asked.values)
            )
            .scalars()
            .all()
        )
    assert any("ix_products_brand_lower" in line for line in plan) is indexed, plan
