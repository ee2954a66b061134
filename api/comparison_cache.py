"""The buyer's comparison kept once computed: in this process (an LRU of answers), and durably
(``db.comparison_store``: the JSON bytes under the digest of the inputs, filed when quoting
closes), both keyed on everything the answer is computed from.

A closed RFQ's comparison changes only with what it is computed from; reading the 200 quotes of
the API's largest RFQ (40,000 quote lines validated into contracts) costs most of a second, the
identifiers and standings that say whether anything changed a few milliseconds. So a click
reads the cheap part (``db.comparison_store.read_inputs``) and serves the answer kept in this
process, else the filed one when its digest matches, else computes it and files it. Nothing is
invalidated: any change gives another key (see ``db.comparison_store``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from contracts.sourcing import Comparison
from db.comparison_store import (
    Key,
    answer_body,
    comparison_key,
    compute,
    key_digest,
    read_inputs,
    store_answer,
    stored_body,
    view_of,
)
from db.models import Rfq

# Kept answers are bounded by the offers they show (~2 KB each as models, ~0.6 KB more as a
# body): 20,000 is ~50 MB, the default answer (best 5 a line) of twenty 200-line RFQs; a larger
# answer (every offer of a large RFQ) is served but not kept.
OFFERS_KEPT = 20_000


class ComparisonCache:
    """A small LRU of comparisons by their inputs' key, each with its response body once one
    was made (serialising the default answer of a 200 x 200 RFQ, 0.6 MB, took 5 ms a click);
    safe across the API's threads."""

    def __init__(self, offers: int = OFFERS_KEPT) -> None:
        self._offers = offers
        self._kept: OrderedDict[Key, KeptAnswer] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Key) -> Comparison | None:
        kept = self.kept(key)
        return None if kept is None else kept.answer

    def kept(self, key: Key) -> KeptAnswer | None:
        """The kept answer and its response body, if one was made (``keep_body``)."""
        with self._lock:
            found = self._kept.get(key)
            if found is None:
                self.misses += 1
                return None
            self.hits += 1
            self._kept.move_to_end(key)
            return found

    def clear(self) -> None:
        """Forget every kept answer (the benchmark's first click each time)."""
        with self._lock:
            self._kept.clear()
            self._held = 0

    def put(self, key: Key, answer: Comparison) -> None:
        offers = sum(len(line.offers) for line in answer.lines)
        if offers > self._offers:
            return
        with self._lock:
            before = self._kept.pop(key, None)
            self._held += offers - (before.offers if before is not None else 0)
            self._kept[key] = KeptAnswer(answer, offers)
            while self._held > self._offers:
                _, dropped = self._kept.popitem(last=False)
                self._held -= dropped.offers

    def keep_body(self, key: Key, body: bytes) -> None:
        """Remember the kept answer's response body (nothing when the answer is not kept)."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                kept.body = body


@dataclass(slots=True)
class KeptAnswer:
    answer: Comparison
    offers: int
    body: bytes | None = None


CACHE = ComparisonCache()


def _answer(
    session: Session,
    row: Rfq,
    *,
    as_of: date,
    top: int | None,
    eligible_only: bool,
    cache: ComparisonCache,
    as_body: bool,
) -> tuple[Comparison | bytes, Key, bool]:
    """The kept model (its body when ``as_body`` and one was kept), else the filed body, else the
    computed model (put in ``cache``); with the key it answers and whether it was computed now."""
    shown = (top, eligible_only)
    inputs = read_inputs(session, row)
    key = comparison_key(
        row, as_of, inputs.quotes, inputs.standings, inputs.deducts_input_vat, shown
    )
    kept = cache.kept(key)
    if kept is not None:
        return kept.body if as_body and kept.body is not None else kept.answer, key, False
    body = stored_body(session, row.id, view_of(top, eligible_only), key_digest(key))
    if body is not None:
        return body, key, False
    answer, key = compute(session, row, inputs, as_of=as_of, top=top, eligible_only=eligible_only)
    cache.put(key, answer)
    return answer, key, True


def cached_comparison(
    session: Session,
    row: Rfq,
    *,
    as_of: date,
    top: int | None,
    eligible_only: bool,
    cache: ComparisonCache = CACHE,
) -> Comparison:
    """``db.sourcing.comparison_for`` of the RFQ for its buyer, kept or filed when nothing it
    reads has changed since it was computed (the workbench's, which shows the model)."""
    found, key, _ = _answer(
        session, row, as_of=as_of, top=top, eligible_only=eligible_only, cache=cache, as_body=False
    )
    if isinstance(found, Comparison):
        return found
    answer = Comparison.model_validate_json(found)
    cache.put(key, answer)
    return answer


def comparison_body(
    session: Session,
    row: Rfq,
    *,
    as_of: date,
    top: int | None,
    eligible_only: bool,
    cache: ComparisonCache = CACHE,
) -> bytes:
    """The API's response body: the filed bytes when they answer the request, else the kept or
    computed answer serialised the same way (``answer_body``), filed for the next click."""
    found, key, computed = _answer(
        session, row, as_of=as_of, top=top, eligible_only=eligible_only, cache=cache, as_body=True
    )
    if isinstance(found, bytes):
        return found
    if computed:
        body = store_answer(session, row.id, view_of(top, eligible_only), found, key)
        session.commit()
    else:
        body = answer_body(found)
    cache.keep_body(key, body)
    return body
