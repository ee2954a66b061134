"""The buyer's comparison kept durably: its JSON bytes filed under the digest of its inputs.

Reading the kept figures of the API's largest RFQ's quotes (200 lines x 200 suppliers, 40,000
quote lines) and comparing them costs about 150 ms (over a second when the terms were read and
priced every time); what says whether anything changed (the active quotes' ids and revisions,
the standings, the VAT basis) a few milliseconds. So the
ranking activity computes the buyer's default answer as quoting closes, before the buyer can
click, and files its bytes in ``rfq_comparisons`` under the digest of everything it read:

- the RFQ's body (a digest of its stored JSON) and the day compared on (``as_of``);
- its active quotes' ids and revisions: a quote row's terms never change once recorded (a
  revision is a new row superseding the one before), so the ids name the terms;
- the suppliers' standings (eligibility and score) as read now;
- the buyer's VAT basis; ``top`` and ``eligible_only``, the request's shortening.

A click computes the same digest from the cheap reads and serves the row only when the digests
match: nothing is invalidated, as a revision, a standing, a tax profile or an extended deadline
gives another digest and the click computes afresh (and files that answer in the row's place).
The key of an answer is taken from the very rows it was computed from, so a change landing
mid-computation cannot file an answer under a key it was not computed from.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from contracts.sourcing import Comparison, QuoteStatus, Standings
from db.models import Organisation, QuoteRecord, Rfq, RfqComparison
from db.sourcing import comparison_for, current_standings, recorded_quotes

# A line's best five: the API's default view, the one computed ahead when quoting closes.
DEFAULT_TOP = 5
# Answers showing more offers are not filed (every offer of the largest RFQ is 22 MB of JSON);
# the default of a 200-line RFQ shows 1,000.
STORED_OFFERS = 5_000

Key = tuple[Hashable, ...]


@dataclass(frozen=True)
class Inputs:
    """The cheap reads naming what a comparison would be computed from."""

    quotes: tuple[tuple[str, int], ...]
    suppliers: tuple[str, ...]
    standings: Standings
    deducts_input_vat: bool


def buyer_as_of(row: Rfq) -> date:
    """The day the buyer's comparison is computed on: today, or the deadline once past."""
    return min(date.today(), row.quote_deadline.astimezone(UTC).date())


def view_of(top: int | None, eligible_only: bool) -> str:
    return f"{top or 'all'}:{'eligible' if eligible_only else 'any'}"


def _standings(session: Session, suppliers: Sequence[str]) -> Standings:
    return current_standings(session, sorted(set(suppliers)))


def read_inputs(session: Session, row: Rfq) -> Inputs:
    active = session.execute(
        select(QuoteRecord.id, QuoteRecord.revision, QuoteRecord.supplier_org_id)
        .where(QuoteRecord.rfq_id == row.id)
        .where(QuoteRecord.status == QuoteStatus.ACTIVE.value)
        .order_by(QuoteRecord.supplier_org_id, QuoteRecord.id)  # as recorded_quotes orders them
    ).all()
    suppliers = tuple(supplier for _, _, supplier in active)
    buyer = session.get(Organisation, row.buyer_org_id)
    return Inputs(
        quotes=tuple((quote_id, revision) for quote_id, revision, _ in active),
        suppliers=suppliers,
        standings=_standings(session, suppliers),
        deducts_input_vat=buyer is None or buyer.deducts_input_vat,
    )


def comparison_key(
    row: Rfq,
    as_of: date,
    quotes: Sequence[tuple[str, int]],
    standings: Standings,
    deducts_input_vat: bool,
    shown: tuple[int | None, bool],
) -> Key:
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


def key_digest(key: Key) -> str:
    # Dates and Decimals by str: a score read back as Decimal("4.50") digests as "4.50" always.
    # Under the bodies' filing (deflated): code filing them raw, an older version running beside
    # this one or rolled back to, neither serves these nor has its own served here.
    return hashlib.sha256(json.dumps([_FILED, key], default=str).encode()).hexdigest()


