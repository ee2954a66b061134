"""``make demo``: drive the running platform (``make up``) through the REST API, as its users would.

Accredits the three demo suppliers (each applies; compliance approves), then runs one sourcing
round for the demo buyer: an RFQ with a dangerous-goods line and a chilled line, quotes, a
decline, the comparison, a split award, finance approval of the large contract, both signatures
on each contract and their verification. Each executed contract becomes an order, fulfilled to
payment: the supplier confirms with its shipment plan (the acetone goes in two tractor-trailers,
the chilled kits in one); for each shipment of acetone the supplier's logistics submits its own
e-waybill (the first refused once for an expired driver certificate), filed with the regulator;
each shipment is moved on its own, its carrier events ending with a proof of delivery, while the
order shows its least advanced shipment's status; once every shipment is delivered the buyer
accepts; the invoice; finance pays. Last, the regulator searches, reads, verifies and exports
the filed e-waybills. Every step is a real request to the real services; the PDFs and the export
are saved under ``<data dir>/demo/``. Run it again for another round.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import partial
from pathlib import Path
from typing import Any

import httpx

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
from db.seed import DEMO_PASSWORD
from settings import get_settings

PDF = b"%PDF-1.4\n%demo scan\n%%EOF\n"
BUYER = "buyer@huadong.example"
FINANCE = "finance@huadong.example"
COMPLIANCE = "compliance@tradeflow.example"
SAFETY = "logistics@tradeflow.example"
INSPECTOR = "inspector@regulator.example"


@dataclass(frozen=True)
class Shipper:
    """Who reports a supplier's carrier events, and the road its goods take."""

    email: str
    origin: str
    road: str


# Hengxin's logistics ships the acetone; lianfeng has no logistics user (its chilled order
# carries no e-waybill), so its supplier user reports the transport itself.
SHIPPERS = {
    "supplier@hengxin.example": Shipper(
        "logistics@hengxin.example", "江苏省无锡市惠山经济开发区 Huishan, Wuxi", "G2 京沪高速 Wuxi"
    ),
    "supplier@lianfeng.example": Shipper(
        "supplier@lianfeng.example", "浙江省杭州市余杭区 Yuhang, Hangzhou", "G60 沪昆高速 Hangzhou"
    ),
}
DESTINATION = "上海市金山区化学工业区 Jinshan Chemical Park, Shanghai"


class Caller:
    def __init__(self, base: str, email: str) -> None:
        self.email = email
        self.http = httpx.Client(base_url=base, timeout=60)
        token = self.http.post("/auth/token", data={"username": email, "password": DEMO_PASSWORD})
        token.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.http.request(method, path, **kwargs)
        if answer.status_code >= 400:
            raise SystemExit(f"{self.email}: {method} {path} → {answer.status_code} {answer.text}")
        if answer.headers.get("content-type", "").startswith("application/json"):
            return answer.json()
        return answer.content


def wait_for(what: str, probe: Callable[[], Any], *, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.5)
    raise SystemExit(f"gave up waiting for {what}")


