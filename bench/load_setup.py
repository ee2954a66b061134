"""What the sale day needs before its first user arrives, made through the REST API as the demo's
people would: accredited suppliers and carrier, open RFQs for suppliers to quote on, a chilled
shipment on the road with a logger on board, e-waybills filed with the regulator, a pool of
shipments ready for the carrier to move, and a token for each demo user.

The users' tokens are taken here, once: signing in hashes a password on purpose (hundreds of
milliseconds), so locust users signing in at every step would measure the password hash instead
of the platform. One RFQ round through the demo's sourcing act gives the chilled order and the
acetone order. The chilled order's supplier confirms with the carrier, who puts a logger on the
trip and picks it up, so its readings are accepted for the rest of the run. The acetone order's
two shipments get their e-waybills made and filed as the demo files them, so the regulator's
lists, searches and reads have rows. A second round, three plain lines each won by another
supplier, gives three orders that their suppliers confirm in ``SHIPMENTS_PER_ORDER`` shipments
with the carrier: with the acetone shipments they are the pool whose events (picked up, departed,
arrived, delivered) the carrier posts during the load, each once.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from stack.demo_accreditation import SUPPLIERS, accredit
from stack.demo_carrier import CARRIER_DISPATCH, DemoCarrier, accredit_carrier, register_fleet
from stack.demo_client import (
    BUYER,
    COMPLIANCE,
    INSPECTOR,
    SAFETY,
    Caller,
    open_task,
    step,
    wait_for,
)
from stack.demo_cold_chain import cold_lines, equip
from stack.demo_fulfilment import (
    SHIPPERS,
    carry_waybill,
    confirm,
    decide,
    order_reaches,
    report_event,
    shipment_reaches,
)
from stack.demo_sourcing import Executed, award, quote_terms, rfq_body, source

# Each supplier user of the load quotes on an RFQ of its own (one per supplier organisation and
# RFQ), so two locust users never race to revise the same quote.
LOAD_RFQS = 30
SECOND_BUYER = "buyer@nanfang.example"
READINGS_PER_BATCH = 10  # a logger's upload: bench.load counts stored readings by it
SHIPMENTS_PER_ORDER = 20  # the most an order's plan takes (contracts.fulfilment.MAX_SHIPMENTS)
# The carriage round's lines, one a supplier (in SUPPLIERS' order): its price is the lowest.
CARRIAGE_LINES = (
    ("L1", "工业盐 Industrial salt, 25 kg bags", "t"),
    ("L2", "聚乙烯颗粒 Polyethylene pellets, 25 kg bags", "t"),
    ("L3", "钢制托盘 Steel pallets", "pcs"),
)


@dataclass(frozen=True)
class LoadState:
    base: str
    tokens: dict[str, str]  # email: bearer token
    suppliers: dict[str, str]  # email: organisation id
    rfq_ids: list[str]
    trip_order_id: str
    trip_shipment: int
    logger_id: str
    logger_secret: str
    trip_start: str  # ISO time the trip was picked up: readings fall after it
    terms: dict[str, object]  # a valid quote for the load RFQs' lines, revised by price
    shipments: list[tuple[str, int]]  # (order id, number): the carrier moves these, event by event
    waybills: list[str]  # the filed e-waybills' numbers

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> LoadState:
        saved = json.loads(path.read_text())
        saved["shipments"] = [(order_id, number) for order_id, number in saved["shipments"]]
        return cls(**saved)


def prepare(base: str, out: Path) -> LoadState:
    """Make everything the load needs (a few minutes: one sourcing round to a moving trip)."""
    step("Load set-up: accredited suppliers and carrier")
    compliance = Caller(base, COMPLIANCE)
    suppliers = {email: accredit(base, email, compliance) for email in SUPPLIERS}
    carrier = register_fleet(base, accredit_carrier(base, compliance))
    step("Load set-up: one sourcing round, for a chilled shipment on the road")
    executed = source(base, suppliers, out)
    acetone = next(deal for deal in executed if any(x["un_number"] for x in deal.lines))
    waybills = _filed(base, acetone, carrier)
    chilled = next(deal for deal in executed if any(x["temperature"] for x in deal.lines))
    order_id = f"ord-{chilled.contract_id}"
    buyer = Caller(base, BUYER)
    order_reaches(buyer, order_id, "awaiting_confirmation")
    shipments = confirm(Caller(base, chilled.supplier), order_id, chilled.lines, carrier.org_id)
    shipment = next(s for s in shipments if cold_lines(s, chilled.lines))
    dispatcher = Caller(base, CARRIER_DISPATCH)
    shipper = SHIPPERS[chilled.supplier]
    number = shipment["shipment"]
    trip = equip(
        base,
        dispatcher,
        order_id,
        number,
        cold_lines(shipment, chilled.lines),
        origin=shipper.origin,
    )
    report_event(dispatcher, order_id, number, "picked_up", shipper.origin, trip.start)
    report_event(dispatcher, order_id, number, "departed", shipper.road, trip.start)
    step(f"Load set-up: orders in {SHIPMENTS_PER_ORDER} shipments each, for the carrier to move")
    pool = [(f"ord-{acetone.contract_id}", n) for n, _ in waybills]
    for deal in _carriage(base, suppliers, out):
        pool += _split(base, deal, carrier.org_id)
    step(f"Load set-up: {LOAD_RFQS} open RFQs to quote on")
    rfq_ids = [_open_rfq(buyer, list(suppliers.values()), i) for i in range(LOAD_RFQS)]
    users = [BUYER, SECOND_BUYER, INSPECTOR, CARRIER_DISPATCH, *SUPPLIERS]
    tokens = {email: _token(base, email) for email in users}
    valid = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    return LoadState(
        base=base,
        tokens=tokens,
        suppliers=suppliers,
        rfq_ids=rfq_ids,
        trip_order_id=order_id,
        trip_shipment=number,
        logger_id=trip.logger.logger_id,
        logger_secret=trip.logger.secret,
        trip_start=trip.start.isoformat(),
        terms=quote_terms(valid, {"L1": "8.60"}, lead=3),
        shipments=pool,
        waybills=[number for _, number in waybills],
    )


def _filed(base: str, deal: Executed, carrier: DemoCarrier) -> list[tuple[int, str]]:
    """The dangerous-goods order's shipments, each e-waybill made and filed as the demo does it;
    (shipment, waybill number) once each is ready to dispatch."""
    order_id = f"ord-{deal.contract_id}"
    step(f"Load set-up: e-waybills of {order_id} filed with the regulator")
    buyer, shipper = Caller(base, BUYER), SHIPPERS[deal.supplier]
    order_reaches(buyer, order_id, "awaiting_confirmation")
    shipments = confirm(Caller(base, deal.supplier), order_id, deal.lines, carrier.org_id)
    consignor, dispatcher = Caller(base, shipper.email), Caller(base, CARRIER_DISPATCH)
    safety = Caller(base, SAFETY)
    filed = []
    for shipment in shipments:
        carry_waybill(
            *(consignor, dispatcher, safety, order_id, shipment, deal.lines, carrier.trucks),
            consignor_code=SUPPLIERS[deal.supplier][0],
            refuse_first=False,
        )
        shipment_reaches(buyer, order_id, shipment["shipment"], "ready_to_dispatch")
        filed.append((shipment["shipment"], shipment["waybill_number"]))
    return filed


def _carriage(base: str, suppliers: dict[str, str], out: Path) -> list[Executed]:
    """A round of plain goods whose lines each supplier wins one of: one order a supplier."""
    buyer = Caller(base, BUYER)
    lines = [
        {"line_id": line_id, "description": what, "quantity": "400", "unit": unit}
        for line_id, what, unit in CARRIAGE_LINES
    ]
    body = rfq_body("促销日补货 Sale-day restocking", lines, list(suppliers.values()), sealed=False)
    rfq_id: str = buyer.call("POST", "/rfqs", json=body)["rfq_id"]
    valid = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    sellers = {email: Caller(base, email) for email in suppliers}
    for own, seller in enumerate(sellers.values()):
        # Its own line at 100, the others at 150: the comparison splits the award three ways.
        prices = {
            line_id: "100.00" if i == own else "150.00"
            for i, (line_id, *_) in enumerate(CARRIAGE_LINES)
        }
        seller.call(
            "POST", f"/rfqs/{rfq_id}/quotes", json={"terms": quote_terms(valid, prices, lead=3)}
        )
    return award(base, rfq_id, sellers, out)


def _split(base: str, deal: Executed, carrier_org_id: str) -> list[tuple[str, int]]:
    """The supplier confirms its order in SHIPMENTS_PER_ORDER equal shipments with the carrier;
    the shipments once all are ready to dispatch."""
    order_id = f"ord-{deal.contract_id}"
    buyer, supplier = Caller(base, BUYER), Caller(base, deal.supplier)
    order_reaches(buyer, order_id, "awaiting_confirmation")
    plan = {"carrier": carrier_org_id}
    for line in deal.lines:
        share = Decimal(line["quantity"]) / SHIPMENTS_PER_ORDER
        for n in range(1, SHIPMENTS_PER_ORDER + 1):
            plan[f"{n}:{line['line_id']}"] = str(share)
    decide(supplier, open_task(supplier, "order_confirmation", order_id), "confirm", plan)

    def all_ready() -> list[Any]:
        shipments: list[Any] = buyer.call("GET", f"/orders/{order_id}")["shipments"]
        ready = [s for s in shipments if s["status"] == "ready_to_dispatch"]
        return ready if len(ready) == SHIPMENTS_PER_ORDER else []

    return [(order_id, s["shipment"]) for s in wait_for(f"{order_id}'s shipments", all_ready)]


def _open_rfq(buyer: Caller, invited: list[str], index: int) -> str:
    line = {
        "line_id": "L1",
        "description": "乙醇 Ethanol, technical grade",
        "quantity": "20000",
        "unit": "L",
        "specification": "purity ≥ 99.5%, 200 L steel drums",
    }
    body = rfq_body(f"促销日采购 Sale-day sourcing {index + 1}", [line], invited, sealed=False)
    rfq_id: str = buyer.call("POST", "/rfqs", json=body)["rfq_id"]
    return rfq_id


def _token(base: str, email: str) -> str:
    auth = Caller(base, email).http.headers["Authorization"]
    return str(auth).removeprefix("Bearer ")
