"""Valid request bodies for the calls that start or steer a process, and a strategy mutating them.

Bodies generated from the schema alone rarely get past the API's own validation (a deadline in
the past, a supplier that does not exist), so the processes behind were never reached. Starting
from a valid body and swapping single values for hostile text (NUL, control characters, a lone
surrogate, a very long string, numbers that are not) or extreme integers reaches them, where
"accepted, then stuck" defects hide. The unchanged body comes first, so each operation is also
called once with a body that should succeed.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from contracts.accreditation import CertificateClaim
from contracts.fulfilment import waybill_number_for
from db.models import Organisation
from tests.harness import carrier_api as ca
from tests.harness.builders import MINIMAL_PDF, healthy_years
from tests.harness.waybills import trip, waybill

HOSTILE_TEXT = (
    "a\x00b",
    "\x00",
    "\x1b[2J\x07",
    "tab\there\r\nnewline",
    "\ud800",  # a lone surrogate: valid JSON escape, not encodable as UTF-8
    "\u202eright-to-left\u200b",
    " ",
    "",
    "NaN",
    "Infinity",
    "-0",
    "1e999999",
    "99999999999999999999999999999999.999",
    "2026-02-30",
    "9999-12-31T23:59:59+14:00",
    "'; SELECT pg_sleep(5); --",
)
HOSTILE_INTEGERS = (0, -1, 2**31, 2**63, -(2**63) - 1, 10**30)
# Built when drawn: as a literal it would fill every strategy's repr, which Hypothesis computes.
_LONG = st.just(5000).map("x".__mul__)


def mutations(seed: Any) -> st.SearchStrategy[Any]:
    """``seed`` itself first, then with any string swapped for hostile or arbitrary text and any
    integer for an extreme one."""
    if isinstance(seed, str):
        return st.one_of(st.just(seed), st.sampled_from(HOSTILE_TEXT), _LONG, st.text(max_size=40))
    if isinstance(seed, bool) or seed is None:
        return st.just(seed)
    if isinstance(seed, int):
        return st.one_of(st.just(seed), st.sampled_from(HOSTILE_INTEGERS))
    if isinstance(seed, list):
        return st.tuples(*(mutations(item) for item in seed)).map(list)
    if isinstance(seed, dict):
        return st.fixed_dictionaries({key: mutations(value) for key, value in seed.items()})
    return st.just(seed)


def rfq_body(supplier_id: str, *, now: datetime) -> dict[str, Any]:
    return {
        "title": "Fuzzing solvents",
        "lines": [{"line_id": "L1", "description": "Acetone", "quantity": "100", "unit": "L"}],
        "delivery_place": "Jinshan Chemical Park, Shanghai",
        "incoterm": "DAP",
        "needed_by": (now + timedelta(days=30)).date().isoformat(),
        "quote_deadline": (now + timedelta(days=2)).isoformat(),
        "currency": "CNY",
        "payment_terms": "30 days after acceptance",
        "invited_supplier_ids": [supplier_id],
    }


def bodies(
    *,
    supplier: Organisation,
    order_id: str,
    fleet: tuple[str, str, str],
    applicant: Organisation,
    claim: CertificateClaim,
) -> dict[str, st.SearchStrategy[Any]]:
    """Mutations of a valid body for each operation that starts or steers a process, by label.
    ``fleet`` is the order's carrier's vehicle, driver and escort."""
    now = datetime.now(UTC)
    today = date.today()
    reason = mutations({"reason": "not this month"})
    supplier_id = supplier.id
    vehicle_id, driver_id, escort_id = fleet
    shipment = "/orders/{order_id}/shipments/{shipment}"
    return {
        "POST /rfqs": mutations(rfq_body(supplier_id, now=now)),
        "POST /rfqs/{rfq_id}/quotes": mutations(
            {
                "terms": {
                    "lines": [
                        {
                            "line_id": "L1",
                            "unit_price": "9.50",
                            "price_breaks": [{"min_quantity": "50", "unit_price": "9.00"}],
                            "stock_available": "500",
                            "lead_time_days": 5,
                            "logistics_cost": "20.00",
                            "transit_days": 2,
                        }
                    ],
                    "valid_until": (today + timedelta(days=30)).isoformat(),
                    "freight": "0",
                    "tax_rate": "0.13",
                    "note": "drums included",
                    "attachments": [],
                }
            }
        ),
        "POST /rfqs/{rfq_id}/decline": reason,
        "POST /rfqs/{rfq_id}/close": reason,
        "POST /rfqs/{rfq_id}/cancel": reason,
        "POST /rfqs/{rfq_id}/deadline": mutations(
            {"new_deadline": (now + timedelta(days=3)).isoformat()}
        ),
        "POST /tasks/{task_id}/decision": mutations({"outcome": "approve", "comment": "checked"}),
        "POST /orders/{order_id}/cancel": reason,
        "POST /orders/{order_id}/payments": mutations(
            {
                "amount": {"amount": "100.00", "currency": "CNY"},
                "reference": "BANK-REF-0001",
                "paid_on": today.isoformat(),
            }
        ),
        "POST /orders/{order_id}/shipments/{shipment}/events": mutations(
            {"kind": "picked_up", "at": now.isoformat(), "location": "Wuxi depot", "note": "sealed"}
        ),
        # The whole-draft submission of orders confirmed before carriers made waybills.
        f"POST {shipment}/waybill": mutations(
            waybill(
                waybill_number_for(order_id, 1), order_id, loading_at=now + timedelta(days=1)
            ).model_dump(mode="json")
        ),
        f"POST {shipment}/consignment": mutations(ca.consignment_body(supplier.credit_code)),
        f"POST {shipment}/waybill/make": mutations(
            trip(
                now + timedelta(days=1),
                vehicle_id=vehicle_id,
                driver_id=driver_id,
                escort_id=escort_id,
            ).model_dump(mode="json")
        ),
        f"POST {shipment}/loading-check": mutations(ca.loading_check_body()),
        "POST /carriers/{org_id}/vehicles": mutations(
            ca.vehicle_body(ca.random_plate(), ("3", "8"))
        ),
        "POST /carriers/{org_id}/crew": mutations(
            ca.crew_body("driver", "王建国", today + timedelta(days=300))
        ),
        "PUT /organisations/{org_id}/approval-chain": mutations(
            {"currency": "CNY", "levels": [{"above": "100000", "title": "Head of purchasing"}]}
        ),
        "POST /fx-rates": mutations(
            {
                "base": "USD",
                "quote": "CNY",
                "rate": "7.1",
                "as_of": today.isoformat(),
                "source": "bank's published rate",
            }
        ),
        "POST /accreditation/applications": _application(applicant, claim),
        "POST /loans": mutations(
            {
                "order_id": order_id,
                "amount": {"amount": "1000.00", "currency": "CNY"},
                "term_days": 90,
                "purpose": "raw materials",
            }
        ),
        "POST /loans/{loan_id}/withdraw": reason,
        "POST /finance/reconciliations": mutations(
            {"day": (today - timedelta(days=1)).isoformat()}
        ),
    }


def _application(org: Organisation, claim: CertificateClaim) -> st.SearchStrategy[Any]:
    """The multipart form: the JSON part mutated inside, then written out; the files as they are."""
    form = {
        "credit_code": org.credit_code,
        "licence_number": "JS-320200-2019-0042",
        "product_categories": ["chemicals"],
        "certificates": [claim.model_dump(mode="json")],
        "financials": [
            year.model_dump(mode="json", exclude={"document"})
            for year in healthy_years(date.today().year - 1)
        ],
    }
    return st.fixed_dictionaries(
        {
            "application": mutations(form).map(json.dumps),
            "licence": st.just(MINIMAL_PDF),
            "certificate_files": st.just([MINIMAL_PDF]),
            "statement_files": st.just([MINIMAL_PDF] * len(form["financials"])),
        }
    )