def open_task(
    caller: Caller,
    kind: str,
    subject_id: str,
    *,
    not_id: str = "",
    details: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The caller's open task of ``kind`` on the subject (other than ``not_id``, with these
    ``details`` if given), once opened."""
    wanted = details or {}
    found: dict[str, Any] = wait_for(
        f"{caller.email}'s {kind} task",
        lambda: next(
            (
                t
                for t in caller.call(
                    "GET", "/tasks", params={"kind": kind, "subject_id": subject_id}
                )
                if t["task_id"] != not_id
                and all(t["details"].get(k) == v for k, v in wanted.items())
            ),
            None,
        ),
    )
    return found


def step(text: str) -> None:
    print(f"\n== {text}")


# -- accreditation ------------------------------------------------------------------------

# Registry records the certification-registry sandbox is seeded with.
SUPPLIERS = {
    "supplier@hengxin.example": (
        "91320200MA1HENGX53",
        [("ISO 9001", "CN-QMS-2025-001881"), ("ISO 14001", "CN-EMS-2025-000917")],
        (
            "China Quality Certification Centre (CQC)",
            "2025-03-01",
            "2028-02-28",
            "危险化学品的生产与销售 Production and sale of hazardous chemicals",
        ),
        "solvents",
    ),
    "supplier@lianfeng.example": (
        "91330100MA2L1ANF1U",
        [("ISO 9001", "CN-QMS-2024-007730"), ("ISO 22000", "CN-FSMS-2024-002201")],
        (
            "SGS-CSTC Standards Technical Services",
            "2024-06-15",
            "2027-06-14",
            "冷链食品的加工与配送 Processing and distribution of cold-chain foods",
        ),
        "chilled reagents",
    ),
    "supplier@anxin.example": (
        "91440300MA3ANX1N19",
        [("ISO 9001", "CN-QMS-2023-004410")],
        (
            "TÜV Rheinland (Shanghai)",
            "2024-01-10",
            "2027-01-09",
            "电子元器件的设计与制造 Design and manufacture of electronic components",
        ),
        "electronics",
    ),
}


def _year(year: int, revenue: int) -> dict[str, str | int]:
    figures = {
        "revenue": revenue,
        "net_profit": 900_000,
        "profit_before_tax": 1_200_000,
        "interest_expense": 100_000,
        "current_assets": 6_000_000,
        "inventory": 1_000_000,
        "prepaid_expenses": 200_000,
        "current_liabilities": 2_500_000,
        "total_assets": 12_000_000,
        "total_liabilities": 4_000_000,
        "retained_earnings": 3_000_000,
    }
    return {"year": year, "currency": "CNY", **{k: str(v) for k, v in figures.items()}}


def accredit(base: str, email: str, compliance: Caller) -> str:
    supplier = Caller(base, email)
    org_id: str = supplier.call("GET", "/auth/me")["org_id"]
    standing = supplier.http.get(f"/accreditation/suppliers/{org_id}")
    if standing.status_code == 200 and standing.json()["eligible_for_sourcing"]:
        print(f"{email}: already accredited")
        return org_id
    code, certificates, (body, issued, expires, scope), category = SUPPLIERS[email]
    last = datetime.now(UTC).year - 1
    form = {
        "credit_code": code,
        "licence_number": f"LIC-{code[-6:]}",
        "product_categories": [category],
        "certificates": [
            {
                "standard": standard,
                "number": number,
                "certification_body": body,
                "accreditation_body": "CNAS",
                "scope": scope,
                "issue_date": issued,
                "expiry_date": expires,
            }
            for standard, number in certificates
        ],
        "financials": [
            _year(last - 2, 8_000_000),
            _year(last - 1, 9_000_000),
            _year(last, 10_000_000),
        ],
    }
    files = [("licence", ("licence.pdf", PDF, "application/pdf"))]
    files += [
        ("certificate_files", (f"c{i}.pdf", PDF, "application/pdf"))
        for i in range(len(certificates))
    ]
    files += [("statement_files", (f"s{i}.pdf", PDF, "application/pdf")) for i in range(3)]
    supplier.call(
        "POST", "/accreditation/applications", data={"application": json.dumps(form)}, files=files
    )
    task = wait_for(
        f"{email}'s review task",
        lambda: [
            t
            for t in compliance.call("GET", "/tasks")
            if t["details"].get("supplier_org_id") == org_id
        ],
    )[0]
    answer = compliance.call(
        "POST", f"/tasks/{task['task_id']}/decision", json={"outcome": "approve"}
    )
    print(f"{email}: applied; compliance approved → {answer['process_status']}")
    return org_id


# -- sourcing -----------------------------------------------------------------------------


def _discounted(price: str) -> str:
    """5% off from 10,000 units: the break a bulk buyer earns."""
    return str((Decimal(price) * Decimal("0.95")).quantize(Decimal("0.01")))


def quote_terms(valid_until: str, prices: dict[str, str], *, lead: int) -> dict[str, Any]:
    return {
        "lines": [
            {
                "line_id": line_id,
                "unit_price": price,
                "stock_available": "50000",
                "lead_time_days": lead,
                "logistics_cost": "1200.00",
                "transit_days": 2,
                "price_breaks": [{"min_quantity": "10000", "unit_price": _discounted(price)}]
                if line_id == "L1"
                else [],
            }
            for line_id, price in prices.items()
        ],
        "valid_until": valid_until,
        "freight": "800.00",
        "tax_rate": "0.13",
    }


@dataclass(frozen=True)
class Executed:
    contract_id: str
    supplier: str  # the supplier user's email
    lines: tuple[dict[str, Any], ...]  # the contract's lines, as GET /contracts/{id} states them


def source(base: str, suppliers: dict[str, str], out: Path) -> list[Executed]:
    """One sourcing round to executed contracts; the contract PDFs are saved to ``out``."""
    buyer, finance = Caller(base, BUYER), Caller(base, FINANCE)
    sellers = {email: Caller(base, email) for email in suppliers}
    now = datetime.now(UTC)
    step("The buyer issues a sealed RFQ to the three suppliers")
    created = buyer.call(
        "POST",
        "/rfqs",
        json={
            "title": "季度溶剂与冷藏试剂采购 Quarterly solvents and chilled reagents",
            "lines": [
                {
                    "line_id": "L1",
                    "description": "丙酮 Acetone, technical grade",
                    "quantity": "20000",
                    "unit": "L",
                    "specification": "purity ≥ 99.5%, 200 L steel drums",
                    "un_number": "UN1090",
                    "packing_group": "II",
                },
                {
                    "line_id": "L2",
                    "description": "冷藏试剂盒 Chilled reagent kit",
                    "quantity": "500",
                    "unit": "kit",
                    "temperature": {"min_celsius": "2", "max_celsius": "8"},
                },
            ],
            "delivery_place": DESTINATION,
            "incoterm": "DAP",
            "needed_by": (now + timedelta(days=30)).date().isoformat(),
            "quote_deadline": (now + timedelta(days=3)).isoformat(),
            "currency": "CNY",
            "payment_terms": "验收后30天付款 30 days after acceptance",
            "sealed": True,
            "invited_supplier_ids": list(suppliers.values()),
        },
    )
    rfq_id = created["rfq_id"]
    print(f"RFQ {rfq_id}: {created['status']}")
    valid = (now + timedelta(days=60)).date().isoformat()
    wait_for("the RFQ row", lambda: buyer.http.get(f"/rfqs/{rfq_id}").status_code == 200)
    step("Suppliers answer: two quote, one declines")
    hengxin, lianfeng, anxin = sellers.values()
    print(
        hengxin.call(
            "POST",
            f"/rfqs/{rfq_id}/quotes",
            json={"terms": quote_terms(valid, {"L1": "8.60", "L2": "168.00"}, lead=3)},
        )
    )
    print(
        lianfeng.call(
            "POST",
            f"/rfqs/{rfq_id}/quotes",
            json={"terms": quote_terms(valid, {"L1": "9.40", "L2": "139.00"}, lead=4)},
        )
    )
    print(
        anxin.call(
            "POST",
            f"/rfqs/{rfq_id}/decline",
            json={"reason": "不经营化学品 we do not trade chemicals"},
        )
    )
    sealed = buyer.http.get(f"/rfqs/{rfq_id}/comparison")
    print(f"comparison while sealed → {sealed.status_code} {sealed.json()['detail']}")
    step("Everyone answered: the buyer closes early and compares")
    buyer.call("POST", f"/rfqs/{rfq_id}/close", json={"reason": "all answered"})
    wait_for("quoting to close", lambda: buyer.call("GET", f"/rfqs/{rfq_id}")["status"] != "open")
    for line in buyer.call("GET", f"/rfqs/{rfq_id}/comparison")["lines"]:
        print(f"{line['line_id']} {line['description']} x {line['quantity']} {line['unit']}")
        for offer in line["offers"]:
            print(f"  #{offer['rank']} {offer['supplier_org_id']}: {offer['explanation']}")
    step("The buyer awards as recommended (a split award: one contract per supplier)")
    award = wait_for(
        "the award task",
        lambda: buyer.call("GET", "/tasks", params={"kind": "rfq_award", "subject_id": rfq_id}),
    )[0]
    print(buyer.call("POST", f"/tasks/{award['task_id']}/decision", json={"outcome": "award"}))
    contracts = wait_for(
        "the contracts", lambda: buyer.call("GET", "/contracts", params={"rfq_id": rfq_id})
    )
    executed: list[Executed] = []
    for contract in contracts:
        contract_id = contract["contract_id"]
        step(f"Contract {contract_id}")
        view = wait_for(
            "the contract to await signatures", partial(_ready_to_sign, buyer, finance, contract_id)
        )
        seller = next(
            s
            for s in sellers.values()
            if s.call("GET", "/auth/me")["org_id"] == view["supplier_org_id"]
        )
        for party in (buyer, seller):
            # The contract reads awaiting_signatures a moment before the signature tasks open.
            open_task(party, "contract_signature", contract_id)
            answer = party.call(
                "POST",
                f"/contracts/{contract_id}/signatures",
                json={"document_sha256": view["document"]["sha256"]},
            )
            print(f"{party.email} signs → {answer['process_status']}: {answer['message']}")
        verification = buyer.call("GET", f"/contracts/{contract_id}/verification")
        intact = verification["document_intact"]
        print(f"verification: valid={verification['valid']}, document intact={intact}")
        pdf = buyer.call("GET", f"/contracts/{contract_id}/document")
        (out / f"{contract_id}.pdf").write_bytes(pdf)
        print(f"saved {out / f'{contract_id}.pdf'}")
        executed.append(Executed(contract_id, seller.email, tuple(view["terms"]["lines"])))
    return executed


def _ready_to_sign(buyer: Caller, finance: Caller, contract_id: str) -> Any:
    """Finance approves any level that asks; the contract once it awaits signatures."""
    asked = finance.call(
        "GET", "/tasks", params={"kind": "contract_approval", "subject_id": contract_id}
    )
    for task in asked:
        answer = finance.call(
            "POST", f"/tasks/{task['task_id']}/decision", json={"outcome": "approve"}
        )
        print(f"{finance.email} approves: {task['title']} → {answer['process_status']}")
    view = buyer.call("GET", f"/contracts/{contract_id}")
    return view if view["status"] == "awaiting_signatures" else None


# -- fulfilment ---------------------------------------------------------------------------

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


def decide(
    caller: Caller, task: dict[str, Any], outcome: str, choices: Mapping[str, str] | None = None
) -> dict[str, Any]:
    decision: dict[str, Any] = {"outcome": outcome}
    if choices:
        decision["choices"] = dict(choices)
    answer: dict[str, Any] = caller.call(
        "POST", f"/tasks/{task['task_id']}/decision", json=decision
    )
    print(f"{caller.email}: {task['title']}: {outcome} → {answer['process_status']}")
    return answer


def order_reaches(caller: Caller, order_id: str, status: str, *, seconds: float = 120) -> Any:
    def probe() -> Any:
        found = caller.http.get(f"/orders/{order_id}")
        return (
            found.json() if found.status_code == 200 and found.json()["status"] == status else None
        )

    return wait_for(f"{order_id} to be {status}", probe, seconds=seconds)


def _shipment(order: Mapping[str, Any], number: int) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in order["shipments"] if s["shipment"] == number)
    return found


def shipment_reaches(
    caller: Caller, order_id: str, number: int, status: str, *, seconds: float = 120
) -> Any:
    """The order once its shipment ``number`` is ``status``."""

    def probe() -> Any:
        order = caller.call("GET", f"/orders/{order_id}")
        return order if _shipment(order, number)["status"] == status else None

    return wait_for(f"{order_id} shipment {number} to be {status}", probe, seconds=seconds)


def standing(order: Mapping[str, Any]) -> str:
    """The order's status and each shipment's: the order shows the least advanced."""
    each = ", ".join(f"shipment {s['shipment']} {s['status']}" for s in order["shipments"])
    return f"order {order['order_id']}: {order['status']} ({each})"


def confirm(supplier: Caller, order_id: str, lines: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The supplier confirms with its plan; the order's shipments once recorded."""
    plan = shipment_plan(lines)
    task = open_task(supplier, "order_confirmation", order_id)
    if plan:
        split = ", ".join(f"{key} = {quantity}" for key, quantity in plan.items())
        print(f"{supplier.email}: splits the order, choices {{{split}}}")
    answer = decide(supplier, task, "confirm", plan)
    print(f"  {answer['message']}")
    shipments: list[Any] = wait_for(
        f"{order_id}'s shipments", lambda: supplier.call("GET", f"/orders/{order_id}")["shipments"]
    )
    units = {line["line_id"]: (line["unit"], line["description"]) for line in lines}
    for shipment in shipments:
        carried = "; ".join(
            f"{line_id} {quantity_text(Decimal(q))} {units[line_id][0]} {units[line_id][1]}"
            for line_id, q in shipment["quantities"].items()
        )
        waybill = shipment["waybill_number"] or "none needed"
        dangerous = ", ".join(shipment["un_numbers"]) or "none"
        print(
            f"shipment {shipment['shipment']}: {carried}; dangerous goods {dangerous}; "
            f"e-waybill {waybill}"
        )
    return shipments


