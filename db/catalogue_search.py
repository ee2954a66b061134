"""Catalogue search in SQL: products matching a parsed query and their best visible offer.

A product matches when it meets every query group (``rules.search_text.parse_query``). A group
is met exactly, by its ``terms`` (the GIN index of migration 0019: the word, a synonym, pinyin
initials), when the catalogue holds the word at all; only a group nothing holds exactly (a
misspelling, part of a model number) is met loosely too: as part of the known words holding
it, by the same index, or where too many do, by ``search_text``'s trigram index (``LIKE``), or
by pg_trgm word similarity. What the category knows of each group is looked up first
(``db.catalogue_vocabulary``), which keeps the trigram index, whose rechecks cost most, off the
common words. A misspelt word's nearest known terms are asked of the terms index; a mistyped
Chinese word is met by the products holding the pairs of it the category knows, when they are
half of it or more. Only a Latin word near no
known term is compared with every candidate product's whole text, and not a short one or a
size the category does not hold (their few trigrams are in most texts): these meet no product.

Relevance is the groups' scores summed (exact 1, synonym or size 0.9, pinyin 0.8, substring 0.6,
fuzzy half its word similarity) plus up to a third for a short product text, which favours the
product that is most nearly just what was asked for.

Only offers buyers may see count (``db.catalogue.visible_offer``), in the asked currency, that
pass the offer filters (MOQ, stock, region; the quantity's MOQ and price break): a product's
price is its best such offer's (``db.catalogue_best``), at the quantity when one is given. The
matches with their prices are the found products (``db.catalogue_found``); a page is cut from
them (``db.catalogue_page``) and the facets (``db.catalogue_facets``) count them.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Float,
    Numeric,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.types import Text

from db.catalogue import CatalogueCategory, Product
from db.catalogue_filters import SearchFilters
from db.catalogue_vocabulary import Vocabulary, like_pattern, met_as_substring
from rules.search_text import (
    Alternative,
    MatchKind,
    ParsedQuery,
    QueryGroup,
    is_quantity,
)

WEIGHTS = {
    MatchKind.EXACT: 1.0,
    MatchKind.SYNONYM: 0.9,
    MatchKind.QUANTITY: 0.9,
    MatchKind.PINYIN: 0.8,
    MatchKind.SUBSTRING: 0.6,
    MatchKind.FUZZY: 0.5,
}
CLOSENESS = 1 / 3
TYPICAL_LENGTH = 40.0  # characters of search_text that halve the closeness bonus
BY_TEXT_MIN = 4  # characters a Latin word needs to be compared with a product's whole text


class _Values:
    """A matching's values as named parameters (``m0``, ``m1``, … in the order asked), so that
    a statement built from one search's matching serves the next of the same shape
    (``db.catalogue_shapes``) with this one's values."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def __call__(
        self, value: Any, type_: Any = None, *, expanding: bool = False
    ) -> BindParameter[Any]:
        name = f"m{len(self.values)}"
        self.values[name] = value
        return bindparam(name, value, type_=type_, expanding=expanding)

    def terms(self, terms: frozenset[str]) -> ColumnElement[Any]:
        return cast(self(sorted(terms), ARRAY(Text)), ARRAY(Text))

    def weight(self, weight: float) -> ColumnElement[Any]:
        return self(weight, Float)


def _like(group: QueryGroup, value: _Values) -> ColumnElement[bool]:
    return Product.search_text.like(value(like_pattern(group.text), Text), escape="\\")


def subtree(session: Session, path: str) -> tuple[str, ...]:
    """The ids of the category at ``path`` and every category below it."""
    return tuple(
        session.scalars(
            select(CatalogueCategory.id).where(
                or_(
                    CatalogueCategory.path == path,
                    CatalogueCategory.path.startswith(path + "/", autoescape=True),
                )
            )
        )
    )


def _in_category(filters: SearchFilters, value: _Values) -> list[ColumnElement[bool]]:
    """The product is in the category searched or below it (none: every product). The ids
    are given as values, which PostgreSQL weighs by its statistics of each: asked as a subquery,
    it guessed a tenth of the table for any category and scanned all of it (400 ms)."""
    if filters.category_path is None:
        return []
    return [Product.category_id.in_(value(list(filters.category_ids), expanding=True))]


def _pairs_held(group: QueryGroup, known: frozenset[str]) -> frozenset[str]:
    """The character pairs of a mistyped Chinese word that the category knows, when they are
    at least half of its pairs (none otherwise): a product holding them all is near the word.
    A Chinese input method's slip is most often a homophone (螺丝到 for 螺丝刀, both luosidao),
    whose pairs with the slip are unknown (丝到) and the others not (螺丝). The whole text's
    trigram similarity finds no such word inside a run (pg_trgm pads whole runs: 十字螺丝刀 holds
    no trigram of 螺丝到 but 螺丝刀's own) and compared 60,000 screwdrivers' texts to say so;
    the terms index answers this, sampled and walked like any word."""
    if group.latin:
        return frozenset()
    pairs = group.alternatives[0].terms
    held = pairs & known
    return held if 2 * len(held) >= len(pairs) else frozenset()


