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

# Kept answers are bounded by the offers they show (~2 KB each as models): 20,000 is ~40 MB, the
# default answer (best 5 a line) of twenty 200-line RFQs; a larger answer (every offer of a
# large RFQ) is served but not kept.
OFFERS_KEPT = 20_000


class ComparisonCache:
    """A small LRU of comparisons by their inputs' key; safe across the API's threads."""

    def __init__(self, offers: int = OFFERS_KEPT) -> None:
        self._offers = offers
        self._kept: OrderedDict[Key, tuple[Comparison, int]] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Key) -> Comparison | None:
        with self._lock:
            found = self._kept.get(key)
            if found is None:
                self.misses += 1
                return None
            self.hits += 1
            self._kept.move_to_end(key)
            return found[0]

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
            self._held += offers - (before[1] if before is not None else 0)
            self._kept[key] = (answer, offers)
            while self._held > self._offers:
                _, (_, dropped) = self._kept.popitem(last=False)
                self._held -= dropped


CACHE = ComparisonCache()


def _answer(
    session: Session,
    row: Rfq,
    *,
    as_of: date,
    top: int | None,
    eligible_only: bool,
    cache: ComparisonCache,
) -> tuple[Comparison | bytes, Key, bool]:
    """The kept model, else the filed body, else the computed model (put in ``cache``); with
    the key it answers and whether it was computed now."""
    shown = (top, eligible_only)
    inputs = read_inputs(session, row)
    key = comparison_key(
        row, as_of, inputs.quotes, inputs.standings, inputs.deducts_input_vat, shown
    )
    found = cache.get(key)
    if found is not None:
        return found, key, False
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
        session, row, as_of=as_of, top=top, eligible_only=eligible_only, cache=cache
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
        session, row, as_of=as_of, top=top, eligible_only=eligible_only, cache=cache
    )
    if isinstance(found, bytes):
        return found
    if not computed:
        return answer_body(found)
    body = store_answer(session, row.id, view_of(top, eligible_only), found, key)
    session.commit()
    return body
