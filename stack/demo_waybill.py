"""The shipment plan, the consignment lists and the carrier's fleet and trips, for ``make demo``.

Pure drafting, no requests: how the acetone is split between two tractor-trailers, the
consignment list Hengxin declares for each, the demo carrier's vehicles and crew, and the trip
its dispatcher orders when making each e-waybill.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from contracts.consignment import ConsignmentList, WaybillOrder
from contracts.waybill import EmergencyContact, WaybillItem, WaybillParty
from stack.demo_client import DESTINATION

# Dates in the e-waybill are days in China Standard Time, where it is filed.
CST = timezone(timedelta(hours=8))
# Liquids in drums travel in whole drums.
DRUM_LITRES = Decimal(200)
# How the e-waybill names the dangerous goods the demo's RFQ can carry: name, class and the
# density the consignor declares (acetone, 0.791 kg/L at 20 °C).
LISTED = {"UN1090": ("Acetone", "3", Decimal("0.791"))}


# The demo carrier's fleet (Jiangsu Anda): two tank-less tractor-trailers for drummed goods,
# each with its driver and escort; registered once through the fleet API.
VEHICLES = (
    {
        "plate": "苏B·D8231",
        "plate_colour": "yellow",
        "transport_certificate_number": "苏交运管锡字320200301234号",
        "permitted_classes": ["3", "8"],
        "max_load_kg": "30000",
        "trailer_plate": "苏B·E372挂",
        "trailer_certificate_number": "苏交运管锡字320200305678号",
    },
    {
        "plate": "苏B·D9157",
        "plate_colour": "yellow",
        "transport_certificate_number": "苏交运管锡字320200301377号",
        "permitted_classes": ["3", "8"],
        "max_load_kg": "30000",
        "trailer_plate": "苏B·E415挂",
        "trailer_certificate_number": "苏交运管锡字320200305912号",
    },
)
CREW = (
    ("driver", "王建国", "320581198503121234", "138 1234 5678"),
    ("escort", "李芳", "320581199011054321", "139 8765 4321"),
    ("driver", "张伟", "320581198807236617", "137 5512 0846"),
    ("escort", "陈静", "320581199204187723", "136 2201 9935"),
)
DISPATCHER = "刘洋 Liu Yang"


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
    name, hazard_class, density = LISTED[un_number]
    return WaybillItem(
        un_number=un_number,
        proper_shipping_name=name,
        hazard_class=hazard_class,
        packing_group=line["packing_group"],
        packaging="200 L steel drums",
        packages=int((quantity / DRUM_LITRES).to_integral_value(ROUND_CEILING)),
        quantity=quantity,
        unit=line["unit"],
        density_kg_per_l=density,
    )


def consignment_list(
    shipment: Mapping[str, Any], lines: Sequence[Mapping[str, Any]], consignor_code: str
) -> dict[str, Any]:
    """Hengxin's consignment list (托运清单) for one shipment of acetone, as its logistics
    declares it: the parties, the goods and the safety information the carrier needs."""
    carried: Mapping[str, str] = shipment["quantities"]
    items = tuple(
        _item(line, Decimal(carried[line["line_id"]]))
        for line in lines
        if line["un_number"] and line["line_id"] in carried
    )
    listed = ConsignmentList(
        consignor=WaybillParty(
            name="江苏恒信化工有限公司",
            credit_code=consignor_code,
            contact_phone="0510-8888 1234",
            contact_name="马军 Ma Jun",
        ),
        consignee=WaybillParty(
            name="华东精细化工贸易有限公司",
            credit_code="91310000MA1BUYER54",
            contact_phone="021-5080 1234",
            contact_name="孙梅 Sun Mei",
        ),
        items=items,
        loading_place="江苏省无锡市惠山经济开发区 Huishan, Wuxi",
        unloading_place=DESTINATION,
        emergency_contact=EmergencyContact(name="恒信应急中心", phone_24h="0510-8888 0119"),
        hazards="高度易燃液体和蒸气 Highly flammable liquid and vapour (UN1090, class 3)",
        first_aid="吸入后移至空气新鲜处 Inhaled: move to fresh air; eyes: rinse 15 min",
        fire_fighting="抗溶性泡沫、干粉、二氧化碳 Alcohol-resistant foam, dry powder, CO2",
        spill_response="消除点火源 用惰性材料吸收 Remove ignition sources, absorb inertly",
        environmental_measures="防止进入下水道和水体 Keep out of drains and waterways",
    )
    return listed.model_dump(mode="json")


def trip(
    vehicle_id: str, driver_id: str, escort_id: str, *, loading_at: datetime, gross_kg: Decimal
) -> dict[str, Any]:
    """The carrier's part of the waybill: who and what from its fleet, and the trip."""
    loading = loading_at.astimezone(CST)
    order = WaybillOrder(
        vehicle_id=vehicle_id,
        driver_id=driver_id,
        escort_id=escort_id,
        dispatch_date=loading.date(),
        planned_loading_at=loading,
        planned_unloading_at=loading + timedelta(hours=6),
        route="G2 京沪高速 → G1501 上海绕城高速",
        dispatcher=DISPATCHER,
        gross_mass_kg=gross_kg,
    )
    return order.model_dump(mode="json")


def gross_mass(shipment: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> Decimal:
    """Acetone (0.79 kg/L) in 200 L steel drums of 17 kg each, as the weighbridge would say."""
    carried: Mapping[str, str] = shipment["quantities"]
    litres = sum(
        (Decimal(carried[line["line_id"]]) for line in lines if line["line_id"] in carried),
        Decimal(0),
    )
    drums = (litres / DRUM_LITRES).to_integral_value(ROUND_CEILING)
    return (litres * Decimal("0.79") + drums * 17).quantize(Decimal(1))