def submit_waybill(
    logistics: Caller,
    safety: Caller,
    order_id: str,
    shipment: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    *,
    refuse_first: bool,
) -> None:
    """The shipment's e-waybill on its own truck. With ``refuse_first`` a draft with the driver's
    certificate expired goes first and is sent back with the reason; the clean one passes (a
    safety approval if it carries warnings) and is filed with the regulator."""
    number: str = shipment["waybill_number"]
    n: int = shipment["shipment"]
    match = {"waybill_number": number}
    task = open_task(logistics, "waybill_submission", order_id, details=match)
    loading = datetime.now(UTC) + timedelta(hours=2 * n)
    truck = TRUCKS[(n - 1) % len(TRUCKS)]
    draft = partial(shipment_waybill, order_id, shipment, lines, truck, loading_at=loading)
    url = f"/orders/{order_id}/shipments/{n}/waybill"
    revision = 1
    if refuse_first:
        expired = draft(driver_expiry=(loading - timedelta(days=3)).date())
        answer = logistics.call("POST", url, json=expired.model_dump(mode="json"))
        print(
            f"{logistics.email}: e-waybill {number} for shipment {n} ({truck.plate}), driver "
            f"certificate expired → {answer['process_status']}: {answer['message']}"
        )
        open_task(logistics, "waybill_submission", order_id, not_id=task["task_id"], details=match)
        revision = 2
    clean = draft().model_copy(update={"revision": revision})
    answer = logistics.call("POST", url, json=clean.model_dump(mode="json"))
    print(
        f"{logistics.email}: e-waybill {number} r{revision} for shipment {n} ({truck.plate}, "
        f"{', '.join(f'{i.quantity} {i.unit} {i.un_number}' for i in clean.items)}) → "
        f"{answer['process_status']}: {answer['message']}"
    )
    if answer["process_status"] == "awaiting_safety_approval":
        review = open_task(safety, "waybill_safety_review", order_id, details=match)
        decide(safety, review, "approve")


