"""Catalogue search text: one normal form for what suppliers list and what buyers type.

A buyer types ``5mm``, ``5.0 mm``, ``5毫米`` or a full-width 5mm from a Chinese input method, and a
supplier wrote any of them; a buyer looks for ``螺丝刀`` in ``十字螺丝刀 PH2``, or types the
pinyin initials ``lsd``. Both sides go through ``normalise`` so they meet in one form:

- NFKC (Unicode Standard Annex #15) folds full-width forms to their half-width twins
  and compatibility characters (``℃`` → ``°C``, ``²`` → ``2``); then case is folded.
- A number with a unit becomes one token, number canonical and unit canonical:
  ``5.0 mm``, ``5毫米`` → ``5mm``. The units and their Chinese names are the catalogue's own
  (``rules.catalogue_listing.UNITS``, after the SI Brochure and GB 3100-1993), plus a few that
  product names carry but specifications do not (``mm²`` cable sizes, hertz, mAh).
- Punctuation and symbols (Latin and CJK, Unicode categories P and S) separate tokens; the
  multiplication sign and ``*`` between numbers become ``x`` (``M5*20`` → ``m5 x 20``), so
  dimensions read alike.
- Runs of CJK characters stay whole in the text and are separated from Latin words.

``index_fields`` gives a product's two search columns (``db.catalogue``): ``search_text``, the
normal form of its fields plus the pinyin initials of its Chinese runs, for pg_trgm's fuzzy and
substring matching; and ``terms``, exact tokens for a GIN array index. Chinese has no spaces, so
CJK runs are segmented by overlapping character bigrams, as Lucene's CJK analyzer does
(``CJKBigramFilter``, with its ``outputUnigrams`` option: single characters too), which finds a
word inside a name without a dictionary: ``十字螺丝刀`` holds ``螺丝`` and ``丝刀``.

``parse_query`` turns a buyer's query into groups, one a query word, every group required; a
group's alternatives are the word itself, its synonyms from the category's list ops maintain
(a synonym phrase is also found inside a run of Chinese, which segments the query around it),
and its reading as pinyin initials. An alternative is a set of terms that must all be present.
A bare number is read as itself (part of a model number) or as that quantity in any unit
(``300``: ``300mm``, ``300ml``): a buyer typing a size leaves the unit off more often than not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from rules.catalogue_listing import UNIT_ALIASES, UNITS

# Units product names carry beyond the specifications' (rules.catalogue_listing): the cable
# cross-section (mm², 平方 in the trade: "2.5平方"), frequency, battery capacity, energy.
SEARCH_UNITS: Mapping[str, str] = {
    **{unit: unit for unit in UNITS},
    **UNIT_ALIASES,
    "mm2": "mm2",
    "平方毫米": "mm2",
    "平方": "mm2",
    "hz": "hz",
    "赫兹": "hz",
    "khz": "khz",
    "千赫": "khz",
    "mhz": "mhz",
    "兆赫": "mhz",
    "ah": "ah",
    "安时": "ah",
    "mah": "mah",
    "毫安时": "mah",
    "kwh": "kwh",
    "千瓦时": "kwh",
    "公升": "l",
    "公克": "g",
    "公吨": "t",
    "公尺": "m",
    "吋": "in",
    "inch": "in",
}

# Han, kana and Hangul: the scripts Lucene's CJK analyzer bigrams. Han Extension B and beyond
# are left to the word pattern: rare in product names.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_RUN = re.compile(f"[{_CJK}]+")
_UNIT_NAMES = "|".join(re.escape(alias) for alias in sorted(SEARCH_UNITS, key=len, reverse=True))
_TOKEN = re.compile(
    # A number and its unit; a Latin unit must end the word (``5mmx``, ``771c2`` are models).
    rf"(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>{_UNIT_NAMES})(?![a-z0-9])"
    rf"|(?P<cjk>[{_CJK}]+)"
    # A word: letters and digits of any other script, decimals kept (``1.5``, ``v2.0.1``).
    rf"|(?P<word>[^\W_{_CJK}]+(?:\.\d+)*)"
)
_SLIP = re.compile(rf"(\d)[.,](?=(?:{_UNIT_NAMES})(?![a-z0-9]))")
_DIMENSION = re.compile("(?<=\\d)\\s*[x\u00d7*]\\s*(?=\\d)")  # x, the multiplication sign, *
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_QUANTITY_UNITS = tuple(sorted(set(SEARCH_UNITS.values())))
# A size whole: a number and one unit (the same in Python and in PostgreSQL's regular
# expressions, which ``db.catalogue_vocabulary`` asks of the vocabulary).
QUANTITY_PATTERN = (
    r"^\d+(?:\.\d+)?(?:" + "|".join(re.escape(unit) for unit in _QUANTITY_UNITS) + ")$"
)
_QUANTITY = re.compile(QUANTITY_PATTERN)
PINYIN_PREFIX = "py:"  # a term that is a CJK run's pinyin initials, apart from Latin words
MAX_PINYIN = 12  # a longer Latin word is not read as pinyin initials


def _number(text: str, *, quantity: bool) -> str:
    """``5.0`` → ``5``, ``5.50`` → ``5.5``: one written form of one number. A quantity's
    leading zeros go too (``05mm``); a bare number keeps them, as part numbers mean them."""
    whole, _, fraction = text.partition(".")
    if quantity:
        whole = whole.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def tokens(text: str) -> list[str]:
    """The normal form's tokens: quantities, words and CJK runs, in order."""
    folded = _DIMENSION.sub(" x ", unicodedata.normalize("NFKC", text).casefold())
    found: list[str] = []
    for match in _TOKEN.finditer(folded):
        if match["number"] is not None:
            found.append(_number(match["number"], quantity=True) + SEARCH_UNITS[match["unit"]])
        elif match["cjk"] is not None:
            found.append(match["cjk"])
        else:
            word = match["word"]
            found.append(_number(word, quantity=False) if _NUMBER.fullmatch(word) else word)
    return found


