"""The comparison route: a line's best five by default, every offer on request, each ranked
against all of them, the figures those of ``rules.quotes`` on the same rows.

The real API over HTTP; the closed RFQ and its active quotes are rows written directly (as the
process records them), seven suppliers quoting three lines, so the default shortens each list.
The route keeps answers (``api.comparison_cache``): after a quote revision, a standing change or
a change of the buyer's VAT basis a click shows what ``rules.quotes`` makes of the rows then,
never the answer kept before. The ranking activity files the buyer's default answer as quoting
closes (``db.comparison_store``): the first click serves its bytes without reading a quote.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, event, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.sourcing_records import SourcingRecords
from api import comparison_cache
from api.comparison_cache import CACHE, ComparisonCache, KeptAnswer
from api.routes.rfq_access import MAX_SUPPLIERS
from bench.comparison import build_case
from contracts.common import Role
from contracts.sourcing import Comparison, RankInput
from db import comparison_store
from db.comparison_store import DEFAULT_TOP, key_digest, unpacked
from db.models import Organisation, QuoteRecord, Rfq, RfqComparison
from db.session import transaction
from db.sourcing import (
    comparison_for,
    current_standings,
    quote_of,
    quotes_named,
    recorded_quotes,
    rfq_input,
)
from rules.quote_pricing import RecordedQuote, price_quote, rfq_lines
from rules.quotes import compare
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller
from tests.harness.builders import make_org
from tests.harness.comparison_rows import closed_rfq

SUPPLIERS = 7


@dataclass
class Closed:
    buyer: TokenCaller
    rfq_id: str
    sessions: sessionmaker[Session]


@pytest.fixture(scope="module")
def closed(api_url: str, settings: Settings, sessions: sessionmaker[Session]) -> Iterator[Closed]:
    buyer_org = s.buyer_org(sessions)
    suppliers = [make_org(sessions).id for _ in range(SUPPLIERS)]
    case = build_case(suppliers=SUPPLIERS, lines=3, share=1.0)
    rfq_id = f"rfq_compare_{buyer_org.id[-12:]}"
    rfq = case.rfq.model_copy(update={"rfq_id": rfq_id, "buyer_org_id": buyer_org.id})
    closed_rfq(sessions, rfq, case.quotes, suppliers)
    buyer = TokenCaller(api_url, settings.jwt_secret, s.member(sessions, buyer_org, Role.BUYER))
    yield Closed(buyer, rfq_id, sessions)


def _every_offer(closed: Closed, *, top: int | None = None) -> dict[str, Any]:
    """The comparison with every offer (or ``top``), as ``rules.quotes`` makes it from the same
    rows now."""
    with closed.sessions() as session:
        row = session.get_one(Rfq, closed.rfq_id)
        as_of = min(date.today(), row.quote_deadline.astimezone(UTC).date())
        found = comparison_for(session, row, as_of=as_of, top=top)
        return found.model_dump(mode="json")


async def test_compare_shows_a_lines_best_five_ranked_against_every_offer(closed: Closed) -> None:
    answer = await closed.buyer.http.get(f"/rfqs/{closed.rfq_id}/comparison")
    assert answer.status_code == 200, answer.text
    every = _every_offer(closed)
    lines = answer.json()["lines"]
    assert [line["line_id"] for line in lines] == [line["line_id"] for line in every["lines"]]
    for line, whole in zip(lines, every["lines"], strict=True):
        assert len(whole["offers"]) == SUPPLIERS
        assert [o["rank"] for o in line["offers"]] == list(range(1, DEFAULT_TOP + 1))
        assert line["offers"] == whole["offers"][:DEFAULT_TOP]


async def test_top_at_the_most_suppliers_shows_every_offer(closed: Closed) -> None:
    answer = await closed.buyer.http.get(
        f"/rfqs/{closed.rfq_id}/comparison", params={"top": MAX_SUPPLIERS}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["lines"] == _every_offer(closed)["lines"]
    two = await closed.buyer.http.get(f"/rfqs/{closed.rfq_id}/comparison", params={"top": 2})
    assert [[o["rank"] for o in line["offers"]] for line in two.json()["lines"]] == [[1, 2]] * 3


@pytest.mark.parametrize("top", [0, MAX_SUPPLIERS + 1])
async def test_top_out_of_range_is_refused_naming_it(closed: Closed, top: int) -> None:
    answer = await closed.buyer.http.get(f"/rfqs/{closed.rfq_id}/comparison", params={"top": top})
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "top" in answer.text


def test_active_quotes_read_as_text_are_the_rows_contracts(closed: Closed) -> None:
    with closed.sessions() as session:
        rows = session.scalars(
            select(QuoteRecord)
            .where(QuoteRecord.rfq_id == closed.rfq_id)
            .order_by(QuoteRecord.supplier_org_id)
        ).all()
        active = quotes_named(session, [row.id for row in rows])
        assert active == [quote_of(row) for row in rows]
        # Each revision's figures as recorded, priced against the RFQ's lines, read back.
        lines = rfq_lines(rfq_input(session.get_one(Rfq, closed.rfq_id)))
        assert recorded_quotes(session, closed.rfq_id) == [
            RecordedQuote(q.quote_id, q.supplier_org_id, q.revision, price_quote(q.terms, lines))
            for q in active
        ]


async def test_a_kept_answer_gives_way_to_a_revision_and_a_standing_change(
    api_url: str,
    settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    buyer_org = s.buyer_org(sessions)
    suppliers = [s.accredited_supplier(sessions, store).id for _ in range(4)]
    case = build_case(suppliers=4, lines=2, share=1.0)
    rfq_id = f"rfq_kept_{buyer_org.id[-12:]}"
    rfq = case.rfq.model_copy(update={"rfq_id": rfq_id, "buyer_org_id": buyer_org.id})
    closed_rfq(sessions, rfq, case.quotes, suppliers)
    buyer = TokenCaller(api_url, settings.jwt_secret, s.member(sessions, buyer_org, Role.BUYER))
    changed = Closed(buyer, rfq_id, sessions)
    url = f"/rfqs/{rfq_id}/comparison"

    async def shown() -> dict[str, Any]:
        answer = await buyer.http.get(url, params={"top": 3})
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        assert found["lines"] == _every_offer(changed, top=3)["lines"]
        return found

    first = await shown()
    hits = CACHE.hits
    serialised: list[Comparison] = []

    def answer_body(answer: Comparison) -> bytes:
        serialised.append(answer)
        return comparison_store.answer_body(answer)

    with monkeypatch.context() as patched:
        patched.setattr(comparison_cache, "answer_body", answer_body)
        assert await shown() == first
    assert CACHE.hits == hits + 1  # the second click served the kept answer
    assert serialised == []  # as the body the first click made, not serialised again

    # Revision 2 of the best offer of the first line: ten times its price.
    best = first["lines"][0]["offers"][0]
    with transaction(sessions) as session:
        old = session.get_one(QuoteRecord, best["quote_id"])
        terms = dict(old.terms)
        terms["lines"] = [
            {**line, "unit_price": str(10 * Decimal(line["unit_price"])), "price_breaks": []}
            for line in terms["lines"]
        ]
        session.execute(
            update(QuoteRecord).where(QuoteRecord.id == old.id).values(status="superseded")
        )
        session.add(
            QuoteRecord(
                id=f"{old.id}:r2",
                rfq_id=rfq_id,
                supplier_org_id=old.supplier_org_id,
                revision=2,
                status="active",
                terms=terms,
                submitted_by="usr_test",
                submitted_at=old.submitted_at,
            )
        )
    with terms_read() as reads:  # a revision without kept figures (recorded before 0027)
        revised = await shown()
    assert len(reads) == 2  # so the route (and _every_offer) read the terms, and price afresh
    assert revised != first
    assert revised["lines"][0]["offers"][0]["quote_id"] != best["quote_id"]

    s.set_standing(sessions, revised["lines"][0]["offers"][0]["supplier_org_id"], "suspended")
    suspended = await shown()
    assert suspended != revised

    # The buyer turns out a small-scale taxpayer: it compares including VAT.
    with transaction(sessions) as session:
        session.execute(
            update(Organisation)
            .where(Organisation.id == buyer_org.id)
            .values(deducts_input_vat=False)
        )
    including = await shown()
    assert (suspended["deducts_input_vat"], including["deducts_input_vat"]) == (True, False)


def test_kept_answers_are_bounded_by_the_offers_they_show() -> None:
    case = build_case(suppliers=3, lines=2, share=1.0)
    six = compare(case.rfq, case.quotes, as_of=date(2026, 1, 1), supplier_scores={})
    assert sum(len(line.offers) for line in six.lines) == 6
    cache = ComparisonCache(offers=12)
    cache.put(("a",), six)
    cache.put(("b",), six)
    assert cache.get(("a",)) is six  # now the most recent: "b" is the oldest
    cache.put(("c",), six)
    assert (cache.get(("b",)), cache.get(("a",)), cache.get(("c",))) == (None, six, six)
    cache.put(
        ("big",), compare(case.rfq, case.quotes * 3, as_of=date(2026, 1, 1), supplier_scores={})
    )
    assert cache.get(("big",)) is None  # 18 offers: served, never kept
    assert (cache.hits, cache.misses) == (3, 2)
    cache.keep_body(("a",), b"{}")
    cache.keep_body(("big",), b"{}")  # no answer kept: no body either
    assert [cache.kept(key) for key in [("a",), ("big",)]] == [KeptAnswer(six, 6, b"{}"), None]


@contextmanager
def terms_read() -> Iterator[list[str]]:
    """The statements reading quote terms (``db.sourcing._quotes``) while the block runs, in this
    process (the API server's too)."""
    seen: list[str] = []

    def listen(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if "CAST(quotes.terms AS TEXT)" in statement:
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", listen)


def _filed(sessions: sessionmaker[Session], rfq_id: str) -> RfqComparison | None:
    with sessions() as session:
        return session.scalar(select(RfqComparison).where(RfqComparison.rfq_id == rfq_id))


async def test_the_first_click_after_close_serves_the_answer_filed_by_the_ranking(
    api_url: str, settings: Settings, sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    buyer_org = s.buyer_org(sessions)
    suppliers = [s.accredited_supplier(sessions, store).id for _ in range(SUPPLIERS)]
    case = build_case(suppliers=SUPPLIERS, lines=3, share=1.0)
    rfq_id = f"rfq_filed_{buyer_org.id[-12:]}"
    rfq = case.rfq.model_copy(update={"rfq_id": rfq_id, "buyer_org_id": buyer_org.id})
    closed_rfq(sessions, rfq, case.quotes, suppliers)
    buyer = TokenCaller(api_url, settings.jwt_secret, s.member(sessions, buyer_org, Role.BUYER))
    filed = Closed(buyer, rfq_id, sessions)
    url = f"/rfqs/{rfq_id}/comparison"

    # Quoting closes: the workflow's ranking activity files the buyer's default answer.
    with sessions() as session:
        standings = current_standings(session, sorted(suppliers))
    request = RankInput(
        rfq_id=rfq_id, as_of=date.today(), line_ids=("L1",), standings=standings, top=3
    )
    records = SourcingRecords(sessions)
    ActivityEnvironment().run(records.rank_quotes, request)
    row = _filed(sessions, rfq_id)
    assert row is not None
    ActivityEnvironment().run(records.rank_quotes, request)  # a retry files nothing new
    again = _filed(sessions, rfq_id)
    assert again is not None and again.computed_at == row.computed_at

    CACHE.clear()
    with terms_read() as reads:
        first = await buyer.http.get(url)
    assert first.status_code == 200, first.text
    assert reads == []  # no quote was read: the filed bytes answered
    assert first.content == unpacked(row.body) != row.body  # filed deflated
    assert first.json()["lines"] == _every_offer(filed, top=DEFAULT_TOP)["lines"]

    # A filed body that does not inflate (damaged) is computed again, not served.
    with transaction(sessions) as session:
        session.execute(
            update(RfqComparison).where(RfqComparison.rfq_id == rfq_id).values(body=b"{}")
        )
    CACHE.clear()
    again_computed = await buyer.http.get(url)
    assert again_computed.content == first.content
    mended = _filed(sessions, rfq_id)
    assert mended is not None and unpacked(mended.body) == first.content

    # The same bytes as an answer computed afresh, which files itself in its place.
    with transaction(sessions) as session:
        session.execute(delete(RfqComparison).where(RfqComparison.rfq_id == rfq_id))
    CACHE.clear()
    with terms_read() as reads:
        computed = await buyer.http.get(url)
    assert reads == []  # computed from the figures kept as the quotes were recorded
    assert computed.content == first.content
    refiled = _filed(sessions, rfq_id)
    assert refiled is not None and unpacked(refiled.body) == first.content

    # A standing changes: the filed key no longer matches, so the click computes.
    best = first.json()["lines"][0]["offers"][0]["supplier_org_id"]
    s.set_standing(sessions, best, "suspended")
    CACHE.clear()
    with terms_read() as reads:
        stale = await buyer.http.get(url)
    assert reads == []
    assert stale.content != first.content
    assert stale.json()["lines"] == _every_offer(filed, top=DEFAULT_TOP)["lines"]
    newest = _filed(sessions, rfq_id)
    assert newest is not None and unpacked(newest.body) == stale.content
    assert newest.key_digest != row.key_digest


def test_answers_filed_raw_before_they_were_deflated_are_never_matched() -> None:
    """Code filing bodies raw (before 2026-12-06, or beside this version in a rolling
    upgrade) digests a key without the filing's name, so neither serves the other's bodies."""
    key = ("rfq_1", "2026-12-06", (("quote_1", 1),))
    raw = hashlib.sha256(json.dumps(key, default=str).encode()).hexdigest()
    assert key_digest(key) != raw and len(key_digest(key)) == 64
