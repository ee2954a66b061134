"""``GET /catalogue/search``: products a buyer's words find, with their best visible offer.

Words are forgiven as ``rules.search_text`` forgives them (width, case, spacing, ``5mm`` =
``5毫米``), synonyms come from the categories' lists ops maintain, misspellings are met by
trigram similarity (``db.catalogue_search``). Each product comes with its best offer among
those buyers may see (accredited, unsuspended suppliers; valid today, China time), the query
words it met and how (``rules.search_explain``), and the first page with the facet counts
(estimated on a sample where a search matches thousands: ``db.catalogue_broad``).

Pages are keyset pages as every list's (``api.pagination``): the next page's opaque cursor in
``X-Next-Cursor`` and ``Link`` (and in the body, beside the facets); a cursor belongs to its
sort order, and another order's is refused naming ``cursor``.
"""

from __future__ import annotations

from decimal import Decimal
from operator import attrgetter
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import literal_column, select

from api.deps import CurrentActor, SessionDep
from api.errors import invalid
from api.pagination import CURSOR_QUERY, Key, Keyset, Page, decimal_parser, line_parser
from api.params import MAX_ID
from contracts.catalogue import CategoryId, Region, TemperatureProfileName
from contracts.common import Line, Money
from db.catalogue import CatalogueCategory
from db.catalogue_broad import search
from db.catalogue_facets import MAX_FACET_VALUES, FacetCount
from db.catalogue_filters import SearchFilters, Sort
from db.catalogue_page import Found
from db.catalogue_search import matching, subtree
from db.catalogue_vocabulary import synonyms, vocabulary
from rules.search_explain import FieldMatch, explain
from rules.search_text import MatchKind, ParsedQuery, parse_query, with_unit
from rules.waybill_parties import china_today

router = APIRouter(prefix="/catalogue", tags=["catalogue"])
MAX_WORDS = 12
Price = Annotated[Decimal | None, Query(ge=0, max_digits=18, decimal_places=4)]


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 365:
        raise ValueError("not a lead time")
    return value


# A score is rounded to six places; a price has four (its offers' column), either well under
# 10^14; a product id is a single line no longer than an id may be.
_decimal = decimal_parser(digits=14, places=6)
_product_id = line_parser(MAX_ID)
_ID = Key(literal_column("id"), attrgetter("product_id"), _product_id)


def _decimal_key(name: str, *, descending: bool = False) -> Key:
    read = attrgetter(name)
    return Key(literal_column(name), lambda row: str(read(row)), _decimal, descending)


KEYSETS = {
    Sort.RELEVANCE: Keyset("catalogue-search", (_decimal_key("score", descending=True), _ID)),
    Sort.PRICE: Keyset("catalogue-search-price", (_decimal_key("price"), _ID)),
    Sort.LEAD_TIME: Keyset(
        "catalogue-search-lead-time",
        (
            Key(literal_column("lead_time_days"), attrgetter("lead_time_days"), _int),
            _decimal_key("price"),
            _ID,
        ),
    ),
}


class MatchView(BaseModel):
    """One query word met in one field: ``exact``, ``synonym``, ``quantity`` (a bare number
    read as a size), ``pinyin``, ``substring`` or ``fuzzy``; ``matched`` is the alternative or
    the field's word; ``similarity`` for fuzzy."""

    query: str
    field: str
    kind: str
    matched: str
    similarity: float | None


class ProductHit(BaseModel):
    product_id: str
    category_id: str
    name: str
    brand: str
    model: str
    hazard_class: str | None
    temperature_profile: str | None
    best_price: Money  # the best visible offer's unit price (at ``quantity`` when given)
    lead_time_days: int  # the shortest among the visible offers
    visible_offers: int
    relevance: Decimal
    matches: list[MatchView]


class QueryWord(BaseModel):
    """A word of the query as searched: its alternatives (synonyms, pinyin) by kind."""

    text: str
    alternatives: dict[str, list[str]]


class FacetValue(BaseModel):
    value: str
    count: int


class SearchAnswer(BaseModel):
    query: str  # normalised
    words: list[QueryWord]
    results: list[ProductHit]
    # Counts under every filter but the facet's own; on the first page only (cursor absent).
    facets: dict[str, list[FacetValue]] | None
    # The counts were taken on a fixed sample of the catalogue, one product in 64 (for the
    # broadest words one in 256 or 1,024), and scaled: a search matching thousands of
    # products (``db.catalogue_broad``).
    facets_estimated: bool
    next_cursor: str | None


def _words(query: ParsedQuery, known: frozenset[str]) -> list[QueryWord]:
    """Each word and its alternatives; a bare number's sizes only in the units held (``known``:
    the vocabulary's), not all 34."""
    words = []
    for group in query.groups:
        alternatives: dict[str, list[str]] = {}
        for alternative in group.alternatives:
            if alternative.kind is MatchKind.QUANTITY and not alternative.terms <= known:
                continue
            alternatives.setdefault(alternative.kind.value, []).append(alternative.text)
        words.append(QueryWord(text=group.text, alternatives=alternatives))
    return words


