"""Search that forgives how a name or number was typed: spacing, case and full-width forms.

People paste credit codes from PDFs with spaces, type company names with full-width letters from a
Chinese input method, or in lower case. Both sides of the comparison are folded the same way:
full-width ASCII (U+FF01–U+FF5E) to its half-width twin, the ideographic space to none, every
whitespace removed, case folded. The query is folded in Python; the column in SQL by the same rules
(``tradeflow_fold``, migration 0015), so the database filters and pages as usual, and searches
of organisations use their trigram indexes.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import ColumnElement, func
from sqlalchemy.orm import InstrumentedAttribute

_FULL = "".join(chr(c) for c in range(0xFF01, 0xFF5F))
_HALF = "".join(chr(c) for c in range(0x21, 0x7F))
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """The form names and numbers are compared in."""
    half = text.translate(str.maketrans(_FULL, _HALF))
    return _SPACES.sub("", half.replace("\u3000", "")).lower()


def folded_column(column: ColumnElement[str] | InstrumentedAttribute[str]) -> ColumnElement[str]:
    """``fold`` in SQL: ``tradeflow_fold``, made by migration 0015 (the same table), which the
    organisations' search indexes are built on, and ``waybills.carrier_folded`` is stored by
    (0039): a change to the folding is a migration that rebuilds both."""
    return func.tradeflow_fold(column)


def matches(
    column: ColumnElement[str] | InstrumentedAttribute[str], query: str
) -> ColumnElement[bool]:
    """The column contains the query, both folded; LIKE's wildcards in the query are literal."""
    return contains_folded(folded_column(column), query)


def contains_folded(
    folded: ColumnElement[str] | InstrumentedAttribute[str], query: str
) -> ColumnElement[bool]:
    """``folded`` (a column already folded, such as one PostgreSQL keeps) contains the query,
    folded; LIKE's wildcards in the query are literal."""
    needle = fold(unicodedata.normalize("NFC", query))
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return folded.like(f"%{escaped}%", escape="\\")
