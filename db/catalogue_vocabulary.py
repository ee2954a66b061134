"""What the category searched knows of a query's words (``catalogue_terms``, migrations 0024 and
0029): which of its terms it holds, the synonym groups it keeps, and for a word it does not
hold (a misspelling, part of a model number) the known words near it or holding it. Search
(``db.catalogue_search``) turns these into conditions on products: a group is met by the terms
index wherever the vocabulary says how, and only otherwise by a product's whole text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from db.catalogue import CatalogueCategory, CatalogueTerm
from db.catalogue_filters import SearchFilters
from rules.search_text import QUANTITY_PATTERN, ParsedQuery, QueryGroup, is_quantity

FUZZY_THRESHOLD = 0.5
NEIGHBOURS = 8  # the known terms nearest a misspelt word that a search asks for
PARTS = 50  # model-number terms a size-shaped word is asked as part of, at most

# A loose group's text and its nearest known terms with their word similarity, nearest first
# (none: the group is compared with each candidate's whole text, where
# ``db.catalogue_search._by_text`` allows).
Loose = Mapping[str, tuple[tuple[str, float], ...]]


# The word similarity ``<%`` admits: pg_trgm's 0.6 turns away a letter left out of a short word
# (stanly: 4 of 7 trigrams). Set for a search's transaction, or for the whole session of a
# connection whose pool record holds ``THRESHOLD_KEPT`` (the API's: ``db.catalogue_found``).
_THRESHOLD = "pg_trgm.word_similarity_threshold"
THRESHOLD_KEPT = "trigram_threshold_kept"


def similarity_threshold() -> str:
    """The statement setting the threshold for a connection's session."""
    return f"SET {_THRESHOLD} = {FUZZY_THRESHOLD}"


def synonyms(session: Session, category_path: str | None) -> list[list[str]]:
    """The synonym groups a search uses: its category's, its ancestors' and its subtree's; all
    categories' when it has none."""
    query = select(CatalogueCategory.synonyms)
    if category_path is not None:
        ancestors = category_path.split("/")
        query = query.where(
            or_(
                CatalogueCategory.id.in_(ancestors),
                CatalogueCategory.path.startswith(category_path + "/", autoescape=True),
            )
        )
    return [list(group) for groups in session.scalars(query) for group in groups]


def like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """What the category searched holds of a query's terms (``catalogue_terms``): those it
    knows, and the groups no product there meets exactly, by their text, each with its
    ``neighbours`` (these are matched loosely). A group is met exactly when every term of one
    of its alternatives is known; an alternative with a term the category does not know meets
    none of its products, and is not asked. ``unheld``: the loose groups with neighbours whose
    text no known term holds whole, so that no product holds it as a substring either.
    ``parts``: the loose groups met as parts of known words, each with those words (at most
    ``PARTS``): a word of letters with neighbours, by the terms holding it (stainle of
    stainless), and one shaped as a size, by the terms other than sizes that hold it, parts of
    model numbers (120l of gsr120li)."""

    known: frozenset[str]
    loose: Loose
    unheld: frozenset[str] = frozenset()
    parts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def vocabulary(session: Session, query: ParsedQuery, filters: SearchFilters) -> Vocabulary:
    """The query's terms looked up in the category's vocabulary (one primary-key probe a
    term), and its loose groups' neighbours."""
    if not session.connection().info.get(THRESHOLD_KEPT):  # for this transaction, the search's
        threshold = func.set_config(_THRESHOLD, str(FUZZY_THRESHOLD), True)
        session.execute(select(threshold))
    if not query.groups:
        return Vocabulary(frozenset(), {})
    wanted = sorted({t for g in query.groups for a in g.alternatives for t in a.terms})
    known_query = select(CatalogueTerm.term.distinct()).where(CatalogueTerm.term.in_(wanted))
    known = frozenset(session.scalars(_in_vocabulary(known_query, filters)))
    loose = {
        g.text: neighbours(session, g, filters) for g in query.groups if not _held_exactly(g, known)
    }
    holders = {
        g.text: _holders(session, g.text, filters)
        for g in query.groups
        if loose.get(g.text) and met_as_substring(g)
    }
    unheld = frozenset(word for word, held in holders.items() if held == ())
    parts = {word: held for word, held in holders.items() if held}
    parts |= {
        g.text: held
        for g in query.groups
        if g.text in loose and is_quantity(g.text) and len(g.text) >= 3
        if (held := _model_parts(session, g.text, filters))
    }
    return Vocabulary(known, loose, unheld, parts)


