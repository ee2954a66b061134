"""Why a product came up for a query: which of its fields met each query word, and how.

The database decides what matches and ranks it (``db.catalogue_search``) over a product's
``search_text`` and ``terms``, which mix its fields together; a buyer wants to know that
``螺丝刀`` was found as the synonym ``螺丝起子`` in the name and ``5mm`` in the length. This
reads one product's fields again with the same rules (``rules.search_text``), field by field,
for the few products of a page: each query word's matches, best kind first.

A misspelt word is matched in PostgreSQL by pg_trgm's word similarity; here the field's word
nearest to it is named, by pg_trgm's own measure between two words (trigrams of each word
padded with two spaces before and one after, shared over all: F.33.1 of the PostgreSQL
documentation). A mistyped Chinese word is named by the field's run holding half its character
pairs or more, the share held as its similarity, as ``db.catalogue_search`` meets it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from rules.search_text import (
    PINYIN_PREFIX,
    MatchKind,
    ParsedQuery,
    QueryGroup,
    compact,
    is_cjk,
    is_quantity,
    pinyin_initials,
    token_terms,
    tokens,
)

FUZZY_FLOOR = 0.3  # pg_trgm's default similarity threshold: nearer than this is worth naming
_RANK = {kind: rank for rank, kind in enumerate(MatchKind)}
_WORD = re.compile(r"[^\W_]+")
PINYIN_FIELDS = ("name", "brand")  # index_fields reads pinyin initials of these only


@dataclass(frozen=True, slots=True)
class FieldMatch:
    """A query word met in one field: how, and by what (an alternative or the field's word)."""

    query: str
    field: str
    kind: MatchKind
    matched: str
    similarity: float | None = None  # a fuzzy match's pg_trgm similarity of the two words


def trigrams(word: str) -> set[str]:
    """pg_trgm's trigrams of one word (lower case, padded two spaces before, one after)."""
    padded = f"  {word.lower()} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def word_similarity(a: str, b: str) -> float:
    """pg_trgm's ``similarity`` of two single words: shared trigrams over all of them."""
    first, second = trigrams(a), trigrams(b)
    return len(first & second) / len(first | second) if first | second else 0.0


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    text: str  # normal form
    terms: frozenset[str]


def _field(name: str, value: str) -> _Field:
    found = tokens(value)
    terms = {term for token in found for term in token_terms(token)}
    if name == "model":
        terms.add(compact(value))
    if name in PINYIN_FIELDS:
        terms.update(PINYIN_PREFIX + pinyin_initials(run) for run in found if is_cjk(run))
    return _Field(name, " ".join(found), frozenset(terms))


def _match(group: QueryGroup, field: _Field) -> FieldMatch | None:
    for alternative in group.alternatives:  # exact, then synonyms, then pinyin
        if alternative.terms <= field.terms:
            return FieldMatch(group.text, field.name, alternative.kind, alternative.text)
    if not group.latin:  # a mistyped Chinese word is met by its pairs, over all fields
        return None
    needle = group.text.replace(" ", "")
    if is_quantity(needle):  # part of a model number, never of another size (0mm of 10mm)
        part = min((t for t in field.terms if needle in t and not is_quantity(t)), default=None)
        if part is None:
            return None
        return FieldMatch(group.text, field.name, MatchKind.SUBSTRING, part)
    for word in [*field.text.split(), field.text.replace(" ", "")]:
        if needle in word:
            return FieldMatch(group.text, field.name, MatchKind.SUBSTRING, word)
    nearest = max(
        ((word_similarity(group.text, word), word) for word in _WORD.findall(field.text)),
        default=None,
    )
    if nearest is not None and nearest[0] >= FUZZY_FLOOR:
        return FieldMatch(group.text, field.name, MatchKind.FUZZY, nearest[1], round(nearest[0], 3))
    return None


def _pairs(group: QueryGroup, field: _Field) -> FieldMatch | None:
    """A mistyped Chinese word's pairs that ``field`` holds: its run holding one, and the share
    of the word's pairs it holds (the product as a whole holds every known one)."""
    pairs = group.alternatives[0].terms
    present = pairs & field.terms
    if not present:
        return None
    words = field.text.split()
    run = next((w for w in words if any(pair in w for pair in present)), field.text)
    share = round(len(present) / len(pairs), 3)
    return FieldMatch(group.text, field.name, MatchKind.FUZZY, run, share)


def explain(query: ParsedQuery, fields: Mapping[str, str]) -> list[FieldMatch]:
    """Each query word's matches in ``fields`` (name, brand, model, ``attributes.<key>``, in
    the order given), best kind first and then in field order; a word met nowhere is absent."""
    read = [_field(name, value) for name, value in fields.items() if value]
    found: list[FieldMatch] = []
    for group in query.groups:
        matches = [match for field in read if (match := _match(group, field)) is not None]
        if not matches and not group.latin:
            matches = [match for field in read if (match := _pairs(group, field)) is not None]
        found.extend(sorted(matches, key=lambda match: _RANK[match.kind]))
    return found
