"""db.fleet on real PostgreSQL: whether a carrier may carry, its waybill block, its fleet parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import OrgKind
from db.fleet import (
    CarrierCrewMember,
    FleetProblem,
    carrier_problem,
    fleet_parts,
    waybill_carrier,
)
from db.session import transaction
from tests.harness import builders as b
from tests.harness import carriers as c

TODAY = datetime.now(UTC).date()


def test_an_accredited_carrier_with_a_covering_licence_has_no_problem(
    sessions: sessionmaker[Session],
) -> None:
    org = c.accredited_carrier(sessions, classes=("2", "3", "8"))
    with sessions() as session:
        # A whole class covers its divisions (rules.waybill_load.covers).
        assert carrier_problem(session, org.id, {"2.3", "3", "8"}, TODAY) is None
        assert carrier_problem(session, org.id, (), TODAY) is None


def test_a_class_outside_the_licence_is_named(sessions: sessionmaker[Session]) -> None:
    org = c.accredited_carrier(sessions, classes=("2.1", "3"))
    with sessions() as session:
        problem = carrier_problem(session, org.id, ["3", "2.3", "6.1"], TODAY)
    assert problem is not None
    assert problem.startswith(f"carrier: {org.legal_name}'s licence ")
    assert "does not cover class 2.3, 6.1" in problem


def test_an_organisation_that_is_no_carrier_is_refused(sessions: sessionmaker[Session]) -> None:
    supplier = b.make_org(sessions)
    with sessions() as session:
        assert carrier_problem(session, supplier.id, ["3"], TODAY) == (
            f"carrier: {supplier.id} is not a carrier organisation"
        )
        assert carrier_problem(session, "org_nobody", ["3"], TODAY) == (
            "carrier: org_nobody is not a carrier organisation"
        )


def test_a_carrier_never_accredited_or_suspended_is_refused(
    sessions: sessionmaker[Session],
) -> None:
    unaccredited = b.make_org(sessions, kind=OrgKind.CARRIER)
    suspended = c.accredited_carrier(
        sessions, status="suspended", reason="licence expired without a verified renewal"
    )
    with sessions() as session:
        assert carrier_problem(session, unaccredited.id, ["3"], TODAY) == (
            f"carrier: {unaccredited.legal_name} is not an accredited carrier"
        )
        assert carrier_problem(session, suspended.id, ["3"], TODAY) == (
            f"carrier: {suspended.legal_name} is not an accredited carrier (it is suspended: "
            "licence expired without a verified renewal)"
        )


def test_the_licence_is_valid_through_its_expiry_day(sessions: sessionmaker[Session]) -> None:
    expiry = TODAY + timedelta(days=10)
    org = c.accredited_carrier(sessions, licence_expiry=expiry)
    with sessions() as session:
        assert carrier_problem(session, org.id, ["3"], expiry) is None
        late = carrier_problem(session, org.id, ["3"], expiry + timedelta(days=1))
    assert late is not None and late.endswith(f"expired on {expiry}")


def test_the_waybill_carrier_block_comes_from_the_organisation_and_licence(
    sessions: sessionmaker[Session],
) -> None:
    org = c.accredited_carrier(sessions, classes=("3", "8"))
    with sessions() as session:
        carrier = waybill_carrier(session, org.id)
    assert carrier.name == org.legal_name and carrier.credit_code == org.credit_code
    assert carrier.phone == "+86 510 8888 1234"
    assert carrier.permitted_classes == ("3", "8")
    assert carrier.road_transport_permit_number.startswith("3202003")
    with sessions() as session, pytest.raises(FleetProblem) as no_licence:
        waybill_carrier(session, b.make_org(sessions, kind=OrgKind.CARRIER).id)
    assert no_licence.value.field == "carrier_org_id"
    assert "no verified operating licence" in no_licence.value.rule


def test_fleet_parts_are_the_carriers_own_vehicle_driver_and_escort(
    sessions: sessionmaker[Session],
) -> None:
    org = c.accredited_carrier(sessions)
    vehicle = c.add_vehicle(sessions, org.id)
    driver = c.add_crew(sessions, org.id, role="driver")
    escort = c.add_crew(sessions, org.id, role="escort", name="李押运")

    with sessions() as session:
        parts = fleet_parts(
            session, org.id, vehicle_id=vehicle.id, driver_id=driver.id, escort_id=escort.id
        )

    truck, driving, escorting = parts
    assert truck.plate == "苏B12345" and truck.plate_colour == "yellow"
    assert truck.trailer_plate == "苏B6789挂" and truck.permitted_classes == ("3", "8")
    assert driving.qualification_categories == ("dg_driver",)
    assert driving.qualification_certificate_number == driver.qualification_certificate_number
    assert escorting.name == "李押运" and escorting.phone == "+86 139 0000 1234"


def test_fleet_parts_refuse_what_is_not_the_carriers_to_choose(
    sessions: sessionmaker[Session],
) -> None:
    org = c.accredited_carrier(sessions)
    other = c.accredited_carrier(sessions)
    vehicle = c.add_vehicle(sessions, org.id)
    driver = c.add_crew(sessions, org.id, role="driver")
    escort = c.add_crew(sessions, org.id, role="escort")
    cases = {
        "foreign vehicle": (
            dict(vehicle_id=c.add_vehicle(sessions, other.id).id),
            ("vehicle_id", f"not a vehicle of carrier {org.id}"),
        ),
        "unknown vehicle": (
            dict(vehicle_id="veh_nope"),
            ("vehicle_id", f"not a vehicle of carrier {org.id}"),
        ),
        "retired vehicle": (
            dict(vehicle_id=c.add_vehicle(sessions, org.id, plate="苏B99999", retired=True).id),
            ("vehicle_id", "vehicle 苏B99999 is retired"),
        ),
        "escort as driver": (
            dict(driver_id=escort.id),
            ("driver_id", f"{escort.name} is registered as escort, not driver"),
        ),
        "driver as escort": (
            dict(escort_id=driver.id),
            ("escort_id", f"{driver.name} is registered as driver, not escort"),
        ),
        "foreign driver": (
            dict(driver_id=c.add_crew(sessions, other.id).id),
            ("driver_id", f"not a crew member of carrier {org.id}"),
        ),
        "retired escort": (
            dict(escort_id=c.add_crew(sessions, org.id, role="escort", retired=True).id),
            ("escort_id", "王师傅 is retired"),
        ),
    }
    chosen = {"vehicle_id": vehicle.id, "driver_id": driver.id, "escort_id": escort.id}
    for case, (change, (field, rule)) in cases.items():
        with sessions() as session, pytest.raises(FleetProblem) as refused:
            fleet_parts(session, org.id, **(chosen | change))
        assert (refused.value.field, refused.value.rule) == (field, rule), case


def test_a_plate_is_registered_once_a_carrier_while_in_service(
    sessions: sessionmaker[Session],
) -> None:
    org = c.accredited_carrier(sessions)
    c.add_vehicle(sessions, org.id, plate="苏B55555", retired=True)
    c.add_vehicle(sessions, org.id, plate="苏B55555")  # the retired one does not count
    c.add_vehicle(sessions, c.accredited_carrier(sessions).id, plate="苏B55555")
    with pytest.raises(IntegrityError):
        c.add_vehicle(sessions, org.id, plate="苏B55555")


def test_crew_certificate_numbers_and_phones_are_stored_encrypted(
    sessions: sessionmaker[Session],
) -> None:
    org = c.accredited_carrier(sessions)
    member = c.add_crew(sessions, org.id)
    with transaction(sessions) as session:
        raw = session.execute(
            text("SELECT qualification_certificate_number, phone FROM carrier_crew WHERE id = :i"),
            {"i": member.id},
        ).one()
        assert raw[0].startswith("v1:") and member.qualification_certificate_number not in raw[0]
        assert raw[1].startswith("v1:") and "139 0000" not in raw[1]
        assert session.get(CarrierCrewMember, member.id) is not None
