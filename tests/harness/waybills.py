"""E-waybill drafts for orders, stored the way the API stores a submitted draft."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from contracts.common import DocumentRef
from contracts.consignment import ConsignmentList, WaybillOrder, waybill_from
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
from db.fleet import fleet_parts, waybill_carrier
from db.models import Document
from db.session import transaction
from storage.object_store import ObjectStore, put_content

CST = timezone(timedelta(hours=8))

# UN1090,Acetone,3,,II,3,IB2;T4;TP1,
ACETONE = WaybillItem(
    un_number="UN1090",
    proper_shipping_name="Acetone",
    hazard_class="3",
    packing_group="II",
    packaging="200 L steel drums",
    packages=5,
    quantity=Decimal(1000),
    unit="L",
)

# UN1789,Hydrochloric acid,8,,II,8,386;A3;B3;B15;B133;IB2;N41;T8;TP2,  (3 and 8 may share a
# vehicle: the segregation table's cell for them is blank)
HYDROCHLORIC_ACID = WaybillItem(
    un_number="UN1789",
    proper_shipping_name="Hydrochloric acid",
    hazard_class="8",
    packing_group="II",
    packaging="IBCs",
    packages=2,
    quantity=Decimal(2000),
    unit="L",
)


def waybill(
    waybill_number: str,
    order_id: str,
    *,
    loading_at: datetime,
    driver_expiry: date | None = None,
    escort_expiry: date | None = None,
    shipment: int = 1,
    items: tuple[WaybillItem, ...] = (ACETONE,),
    consignor_credit_code: str = "91320200MA1HENGX53",
) -> EWaybill:
    """A clean waybill (acetone unless ``items`` says otherwise) for the order's ``shipment``,
    loading at ``loading_at`` (any zone; dispatch date in CST)."""
    loading = loading_at.astimezone(CST)
    far = loading.date() + timedelta(days=900)
    return EWaybill(
        waybill_number=waybill_number,
        order_id=order_id,
        shipment_id=shipment_id_for(order_id, shipment),
        dispatch_date=loading.date(),
        consignor=WaybillParty(
            name="江苏恒信化工有限公司",
            credit_code=consignor_credit_code,
            contact_phone="0510-8888 1234",
            contact_name="马军 Ma Jun",
        ),
        consignee=WaybillParty(
            name="华东精细化工贸易有限公司",
            credit_code=None,
            contact_phone="021-5080 1234",
            contact_name="孙梅 Sun Mei",
        ),
        loader=None,
        carrier=Carrier(
            name="苏州安运危险品运输有限公司",
            credit_code="91320581MA1W5E8N2U",
            phone="0512-5231 8888",
            road_transport_permit_number="苏交运管许可苏字320581000123号",
            permit_expiry=far,
            permitted_classes=("3", "8"),
        ),
        vehicle=Vehicle(
            plate="苏E·A8231",
            plate_colour="yellow",
            transport_certificate_number="苏交运管苏字320581301234号",
            permitted_classes=("3", "8"),
            inspection_valid_until=far,
            max_load_kg=Decimal(10000),
        ),
        driver=CrewMember(
            name="王建国",
            qualification_certificate_number="320581198503121234",
            certificate_expiry=driver_expiry or far,
            phone="138 1234 5678",
            qualification_categories=("dg_driver",),
        ),
        escort=CrewMember(
            name="李芳",
            qualification_certificate_number="320581199011054321",
            certificate_expiry=escort_expiry or far,
            phone="139 8765 4321",
            qualification_categories=("dg_escort",),
        ),
        items=items,
        loading_place="江苏省无锡市惠山经济开发区 Huishan, Wuxi",
        unloading_place="上海市金山区化学工业区 Jinshan Chemical Park, Shanghai",
        planned_loading_at=loading,
        planned_unloading_at=loading + timedelta(hours=6),
        route="G2 京沪高速 → G1501 上海绕城高速",
        emergency_contact=EmergencyContact(name="恒信应急中心", phone_24h="0510-8888 0119"),
        gross_mass_kg=Decimal(1000) * len(items),
        dispatcher="李强 Li Qiang",
    )


def consignment(
    consignor_credit_code: str, *, items: tuple[WaybillItem, ...] = (ACETONE,)
) -> ConsignmentList:
    """A complete consignment list from the supplier whose credit code is given."""
    return ConsignmentList(
        consignor=WaybillParty(
            name="江苏恒信化工有限公司",
            credit_code=consignor_credit_code,
            contact_phone="0510-8888 1234",
            contact_name="马军 Ma Jun",
        ),
        consignee=WaybillParty(
            name="华东精细化工贸易有限公司",
            credit_code=None,
            contact_phone="021-5080 1234",
            contact_name="孙梅 Sun Mei",
        ),
        items=items,
        loading_place="江苏省无锡市惠山经济开发区 Huishan, Wuxi",
        unloading_place="上海市金山区化学工业区 Jinshan Chemical Park, Shanghai",
        emergency_contact=EmergencyContact(name="恒信应急中心", phone_24h="0510-8888 0119"),
        hazards="高度易燃液体和蒸气 Highly flammable liquid and vapour",
        first_aid="吸入后移至空气新鲜处 Inhaled: move to fresh air",
        fire_fighting="抗溶性泡沫、干粉、二氧化碳 Alcohol-resistant foam, dry powder, CO2",
        spill_response="消除点火源 用惰性材料吸收 Remove ignition sources, absorb inertly",
        environmental_measures="防止进入下水道 Keep out of drains",
    )


def trip(loading_at: datetime, **fields: Any) -> WaybillOrder:
    """The carrier's part of a waybill: a six-hour trip loading at ``loading_at``."""
    loading = loading_at.astimezone(CST)
    values: dict[str, Any] = {
        "vehicle_id": "",
        "driver_id": "",
        "escort_id": "",
        "dispatch_date": loading.date(),
        "planned_loading_at": loading,
        "planned_unloading_at": loading + timedelta(hours=6),
        "route": "G2 京沪高速 → G1501 上海绕城高速",
        "dispatcher": "李强 Li Qiang",
        "gross_mass_kg": Decimal(1000),
    }
    values.update(fields)
    return WaybillOrder(**values)


