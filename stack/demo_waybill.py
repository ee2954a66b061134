"""The supplier's shipment plan and the e-waybills its logistics files, for ``make demo``.

Pure drafting, no requests: how the acetone is split between two tractor-trailers, and the
e-waybill each truck carries (consignor, carrier, vehicle, crew, the dangerous goods on board).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from contracts.fulfilment import shipment_id_for
from contracts.waybill import (
    Carrier,
    CrewMember,
    EmergencyContact,
    EWaybill,
    Vehicle,
    WaybillItem,
    WaybillParty,
)
from stack.demo_client import DESTINATION

# Dates in the e-waybill are days in China Standard Time, where it is filed.
CST = timezone(timedelta(hours=8))
# Liquids in drums travel in whole drums.
DRUM_LITRES = Decimal(200)
# How the e-waybill names the dangerous goods the demo's RFQ can carry: name and class.
LISTED = {"UN1090": ("Acetone", "3")}


@dataclass(frozen=True)
class Person:
    name: str
    certificate: str  # qualification certificate number
    phone: str


@dataclass(frozen=True)
class Truck:
    """A tractor and trailer with its driver and escort: each shipment of acetone takes one."""

    plate: str
    certificate: str
    trailer_plate: str
    trailer_certificate: str
    driver: Person
    escort: Person


TRUCKS = (
    Truck(
        "苏E·A8231",
        "苏交运管苏字320581301234号",
        "苏E·B372挂",
        "苏交运管苏字320581305678号",
        Person("王建国", "320581198503121234", "138 1234 5678"),
        Person("李芳", "320581199011054321", "139 8765 4321"),
    ),
    Truck(
        "苏E·A9157",
        "苏交运管苏字320581301377号",
        "苏E·B415挂",
        "苏交运管苏字320581305912号",
        Person("张伟", "320581198807236617", "137 5512 0846"),
        Person("陈静", "320581199204187723", "136 2201 9935"),
    ),
)


def quantity_text(value: Decimal) -> str:
    """``12000`` rather than ``12000.000`` or ``1.2E+4``."""
    return format(value.normalize(), "f")


def shipment_plan(lines: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The supplier's plan as the confirmation's choices: an order with liquid dangerous goods
    goes in two tractor-trailers, three fifths of the drums first, the rest with every other line
    second. Empty (everything in one shipment) for any other order."""
    plan: dict[str, str] = {}
    for line in lines:
        quantity = Decimal(line["quantity"])
        first = Decimal(0)
        if line["un_number"] and line["unit"] == "L":
            drums = (quantity / DRUM_LITRES * 3 / 5).to_integral_value(ROUND_FLOOR)
            first = min(quantity, drums * DRUM_LITRES)
        if first > 0:
            plan[f"1:{line['line_id']}"] = quantity_text(first)
        if quantity > first:
            plan[f"2:{line['line_id']}"] = quantity_text(quantity - first)
    shipments = {key.partition(":")[0] for key in plan}
    return plan if shipments == {"1", "2"} else {}


def _item(line: Mapping[str, Any], quantity: Decimal) -> WaybillItem:
    un_number: str = line["un_number"]
    if un_number not in LISTED:
        raise SystemExit(f"the demo has no e-waybill entry for {un_number}")
    name, hazard_class = LISTED[un_number]
    return WaybillItem(
        un_number=un_number,
        proper_shipping_name=name,
        hazard_class=hazard_class,
        packing_group=line["packing_group"],
        packaging="200 L steel drums",
        packages=int((quantity / DRUM_LITRES).to_integral_value(ROUND_CEILING)),
        quantity=quantity,
        unit=line["unit"],
    )


def shipment_waybill(
    order_id: str,
    shipment: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    truck: Truck,
    *,
    loading_at: datetime,
    driver_expiry: date | None = None,
) -> EWaybill:
    """The e-waybill for one shipment: the dangerous goods it carries, on ``truck``."""
    loading = loading_at.astimezone(CST)
    far = loading.date() + timedelta(days=900)
    carried: Mapping[str, str] = shipment["quantities"]
    items = tuple(
        _item(line, Decimal(carried[line["line_id"]]))
        for line in lines
        if line["un_number"] and line["line_id"] in carried
    )

    def crew(person: Person, expiry: date) -> CrewMember:
        return CrewMember(
            name=person.name,
            qualification_certificate_number=person.certificate,
            certificate_expiry=expiry,
            phone=person.phone,
        )

    return EWaybill(
        waybill_number=shipment["waybill_number"],
        order_id=order_id,
        shipment_id=shipment_id_for(order_id, shipment["shipment"]),
        dispatch_date=loading.date(),
        consignor=WaybillParty(
            name="江苏恒信化工有限公司",
            credit_code="91320200MA1HENGX53",
            contact_phone="0510-8888 1234",
        ),
        consignee=WaybillParty(
            name="华东精细化工贸易有限公司",
            credit_code="91310000MA1BUYER54",
            contact_phone="021-5080 1234",
        ),
        carrier=Carrier(
            name="苏州安运危险品运输有限公司",
            credit_code="91320581MA1W5E8N2U",
            phone="0512-5231 8888",
            road_transport_permit_number="苏交运管许可苏字320581000123号",
            permit_expiry=far,
            permitted_classes=("3", "8"),
        ),
        vehicle=Vehicle(
            plate=truck.plate,
            transport_certificate_number=truck.certificate,
            permitted_classes=("3", "8"),
            inspection_valid_until=far,
            trailer_plate=truck.trailer_plate,
            trailer_certificate_number=truck.trailer_certificate,
            max_load_kg=Decimal(30000),
        ),
        driver=crew(truck.driver, driver_expiry or far),
        escort=crew(truck.escort, far),
        items=items,
        loading_place="江苏省无锡市惠山经济开发区 Huishan, Wuxi",
        unloading_place=DESTINATION,
        planned_loading_at=loading,
        planned_unloading_at=loading + timedelta(hours=6),
        route="G2 京沪高速 → G1501 上海绕城高速",
        emergency_contact=EmergencyContact(name="恒信应急中心", phone_24h="0510-8888 0119"),
    )