def proof_of_delivery(order_id: str, number: int) -> bytes:
    signed = f"%demo proof of delivery of {order_id} shipment {number}, signed by the consignee"
    return b"%PDF-1.4\n" + signed.encode() + b"\n%%EOF\n"


def transport(carrier: Caller, shipper: Shipper, order_id: str, number: int) -> None:
    """One shipment's pickup, departure and arrival, then its delivery with its proof uploaded
    first."""
    events = f"/orders/{order_id}/shipments/{number}/events"

    def said(kind: str, receipt: Mapping[str, Any]) -> str:
        return (
            f"{carrier.email}: shipment {number} {kind} → shipment {receipt['shipment_status']}, "
            f"order {receipt['status']}"
        )

    legs = (
        ("picked_up", shipper.origin),
        ("departed", shipper.road),
        ("arrived", DESTINATION),
    )
    for kind, place in legs:
        at = datetime.now(UTC).isoformat()
        receipt = carrier.call("POST", events, json={"kind": kind, "at": at, "location": place})
        print(f"{said(kind, receipt)} ({place})")
    pod = carrier.call(
        "POST",
        f"/orders/{order_id}/documents",
        files={
            "file": (
                f"签收单 proof of delivery S{number}.pdf",
                proof_of_delivery(order_id, number),
                "application/pdf",
            )
        },
    )
    digest = pod["sha256"][:16]
    print(f"{carrier.email}: shipment {number} proof of delivery uploaded, sha256 {digest}…")
    receipt = carrier.call(
        "POST",
        events,
        json={
            "kind": "delivered",
            "at": datetime.now(UTC).isoformat(),
            "location": DESTINATION,
            "note": "签收 signed by the consignee",
            "proof_of_delivery_document_id": pod["document_id"],
        },
    )
    print(said("delivered", receipt))