_FILED = "deflated"


def answer_body(answer: Comparison) -> bytes:
    """The response body of an answer: the same function makes a computed and a filed answer."""
    return answer.model_dump_json().encode()


def compute(
    session: Session,
    row: Rfq,
    inputs: Inputs,
    *,
    as_of: date,
    top: int | None,
    eligible_only: bool,
) -> tuple[Comparison, Key]:
    """The comparison, and the key of the rows it was computed from."""
    quotes = recorded_quotes(session, row.id)
    standings = inputs.standings
    if tuple(q.supplier_org_id for q in quotes) != inputs.suppliers:
        standings = _standings(session, [q.supplier_org_id for q in quotes])
    answer = comparison_for(
        session,
        row,
        as_of=as_of,
        standings=standings,
        recorded=quotes,
        top=top,
        eligible_only=eligible_only,
    )
    ids = [(q.quote_id, q.revision) for q in quotes]
    shown = (top, eligible_only)
    return answer, comparison_key(row, as_of, ids, standings, answer.deducts_input_vat, shown)


def stored_body(session: Session, rfq_id: str, view: str, digest: str) -> bytes | None:
    filed = session.scalar(
        select(RfqComparison.body)
        .where(RfqComparison.rfq_id == rfq_id)
        .where(RfqComparison.view == view)
        .where(RfqComparison.key_digest == digest)
    )
    return None if filed is None else unpacked(filed)


def packed(body: bytes) -> bytes:
    """A body as filed: deflated. A JSON body deflates about sixfold, and PostgreSQL's driver
    sends bytea as hex text both ways; filing 0.6 MB raw was 20 ms of a click computing afresh.
    Bodies filed raw before were filed under other digests (``key_digest``): computed again
    once, at the next click."""
    return zlib.compress(body, _LEVEL)


def unpacked(filed: bytes) -> bytes | None:
    """A filed body's JSON; None when it does not inflate (damaged: computed again)."""
    try:
        return zlib.decompress(filed)
    except zlib.error:
        return None


# Deflate's fastest: a 0.6 MB body to 105 KB in 4 ms (level 6: 78 KB in 11 ms).
_LEVEL = 1


def store_body(session: Session, rfq_id: str, view: str, digest: str, body: bytes) -> None:
    """File ``body`` as the view's answer (in the caller's transaction), replacing any other."""
    values = {"key_digest": digest, "body": packed(body), "computed_at": datetime.now(UTC)}
    session.execute(
        insert(RfqComparison)
        .values(rfq_id=rfq_id, view=view, **values)
        .on_conflict_do_update(index_elements=["rfq_id", "view"], set_=values)
    )


def store_answer(session: Session, rfq_id: str, view: str, answer: Comparison, key: Key) -> bytes:
    """The answer's body, filed when it is small enough; the caller commits."""
    body = answer_body(answer)
    if sum(len(line.offers) for line in answer.lines) <= STORED_OFFERS:
        store_body(session, rfq_id, view, key_digest(key), body)
    return body


def precompute_buyer_default(session: Session, row: Rfq) -> bool:
    """File the buyer's default answer (a line's best five, on the buyer's VAT basis) as a click
    now would compute it; whether it was computed (not already filed). The caller commits."""
    as_of = buyer_as_of(row)
    inputs = read_inputs(session, row)
    shown = (DEFAULT_TOP, False)
    view = view_of(*shown)
    key = comparison_key(
        row, as_of, inputs.quotes, inputs.standings, inputs.deducts_input_vat, shown
    )
    if stored_body(session, row.id, view, key_digest(key)) is not None:
        return False
    answer, key = compute(session, row, inputs, as_of=as_of, top=DEFAULT_TOP, eligible_only=False)
    store_answer(session, row.id, view, answer, key)
    return True
