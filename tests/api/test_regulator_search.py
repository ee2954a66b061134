"""The regulator's search as indexed for millions of waybills (issue 13, part 3), and its reads'
audit: one entry a list read, naming the query and the page it disclosed.

The real API over HTTP. The carrier's name is matched folded (spacing, case and full-width forms
forgiven, as the workbench's search; migration 0017 indexes ``tradeflow_fold(carrier_name)``), the
plate by its key without separators. Every search is narrowed to the test's rows by a carrier
name unique to it, since the database is shared.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import OrgKind, Role
from db.models import AuditEntry
from db.session import transaction
from settings import Settings
from tests.harness import listings
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller
from tests.harness.builders import make_org


@dataclass
class Filed:
    regulator: TokenCaller
    tag: str  # in the carrier's name, unique to the test
    carrier_name: str
    numbers: list[str]  # latest filed first


def _full_width(text: str) -> str:
    """ASCII letters and digits as a Chinese keyboard types them (U+FF01 onwards)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.fixture(scope="module")
async def filed(
    api_url: str, settings: Settings, sessions: sessionmaker[Session]
) -> AsyncIterator[Filed]:
    buyer_org = make_org(sessions, kind=OrgKind.BUYER)
    supplier_org = make_org(sessions)
    (order_id,) = listings.orders(sessions, buyer_org.id, supplier_org.id, 1)
    document_id = listings.document(sessions, supplier_org.id)
    tag = uuid.uuid4().hex[:8]
    carrier_name = f"Anda Hazmat {tag} 运输有限公司"
    now = datetime.now(UTC)
    numbers = []
    with transaction(sessions) as session:
        for minutes_ago, plate in ((1, "苏E·A8231"), (2, "苏E-B7710"), (3, "苏E C0001")):
            number = f"WB{uuid.uuid4().hex[:12].upper()}"
            numbers.append(number)
            session.add(
                listings.filed_waybill(
                    number,
                    order_id,
                    document_id,
                    now - timedelta(minutes=minutes_ago),
                    carrier_name=carrier_name,
                    vehicle_plate=plate,
                )
            )
    regulator = TokenCaller(
        api_url,
        settings.jwt_secret,
        s.member(sessions, make_org(sessions, kind=OrgKind.REGULATOR), Role.REGULATOR),
    )
    yield Filed(regulator, tag, carrier_name, numbers)
    await regulator.http.aclose()


async def _found(filed: Filed, **params: str) -> list[str]:
    answer = await filed.regulator.http.get("/regulator/waybills", params=params)
    assert answer.status_code == 200, answer.text
    return [row["waybill_number"] for row in answer.json()]


async def test_the_carrier_is_found_however_its_name_is_typed(filed: Filed) -> None:
    for typed in (
        filed.carrier_name,
        f"hazmat {filed.tag}",  # part of it, another case
        _full_width(f"ANDA HAZMAT {filed.tag.upper()}"),  # full-width, upper case
        f"Anda\u3000Hazmat{filed.tag}运输",  # an ideographic space, none before the tag
    ):
        assert await _found(filed, carrier=typed) == filed.numbers, typed


async def test_like_s_wildcards_in_the_carrier_are_literal(filed: Filed) -> None:
    assert await _found(filed, carrier=f"Anda%{filed.tag}") == []
    assert await _found(filed, carrier=f"Anda_Hazmat {filed.tag}") == []


async def test_a_plate_matches_whatever_separators_and_case_it_is_typed_with(
    filed: Filed,
) -> None:
    for typed, index in (("苏ea8231", 0), ("苏E B7710", 1), ("苏E·C·0001", 2), ("苏e-c-0001", 2)):
        found = await _found(filed, carrier=filed.tag, vehicle_plate=typed)
        assert found == [filed.numbers[index]], typed


def _reads(sessions: sessionmaker[Session], user_id: str) -> list[AuditEntry]:
    with sessions() as session:
        query = (
            select(AuditEntry)
            .where(AuditEntry.actor_user_id == user_id, AuditEntry.action == "regulator.listed")
            .order_by(AuditEntry.id)
        )
        return list(session.scalars(query))


async def test_each_list_read_is_audited_once_naming_its_query_and_page(
    filed: Filed, sessions: sessionmaker[Session]
) -> None:
    before = len(_reads(sessions, filed.regulator.user_id))
    params: dict[str, Any] = {"carrier": filed.tag, "limit": "2"}
    first = await filed.regulator.http.get("/regulator/waybills", params=params)
    cursor = first.headers["X-Next-Cursor"]
    second = await filed.regulator.http.get(
        "/regulator/waybills", params={**params, "cursor": cursor}
    )
    assert second.status_code == 200 and "X-Next-Cursor" not in second.headers
    reads = _reads(sessions, filed.regulator.user_id)[before:]
    # One entry a read, whatever the page's length: not one a row.
    assert [entry.detail for entry in reads] == [
        {
            "filters": {"carrier": filed.tag},
            "cursor": None,
            "limit": 2,
            "results": 2,
            "first": filed.numbers[0],
            "last": filed.numbers[1],
        },
        {
            "filters": {"carrier": filed.tag},
            "cursor": cursor,
            "limit": 2,
            "results": 1,
            "first": filed.numbers[2],
            "last": filed.numbers[2],
        },
    ]
    assert all(entry.actor_org_id == filed.regulator.org_id for entry in reads)