def _by_text(group: QueryGroup) -> bool:
    """Whether a loose Latin word near no known word is compared with each candidate's whole
    text. Not a size the category does not hold (16m is not 16mm), nor a word shorter than
    ``BY_TEXT_MIN``: its two or three trigrams are in most texts, and comparing every one of
    them took seconds (``mm`` alone: 2.9 s over a million products) to find words that no more
    than share a letter with it. A Chinese word is met by its pairs (``_pairs_held``)."""
    return group.latin and len(group.text) >= BY_TEXT_MIN and not is_quantity(group.text)


def _known(group: QueryGroup, known: frozenset[str]) -> list[Alternative]:
    """The group's alternatives whose every term is known, the weightiest first."""
    held = [a for a in group.alternatives if a.terms and a.terms <= known]
    return sorted(held, key=lambda a: -WEIGHTS[a.kind])


def _group_match(
    group: QueryGroup,
    value: _Values,
    alternatives: list[Alternative],
    near: tuple[tuple[str, float], ...] | None,
    substring: bool,
    held: frozenset[str] = frozenset(),
    parts: tuple[str, ...] = (),
) -> tuple[ColumnElement[bool], ColumnElement[Any], float]:
    """A group met by any of its known ``alternatives`` or, loose (``near`` given, and then
    none are known), by a ``substring``, the model numbers it is part of (``parts``), its
    nearest known terms, the pairs ``held`` of a Chinese word, or the text's word similarity
    (``_by_text``); its score, and the most that can be. A loose group none of these may ask
    for is met by no product."""
    whens = [
        (Product.terms.contains(value.terms(a.terms)), value.weight(WEIGHTS[a.kind]))
        for a in alternatives
    ]
    if near is None:
        most = max(WEIGHTS[a.kind] for a in alternatives)
        conditions = or_(*(condition for condition, _ in whens))
        return conditions, case(*whens, else_=literal(0.0, Float)), most
    matched: list[ColumnElement[bool]] = []
    weights: list[float] = []
    # A part of a word: of the text (LIKE), or of the model numbers that hold a size-shaped word.
    parts_of = [_like(group, value)] if substring else []
    if parts:
        parts_of.append(Product.terms.overlap(value.terms(frozenset(parts))))
    for part_of in parts_of:
        matched.append(part_of)
        whens.append((part_of, value.weight(WEIGHTS[MatchKind.SUBSTRING])))
        weights.append(WEIGHTS[MatchKind.SUBSTRING])
    fuzzy_weight = WEIGHTS[MatchKind.FUZZY]
    if near:
        # The known terms nearest the word, by the terms index: as the whole text's word
        # similarity would score them, without computing it for thousands of candidates.
        for term, nearness in near:
            whens.append((Product.terms.contains(value.terms(frozenset({term}))),
                          value.weight(fuzzy_weight * nearness)))  # fmt: skip
        matched.append(Product.terms.overlap(value.terms(frozenset(term for term, _ in near))))
        weights.append(fuzzy_weight * near[0][1])
        return or_(*matched), case(*whens, else_=literal(0.0, Float)), max(weights)
    if held:  # the share of its pairs held weighs a mistyped Chinese word, as nearness does
        weight = fuzzy_weight * len(held) / len(group.alternatives[0].terms)
        return Product.terms.contains(value.terms(held)), value.weight(weight), weight
    if not _by_text(group):
        if not matched:
            return false(), literal(0.0, Float), 0.0
        return or_(*matched), case(*whens, else_=literal(0.0, Float)), max(weights)
    # Last: PostgreSQL tries an OR's terms in the order written, and a trigram similarity costs
    # far more than a LIKE, met first by every product a word is part of (stainles: stainless).
    # Each product is checked twice, once as the bitmap's recheck and once as the filter.
    text = value(group.text, Text)
    matched.append(text.op("<%")(Product.search_text))
    fuzzy = cast(func.word_similarity(text, Product.search_text), Float)
    score = value.weight(fuzzy_weight) * fuzzy
    weights.append(fuzzy_weight)
    # A short word no product holds (½, whose normal form is 1 and 2) has only the fuzzy way,
    # and a CASE of no WHEN is no SQL.
    return or_(*matched), case(*whens, else_=score) if whens else score, max(weights)


