"""The carrier act of ``make demo``: Jiangsu Anda applies for accreditation and registers its fleet.

Shows a carrier's application going through the same accreditation as a supplier's, with its
dangerous-goods road transport operating licence verified in the transport authority's register
(the registry sandbox) and compliance approving; then the carrier's manager registers its two
tractor-trailers, drivers and escorts through the fleet API. A second run against the same data
finds the carrier accredited and its fleet registered, and leaves both as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from stack.demo_accreditation import PDF, financial_years
from stack.demo_client import Caller, wait_for
from stack.demo_waybill import CREW, VEHICLES

CARRIER_MANAGER = "manager@anda.example"
CARRIER_DISPATCH = "dispatch@anda.example"
# As the transport authority's register (the registry sandbox's seed) holds it.
LICENCE = {
    "number": "320200300128",
    "issuing_authority": "无锡市交通运输局",
    "permitted_classes": ["2", "3", "4.1", "5.1", "6.1", "8", "9"],
    "issue_date": "2024-01-15",
    "expiry_date": "2028-01-14",
    "phone": "0510-8521 6600",
}
CREDIT_CODE = "91320200MA1ANDA7XF"


@dataclass(frozen=True)
class Truck:
    """A registered vehicle with the driver and escort who take it."""

    vehicle_id: str
    plate: str
    driver_id: str
    escort_id: str


@dataclass(frozen=True)
class DemoCarrier:
    org_id: str
    trucks: tuple[Truck, ...]


def accredit_carrier(base: str, compliance: Caller) -> str:
    """The carrier's organisation id once it is accredited."""
    manager = Caller(base, CARRIER_MANAGER)
    org_id: str = manager.call("GET", "/auth/me")["org_id"]
    if any(c["org_id"] == org_id for c in manager.call("GET", "/carriers")):
        print(f"{CARRIER_MANAGER}: already an accredited carrier")
        return org_id
    form = {
        "credit_code": CREDIT_CODE,
        "licence_number": CREDIT_CODE,
        "product_categories": ["dangerous goods road transport"],
        "certificates": [],
        "financials": financial_years(),
        "carrier_licence": LICENCE,
    }
    files: list[tuple[str, tuple[str, bytes, str]]] = [
        ("licence", ("licence.pdf", PDF, "application/pdf"))
    ]
    files += [("statement_files", (f"s{i}.pdf", PDF, "application/pdf")) for i in range(3)]
    files += [("operating_licence", ("operating-licence.pdf", PDF, "application/pdf"))]
    manager.call(
        "POST", "/accreditation/applications", data={"application": json.dumps(form)}, files=files
    )
    task = wait_for(
        f"{CARRIER_MANAGER}'s review task",
        lambda: [
            t
            for t in compliance.call("GET", "/tasks")
            if t["details"].get("supplier_org_id") == org_id
        ],
    )[0]
    print(f"compliance reviews: {task['summary']}")
    answer = compliance.call(
        "POST", f"/tasks/{task['task_id']}/decision", json={"outcome": "approve"}
    )
    print(
        f"{CARRIER_MANAGER}: applied with operating licence {LICENCE['number']} "
        f"(classes {', '.join(LICENCE['permitted_classes'])}); compliance approved → "
        f"{answer['process_status']}"
    )
    wait_for(
        "the carrier to be listed",
        lambda: any(c["org_id"] == org_id for c in manager.call("GET", "/carriers")),
    )
    return org_id


def register_fleet(base: str, org_id: str) -> DemoCarrier:
    """The carrier's trucks and crew, registered unless they already are."""
    manager = Caller(base, CARRIER_MANAGER)
    vehicles = {v["plate"]: v for v in manager.call("GET", f"/carriers/{org_id}/vehicles")}
    crew = {c["name"]: c for c in manager.call("GET", f"/carriers/{org_id}/crew")}
    inspected = (datetime.now(UTC) + timedelta(days=200)).date().isoformat()
    certified = (datetime.now(UTC) + timedelta(days=700)).date().isoformat()
    for body in VEHICLES:
        if body["plate"] not in vehicles:
            vehicle: dict[str, Any] = manager.call(
                "POST",
                f"/carriers/{org_id}/vehicles",
                json={**body, "inspection_valid_until": inspected},
            )
            vehicles[vehicle["plate"]] = vehicle
            print(f"{CARRIER_MANAGER}: registered {vehicle['plate']} + {vehicle['trailer_plate']}")
    for role, name, certificate, phone in CREW:
        if name not in crew:
            member: dict[str, Any] = manager.call(
                "POST",
                f"/carriers/{org_id}/crew",
                json={
                    "name": name,
                    "role": role,
                    "qualification_certificate_number": certificate,
                    "qualification_categories": [f"dg_{role}"],
                    "certificate_expiry": certified,
                    "phone": phone,
                },
            )
            crew[name] = member
            print(f"{CARRIER_MANAGER}: registered {role} {name}")
    trucks = tuple(
        Truck(
            vehicle_id=vehicles[body["plate"]]["vehicle_id"],
            plate=str(body["plate"]),
            driver_id=crew[CREW[2 * i][1]]["crew_id"],
            escort_id=crew[CREW[2 * i + 1][1]]["crew_id"],
        )
        for i, body in enumerate(VEHICLES)
    )
    return DemoCarrier(org_id=org_id, trucks=trucks)
