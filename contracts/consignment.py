"""What the consignor declares and the loader checks when a carrier makes the e-waybill.

Under the 2019 rules (《危险货物道路运输安全管理办法》 art. 24) the carrier makes the waybill from
the consignor's consignment list (托运清单); before loading, the loader makes five checks (五必查,
art. 22 — unverified paragraph number) and records them. The consignment list carries the
consignor's part of the waybill plus the safety information the consignor owes the carrier; the
carrier adds its own part by choosing a vehicle, driver and escort from its registered fleet.

Unlike a waybill draft (``contracts.waybill``), which parses with empty fields so the rules can
name them, these are refused at the edge when incomplete: nobody else can fill them in later.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field, model_validator

from contracts.common import Actor, Frozen, Line, Text
from contracts.waybill import (
    Carrier,
    CrewMember,
    EmergencyContact,
    EWaybill,
    Jurisdiction,
    Kilograms,
    Text200,
    Vehicle,
    WaybillItem,
    WaybillParty,
)

Measure = Annotated[Text, Field(min_length=1, max_length=2000)]
FleetId = Annotated[Line, Field(min_length=1, max_length=80)]


class ConsignmentList(Frozen):
    """The consignor's declaration of one shipment (托运清单)."""

    consignor: WaybillParty
    consignee: WaybillParty
    loader: WaybillParty | None = None  # None: the consignor loads
    items: Annotated[tuple[WaybillItem, ...], Field(min_length=1, max_length=50)]
    loading_place: Annotated[Line, Field(min_length=1, max_length=200)]
    unloading_place: Annotated[Line, Field(min_length=1, max_length=200)]
    jurisdiction: Jurisdiction = "CN"
    emergency_contact: EmergencyContact
    # The safety information the consignor owes the carrier with the list.
    hazards: Measure  # 危险特性
    first_aid: Measure  # 急救措施
    fire_fighting: Measure  # 消防措施
    spill_response: Measure  # 泄漏应急处置
    environmental_measures: Measure  # 环境保护措施

    @model_validator(mode="after")
    def _complete(self) -> ConsignmentList:
        for name, party in (("consignor", self.consignor), ("consignee", self.consignee)):
            if not party.name.strip():
                raise ValueError(f"{name}.name: required")
            if not party.contact_name.strip():
                raise ValueError(f"{name}.contact_name: required")
            if not party.contact_phone:
                raise ValueError(f"{name}.contact_phone: required")
        if not self.consignor.credit_code:
            raise ValueError("consignor.credit_code: required, the supplier's credit code")
        if not self.emergency_contact.phone_24h:
            raise ValueError("emergency_contact.phone_24h: required")
        return self


class WaybillOrder(Frozen):
    """The carrier's part of the waybill: the trip, and who and what from its fleet."""

    vehicle_id: FleetId
    driver_id: FleetId
    escort_id: FleetId
    dispatch_date: date
    planned_loading_at: AwareDatetime
    planned_unloading_at: AwareDatetime
    route: Annotated[Text, Field(min_length=1, max_length=2000)]
    dispatcher: Annotated[Text200, Field(min_length=1)]
    gross_mass_kg: Kilograms
    remarks: Annotated[Text, Field(max_length=2000)] = ""


def waybill_from(
    consignment: ConsignmentList,
    order: WaybillOrder,
    *,
    ids: tuple[str, str, str],
    carrier: Carrier,
    fleet: tuple[Vehicle, CrewMember, CrewMember],
    revision: int,
) -> EWaybill:
    """The draft a carrier makes: the consignor's list as declared, the carrier's licence and
    fleet, and the trip. ``ids`` are the waybill number, order id and shipment id."""
    waybill_number, order_id, shipment_id = ids
    vehicle, driver, escort = fleet
    return EWaybill(
        waybill_number=waybill_number,
        order_id=order_id,
        shipment_id=shipment_id,
        dispatch_date=order.dispatch_date,
        consignor=consignment.consignor,
        consignee=consignment.consignee,
        loader=consignment.loader,
        carrier=carrier,
        vehicle=vehicle,
        driver=driver,
        escort=escort,
        items=consignment.items,
        loading_place=consignment.loading_place,
        unloading_place=consignment.unloading_place,
        planned_loading_at=order.planned_loading_at,
        planned_unloading_at=order.planned_unloading_at,
        route=order.route,
        emergency_contact=consignment.emergency_contact,
        revision=revision,
        jurisdiction=consignment.jurisdiction,
        gross_mass_kg=order.gross_mass_kg,
        dispatcher=order.dispatcher,
        remarks=order.remarks,
    )


class LoadingCheckItem(StrEnum):
    """The loader's five checks (五必查) before loading dangerous goods."""

    VEHICLE_PERMITS = "vehicle_permits"  # vehicle's licence and road transport certificate valid
    CREW_QUALIFIED = "crew_qualified"  # driver's and escort's qualification certificates valid
    VEHICLE_INSPECTED = "vehicle_inspected"  # vehicle and tank inspection in date
    GOODS_MATCH = "goods_match"  # the goods are those the waybill lists
    TANK_MEDIUM = "tank_medium"  # the goods are on the tank's approved media list


LOADING_CHECKS = tuple(LoadingCheckItem)
# Answers: "yes" passed, "no" failed, "n/a" only for the tank check of a load without a tank.
CHECK_ANSWERS = ("yes", "no", "n/a")


class LoadingCheckReport(Frozen):
    """The loader's record of the five checks; every one is answered."""

    vehicle_permits: bool
    crew_qualified: bool
    vehicle_inspected: bool
    goods_match: bool
    tank_medium: bool | None = None  # None: the vehicle carries no tank
    note: Annotated[Text, Field(max_length=2000)] = ""

    def answers(self) -> dict[str, str]:
        def answer(value: bool | None) -> str:
            return "n/a" if value is None else "yes" if value else "no"

        return {item.value: answer(getattr(self, item.value)) for item in LOADING_CHECKS}


class RecordConsignmentInput(Frozen):
    order_id: Text
    shipment: int
    document_id: Text


class RecordLoadingCheckInput(Frozen):
    """One loading check as the loader recorded it (``answers`` per ``LOADING_CHECKS``)."""

    check_id: Text
    order_id: Text
    shipment: int
    waybill_number: Text
    answers: dict[Text, Text]
    passed: bool
    note: Text
    checked_by: Actor
    checked_at: AwareDatetime


class AssignCarrierInput(Frozen):
    """Check the supplier's chosen carrier for the goods (their classes, from the list by UN
    number) and record it on the order."""

    order_id: Text
    carrier_org_id: Text
    un_numbers: tuple[Text, ...]
    on: date


class CarrierAssignment(Frozen):
    problem: Text = ""  # empty when assigned
    carrier_name: Text = ""