def is_quantity(token: str) -> bool:
    """Whether a token of the normal form is a number with its unit (``5mm``, ``2.5mm2``)."""
    return _QUANTITY.match(token) is not None


def normalise(text: str) -> str:
    """Width, case, spacing, punctuation and units forgiven: the form search compares in."""
    return " ".join(tokens(text))


def is_cjk(token: str) -> bool:
    return bool(token) and token[0] >= "\u3040" and _CJK_RUN.fullmatch(token) is not None


def bigrams(run: str) -> list[str]:
    """A CJK run's overlapping bigrams and its characters (a one-character run is itself)."""
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)] + list(run)


def token_terms(token: str) -> list[str]:
    """The exact terms one token of the normal form contributes."""
    return bigrams(token) if is_cjk(token) else [token]


@lru_cache(maxsize=1 << 16)
def pinyin_initials(run: str) -> str:
    """The pinyin initials of a run's Han characters (``螺丝刀`` → ``lsd``); pypinyin reads a
    character by its phrase (``重庆`` → ``cq``, not ``zq``). Kana and Hangul have none.
    Remembered by run: a catalogue's names repeat their words, and pypinyin's phrase lookup
    was most of an import's indexing."""
    # Imported on first use: its phrase dictionary costs 0.7 s of CPU, which every process
    # that imports search (the API, the workers, the tests) paid at start-up, though only
    # indexing a listing needs it.
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(run, style=Style.FIRST_LETTER, errors="ignore"))


def load_pinyin() -> None:
    """Load pypinyin's dictionaries now rather than at the first search. A process that keeps
    them (the API) loads them before it freezes what lives as long as it does: the phrase
    dictionary is 200,000 lists, which every full collection would otherwise walk."""
    pinyin_initials.__wrapped__("重庆")


def compact(text: str) -> str:
    """A model number without its separators: ``DCD-771 C2`` → ``dcd771c2``."""
    return "".join(tokens(text))


