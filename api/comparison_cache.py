"""The buyer's comparison kept once computed, in this process, keyed on everything it reads.

A closed RFQ's comparison changes only with what it is computed from; reading the 200 quotes of
the API's largest RFQ (40,000 quote lines validated into contracts) costs most of a second, the
identifiers and standings that say whether anything changed a few milliseconds. So a click
reads the cheap part and serves the answer computed before when all of it is unchanged:

- the RFQ's body (a digest of its stored JSON) and the day compared on (``as_of``);
- its active quotes' ids and revisions: a quote row's terms never change once recorded (a
  revision is a new row superseding the one before), so the ids name the terms;
- the suppliers' standings (eligibility and score) as read now;
- the buyer's VAT basis; ``top`` and ``eligible_only``, the request's shortening.

Nothing is invalidated: a revision, a standing, a tax profile or an extended deadline changes
the key, so the next click computes afresh and the old entry ages out of the LRU. The key of an
answer is taken from the very rows it was computed from (the quotes read, the standings passed,
the VAT basis the answer states), so a change landing mid-computation cannot file an answer
under a key it was not computed from. Per process: each API process computes its own.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.sourcing import Comparison, Quote, QuoteStatus, Standings
from db.models import Organisation, QuoteRecord, Rfq
from db.sourcing import active_quotes, comparison_for, current_standings

# Kept answers are bounded by the offers they show (~2 KB each as models): 20,000 is ~40 MB, the
# default answer (best 5 a line) of twenty 200-line RFQs; a larger answer (every offer of a
# large RFQ) is served but not kept.
OFFERS_KEPT = 20_000

_Key = tuple[Hashable, ...]


class ComparisonCache:
    """A small LRU of comparisons by their inputs' key; safe across the API's threads."""

    def __init__(self, offers: int = OFFERS_KEPT) -> None:
        self._offers = offers
        self._kept: OrderedDict[_Key, tuple[Comparison, int]] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: _Key) -> Comparison | None:
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

    def put(self, key: _Key, answer: Comparison) -> None:
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


def _key(
    row: Rfq,
    as_of: date,
    quotes: Sequence[tuple[str, int]],
    standings: Standings,
    deducts_input_vat: bool,
    shown: tuple[int | None, bool],
) -> _Key:
    body = json.dumps(row.body, sort_keys=True, separators=(",", ":"), default=str)
    return (
        row.id,
        hashlib.sha256(body.encode()).hexdigest(),
        as_of,
        tuple(quotes),
        tuple((s.org_id, s.eligible, s.score) for s in standings.suppliers),
        deducts_input_vat,
        shown,
    )


def _standings(session: Session, suppliers: Sequence[str]) -> Standings:
    return current_standings(session, sorted(set(suppliers)))


def cached_comparison(
    session: Session,
    row: Rfq,
    *,
    as_of: date,
    top: int | None,
    eligible_only: bool,
    cache: ComparisonCache = CACHE,
) -> Comparison:
    """``db.sourcing.comparison_for`` of the RFQ for its buyer, from ``cache`` when nothing it
    reads has changed since it was computed."""
    shown = (top, eligible_only)
    active = session.execute(
        select(QuoteRecord.id, QuoteRecord.revision, QuoteRecord.supplier_org_id)
        .where(QuoteRecord.rfq_id == row.id)
        .where(QuoteRecord.status == QuoteStatus.ACTIVE.value)
        .order_by(QuoteRecord.supplier_org_id)
    ).all()
    standings = _standings(session, [supplier for _, _, supplier in active])
    buyer = session.get(Organisation, row.buyer_org_id)
    deducts = buyer is None or buyer.deducts_input_vat
    ids = [(quote_id, revision) for quote_id, revision, _ in active]
    found = cache.get(_key(row, as_of, ids, standings, deducts, shown))
    if found is not None:
        return found
    quotes: list[Quote] = active_quotes(session, row.id)
    if [q.supplier_org_id for q in quotes] != [supplier for _, _, supplier in active]:
        standings = _standings(session, [q.supplier_org_id for q in quotes])
    answer = comparison_for(
        session,
        row,
        as_of=as_of,
        standings=standings,
        quotes=quotes,
        top=top,
        eligible_only=eligible_only,
    )
    ids = [(q.quote_id, q.revision) for q in quotes]
    cache.put(_key(row, as_of, ids, standings, answer.deducts_input_vat, shown), answer)
    return answer
