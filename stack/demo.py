"""``make demo``: drive the running platform (``make up``) through the REST API, as its users would.

Accredits the three demo suppliers (each applies; compliance approves), fills the catalogue (ops
make the categories, the suppliers list their offers) and shops in it (search, comparison, an
order and an RFQ straight from it: ``stack.demo_catalogue``), then runs one
sourcing round for the demo buyer: an RFQ with a dangerous-goods line and a chilled line, quotes, a
decline, the comparison, a split award, finance approval of the large contract, both signatures on
each contract and their verification. Each executed contract becomes an order, fulfilled to payment:
the supplier confirms with its shipment plan (the acetone goes in two tractor-trailers, the chilled
kits in one) and names the carrier, Jiangsu Anda, accredited first with its operating licence and
fleet; for each shipment of acetone the supplier's logistics declares the consignment list, the
carrier's dispatcher makes the e-waybill from it with a truck and crew of its fleet, and the loader
makes its five checks (the first truck refused once for an out-of-date inspection), and the waybill
is filed with the regulator; each shipment is moved on its own, its carrier events ending with a
proof of delivery, while the order shows its least advanced shipment's status. The chilled kits
travel in cold chain: Anda registers a logger and puts it on the trip (the pickup is refused
before), the logger uploads three hours of readings with a 40-minute excursion whose task opens for
Anda's dispatcher (once, however often the upload is resent), and on delivery the buyer quarantines
the kits, then claims for those spoilt; the credit note comes off the invoice and the temperature
report is issued. Once every shipment is delivered the buyer accepts; the invoice; finance pays what
is owed. Lianfeng borrows against its order once it has confirmed it (``stack.demo_loans``): the
buyer confirms the receivable, platform finance approves with its second factor, the loan is
registered and paid out; the buyer's payment, into the supervised account first, repays the loan
before the rest reaches Lianfeng; then the ledger, the day's reconciliation so far and the
portfolio.
Huadong's buyer sets a notification rule before sourcing (``stack.demo_notifications``) and the
demo shows what it delivered once the orders are confirmed: finance's bell, the e-mail in the
mail sandbox and the signed post to the webhook sink.
Last, the cold-chain loss rates by carrier and route, and the regulator searches, reads,
verifies and exports the filed e-waybills, each naming the carrier as its maker. Every step is a
real request to the real services; the PDFs and the export are saved under
``<data dir>/demo/``. Run it again for another round. Then open the workbench at
``/workbench/`` and see the same data as its people do.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from settings import get_settings
from stack.demo_accreditation import SUPPLIERS, accredit
from stack.demo_carrier import accredit_carrier, register_fleet
from stack.demo_catalogue import build_catalogue, shop
from stack.demo_client import COMPLIANCE, Caller, step
from stack.demo_cold_chain import loss_rates
from stack.demo_fulfilment import fulfil
from stack.demo_inspection import inspect
from stack.demo_notifications import set_rule, show_deliveries
from stack.demo_sourcing import source


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m stack.demo", description=__doc__)
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    args = parser.parse_args(argv)
    out = Path(get_settings().data_dir) / "demo"
    out.mkdir(parents=True, exist_ok=True)
    step("Accrediting the demo suppliers")
    compliance = Caller(args.api, COMPLIANCE)
    suppliers = {email: accredit(args.api, email, compliance) for email in SUPPLIERS}
    build_catalogue(args.api)
    shop(args.api, out)
    step("Accrediting the demo carrier and registering its fleet")
    carrier = register_fleet(args.api, accredit_carrier(args.api, compliance))
    secret = set_rule(args.api)
    executed = source(args.api, suppliers, out)
    filed = fulfil(args.api, executed, out, carrier)
    show_deliveries(args.api, secret)
    step("Cold-chain loss rates of the decided trips, as the platform sees them")
    loss_rates(args.api)
    step("The regulator inspects the filed e-waybills")
    inspect(args.api, filed, out)
    print(f"\nOpen the workbench (工作台): {args.api}/workbench/ (password as for the API)")


if __name__ == "__main__":
    main()
