"""The comparison route: a line's best five by default, every offer on request, each ranked
against all of them, the figures those of ``rules.quotes`` on the same rows.

The real API over HTTP; the closed RFQ and its active quotes are rows written directly (as the
process records them), seven suppliers quoting three lines, so the default shortens each list.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.routes.rfq_access import MAX_SUPPLIERS
from api.routes.rfqs import DEFAULT_TOP
from bench.comparison import build_case
from contracts.common import Role
from db.models import Rfq
from db.sourcing import comparison_for
from settings import Settings
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


def _every_offer(closed: Closed) -> dict[str, Any]:
    """The comparison with every offer, as ``rules.quotes`` makes it from the same rows."""
    with closed.sessions() as session:
        row = session.get_one(Rfq, closed.rfq_id)
        as_of = min(date.today(), row.quote_deadline.astimezone(UTC).date())
        found: dict[str, Any] = comparison_for(session, row, as_of=as_of).model_dump(mode="json")
        return found


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