def with_unit(value: str, unit: str | None) -> str:
    """An attribute's value as search reads it: a bare number in its unit (``5``, mm) is ``5mm``."""
    return f"{value}{unit}" if unit and _NUMBER.fullmatch(value.strip()) else value


@lru_cache(maxsize=1 << 16)
def _indexed_field(field: str) -> tuple[str, frozenset[str], tuple[str, ...]]:
    """One field's normal form, exact terms and CJK runs. Remembered by value: a catalogue's
    brands, materials and name patterns repeat from listing to listing."""
    found = tokens(field)
    terms = frozenset(term for token in found for term in token_terms(token))
    return " ".join(found), terms, tuple(token for token in found if is_cjk(token))


def index_fields(
    name: str,
    brand: str,
    model: str,
    attributes: Mapping[str, str],
    *,
    units: Mapping[str, str] | None = None,
) -> tuple[str, list[str]]:
    """A product's ``search_text`` (normal form and pinyin initials, for trigram matching) and
    ``terms`` (exact tokens, sorted, for the GIN index). ``units`` gives an attribute's unit
    when its value is a bare number in it (``{"length": "mm"}`` makes ``5`` read ``5mm``)."""
    units = units or {}
    fields = [name, brand, model, compact(model)]
    fields.extend(with_unit(value, units.get(key)) for key, value in attributes.items())
    terms: set[str] = set()
    texts: list[str] = []
    runs: list[str] = []
    for n, field in enumerate(fields):
        text, field_terms, field_runs = _indexed_field(field)
        texts.append(text)
        terms.update(field_terms)
        if n < 2:  # the pinyin initials of the name's and the brand's Chinese
            runs.extend(field_runs)
    initials = [found for found in map(pinyin_initials, runs) if found]
    terms.update(PINYIN_PREFIX + found for found in initials)
    search_text = " ".join(text for text in [*texts, *initials] if text)
    return search_text, sorted(terms)


class MatchKind(StrEnum):
    """How a query word met a product, best first."""

    EXACT = "exact"
    SYNONYM = "synonym"
    QUANTITY = "quantity"  # a bare number read as a size: 300 as 300mm
    PINYIN = "pinyin"
    SUBSTRING = "substring"
    FUZZY = "fuzzy"


@dataclass(frozen=True, slots=True)
class Alternative:
    """One way a group is met: every term of ``terms`` present."""

    text: str
    terms: frozenset[str]
    kind: MatchKind


@dataclass(frozen=True, slots=True)
class QueryGroup:
    """One query word (or synonym phrase) as typed, normalised, and its alternatives."""

    text: str
    alternatives: tuple[Alternative, ...]

    @property
    def latin(self) -> bool:
        """Letters and digits only: a candidate for substring matching (partial model numbers)."""
        return not any(is_cjk(token) for token in self.text.split())


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    text: str
    groups: tuple[QueryGroup, ...]


def query_terms(token: str) -> list[str]:
    """The terms a query token asks a product for. A CJK run's bigrams are enough: a product
    holding ``十字`` holds ``十`` and ``字`` too, and single characters have the longest lists
    in the terms index (asking them was half of a narrow search's index scan)."""
    if len(token) > 1 and is_cjk(token):
        return [token[i : i + 2] for i in range(len(token) - 1)]
    return token_terms(token)


def _terms_of(tokens_: Iterable[str]) -> frozenset[str]:
    return frozenset(term for token in tokens_ for term in query_terms(token))


def _synonym_index(synonyms: Sequence[Sequence[str]]) -> dict[str, set[str]]:
    """Each normalised phrase and every phrase it is synonymous with (groups sharing a phrase
    are read as one)."""
    index: dict[str, set[str]] = {}
    for group in synonyms:
        phrases = {normalise(phrase) for phrase in group} - {""}
        for phrase in phrases:
            index.setdefault(phrase, set()).update(phrases)
    return index