def settle(buyer: Caller, finance: Caller, order_id: str, out: Path) -> None:
    """The buyer accepts; the invoice is saved; finance pays what it says in full."""
    decide(buyer, open_task(buyer, "order_acceptance", order_id), "accept")
    invoiced = order_reaches(finance, order_id, "invoiced")
    invoice = invoiced["invoice"]
    path = out / f"invoice-{order_id}.pdf"
    path.write_bytes(finance.call("GET", f"/orders/{order_id}/invoice"))
    print(
        f"invoice {invoice['invoice_id']}: {invoice['currency']} {invoice['amount']}, "
        f"due {invoice['due_on']}; saved {path}"
    )
    owed = invoiced["outstanding"]
    receipt = finance.call(
        "POST",
        f"/orders/{order_id}/payments",
        json={
            "amount": owed,
            "reference": f"HD-{order_id[-12:]}",
            "paid_on": datetime.now(CST).date().isoformat(),
        },
    )
    print(
        f"{finance.email}: pays {owed['currency']} {owed['amount']} → {receipt['status']}, "
        f"outstanding {receipt['outstanding']['amount']}"
    )
    done = order_reaches(buyer, order_id, "completed")
    print(f"order {order_id}: {done['status']} ({done['status_reason']})")


def fulfil(base: str, executed: list[Executed], out: Path) -> list[str]:
    """Each executed contract's order, confirmation to payment; the filed waybills' numbers."""
    buyer, finance, safety = Caller(base, BUYER), Caller(base, FINANCE), Caller(base, SAFETY)
    filed: list[str] = []
    for deal in executed:
        order_id = f"ord-{deal.contract_id}"
        shipper = SHIPPERS[deal.supplier]
        supplier, carrier = Caller(base, deal.supplier), Caller(base, shipper.email)
        step(f"Order {order_id}: {deal.supplier}")
        order = order_reaches(buyer, order_id, "awaiting_confirmation")
        print(
            f"{order['total']['currency']} {order['total']['amount']}, "
            f"dangerous goods: {order['dangerous_goods']}"
        )
        shipments = confirm(supplier, order_id, deal.lines)
        # Shipments move on their own: the first goes while the next still waits for its
        # e-waybill, and the order shows the least advanced.
        for shipment in shipments:
            n = shipment["shipment"]
            if len(shipments) > 1:
                step(f"Order {order_id}, shipment {n} of {len(shipments)}")
            number = shipment["waybill_number"]
            if number:
                submit_waybill(
                    carrier, safety, order_id, shipment, deal.lines, refuse_first=not filed
                )
                filed.append(number)
            ready = shipment_reaches(buyer, order_id, n, "ready_to_dispatch")
            if number:
                receipt = _shipment(ready, n)["receipt_number"]
                print(f"filed with the regulator: {number}, receipt {receipt}")
            print(standing(ready))
            transport(carrier, shipper, order_id, n)
        print(standing(order_reaches(buyer, order_id, "delivered")))
        settle(buyer, finance, order_id, out)
    return filed