def met_as_substring(group: QueryGroup) -> bool:
    """Whether a loose group is met as a substring too (a part of a model number, of a word);
    not a size, which is not part of another (0mm of 10mm): a size is met as part of the
    model numbers that hold it (``Vocabulary.parts``)."""
    return group.latin and len(group.text) >= 3 and not is_quantity(group.text)


def _model_parts(session: Session, word: str, filters: SearchFilters) -> tuple[str, ...]:
    """The known terms other than sizes that hold a word shaped as one (gsr120li holds 120l;
    10mm, which holds 0mm, and 16mm, which holds 16m, do not count), at most ``PARTS``: a
    trigram index probe. Asked of the terms index, they meet the products whose model holds
    the word, where a substring of the whole text met every larger size too."""
    return _holding(session, word, filters, PARTS, CatalogueTerm.term.op("!~")(QUANTITY_PATTERN))


def _holders(session: Session, word: str, filters: SearchFilters) -> tuple[str, ...] | None:
    """The known terms of the category that hold a word of letters whole (stanley holds
    stanle), at most ``PARTS`` (None: more). A product's text holds such a word only where one
    of its terms does: the text's words are its terms (a pinyin reading as py:…, which holds it
    too), and a word of letters lies within one of them. So asked of the terms index, they meet
    the products whose text holds it, where ``LIKE`` on the whole text read every candidate's
    text (stainles screwdrivr: the 15,000 products holding screwdriver, 19 -> 5 ms). None held
    (a misspelling, mostly), the group scores no more than its nearest term does, which bounds
    a relevance page's texts (``db.catalogue_relevance.longest_text``)."""
    held = _holding(session, word, filters, PARTS + 1)
    return held if len(held) <= PARTS else None


def _holding(
    session: Session, word: str, filters: SearchFilters, most: int, *where: ColumnElement[bool]
) -> tuple[str, ...]:
    """The first ``most`` known terms of the category holding ``word`` (and meeting ``where``),
    in order: a probe of the terms' trigram index."""
    probe = (
        select(CatalogueTerm.term.distinct())
        .where(CatalogueTerm.term.like(like_pattern(word), escape="\\"), *where)
        .order_by(CatalogueTerm.term)
        .limit(most)
    )
    return tuple(session.scalars(_in_vocabulary(probe, filters)))


def _held_exactly(group: QueryGroup, known: frozenset[str]) -> bool:
    """Whether every term of one of the group's alternatives is known."""
    return any(a.terms and a.terms <= known for a in group.alternatives)


def neighbours(
    session: Session, group: QueryGroup, filters: SearchFilters
) -> tuple[tuple[str, float], ...]:
    """The known terms of the category searched nearest a misspelt word (by pg_trgm's word
    similarity, at least ``FUZZY_THRESHOLD``), at most ``NEIGHBOURS``. Only a word of three
    letters or more is looked up: part of a model number (``6510``) is met as a substring of
    the whole text, and the nearest of the thousands of model numbers sharing its digits say
    little; a shorter word is near every term that begins with its letter (m: 135 ms to look
    up, for ma, ma00003, ...).

    As a search engine's fuzzy query does (Elasticsearch expands a fuzzy word to at most 50
    terms of its index), the word is then met by these whole words only: a product whose text
    is near it only across two of its words (``screwdrivr``, "screw driver") is found only
    when no known word is near (the whole text's similarity, then, for every candidate)."""
    if not (group.latin and group.text.isalpha() and len(group.text) >= 3):
        return ()
    similarity = func.word_similarity(group.text, CatalogueTerm.term)
    nearness = func.max(similarity)
    nearest = (
        select(CatalogueTerm.term, nearness)
        # ``<%`` is what the trigram index answers; it compares with the threshold set for
        # the connection or the transaction (``vocabulary``), and the similarity is stated
        # too, so this holds however it is called.
        .where(literal(group.text).op("<%")(CatalogueTerm.term), similarity >= FUZZY_THRESHOLD)
        .group_by(CatalogueTerm.term)
        .order_by(nearness.desc(), CatalogueTerm.term)
        .limit(NEIGHBOURS)
    )
    return tuple(
        (term, float(near)) for term, near in session.execute(_in_vocabulary(nearest, filters))
    )


def _in_vocabulary(statement: Select[Any], filters: SearchFilters) -> Select[Any]:
    """``statement`` over ``catalogue_terms`` narrowed to the category searched (none: all)."""
    if filters.category_path is None:
        return statement
    return statement.where(CatalogueTerm.category_id.in_(filters.category_ids))