def _phrase_spans(tokens_: list[str], phrases: Iterable[str]) -> list[tuple[int, int, int, str]]:
    """Where synonym phrases occur: (token, start, end, phrase), longest first, not overlapping.
    A Latin phrase must be whole tokens; a CJK phrase may sit inside a run (segmentation)."""
    taken: dict[int, list[tuple[int, int]]] = {}
    spans: list[tuple[int, int, int, str]] = []
    text = " ".join(tokens_)
    for phrase in sorted(phrases, key=lambda p: (-len(p), p)):
        if phrase not in text:
            continue
        if is_cjk(phrase):
            for i, token in enumerate(tokens_):
                start = token.find(phrase)
                while start >= 0:
                    end = start + len(phrase)
                    if all(end <= s or start >= e for s, e in taken.get(i, [])):
                        taken.setdefault(i, []).append((start, end))
                        spans.append((i, start, end, phrase))
                    start = token.find(phrase, end)
        else:
            words = phrase.split()
            for i in range(len(tokens_) - len(words) + 1):
                if tokens_[i : i + len(words)] == words and all(
                    j not in taken for j in range(i, i + len(words))
                ):
                    for j in range(i, i + len(words)):
                        taken[j] = [(0, len(tokens_[j]))]
                    spans.append((i, 0, -len(words), phrase))
    return spans


def _word_group(token: str) -> QueryGroup:
    alternatives = [Alternative(token, _terms_of([token]), MatchKind.EXACT)]
    if token.isascii() and token.isalpha() and 2 <= len(token) <= MAX_PINYIN:
        pinyin = frozenset({PINYIN_PREFIX + token})
        alternatives.append(Alternative(token, pinyin, MatchKind.PINYIN))
    if _NUMBER.fullmatch(token):  # a size without its unit: each unit's (those held are asked)
        number = _number(token, quantity=True)
        for unit in _QUANTITY_UNITS:
            size = number + unit
            alternatives.append(Alternative(size, frozenset({size}), MatchKind.QUANTITY))
    return QueryGroup(token, tuple(alternatives))


def _synonym_group(phrase: str, index: Mapping[str, set[str]]) -> QueryGroup:
    alternatives = [Alternative(phrase, _terms_of(phrase.split()), MatchKind.EXACT)]
    for other in sorted(index[phrase] - {phrase}):
        alternatives.append(Alternative(other, _terms_of(other.split()), MatchKind.SYNONYM))
    return QueryGroup(phrase, tuple(alternatives))


def parse_query(query: str, synonyms: Sequence[Sequence[str]]) -> ParsedQuery:
    """The query's groups, in the order typed, each once: every group must be met by a product,
    a group by any one of its alternatives."""
    # A point or comma between a number and its unit is a slip (5.mm, 5,毫米), in a query only:
    # a product's text is indexed as written, and splitting it anew would part it from its terms.
    tokens_ = tokens(_SLIP.sub(r"\1", unicodedata.normalize("NFKC", query).casefold()))
    index = _synonym_index(synonyms)
    spans = _phrase_spans(tokens_, index)
    by_token: dict[int, list[tuple[int, int, str]]] = {}
    for i, start, end, phrase in spans:
        by_token.setdefault(i, []).append((start, end, phrase))
    pieces: list[QueryGroup] = []
    skip = 0
    for i, token in enumerate(tokens_):
        if skip:
            skip -= 1
            continue
        found = sorted(by_token.get(i, []))
        if found and found[0][1] < 0:  # a Latin phrase of -end tokens starting here
            pieces.append(_synonym_group(found[0][2], index))
            skip = -found[0][1] - 1
            continue
        at = 0
        for start, end, phrase in found:
            if start > at:
                pieces.append(_word_group(token[at:start]))
            pieces.append(_synonym_group(phrase, index))
            at = end
        if at < len(token):
            pieces.append(_word_group(token[at:]))
    unique: dict[str, QueryGroup] = {}
    for group in pieces:
        unique.setdefault(group.text, group)
    return ParsedQuery(" ".join(tokens_), tuple(unique.values()))
