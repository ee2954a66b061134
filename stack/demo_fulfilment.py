"""The fulfilment act of ``make demo``: each executed contract's order, confirmation to payment.

Shows the supplier confirming with its shipment plan and, for the acetone, its carrier; for each
shipment of acetone the supplier's logistics declaring the consignment list, the carrier's
dispatcher making the e-waybill from it with a truck and crew of its fleet, and the loader's
five checks before loading (the first refused once: the truck's inspection is out of date, so the
carrier sends its other truck), the waybill then filed with the regulator; each shipment moved on
its own by carrier events ending with a proof of delivery, while the order shows its least
advanced shipment; the chilled kits' shipment carried with a logger on board, its excursion
alerted and claimed for (``stack.demo_cold_chain``); the buyer accepting once all are delivered;
the invoice; finance stepping up with its second factor (enrolled on the first run) and paying
what is owed after any credit note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from stack.demo_accreditation import SUPPLIERS
from stack.demo_carrier import CARRIER_DISPATCH, DemoCarrier, Truck
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
from stack.demo_cold_chain import cold_lines, dispose, drive, equip
from stack.demo_loans import Financed, finance_order, repaid
from stack.demo_second_factor import stepped_up
from stack.demo_sourcing import Executed
from stack.demo_waybill import (
    CST,
    consignment_list,
    gross_mass,
    quantity_text,
    shipment_plan,
    trip,
)


@dataclass(frozen=True)
class Shipper:
    """The supplier's logistics (consignor and loader), and the road its goods take."""

    email: str
    origin: str
    road: str


# Hengxin's acetone and Lianfeng's chilled kits travel with the demo carrier, whose dispatcher
# reports the transport and keeps the kits' logger (Lianfeng has no logistics user to do it).
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


def confirm(
    supplier: Caller, order_id: str, lines: Sequence[Mapping[str, Any]], carrier_org_id: str
) -> list[Any]:
    """The supplier confirms with its plan and, for dangerous goods, the carrier; the order's
    shipments once recorded."""
    plan = shipment_plan(lines)
    task = open_task(supplier, "order_confirmation", order_id)
    if plan:
        split = ", ".join(f"{key} = {quantity}" for key, quantity in plan.items())
        print(f"{supplier.email}: splits the order, choices {{{split}}}")
    if any(line["un_number"] or line["temperature"] for line in lines):
        plan = {**plan, "carrier": carrier_org_id}
        print(f"{supplier.email}: names the carrier {carrier_org_id}")
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


def carry_waybill(
    consignor: Caller,
    dispatcher: Caller,
    safety: Caller,
    order_id: str,
    shipment: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    trucks: tuple[Truck, ...],
    *,
    consignor_code: str,
    refuse_first: bool,
) -> None:
    """The shipment's e-waybill: the consignor's list, the carrier's waybill, the loader's
    checks. With ``refuse_first`` the loader finds the first truck's inspection out of date and
    refuses to load; the carrier makes the waybill again with its other truck."""
    number: str = shipment["waybill_number"]
    n: int = shipment["shipment"]
    match = {"waybill_number": number}
    base = f"/orders/{order_id}/shipments/{n}"
    open_task(consignor, "consignment_list", order_id, details=match)
    answer = consignor.call(
        "POST", f"{base}/consignment", json=consignment_list(shipment, lines, consignor_code)
    )
    print(
        f"{consignor.email}: consignment list for shipment {n} → {answer['process_status']}: "
        f"{answer['message']}"
    )
    loading = datetime.now(UTC) + timedelta(hours=2 * n)
    order = partial(trip, loading_at=loading, gross_kg=gross_mass(shipment, lines))
    first = trucks[(n - 1) % len(trucks)]
    for attempt, truck in enumerate((first, trucks[n % len(trucks)]) if refuse_first else (first,)):
        task = open_task(dispatcher, "waybill_submission", order_id, details=match)
        answer = dispatcher.call(
            "POST",
            f"{base}/waybill/make",
            json=order(truck.vehicle_id, truck.driver_id, truck.escort_id),
        )
        print(
            f"{dispatcher.email}: makes e-waybill {number} r{task['details']['revision']} with "
            f"{truck.plate} → {answer['process_status']}: {answer['message']}"
        )
        if answer["process_status"] == "awaiting_safety_approval":
            decide(
                safety,
                open_task(safety, "waybill_safety_review", order_id, details=match),
                "approve",
            )
        open_task(consignor, "loading_check", order_id, details=match)
        refused = refuse_first and attempt == 0
        checks = {
            "vehicle_permits": True,
            "crew_qualified": True,
            "vehicle_inspected": not refused,
            "goods_match": True,
            "note": f"年检标志过期 {truck.plate} inspection sticker out of date" if refused else "",
        }
        answer = consignor.call("POST", f"{base}/loading-check", json=checks)
        print(
            f"{consignor.email}: five checks (五必查) at loading {truck.plate} → "
            f"{answer['process_status']}: {answer['message']}"
        )


def proof_of_delivery(order_id: str, number: int) -> bytes:
    signed = f"%demo proof of delivery of {order_id} shipment {number}, signed by the consignee"
    return b"%PDF-1.4\n" + signed.encode() + b"\n%%EOF\n"


def report_event(
    carrier: Caller, order_id: str, number: int, kind: str, place: str, at: datetime
) -> None:
    """One carrier event of a shipment, as the carrier reports it."""
    receipt = carrier.call(
        "POST",
        f"/orders/{order_id}/shipments/{number}/events",
        json={"kind": kind, "at": at.isoformat(), "location": place},
    )
    print(
        f"{carrier.email}: shipment {number} {kind} → shipment {receipt['shipment_status']}, "
        f"order {receipt['status']} ({place})"
    )