# The catalogue's fixed sample: the products whose id hashes to 0 modulo SAMPLE, indexed on
# their own (migration 0028's partial indexes). A hash of the id is blind to category, supplier
# and when a product was listed, so the sample holds about one in SAMPLE of any set of products.
SAMPLE = 64


def sampled(thinned: int = 1) -> ColumnElement[bool]:
    """The product is in the sample (as migration 0028's partial indexes state it); ``thinned``
    (a power of two), also in one in that many of the sample's products: a finer sample inside
    it, read from the same indexes (the finer hash's zero bits include the sample's)."""
    in_sample = _hash_bits_zero(SAMPLE)
    return in_sample if thinned == 1 else and_(in_sample, _hash_bits_zero(SAMPLE * thinned))


def _hash_bits_zero(modulus: int) -> ColumnElement[bool]:
    bucket = func.hashtext(Product.id).op("&")(literal_column(str(modulus - 1)))
    return bucket == literal_column("0")


@dataclass(frozen=True, slots=True)
class Matching:
    """What a product must meet to be found (conditions on ``products``), and its relevance."""

    conditions: tuple[ColumnElement[bool], ...]
    score: ColumnElement[Any]
    weight: float  # the most the words' weights can add up to (the rest is the length bonus)
    # Some word is met by the whole text's similarity (a misspelling near no known word),
    # which no sample index answers and no walk can check cheaply: the search is exact.
    loose: bool
    # The values of its named parameters, and what its SQL is but for them: the SQLAlchemy
    # cache key of its expressions, which names each parameter (None: some part has none).
    values: Mapping[str, Any] = field(default_factory=dict)
    shape: Hashable | None = None
    # The words of ASCII letters every match holds: one may be a brand's name, typed as a
    # word (Bosch 扳手), which a page by price may walk along (``db.catalogue_brand_walk``).
    brand_words: tuple[str, ...] = ()


def _shape(*elements: ColumnElement[Any]) -> Hashable | None:
    keys = [element._generate_cache_key() for element in elements]
    return None if any(key is None for key in keys) else tuple(k.key for k in keys if k)


def matching(query: ParsedQuery, words: Vocabulary, filters: SearchFilters) -> Matching:
    """The query's groups and the category searched as conditions on a product (``words``:
    what the category's vocabulary holds of them), and its relevance score."""
    value = _Values()
    conditions: list[ColumnElement[bool]] = []
    score: ColumnElement[Any] = literal(0.0, Float)
    required: set[str] = set()
    weight = 0.0  # the most the words' weights can add up to
    for group in query.groups:
        alternatives = _known(group, words.known)
        near = words.loose.get(group.text)
        if near is None and len(alternatives) == 1:
            # Met one way only (most words: their pinyin or synonyms unknown): the terms of
            # all such groups are asked together, one containment the terms index answers in
            # one scan (as an OR with an unknown alternative, five times as long: Bosch 扳手,
            # 25 ms against 5), and the group's score is its one weight.
            required |= alternatives[0].terms
            score = score + value.weight(WEIGHTS[alternatives[0].kind])
            weight += WEIGHTS[alternatives[0].kind]
            continue
        # A part of a word is asked of the whole text only where too many known words hold it.
        substring = met_as_substring(group) and group.text not in (words.unheld | set(words.parts))
        held = _pairs_held(group, words.known)
        parts = words.parts.get(group.text, ())
        condition, group_score, most = _group_match(
            group, value, alternatives, near, substring, held, parts
        )
        conditions.append(condition)
        score = score + group_score
        weight += most
    if required:
        conditions.insert(0, Product.terms.contains(value.terms(frozenset(required))))
    if query.groups:
        # Of two products meeting the words alike, the shorter text is more nearly just what
        # was asked for (BM25's length normalisation, in its simplest form): a division a row,
        # where a trigram similarity cost 20 µs a row, a second over a broad query's matches.
        length = cast(func.length(Product.search_text), Float)
        score = score + literal(CLOSENESS * TYPICAL_LENGTH, Float) / (TYPICAL_LENGTH + length)
    conditions.extend(_in_category(filters, value))
    score_6 = func.round(cast(score, Numeric), 6)
    # A misspelling met by its nearest known words is asked of the terms index like any word
    # (and its substring of the trigram index, which finds few products for a misspelling):
    # broad searches are sampled and walked as for any word (stanly: 594 ms exact, every one
    # of Stanley's 50,000 products priced).
    by_text = any(
        not words.loose[group.text] and _by_text(group)
        for group in query.groups
        if group.text in words.loose
    )
    shape = _shape(score_6, *conditions)
    return Matching(
        tuple(conditions),
        score_6,
        weight,
        loose=by_text,
        values=value.values,
        shape=None if shape is None else (shape, by_text),
        brand_words=tuple(sorted(t for t in required if t.isascii() and t.isalpha())),
    )
