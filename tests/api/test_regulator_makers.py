"""The regulator sees who made each filed e-waybill (issue 9, section 3: the carrier makes the
waybill, Order No. 29 of 2019 art. 24) and searches by its maker.

The real API over HTTP. Filed waybills are written directly, with the maker columns set as
sealing writes them: two made by one carrier's dispatcher, one by another carrier, one filed
before carriers made waybills (no maker). Every search is narrowed to the test's own rows by a
carrier name unique to it, since the database is shared.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import OrgKind, Role
from db.models import AuditEntry, Order, Organisation
from db.session import transaction
from settings import Settings
from tests.harness import listings
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller
from tests.harness.builders import make_org

DISPATCHER = "调度员 李强"
# The columns an export had before makers, in their order: readers by position keep working.
COLUMNS_BEFORE_MAKERS = [
    "waybill_number",
    "status",
    "receipt_number",
    "filed_at",
    "dispatch_date",
    "consignor_name",
    "consignee_name",
    "carrier_name",
    "vehicle_plate",
    "un_numbers",
    "hazard_classes",
]


@dataclass
class Filed:
    """The test's regulator, its carriers and its filed waybills by who made them."""

    regulator: TokenCaller
    carrier_name: str  # on every row of the test's, to narrow each search to them
    maker: Organisation
    other_maker: Organisation
    made: list[str]  # by ``maker``'s dispatcher, latest filed first
    made_by_other: str
    unmade: str  # filed before carriers made waybills


def _filed_waybill(
    sessions: sessionmaker[Session],
    *,
    order_id: str,
    document_id: str,
    carrier_name: str,
    filed_at: datetime,
    maker: Organisation | None,
    dispatcher: str,
) -> str:
    number = f"WB{uuid.uuid4().hex[:12].upper()}"
    with transaction(sessions) as session:
        session.add(
            listings.filed_waybill(
                number,
                order_id,
                document_id,
                filed_at,
                consignor_name="江苏恒信化工有限公司",
                consignee_name="华东精细化工贸易有限公司",
                carrier_name=carrier_name,
                vehicle_plate="苏E·A8231",
                made_by_org_id=maker.id if maker is not None else None,
                made_by=dispatcher,
            )
        )
    return number


@pytest.fixture(scope="module")
async def filed(
    api_url: str, settings: Settings, sessions: sessionmaker[Session]
) -> AsyncIterator[Filed]:
    buyer_org = make_org(sessions, kind=OrgKind.BUYER)
    supplier_org = make_org(sessions)
    maker = make_org(sessions, kind=OrgKind.CARRIER)
    other_maker = make_org(sessions, kind=OrgKind.CARRIER)
    (order_id,) = listings.orders(sessions, buyer_org.id, supplier_org.id, 1)
    with transaction(sessions) as session:
        # The carrier's order, as confirmation records it: the order is not a filed waybill.
        session.get_one(Order, order_id).carrier_org_id = maker.id
    document_id = listings.document(sessions, supplier_org.id)
    carrier_name = f"Maker Haulage {uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)

    def waybill(minutes_ago: int, maker_org: Organisation | None, dispatcher: str) -> str:
        return _filed_waybill(
            sessions,
            order_id=order_id,
            document_id=document_id,
            carrier_name=carrier_name,
            filed_at=now - timedelta(minutes=minutes_ago),
            maker=maker_org,
            dispatcher=dispatcher,
        )

    made = [waybill(1, maker, DISPATCHER), waybill(2, maker, DISPATCHER)]
    made_by_other = waybill(3, other_maker, "")
    unmade = waybill(4, None, "")
    regulator = TokenCaller(
        api_url,
        settings.jwt_secret,
        s.member(sessions, make_org(sessions, kind=OrgKind.REGULATOR), Role.REGULATOR),
    )
    yield Filed(regulator, carrier_name, maker, other_maker, made, made_by_other, unmade)
    await regulator.http.aclose()


async def _listed(filed: Filed, **filters: str) -> list[dict[str, Any]]:
    answer = await filed.regulator.http.get(
        "/regulator/waybills", params={"carrier": filed.carrier_name, **filters}
    )
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()
    return rows


