"""The sourcing act of ``make demo``: one RFQ round to executed contracts.

Shows a sealed RFQ with a dangerous-goods line and a chilled line, two quotes and a decline, the
comparison refused while sealed and ranked once closed, a split award (one contract per supplier),
finance approving the large contract, both signatures on each contract and their verification.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from stack.demo_client import BUYER, DESTINATION, FINANCE, Caller, open_task, step, wait_for


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


def rfq_body(
    title: str, lines: list[dict[str, Any]], invited: list[str], *, sealed: bool
) -> dict[str, Any]:
    """An RFQ for delivery to the buyer's site (DAP, CNY), needed in 30 days, quotes due in 3."""
    now = datetime.now(UTC)
    return {
        "title": title,
        "lines": lines,
        "delivery_place": DESTINATION,
        "incoterm": "DAP",
        "needed_by": (now + timedelta(days=30)).date().isoformat(),
        "quote_deadline": (now + timedelta(days=3)).isoformat(),
        "currency": "CNY",
        "payment_terms": "验收后30天付款 30 days after acceptance",
        "sealed": sealed,
        "invited_supplier_ids": invited,
    }


@dataclass(frozen=True)
class Executed:
    contract_id: str
    supplier: str  # the supplier user's email
    lines: tuple[dict[str, Any], ...]  # the contract's lines, as GET /contracts/{id} states them


def source(base: str, suppliers: dict[str, str], out: Path) -> list[Executed]:
    """One sourcing round to executed contracts; the contract PDFs are saved to ``out``."""
    buyer = Caller(base, BUYER)
    sellers = {email: Caller(base, email) for email in suppliers}
    now = datetime.now(UTC)
    step("The buyer issues a sealed RFQ to the three suppliers")
    created = buyer.call(
        "POST",
        "/rfqs",
        json=rfq_body(
            "季度溶剂与冷藏试剂采购 Quarterly solvents and chilled reagents",
            [
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
                    # Its logger uploads hourly and buffers through dead zones: 4 h of
                    # silence allowed (the demo replays a trip from 3 h back).
                    "temperature": {
                        "min_celsius": "2",
                        "max_celsius": "8",
                        "max_silence_minutes": 240,
                    },
                },
            ],
            list(suppliers.values()),
            sealed=True,
        ),
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
    return award(base, rfq_id, sellers, out)


def award(base: str, rfq_id: str, sellers: dict[str, Caller], out: Path) -> list[Executed]:
    """Once the suppliers answered: the buyer closes, compares and awards as recommended;
    finance approves and both parties sign each contract (its PDF saved to ``out``)."""
    buyer, finance = Caller(base, BUYER), Caller(base, FINANCE)
    step("Everyone answered: the buyer closes early and compares")
    buyer.call("POST", f"/rfqs/{rfq_id}/close", json={"reason": "all answered"})
    wait_for("quoting to close", lambda: buyer.call("GET", f"/rfqs/{rfq_id}")["status"] != "open")
    winners: set[str] = set()
    for line in buyer.call("GET", f"/rfqs/{rfq_id}/comparison")["lines"]:
        print(f"{line['line_id']} {line['description']} x {line['quantity']} {line['unit']}")
        for offer in line["offers"]:
            print(f"  #{offer['rank']} {offer['supplier_org_id']}: {offer['explanation']}")
            if offer["rank"] == 1:
                winners.add(offer["supplier_org_id"])
    step("The buyer awards as recommended (a split award: one contract per supplier)")
    award = wait_for(
        "the award task",
        lambda: buyer.call("GET", "/tasks", params={"kind": "rfq_award", "subject_id": rfq_id}),
    )[0]
    print(buyer.call("POST", f"/tasks/{award['task_id']}/decision", json={"outcome": "award"}))

    def every_contract() -> list[dict[str, Any]] | None:
        # One contract per winning supplier, written one after the other: wait for them all.
        found: list[dict[str, Any]] = buyer.call("GET", "/contracts", params={"rfq_id": rfq_id})
        return found if len(found) == len(winners) else None

    contracts = wait_for("a contract per winning supplier", every_contract)
    return [sign(buyer, finance, sellers, c["contract_id"], out) for c in contracts]


def sign(
    buyer: Caller, finance: Caller, sellers: dict[str, Caller], contract_id: str, out: Path
) -> Executed:
    """Finance approves what asks, both parties sign, the signatures are verified and the PDF
    saved to ``out``: the contract executed."""
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
    return Executed(contract_id, seller.email, tuple(view["terms"]["lines"]))


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