def deliver(carrier: Caller, order_id: str, number: int, at: datetime) -> None:
    """The shipment's delivery, its proof uploaded first."""
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
        f"/orders/{order_id}/shipments/{number}/events",
        json={
            "kind": "delivered",
            "at": at.isoformat(),
            "location": DESTINATION,
            "note": "签收 signed by the consignee",
            "proof_of_delivery_document_id": pod["document_id"],
        },
    )
    print(
        f"{carrier.email}: shipment {number} delivered → shipment {receipt['shipment_status']}, "
        f"order {receipt['status']}"
    )


def transport(carrier: Caller, shipper: Shipper, order_id: str, number: int) -> None:
    """One shipment's pickup, departure and arrival, then its delivery with its proof uploaded
    first."""
    for kind, place in (
        ("picked_up", shipper.origin),
        ("departed", shipper.road),
        ("arrived", DESTINATION),
    ):
        report_event(carrier, order_id, number, kind, place, datetime.now(UTC))
    deliver(carrier, order_id, number, datetime.now(UTC))


def carry_cold(
    base: str,
    carrier: Caller,
    buyer: Caller,
    shipper: Shipper,
    order_id: str,
    shipment: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    out: Path,
) -> None:
    """A cold shipment: a logger on board before pickup, its readings on the road (the trip
    replayed from three hours back), the buyer's disposition on delivery."""
    n: int = shipment["shipment"]
    trip = equip(base, carrier, order_id, n, lines, origin=shipper.origin)
    report_event(carrier, order_id, n, "picked_up", shipper.origin, trip.start)
    report_event(carrier, order_id, n, "departed", shipper.road, trip.start + timedelta(minutes=2))
    drive(base, trip, carrier, buyer)
    report_event(carrier, order_id, n, "arrived", DESTINATION, trip.end)
    deliver(carrier, order_id, n, trip.end)
    dispose(trip, buyer, out)


def settle(
    buyer: Caller, finance: Caller, order_id: str, out: Path, loan: Financed | None = None
) -> None:
    """The buyer accepts; the invoice is saved; finance pays what it says in full (into the
    supervised account first, when a loan on the order is repaid from it)."""
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
    reference = f"HD-{order_id[-12:]}"
    if loan is not None:
        loan.pay_in(owed, reference)
    receipt = finance.call(
        "POST",
        f"/orders/{order_id}/payments",
        json={
            "amount": owed,
            "reference": reference,
            "paid_on": datetime.now(CST).date().isoformat(),
        },
        headers=stepped_up(finance, out),  # paying moves money: a second factor first
    )
    print(
        f"{finance.email}: pays {owed['currency']} {owed['amount']} → {receipt['status']}, "
        f"outstanding {receipt['outstanding']['amount']}"
    )
    done = order_reaches(buyer, order_id, "completed")
    print(f"order {order_id}: {done['status']} ({done['status_reason']})")


def fulfil(base: str, executed: list[Executed], out: Path, carrier: DemoCarrier) -> list[str]:
    """Each executed contract's order, confirmation to payment; the filed waybills' numbers."""
    buyer, finance, safety = Caller(base, BUYER), Caller(base, FINANCE), Caller(base, SAFETY)
    dispatcher = Caller(base, CARRIER_DISPATCH)
    filed: list[str] = []
    for deal in executed:
        order_id = f"ord-{deal.contract_id}"
        shipper = SHIPPERS[deal.supplier]
        supplier, logistics = Caller(base, deal.supplier), Caller(base, shipper.email)
        carried = any(line["un_number"] or line["temperature"] for line in deal.lines)
        # Dangerous and chilled goods go with the carrier, which reports their transport.
        mover = dispatcher if carried else logistics
        step(f"Order {order_id}: {deal.supplier}")
        order = order_reaches(buyer, order_id, "awaiting_confirmation")
        print(
            f"{order['total']['currency']} {order['total']['amount']}, "
            f"dangerous goods: {order['dangerous_goods']}"
        )
        shipments = confirm(supplier, order_id, deal.lines, carrier.org_id)
        loan = finance_order(base, order_id, deal.supplier, out)  # before the buyer pays
        # Shipments move on their own: the first goes while the next still waits for its
        # e-waybill, and the order shows the least advanced.
        for shipment in shipments:
            n = shipment["shipment"]
            if len(shipments) > 1:
                step(f"Order {order_id}, shipment {n} of {len(shipments)}")
            number = shipment["waybill_number"]
            if number:
                carry_waybill(
                    logistics,
                    dispatcher,
                    safety,
                    order_id,
                    shipment,
                    deal.lines,
                    carrier.trucks,
                    consignor_code=SUPPLIERS[deal.supplier][0],
                    refuse_first=not filed,
                )
                filed.append(number)
            ready = shipment_reaches(buyer, order_id, n, "ready_to_dispatch")
            if number:
                receipt = _shipment(ready, n)["receipt_number"]
                print(f"filed with the regulator: {number}, receipt {receipt}")
            print(standing(ready))
            cold = cold_lines(shipment, deal.lines)
            if cold:
                carry_cold(base, mover, buyer, shipper, order_id, shipment, cold, out)
            else:
                transport(mover, shipper, order_id, n)
        print(standing(order_reaches(buyer, order_id, "delivered")))
        settle(buyer, finance, order_id, out, loan)
        if loan is not None:
            repaid(loan)
    return filed