def _hit(found: Found, query: ParsedQuery, currency: str) -> ProductHit:
    fields = {"name": found.name, "brand": found.brand, "model": found.model}
    for key, value in found.attributes.items():
        fields[f"attributes.{key}"] = with_unit(str(value), found.units.get(key))
    return ProductHit(
        product_id=found.product_id,
        category_id=found.category_id,
        name=found.name,
        brand=found.brand,
        model=found.model,
        hazard_class=found.hazard_class,
        temperature_profile=found.temperature_profile,
        best_price=Money(amount=found.price, currency=currency),
        lead_time_days=found.lead_time_days,
        visible_offers=found.offers,
        relevance=found.score,
        matches=[_match_view(match) for match in explain(query, fields)],
    )


def _match_view(match: FieldMatch) -> MatchView:
    return MatchView(
        query=match.query,
        field=match.field,
        kind=match.kind.value,
        matched=match.matched,
        similarity=match.similarity,
    )


def _facets(counts: list[FacetCount]) -> dict[str, list[FacetValue]]:
    """Each facet's values, most products first; MOQ's in their order (each holds the last)."""
    grouped: dict[str, list[FacetValue]] = {
        name: []
        for name in ("brand", "hazard_class", "temperature", "region", "price", "in_stock", "moq")
    }
    for count in sorted(counts, key=lambda c: (-c.count, c.value)):
        if len(grouped[count.facet]) < MAX_FACET_VALUES:
            grouped[count.facet].append(FacetValue(value=count.value, count=count.count))
    grouped["moq"].sort(key=lambda value: int(value.value))
    return grouped


@router.get("/search")
def search_catalogue(
    _: CurrentActor,
    session: SessionDep,
    request: Request,
    response: Response,
    q: Annotated[Line, Query(max_length=200, description="words, sizes, a model")] = "",
    category: Annotated[CategoryId | None, Query(description="a category and its subtree")] = None,
    currency: Annotated[Line, Query(pattern=r"^[A-Z]{3}$")] = "CNY",
    price_min: Price = None,
    price_max: Price = None,
    brand: Annotated[Line | None, Query(min_length=1, max_length=100)] = None,
    moq_max: Annotated[Decimal | None, Query(ge=0, max_digits=15, decimal_places=3)] = None,
    in_stock: bool = False,
    region: Annotated[Region | None, Query(description="CN-JS; CN offers deliver to all")] = None,
    hazard_class: Annotated[
        Line | None,
        Query(pattern=r"^[1-9](\.[1-6][A-HJKLNS]?)?$", description="a class (3) or division"),
    ] = None,
    temperature: TemperatureProfileName | None = None,
    quantity: Annotated[Decimal | None, Query(gt=0, max_digits=15, decimal_places=3)] = None,
    sort: Sort = Sort.RELEVANCE,
    cursor: Annotated[Line | None, CURSOR_QUERY] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchAnswer:
    """Search the catalogue: products with their best visible offer, why each matched, facets."""
    if price_min is not None and price_max is not None and price_min > price_max:
        raise invalid("price_max", "must not be below price_min")
    path = None
    if category is not None:
        path = session.scalar(
            select(CatalogueCategory.path).where(CatalogueCategory.id == category)
        )
        if path is None:
            raise invalid("category", f"no category {category}")
    query = parse_query(q, synonyms(session, path))
    if not query.groups and path is None:
        raise invalid("q", "give words to search for, or a category to browse")
    if len(query.groups) > MAX_WORDS:
        raise invalid("q", f"at most {MAX_WORDS} words")
    filters = SearchFilters(
        currency=currency,
        category_path=path,
        category_ids=() if path is None else subtree(session, path),
        price_min=price_min,
        price_max=price_max,
        brand=brand,
        moq_max=moq_max,
        in_stock=in_stock,
        region=region,
        hazard_class=hazard_class,
        temperature=temperature,
        quantity=quantity,
    )
    keyset = KEYSETS[sort]
    page = Page(keyset, limit, request, response, keyset.decode(cursor) if cursor else None)
    words = vocabulary(session, query, filters)
    searched = search(
        session,
        matching(query, words, filters),
        filters,
        sort=sort,
        after=page.start,
        limit=limit,
        counted=cursor is None,
        today=china_today(),
    )
    hits = searched.hits
    if len(hits) > limit:
        hits = hits[:limit]
        page.next_cursor = keyset.encode(hits[-1])
    answer = SearchAnswer(
        query=query.text,
        words=_words(query, words.known),
        results=[_hit(row, query, currency) for row in hits],
        facets=None if searched.facets is None else _facets(searched.facets),
        facets_estimated=searched.estimated,
        next_cursor=page.next_cursor,
    )
    for name, value in page.headers().items():
        response.headers[name] = value
    return answer
