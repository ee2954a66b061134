"""What the sale day needs before its first user arrives, made through the REST API as the demo's
people would: accredited suppliers and carrier, open RFQs for suppliers to quote on, a chilled
shipment on the road with a logger on board, and a token for each demo user.

The users' tokens are taken here, once: signing in hashes a password on purpose (hundreds of
milliseconds), so locust users signing in at every step would measure the password hash instead
of the platform. One RFQ round through the demo's sourcing act gives the chilled order; its
supplier confirms with the carrier, who puts a logger on the trip and picks it up, so its readings
are accepted for the rest of the run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from stack.demo_accreditation import SUPPLIERS, accredit
from stack.demo_carrier import CARRIER_DISPATCH, accredit_carrier, register_fleet
from stack.demo_client import BUYER, COMPLIANCE, DESTINATION, INSPECTOR, Caller, step
from stack.demo_cold_chain import cold_lines, equip
from stack.demo_fulfilment import SHIPPERS, confirm, order_reaches, report_event
from stack.demo_sourcing import quote_terms, source

# Each supplier user of the load quotes on an RFQ of its own (one per supplier organisation and
# RFQ), so two locust users never race to revise the same quote.
LOAD_RFQS = 30
SECOND_BUYER = "buyer@nanfang.example"
READINGS_PER_BATCH = 10  # a logger's upload: bench.load counts stored readings by it


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

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> LoadState:
        return cls(**json.loads(path.read_text()))


def prepare(base: str, out: Path) -> LoadState:
    """Make everything the load needs (a few minutes: one sourcing round to a moving trip)."""
    step("Load set-up: accredited suppliers and carrier")
    compliance = Caller(base, COMPLIANCE)
    suppliers = {email: accredit(base, email, compliance) for email in SUPPLIERS}
    carrier = register_fleet(base, accredit_carrier(base, compliance))
    step("Load set-up: one sourcing round, for a chilled shipment on the road")
    executed = source(base, suppliers, out)
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
    )


def _open_rfq(buyer: Caller, invited: list[str], index: int) -> str:
    now = datetime.now(UTC)
    created = buyer.call(
        "POST",
        "/rfqs",
        json={
            "title": f"促销日采购 Sale-day sourcing {index + 1}",
            "lines": [
                {
                    "line_id": "L1",
                    "description": "乙醇 Ethanol, technical grade",
                    "quantity": "20000",
                    "unit": "L",
                    "specification": "purity ≥ 99.5%, 200 L steel drums",
                }
            ],
            "delivery_place": DESTINATION,
            "incoterm": "DAP",
            "needed_by": (now + timedelta(days=30)).date().isoformat(),
            "quote_deadline": (now + timedelta(days=3)).isoformat(),
            "currency": "CNY",
            "payment_terms": "验收后30天付款 30 days after acceptance",
            "sealed": False,
            "invited_supplier_ids": invited,
        },
    )
    rfq_id: str = created["rfq_id"]
    return rfq_id


def _token(base: str, email: str) -> str:
    auth = Caller(base, email).http.headers["Authorization"]
    return str(auth).removeprefix("Bearer ")