def _problems(answer: httpx.Response) -> dict[str, str]:
    return {p["field"]: p["rule"] for p in answer.json()["errors"]}


async def test_each_listed_waybill_names_its_maker_or_none(filed: Filed) -> None:
    rows = {row["waybill_number"]: row for row in await _listed(filed)}
    assert set(rows) == {*filed.made, filed.made_by_other, filed.unmade}
    for number in filed.made:
        assert rows[number]["made_by"] == {
            "org_id": filed.maker.id,
            "name": filed.maker.legal_name,
            "dispatcher": DISPATCHER,
        }
    assert rows[filed.made_by_other]["made_by"] == {
        "org_id": filed.other_maker.id,
        "name": filed.other_maker.legal_name,
        "dispatcher": "",
    }
    assert rows[filed.unmade]["made_by"] is None  # filed before carriers made waybills


async def test_the_search_finds_a_maker_s_filed_waybills_and_nothing_else(filed: Filed) -> None:
    found = await _listed(filed, made_by_org_id=filed.maker.id)
    assert [row["waybill_number"] for row in found] == filed.made  # latest filed first
    other = await _listed(filed, made_by_org_id=filed.other_maker.id)
    assert [row["waybill_number"] for row in other] == [filed.made_by_other]
    # Filters combine: the maker's waybills of another carrier name are none of these.
    answer = await filed.regulator.http.get(
        "/regulator/waybills",
        params={"carrier": "no such carrier", "made_by_org_id": filed.maker.id},
    )
    assert answer.status_code == 200 and answer.json() == []
    assert await _listed(filed, made_by_org_id=f"org_unknown_{uuid.uuid4().hex[:8]}") == []


async def test_a_malformed_maker_filter_is_refused_naming_it(filed: Filed) -> None:
    for value in ("", "x" * 41, "org_\x00"):
        answer = await filed.regulator.http.get(
            "/regulator/waybills", params={"made_by_org_id": value}
        )
        assert answer.status_code == 422, (value, answer.text)
        assert "made_by_org_id" in _problems(answer), value


async def test_the_export_adds_the_maker_as_its_last_column(filed: Filed) -> None:
    answer = await filed.regulator.http.get(
        "/regulator/waybills.csv", params={"carrier": filed.carrier_name}
    )
    assert answer.status_code == 200, answer.text
    table = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert table[0] == [*COLUMNS_BEFORE_MAKERS, "made_by"]
    made_by = {row[0]: row[-1] for row in table[1:]}
    assert made_by == {
        **dict.fromkeys(filed.made, f"{filed.maker.legal_name} · {DISPATCHER}"),
        filed.made_by_other: filed.other_maker.legal_name,
        filed.unmade: "",
    }
    only = await filed.regulator.http.get(
        "/regulator/waybills.csv",
        params={"carrier": filed.carrier_name, "made_by_org_id": filed.other_maker.id},
    )
    rows = list(csv.DictReader(io.StringIO(only.content.decode("utf-8-sig"))))
    assert [(r["waybill_number"], r["made_by"]) for r in rows] == [
        (filed.made_by_other, filed.other_maker.legal_name)
    ]


async def test_the_record_names_its_maker(filed: Filed) -> None:
    made = await filed.regulator.http.get(f"/regulator/waybills/{filed.made[0]}")
    assert made.status_code == 200, made.text
    assert made.json()["made_by"] == {
        "org_id": filed.maker.id,
        "name": filed.maker.legal_name,
        "dispatcher": DISPATCHER,
    }
    unmade = await filed.regulator.http.get(f"/regulator/waybills/{filed.unmade}")
    assert unmade.status_code == 200 and unmade.json()["made_by"] is None


async def test_the_maker_filter_is_audited(filed: Filed, sessions: sessionmaker[Session]) -> None:
    await _listed(filed, made_by_org_id=filed.maker.id)
    with sessions() as session:
        details = session.scalars(
            select(AuditEntry.detail).where(
                AuditEntry.actor_user_id == filed.regulator.user_id,
                AuditEntry.action == "regulator.listed",
            )
        ).all()
    assert any(d["filters"].get("made_by_org_id") == filed.maker.id for d in details)
