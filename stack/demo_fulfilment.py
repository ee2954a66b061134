"""The fulfilment act of ``make demo``: each executed contract's order, confirmation to payment.

Shows the supplier confirming with its shipment plan; for each shipment of acetone its logistics
submitting an e-waybill (the first refused once for an expired driver certificate), filed with the
regulator; each shipment moved on its own by carrier events ending with a proof of delivery, while
the order shows its least advanced shipment; the buyer accepting once all are delivered; the
invoice; finance paying it in full.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from stack.demo_client import (
    BUYER,
    DESTINATION,
    FINANCE,
    SAFETY,
    Caller,
    open_task,
    step,
    wait_for,
)
from stack.demo_sourcing import Executed
from stack.demo_waybill import CST, TRUCKS, quantity_text, shipment_plan, shipment_waybill


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
