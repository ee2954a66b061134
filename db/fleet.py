"""Carriers' licences, vehicles and crew, and what the rest of the platform asks about them.

The tables live on ``db.models.Base`` (so one metadata holds every table; ``db.models`` imports
this module at its end). The accreditation workflow writes ``carrier_licences`` with the
standing (activities.accreditation_records); the carrier's own users register the fleet
(api.routes.carriers). Orders and waybills ask three questions, answered here:

- ``carrier_problem``: may this organisation carry these classes on that day?
- ``waybill_carrier``: the waybill's carrier block, from the organisation and its licence.
- ``fleet_parts``: the waybill's vehicle, driver and escort, from the carrier's own fleet.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from decimal import Decimal
from typing import cast

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, Session, mapped_column

from contracts.common import OrgKind
from contracts.waybill import Carrier, CrewMember, PlateColour, QualificationCategory, Vehicle
from db.models import Base, Organisation, SupplierAccreditation
from rules.waybill_load import covers
from security.columns import EncryptedString

ACCREDITED = "accredited"


class CarrierLicence(Base):
    """A carrier's verified operating licence: one a carrier, replaced by a verified renewal."""

    __tablename__ = "carrier_licences"

    carrier_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("accreditation_applications.id"))
    number: Mapped[str] = mapped_column(String(64))
    issuing_authority: Mapped[str] = mapped_column(String(200))
    permitted_classes: Mapped[list[str]] = mapped_column(ARRAY(String(4)))
    issue_date: Mapped[date] = mapped_column(Date)
    expiry_date: Mapped[date] = mapped_column(Date)
    # The carrier's dispatch line, printed on its waybills: a business number, not a person's.
    phone: Mapped[str] = mapped_column(String(32))
    # The standing's revision that wrote it: the licence moves with the standing, never behind.
    revision: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class CarrierVehicle(Base):
    """A vehicle (tractor or truck, with trailer and tank when it has them) of a carrier."""

    __tablename__ = "carrier_vehicles"
    __table_args__ = (
        # A plate is registered once a carrier while in service; a retired one may come back.
        Index(
            "uq_carrier_vehicles_active_plate",
            "carrier_org_id",
            "plate",
            unique=True,
            postgresql_where=text("retired_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    carrier_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    plate: Mapped[str] = mapped_column(String(16))
    plate_colour: Mapped[str] = mapped_column(String(12))
    transport_certificate_number: Mapped[str] = mapped_column(String(64))
    permitted_classes: Mapped[list[str]] = mapped_column(ARRAY(String(4)))
    inspection_valid_until: Mapped[date] = mapped_column(Date)
    max_load_kg: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    trailer_plate: Mapped[str | None] = mapped_column(String(16))
    trailer_certificate_number: Mapped[str | None] = mapped_column(String(64))
    tank_number: Mapped[str | None] = mapped_column(String(64))
    tank_volume_litres: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    retired_at: Mapped[datetime | None]


class CarrierCrewMember(Base):
    """A driver or escort (押运员) of a carrier, with their qualification certificate.

    The certificate number (从业资格证号, which is the holder's identity card number) and the
    phone are personal: encrypted like other sensitive fields, so duplicates are found by the
    carrier's own rows, not by an index.
    """

    __tablename__ = "carrier_crew"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    carrier_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))  # driver | escort
    qualification_certificate_number: Mapped[str] = mapped_column(
        EncryptedString("qualification_certificate_number")
    )
    qualification_categories: Mapped[list[str]] = mapped_column(ARRAY(String(24)))
    certificate_expiry: Mapped[date] = mapped_column(Date)
    phone: Mapped[str] = mapped_column(EncryptedString("crew_phone"))
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    retired_at: Mapped[datetime | None]


class FleetProblem(Exception):
    """A fleet choice the carrier cannot make: ``field`` names the input, ``rule`` says why."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


def carrier_problem(
    session: Session, carrier_org_id: str, classes: Collection[str], on: date
) -> str | None:
    """None when the organisation is an accredited carrier whose licence is valid ``on`` that
    day (through its expiry day, as the waybill reads expiries) and covers every class in
    ``classes``; else one line naming what is wrong."""
    org = session.get(Organisation, carrier_org_id)
    if org is None or org.kind != OrgKind.CARRIER.value:
        return f"carrier: {carrier_org_id} is not a carrier organisation"
    standing = session.get(SupplierAccreditation, carrier_org_id)
    name = org.legal_name
    if standing is None:
        return f"carrier: {name} is not an accredited carrier"
    if standing.status != ACCREDITED:
        why = f": {standing.status_reason}" if standing.status_reason else ""
        return f"carrier: {name} is not an accredited carrier (it is {standing.status}{why})"
    licence = session.get(CarrierLicence, carrier_org_id)
    if licence is None:
        return f"carrier: {name} has no verified operating licence"
    if on < licence.issue_date:
        return f"carrier: {name}'s licence {licence.number} is valid from {licence.issue_date}"
    if on > licence.expiry_date:
        return f"carrier: {name}'s licence {licence.number} expired on {licence.expiry_date}"
    missing = sorted(
        {c for c in classes if c and not any(covers(p, c) for p in licence.permitted_classes)}
    )
    if missing:
        return (
            f"carrier: {name}'s licence {licence.number} does not cover class "
            f"{', '.join(missing)} (it permits {', '.join(licence.permitted_classes)})"
        )
    return None


def waybill_carrier(session: Session, carrier_org_id: str) -> Carrier:
    """The waybill's carrier block: the organisation's names and the verified licence's
    number, expiry, classes and dispatch phone. FleetProblem without a carrier or licence."""
    org = session.get(Organisation, carrier_org_id)
    if org is None or org.kind != OrgKind.CARRIER.value:
        raise FleetProblem("carrier_org_id", f"{carrier_org_id} is not a carrier organisation")
    licence = session.get(CarrierLicence, carrier_org_id)
    if licence is None:
        raise FleetProblem("carrier_org_id", f"{org.legal_name} has no verified operating licence")
    return Carrier(
        name=org.legal_name,
        credit_code=org.credit_code,
        phone=licence.phone,
        road_transport_permit_number=licence.number,
        permit_expiry=licence.expiry_date,
        permitted_classes=tuple(licence.permitted_classes),
    )


def fleet_parts(
    session: Session, carrier_org_id: str, *, vehicle_id: str, driver_id: str, escort_id: str
) -> tuple[Vehicle, CrewMember, CrewMember]:
    """The waybill's vehicle, driver and escort from the carrier's own registered fleet.

    Raises FleetProblem naming the id at fault: unknown, another carrier's, retired, or a crew
    member in the other role. Expiries are the waybill rules' to judge (on the dispatch date).
    """
    vehicle = session.get(CarrierVehicle, vehicle_id)
    if vehicle is None or vehicle.carrier_org_id != carrier_org_id:
        raise FleetProblem("vehicle_id", f"not a vehicle of carrier {carrier_org_id}")
    if vehicle.retired_at is not None:
        raise FleetProblem("vehicle_id", f"vehicle {vehicle.plate} is retired")
    driver = _crew(session, carrier_org_id, driver_id, field="driver_id", role="driver")
    escort = _crew(session, carrier_org_id, escort_id, field="escort_id", role="escort")
    return vehicle_part(vehicle), crew_part(driver), crew_part(escort)


def _crew(
    session: Session, carrier_org_id: str, crew_id: str, *, field: str, role: str
) -> CarrierCrewMember:
    member = session.get(CarrierCrewMember, crew_id)
    if member is None or member.carrier_org_id != carrier_org_id:
        raise FleetProblem(field, f"not a crew member of carrier {carrier_org_id}")
    if member.role != role:
        raise FleetProblem(field, f"{member.name} is registered as {member.role}, not {role}")
    if member.retired_at is not None:
        raise FleetProblem(field, f"{member.name} is retired")
    return member


def vehicle_part(row: CarrierVehicle) -> Vehicle:
    """A vehicle row as the waybill carries it."""
    return Vehicle(
        plate=row.plate,
        plate_colour=cast(PlateColour, row.plate_colour),  # checked on registration
        transport_certificate_number=row.transport_certificate_number,
        permitted_classes=tuple(row.permitted_classes),
        inspection_valid_until=row.inspection_valid_until,
        trailer_plate=row.trailer_plate,
        trailer_certificate_number=row.trailer_certificate_number,
        tank_number=row.tank_number,
        tank_volume_litres=row.tank_volume_litres,
        max_load_kg=row.max_load_kg,
    )


def crew_part(row: CarrierCrewMember) -> CrewMember:
    """A crew row as the waybill carries it."""
    return CrewMember(
        name=row.name,
        qualification_certificate_number=row.qualification_certificate_number,
        certificate_expiry=row.certificate_expiry,
        phone=row.phone,
        qualification_categories=tuple(
            cast(QualificationCategory, c) for c in row.qualification_categories
        ),
    )
