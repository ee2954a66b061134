"""``make demo``: drive the running platform (``make up``) through the REST API, as its users would.

Accredits the three demo suppliers (each applies; compliance approves), then runs one sourcing
round for the demo buyer: an RFQ with a dangerous-goods line and a chilled line, quotes, a
decline, the comparison, a split award, finance approval of the large contract, both signatures
on each contract and their verification. Each executed contract becomes an order, fulfilled to
payment: the supplier confirms; for the acetone the supplier's logistics submits the e-waybill
(refused once for an expired driver certificate, then filed with the regulator); the carrier
events with a proof of delivery; the buyer accepts; the invoice; finance pays. Last, the
regulator searches, reads, verifies and exports the filed e-waybill. Every step is a real
request to the real services; the PDFs and the export are saved under ``<data dir>/demo/``.
Run it again for another round.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import httpx

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


def open_task(caller: Caller, kind: str, subject_id: str, *, not_id: str = "") -> dict[str, Any]:
    """The caller's open task of ``kind`` on the subject (other than ``not_id``), once opened."""
    found: dict[str, Any] = wait_for(
        f"{caller.email}'s {kind} task",
        lambda: next(
            (
                t
                for t in caller.call(
                    "GET", "/tasks", params={"kind": kind, "subject_id": subject_id}
                )
                if t["task_id"] != not_id
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
        "91320200MA1HENGX3W",
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
        "91330100MA2L1ANF45",
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
        "91440300MA3ANX1N5M",
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
        executed.append(Executed(contract_id, seller.email))
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
POD = b"%PDF-1.4\n%demo proof of delivery, signed by the consignee\n%%EOF\n"


def acetone_waybill(
    number: str, order_id: str, *, loading_at: datetime, driver_expiry: date | None = None
) -> EWaybill:
    """The e-waybill for line L1: 20,000 L of acetone in 100 drums, one tractor and trailer."""
    loading = loading_at.astimezone(CST)
    far = loading.date() + timedelta(days=900)
    return EWaybill(
        waybill_number=number,
        order_id=order_id,
        shipment_id=f"{order_id}-S1",
        dispatch_date=loading.date(),
        consignor=WaybillParty(
            name="江苏恒信化工有限公司",
            credit_code="91320200MA1HENGX3W",
            contact_phone="0510-8888 1234",
        ),
        consignee=WaybillParty(
            name="华东精细化工贸易有限公司",
            credit_code="91310000MA1BUYER1P",
            contact_phone="021-5080 1234",
        ),
        carrier=Carrier(
            name="苏州安运危险品运输有限公司",
            credit_code="91320581MA1W5E8N0M",
            phone="0512-5231 8888",
            road_transport_permit_number="苏交运管许可苏字320581000123号",
            permit_expiry=far,
            permitted_classes=("3", "8"),
        ),
        vehicle=Vehicle(
            plate="苏E·A8231",
            transport_certificate_number="苏交运管苏字320581301234号",
            permitted_classes=("3", "8"),
            inspection_valid_until=far,
            trailer_plate="苏E·B372挂",
            trailer_certificate_number="苏交运管苏字320581305678号",
            max_load_kg=Decimal(30000),
        ),
        driver=CrewMember(
            name="王建国",
            qualification_certificate_number="320581198503121234",
            certificate_expiry=driver_expiry or far,
            phone="138 1234 5678",
        ),
        escort=CrewMember(
            name="李芳",
            qualification_certificate_number="320581199011054321",
            certificate_expiry=far,
            phone="139 8765 4321",
        ),
        items=(
            WaybillItem(
                un_number="UN1090",
                proper_shipping_name="Acetone",
                hazard_class="3",
                packing_group="II",
                packaging="200 L steel drums",
                packages=100,
                quantity=Decimal(20000),
                unit="L",
            ),
        ),
        loading_place="江苏省无锡市惠山经济开发区 Huishan, Wuxi",
        unloading_place=DESTINATION,
        planned_loading_at=loading,
        planned_unloading_at=loading + timedelta(hours=6),
        route="G2 京沪高速 → G1501 上海绕城高速",
        emergency_contact=EmergencyContact(name="恒信应急中心", phone_24h="0510-8888 0119"),
    )


def decide(caller: Caller, task: dict[str, Any], outcome: str) -> dict[str, Any]:
    answer: dict[str, Any] = caller.call(
        "POST", f"/tasks/{task['task_id']}/decision", json={"outcome": outcome}
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


def submit_waybill(logistics: Caller, safety: Caller, order_id: str, number: str) -> None:
    """A draft with the driver's certificate expired is sent back with the reason; the clean one
    passes (a safety approval if it carries warnings) and is filed with the regulator."""
    task = open_task(logistics, "waybill_submission", order_id)
    loading = datetime.now(UTC) + timedelta(hours=2)
    expired = acetone_waybill(
        number, order_id, loading_at=loading, driver_expiry=(loading - timedelta(days=3)).date()
    )
    url = f"/orders/{order_id}/waybill"
    answer = logistics.call("POST", url, json=expired.model_dump(mode="json"))
    print(
        f"{logistics.email}: e-waybill {number}, driver certificate expired → "
        f"{answer['process_status']}: {answer['message']}"
    )
    open_task(logistics, "waybill_submission", order_id, not_id=task["task_id"])
    clean = acetone_waybill(number, order_id, loading_at=loading).model_copy(update={"revision": 2})
    answer = logistics.call("POST", url, json=clean.model_dump(mode="json"))
    print(
        f"{logistics.email}: e-waybill {number} r2 → {answer['process_status']}: "
        f"{answer['message']}"
    )
    if answer["process_status"] == "awaiting_safety_approval":
        decide(safety, open_task(safety, "waybill_safety_review", order_id), "approve")


def transport(carrier: Caller, shipper: Shipper, order_id: str) -> None:
    """Pickup, departure and arrival, then the delivery with its proof uploaded first."""
    events = f"/orders/{order_id}/events"
    legs = (
        ("picked_up", shipper.origin),
        ("departed", shipper.road),
        ("arrived", DESTINATION),
    )
    for kind, place in legs:
        at = datetime.now(UTC).isoformat()
        receipt = carrier.call("POST", events, json={"kind": kind, "at": at, "location": place})
        print(f"{carrier.email}: {kind} at {place} → {receipt['status']}")
    pod = carrier.call(
        "POST",
        f"/orders/{order_id}/documents",
        files={"file": ("签收单 proof of delivery.pdf", POD, "application/pdf")},
    )
    print(f"{carrier.email}: proof of delivery uploaded, sha256 {pod['sha256'][:16]}…")
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
    print(f"{carrier.email}: delivered → {receipt['status']}")


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
        decide(supplier, open_task(supplier, "order_confirmation", order_id), "confirm")
        number = order["waybill_number"]
        if number:
            submit_waybill(carrier, safety, order_id, number)
            filed.append(number)
        ready = order_reaches(buyer, order_id, "ready_to_dispatch")
        if number:
            print(f"filed with the regulator: {number}, receipt {ready['receipt_number']}")
        transport(carrier, shipper, order_id)
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