# -- the regulator ------------------------------------------------------------------------


def inspect(base: str, numbers: list[str], out: Path) -> None:
    """The regulator finds the filed acetone waybills, reads, verifies and exports them."""
    inspector = Caller(base, INSPECTOR)
    search = {"un_number": "UN1090"}
    found = inspector.call("GET", "/regulator/waybills", params=search)
    listed = {row["waybill_number"] for row in found}
    ours = ", ".join(n for n in numbers if n in listed) or "none of this round's"
    print(f"{INSPECTOR}: {len(found)} filed waybill(s) carry UN1090, among them {ours}")
    for number in numbers:
        record = inspector.call("GET", f"/regulator/waybills/{number}")
        filings = ", ".join(f"{f['kind']} ({f['receipt']})" for f in record["filings"])
        print(
            f"{number}: {record['status']}, {record['carrier_name']} {record['vehicle_plate']}; "
            f"filings: {filings}"
        )
        checked = inspector.call("GET", f"/regulator/waybills/{number}/integrity")
        print(
            f"integrity: json intact={checked['json_intact']}, pdf intact="
            f"{checked['pdf_intact']}, record matches={checked['record_matches_json']}"
        )
        path = out / f"e-waybill-{number}.pdf"
        path.write_bytes(inspector.call("GET", f"/regulator/waybills/{number}/pdf"))
        print(f"saved {path}")
    path = out / "waybills-UN1090.csv"
    path.write_bytes(inspector.call("GET", "/regulator/waybills.csv", params=search))
    print(f"saved {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m stack.demo", description=__doc__)
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    args = parser.parse_args(argv)
    out = Path(get_settings().data_dir) / "demo"
    out.mkdir(parents=True, exist_ok=True)
    step("Accrediting the demo suppliers")
    compliance = Caller(args.api, COMPLIANCE)
    suppliers = {email: accredit(args.api, email, compliance) for email in SUPPLIERS}
    executed = source(args.api, suppliers, out)
    filed = fulfil(args.api, executed, out)
    step("The regulator inspects the filed e-waybills")
    inspect(args.api, filed, out)


if __name__ == "__main__":
    main()
