"""``make demo``: drive the running platform (``make up``) through the REST API, as its users would.

Accredits the three demo suppliers (each applies; compliance approves), then runs one sourcing
round for the demo buyer: an RFQ with a dangerous-goods line and a chilled line, quotes, a
decline, the comparison, a split award, finance approval of the large contract, both signatures
on each contract and their verification. Every step is a real request to the real services; the
contract PDFs are saved under ``<data dir>/demo/``. Run it again for another round.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from db.seed import DEMO_PASSWORD
from settings import get_settings

PDF = b"%PDF-1.4\n%demo scan\n%%EOF\n"
BUYER = "buyer@huadong.example"
FINANCE = "finance@huadong.example"
COMPLIANCE = "compliance@tradeflow.example"


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


def source(base: str, suppliers: dict[str, str], out: Path) -> None:
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
            "delivery_place": "上海市金山区化学工业区 Jinshan Chemical Park, Shanghai",
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m stack.demo", description=__doc__)
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    args = parser.parse_args(argv)
    out = Path(get_settings().data_dir) / "demo"
    out.mkdir(parents=True, exist_ok=True)
    step("Accrediting the demo suppliers")
    compliance = Caller(args.api, COMPLIANCE)
    suppliers = {email: accredit(args.api, email, compliance) for email in SUPPLIERS}
    source(args.api, suppliers, out)


if __name__ == "__main__":
    main()
