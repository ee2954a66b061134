"""Carriers and their fleet over the real API: who may choose, register, read and retire; bad
input refused naming the field; writes audited; what is registered is what waybills get."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import OrgKind, Role
from db.fleet import fleet_parts
from db.models import AuditEntry, Organisation
from settings import Settings
from tests.harness import carriers as c
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller
from tests.harness.builders import make_org

TODAY = datetime.now(UTC).date()


@dataclass
class Fleet:
    org: Organisation
    manager: TokenCaller  # the carrier's CARRIER user
    dispatcher: TokenCaller  # its LOGISTICS user
    rival: TokenCaller  # another carrier's CARRIER user
    supplier: TokenCaller
    regulator: TokenCaller


@pytest.fixture(scope="module")
def fleet(api_url: str, settings: Settings, sessions: sessionmaker[Session]) -> Fleet:
    def caller(org: Organisation, role: Role) -> TokenCaller:
        return TokenCaller(api_url, settings.jwt_secret, s.member(sessions, org, role))

    org = c.accredited_carrier(sessions, classes=("2", "3", "8"))
    return Fleet(
        org=org,
        manager=caller(org, Role.CARRIER),
        dispatcher=caller(org, Role.LOGISTICS),
        rival=caller(c.accredited_carrier(sessions), Role.CARRIER),
        supplier=caller(make_org(sessions), Role.SUPPLIER),
        regulator=caller(make_org(sessions, kind=OrgKind.REGULATOR), Role.REGULATOR),
    )


def unique_plate() -> str:
    return "苏B" + f"{uuid.uuid4().int % 100000:05d}"


def vehicle(**changes: Any) -> dict[str, Any]:
    return {
        "plate": unique_plate(),
        "plate_colour": "yellow",
        "transport_certificate_number": "苏交运管锡字320200012345号",
        "permitted_classes": ["3", "8"],
        "inspection_valid_until": (TODAY + timedelta(days=200)).isoformat(),
        "max_load_kg": "20000",
        "trailer_plate": "苏B6789挂",
        "trailer_certificate_number": "苏交运管锡字320200012346号",
        "tank_number": "TK-2024-0042",
        "tank_volume_litres": "24000",
    } | changes


def crew(role: str = "driver", **changes: Any) -> dict[str, Any]:
    return {
        "name": "王建国" if role == "driver" else "李押运",
        "role": role,
        "qualification_certificate_number": f"32020{uuid.uuid4().int % 10**13:013d}",
        "qualification_categories": ["dg_driver"] if role == "driver" else ["dg_escort"],
        "certificate_expiry": (TODAY + timedelta(days=400)).isoformat(),
        "phone": "+86 139 1234 5678",
    } | changes


async def register(
    who: TokenCaller, org_id: str, kind: str, body: dict[str, Any]
) -> httpx.Response:
    return await who.http.post(f"/carriers/{org_id}/{kind}", json=body)


async def test_the_carrier_registers_its_fleet_and_waybills_get_it(
    fleet: Fleet, sessions: sessionmaker[Session]
) -> None:
    org_id = fleet.org.id
    truck = await register(fleet.manager, org_id, "vehicles", vehicle())
    driver = await register(fleet.manager, org_id, "crew", crew("driver"))
    escort = await register(fleet.manager, org_id, "crew", crew("escort"))
    assert [truck.status_code, driver.status_code, escort.status_code] == [201, 201, 201], (
        truck.text + driver.text + escort.text
    )
    vehicle_id = truck.json()["vehicle_id"]
    assert truck.headers["location"] == f"/carriers/{org_id}/vehicles/{vehicle_id}"
    assert driver.json()["phone"] == "+86 139 1234 5678"

    with sessions() as session:
        parts = fleet_parts(
            session,
            org_id,
            vehicle_id=vehicle_id,
            driver_id=driver.json()["crew_id"],
            escort_id=escort.json()["crew_id"],
        )
        actions = session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.target_id.in_(
                    [vehicle_id, driver.json()["crew_id"], escort.json()["crew_id"]]
                )
            )
        ).all()
    assert parts[0].plate == truck.json()["plate"] and parts[0].tank_number == "TK-2024-0042"
    assert parts[1].name == "王建国" and parts[2].qualification_categories == ("dg_escort",)
    assert sorted(actions) == [
        "fleet.crew_registered",
        "fleet.crew_registered",
        "fleet.vehicle_registered",
    ]
    listed = await fleet.dispatcher.http.get(f"/carriers/{org_id}/vehicles")
    assert listed.status_code == 200 and vehicle_id in [v["vehicle_id"] for v in listed.json()]


@pytest.mark.parametrize(
    ("kind", "body", "status", "field"),
    [
        ("vehicles", vehicle(plate="AB12345"), 422, "plate"),
        ("vehicles", vehicle(plate="苏B1234挂"), 422, "plate"),
        ("vehicles", vehicle(trailer_plate="苏B67890"), 422, "trailer_plate"),
        ("vehicles", vehicle(trailer_certificate_number=None), 422, "trailer_certificate_number"),
        ("vehicles", vehicle(tank_volume_litres=None), 422, "tank_volume_litres"),
        ("vehicles", vehicle(inspection_valid_until="2020-01-01"), 422, "inspection_valid_until"),
        ("vehicles", vehicle(permitted_classes=["3", "6.1"]), 422, "permitted_classes.1"),
        ("vehicles", vehicle(permitted_classes=[]), 422, "permitted_classes"),
        ("vehicles", vehicle(plate_colour=""), 422, "plate_colour"),
        ("vehicles", vehicle(max_load_kg="0"), 422, "max_load_kg"),
        ("vehicles", vehicle(colour="red"), 422, "colour"),
        (
            "crew",
            crew("driver", qualification_categories=["dg_escort"]),
            422,
            "qualification_categories",
        ),
        (
            "crew",
            crew("escort", qualification_categories=["dg_driver"]),
            422,
            "qualification_categories",
        ),
        ("crew", crew(certificate_expiry="2021-06-30"), 422, "certificate_expiry"),
        ("crew", crew(role="loader"), 422, "role"),
        ("crew", crew(phone="call me"), 422, "phone"),
        ("crew", crew(name=""), 422, "name"),
    ],
    ids=[
        "plate-malformed",
        "plate-is-a-trailer",
        "trailer-plate-without-挂",
        "trailer-without-certificate",
        "tank-without-volume",
        "inspection-expired",
        "class-outside-licence",
        "no-classes",
        "no-plate-colour",
        "no-load",
        "unknown-field",
        "driver-without-dg_driver",
        "escort-without-dg_escort",
        "certificate-expired",
        "unknown-role",
        "phone",
        "no-name",
    ],
)
async def test_bad_input_is_refused_naming_the_field(
    fleet: Fleet, kind: str, body: dict[str, Any], status: int, field: str
) -> None:
    answer = await register(fleet.manager, fleet.org.id, kind, body)

    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == field


async def test_a_plate_or_a_person_is_registered_once_while_in_service(fleet: Fleet) -> None:
    org_id = fleet.org.id
    truck = vehicle()
    first = await register(fleet.manager, org_id, "vehicles", truck)
    again = await register(fleet.manager, org_id, "vehicles", truck)
    assert first.status_code == 201 and again.status_code == 409
    assert again.json()["errors"] == [
        {"field": "plate", "rule": f"{truck['plate']} is already registered"}
    ]
    person = crew("escort")
    assert (await register(fleet.manager, org_id, "crew", person)).status_code == 201
    # The same certificate in another spelling, now as a driver: still the same person.
    number = person["qualification_certificate_number"]
    same = crew("driver", qualification_certificate_number=f" {number[:6]} {number[6:]}")
    twice = await register(fleet.manager, org_id, "crew", same)
    assert twice.status_code == 409, twice.text
    assert twice.json()["errors"][0]["field"] == "qualification_certificate_number"

    vehicle_id = first.json()["vehicle_id"]
    retired = await fleet.manager.http.delete(f"/carriers/{org_id}/vehicles/{vehicle_id}")
    assert retired.status_code == 204
    assert (
        await fleet.manager.http.delete(f"/carriers/{org_id}/vehicles/{vehicle_id}")
    ).status_code == 204  # retiring twice changes nothing
    assert (await register(fleet.manager, org_id, "vehicles", truck)).status_code == 201
    plates = [
        v["plate"] for v in (await fleet.manager.http.get(f"/carriers/{org_id}/vehicles")).json()
    ]
    assert plates.count(truck["plate"]) == 1
    everything = await fleet.manager.http.get(
        f"/carriers/{org_id}/vehicles", params={"include_retired": "true"}
    )
    assert [v["plate"] for v in everything.json()].count(truck["plate"]) == 2


async def test_only_the_carriers_own_users_see_and_change_its_fleet(fleet: Fleet) -> None:
    org_id = fleet.org.id
    made = await register(fleet.manager, org_id, "crew", crew())
    crew_id = made.json()["crew_id"]

    # Its dispatcher reads but does not write.
    assert (await fleet.dispatcher.http.get(f"/carriers/{org_id}/crew")).status_code == 200
    assert (await register(fleet.dispatcher, org_id, "vehicles", vehicle())).status_code == 403
    assert (
        await fleet.dispatcher.http.delete(f"/carriers/{org_id}/crew/{crew_id}")
    ).status_code == 403
    # To another carrier, a supplier or a regulator the carrier's fleet does not exist.
    for outsider in (fleet.rival, fleet.supplier, fleet.regulator):
        assert (await outsider.http.get(f"/carriers/{org_id}/crew")).status_code == 404
        assert (await register(outsider, org_id, "crew", crew())).status_code == 404
        assert (await outsider.http.get(f"/carriers/{org_id}/fleet/expiring")).status_code == 404
    # Nor is one carrier's crew member retired through another's path.
    rival_path = f"/carriers/{fleet.rival.org_id}/crew/{crew_id}"
    assert (await fleet.rival.http.delete(rival_path)).status_code == 404
    assert (
        await fleet.manager.http.delete(f"/carriers/{org_id}/crew/{crew_id}")
    ).status_code == 204


async def test_accredited_carriers_are_listed_for_those_who_choose_one(
    fleet: Fleet, sessions: sessionmaker[Session]
) -> None:
    suspended = c.accredited_carrier(sessions, status="suspended")

    async def listed(**params: Any) -> list[str]:
        answer = await fleet.supplier.http.get("/carriers", params={"limit": 500, **params})
        assert answer.status_code == 200, answer.text
        return [row["org_id"] for row in answer.json()]

    everyone = await listed()
    assert fleet.org.id in everyone and suspended.id not in everyone
    # Its licence names class 2, which covers division 2.3; it names no 6.1.
    assert fleet.org.id in await listed(hazard_class=["2.3", "8"])
    assert fleet.org.id not in await listed(hazard_class=["6.1"])
    row = next(
        r
        for r in (await fleet.supplier.http.get("/carriers", params={"limit": 500})).json()
        if r["org_id"] == fleet.org.id
    )
    assert row["permitted_classes"] == ["2", "3", "8"] and row["legal_name"] == fleet.org.legal_name
    assert (await fleet.regulator.http.get("/carriers")).status_code == 403
    bad = await fleet.supplier.http.get("/carriers", params={"hazard_class": "10"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("hazard_class")


async def test_expiries_soon_are_listed_soonest_first(fleet: Fleet) -> None:
    org_id = fleet.org.id
    today = datetime.now(UTC).date()  # not TODAY: the run may have crossed midnight since import
    soon = (today + timedelta(days=10)).isoformat()
    later = (today + timedelta(days=20)).isoformat()
    truck = await register(fleet.manager, org_id, "vehicles", vehicle(inspection_valid_until=later))
    person = await register(fleet.manager, org_id, "crew", crew(certificate_expiry=soon))

    async def expiring(days: int) -> list[tuple[str, int]]:
        answer = await fleet.dispatcher.http.get(
            f"/carriers/{org_id}/fleet/expiring", params={"within_days": days}
        )
        assert answer.status_code == 200, answer.text
        return [(e["id"], e["days_left"]) for e in answer.json()["expiring"]]

    month = await expiring(30)
    assert (person.json()["crew_id"], 10) in month and (truck.json()["vehicle_id"], 20) in month
    assert month.index((person.json()["crew_id"], 10)) < month.index(
        (truck.json()["vehicle_id"], 20)
    )
    assert [entry for entry, _ in await expiring(5)] == []
    too_far = await fleet.dispatcher.http.get(
        f"/carriers/{org_id}/fleet/expiring", params={"within_days": 1000}
    )
    assert too_far.status_code == 422 and too_far.json()["errors"][0]["field"] == "within_days"


async def test_vehicles_page_by_plate(
    api_url: str, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    org = c.accredited_carrier(sessions)
    manager = TokenCaller(api_url, settings.jwt_secret, s.member(sessions, org, Role.CARRIER))
    plates = sorted(unique_plate() for _ in range(3))
    for plate in plates:
        c.add_vehicle(sessions, org.id, plate=plate)

    first = await manager.http.get(f"/carriers/{org.id}/vehicles", params={"limit": 2})
    cursor = first.headers["x-next-cursor"]
    rest = await manager.http.get(
        f"/carriers/{org.id}/vehicles", params={"limit": 2, "cursor": cursor}
    )

    assert [v["plate"] for v in first.json() + rest.json()] == plates
    assert "x-next-cursor" not in rest.headers
