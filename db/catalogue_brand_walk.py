"""A page by price or lead time of words one of which is a brand's name (Bosch 扳手): walked
along the brand's own sums, as a page filtered on the brand is (``db.catalogue_walk``), with
the other brands' products that name it in their text found apart, and the page cut from both.

A brand typed as a word stays a word: a product of another brand may hold it in its text (a
spare part "for Bosch"), so the brand's filter cannot stand for it. But most of such a search's
matches are the brand's (3,000 of Bosch 扳手's, of the brand's 50,000 products; the sample
must say at least half), and the others are found from the terms index with the brand's
products left out. Found from every match instead, each one's sum was looked up by its key
(15 of 27 ms of the page statement). The sample says which word names a brand, and how many
of the brand's products hold the other words (``db.catalogue_broad.Breadth.walks_along``).
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Insert, Text, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from db.catalogue import Product
from db.catalogue_filters import described
from db.catalogue_found import fill_found, filling, found
from db.catalogue_page import Asked, Found, cut
from db.catalogue_search import sampled
from db.catalogue_shapes import SHAPES, bound
from db.catalogue_untrusted import many_lapsed
from db.catalogue_walk import bounded, found_page, walked_into_found


def holding(session: Session, word: str) -> int:
    """The products of the sample holding ``word`` among their terms (migration 0028's
    partial index of the sample's terms)."""
    statement = (
        select(func.count())
        .select_from(Product)
        .where(
            Product.terms.contains(cast(bindparam("word", [word], type_=ARRAY(Text)), ARRAY(Text))),
            sampled(),
        )
    )
    return int(session.scalar(statement) or 0)


def walked_along(session: Session, asked: Asked, word: str) -> list[Found] | None:
    """The page by price or lead time of words one of which, ``word``, is a brand's name
    (``Matching.brand_words``), with no filter on the offers: the brand's products walked along
    its own sums as a brand's page is (``db.catalogue_walk.by_brand``), and the other brands'
    products naming it found from every one of them; the page cut from both. When a day's
    sums have lapsed together (``many_lapsed``) the brand's are walked as bounds, as a brand's
    page is then (``db.catalogue_walk.bounded``): taking them as the prices, the walk would
    list every lapsed product the words meet (100 ms at midnight). None when the walk gives
    way: more than ``UNSUMMED_MAX`` products' sums cannot be trusted, or the brand's matches
    after the cursor do not fill a page within ``WALK_MAX`` sums (which a last page's do not,
    but at midnight: found from every match, as before), or the bounded walk does not settle
    the page."""
    filters = replace(asked.filters, brand=word)
    branded = replace(asked, filters=filters, bound=bound(filters, asked.today))
    if many_lapsed(session, branded):
        if bounded(session, branded) is None:
            return None
    elif not walked_into_found(session, branded):
        return None
    _others_into_found(session, asked, word)
    return found_page(session, asked)


def _others_into_found(session: Session, asked: Asked, word: str) -> None:
    """``FOUND`` given the page's products of other brands than ``word``."""
    b = asked.bound
    values = {**asked.values, "brand_word": word}

    def build() -> Insert:
        other = func.lower(Product.brand).is_distinct_from(bindparam("brand_word", word))
        where = [*described(Product, b.filters), other]
        results = found(asked.matching, b.filters, today=b.today, where=where)
        return filling(
            cut(results, b.filters, sort=asked.sort, after=asked.after, limit=asked.limit)
        )

    shape = asked.shape("others", asked.sort, asked.after is None)
    fill_found(session, SHAPES.statement(shape, build, values), values)