def store_json(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    *,
    org_id: str,
    name: str,
    data: bytes,
    kind: str,
) -> DocumentRef:
    """JSON stored by SHA-256 with a document row, as the API stores what it is sent."""
    stored = put_content(store, data, content_type="application/json")
    document_id = f"doc_{uuid.uuid4().hex}"
    with transaction(sessions) as session:
        session.add(
            Document(
                id=document_id,
                org_id=org_id,
                kind=kind,
                sha256=stored.sha256,
                object_key=stored.key,
                filename=f"{name}.json",
                content_type="application/json",
                size=stored.size,
                created_by="usr_test",
            )
        )
    return DocumentRef(
        document_id=document_id,
        sha256=stored.sha256,
        filename=f"{name}.json",
        content_type="application/json",
    )


def store_draft(
    sessions: sessionmaker[Session], store: ObjectStore, *, org_id: str, draft: EWaybill
) -> DocumentRef:
    """The draft's JSON stored by SHA-256 with a document row, as the API does on submission."""
    return store_json(
        sessions,
        store,
        org_id=org_id,
        name=draft.waybill_number,
        data=draft.model_dump_json().encode(),
        kind="waybill_draft",
    )


def carriers_draft(
    sessions: sessionmaker[Session],
    listed: ConsignmentList,
    trip: WaybillOrder,
    *,
    carrier_org_id: str,
    order_id: str,
    task_details: dict[str, Any],
) -> EWaybill:
    """The waybill the carrier's dispatcher makes for its ``waybill_submission`` task, composed
    as the API composes it: from the consignment list, the trip and the carrier's own fleet."""
    shipment = int(task_details.get("shipment", 1))
    with sessions() as session:
        return waybill_from(
            listed,
            trip,
            ids=(task_details["waybill_number"], order_id, shipment_id_for(order_id, shipment)),
            carrier=waybill_carrier(session, carrier_org_id),
            fleet=fleet_parts(
                session,
                carrier_org_id,
                vehicle_id=trip.vehicle_id,
                driver_id=trip.driver_id,
                escort_id=trip.escort_id,
            ),
            revision=int(task_details["revision"]),
        )
