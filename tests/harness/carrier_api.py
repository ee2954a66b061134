"""A carrier over the real API, and the bodies a dangerous-goods shipment's three parts send.

The carrier organisation and its standing are written straight to PostgreSQL
(``tests.harness.carriers``: the accreditation workflow has tests of its own); its people are
real users with bearer tokens, and its CARRIER user registers the fleet through the fleet API, as
a carrier does. The bodies are what ``api.routes.carriage`` takes: the consignor's consignment
list, the carrier's waybill order (a trip with its fleet's ids), the loader's five checks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from contracts.common import Role
from contracts.consignment import LOADING_CHECKS
from contracts.waybill import WaybillItem
from db.models import Organisation
from tests.harness import carriers as c
from tests.harness import sourcing as s
from tests.harness import waybills as w
from tests.harness.api_server import TokenCaller

Json = dict[str, Any]


def random_plate() -> str:
    """A goods vehicle's plate no other test registers: 苏E·, then five letters and digits."""
    return "苏E·" + uuid.uuid4().hex[:5].upper()


@dataclass(frozen=True)
class CarrierParty:
    """An accredited carrier: its manager (CARRIER role, registers the fleet), its dispatcher
    (LOGISTICS role, makes waybills and reports shipments) and the fleet it registered."""

    org: Organisation
    manager: TokenCaller
    dispatcher: TokenCaller
    plate: str
    vehicle_id: str
    driver_id: str
    escort_id: str

    @property
    def org_id(self) -> str:
        return self.org.id

    @property
    def name(self) -> str:
        return self.org.legal_name

    def order(self, loading_at: datetime, **fields: Any) -> Json:
        """A waybill order for its own fleet's vehicle, driver and escort, 4 t gross (enough for
        the test goods at any density; ``fields`` replace any part)."""
        chosen = {
            "vehicle_id": self.vehicle_id,
            "driver_id": self.driver_id,
            "escort_id": self.escort_id,
            "gross_mass_kg": Decimal(4000),
            **fields,
        }
        return w.trip(loading_at, **chosen).model_dump(mode="json")

    async def aclose(self) -> None:
        for caller in (self.manager, self.dispatcher):
            await caller.http.aclose()


async def carrier_over_api(
    sessions: sessionmaker[Session],
    *,
    api_url: str,
    secret: str,
    classes: tuple[str, ...] = ("3", "8"),
    plate: str | None = None,
) -> CarrierParty:
    """An accredited carrier licensed for ``classes``, with one vehicle, driver and escort
    registered by its manager over HTTP."""
    org = c.accredited_carrier(sessions, classes=classes)
    manager = TokenCaller(api_url, secret, s.member(sessions, org, Role.CARRIER))
    dispatcher = TokenCaller(api_url, secret, s.member(sessions, org, Role.LOGISTICS))
    plate = plate or random_plate()
    fleet = f"/carriers/{org.id}"
    vehicle = await created(manager, f"{fleet}/vehicles", vehicle_body(plate, classes))
    far = datetime.now(UTC).date() + timedelta(days=300)
    driver = await created(manager, f"{fleet}/crew", crew_body("driver", "王建国", far))
    escort = await created(manager, f"{fleet}/crew", crew_body("escort", "李芳", far))
    return CarrierParty(
        org=org,
        manager=manager,
        dispatcher=dispatcher,
        plate=plate,
        vehicle_id=vehicle["vehicle_id"],
        driver_id=driver["crew_id"],
        escort_id=escort["crew_id"],
    )


async def created(caller: TokenCaller, path: str, body: Json) -> Json:
    """What a POST answered with 201."""
    answer = await caller.http.post(path, json=body)
    assert answer.status_code == 201, answer.text
    created: Json = answer.json()
    return created


def vehicle_body(plate: str, classes: tuple[str, ...]) -> Json:
    """A tank truck with its trailer, inspected for another 200 days."""
    return {
        "plate": plate,
        "plate_colour": "yellow",
        "transport_certificate_number": f"苏交运管锡字{uuid.uuid4().int % 10**12:012d}号",
        "permitted_classes": list(classes),
        "inspection_valid_until": (datetime.now(UTC).date() + timedelta(days=200)).isoformat(),
        "max_load_kg": "20000",
        "trailer_plate": "苏B6789挂",
        "trailer_certificate_number": "苏交运管锡字320200012346号",
        "tank_number": "TK-2024-0042",
        "tank_volume_litres": "24000",
    }


def crew_body(role: str, name: str, expiry: date) -> Json:
    """A driver (dg_driver) or escort (dg_escort) with a unique qualification certificate."""
    return {
        "name": name,
        "role": role,
        "qualification_certificate_number": f"3202{uuid.uuid4().int % 10**14:014d}",
        "qualification_categories": ["dg_driver" if role == "driver" else "dg_escort"],
        "certificate_expiry": expiry.isoformat(),
        "phone": "+86 139 0000 1234",
    }


def consignment_body(
    consignor_credit_code: str, *, items: tuple[WaybillItem, ...] = (w.ACETONE,)
) -> Json:
    """The consignor's complete consignment list for ``items``."""
    return w.consignment(consignor_credit_code, items=items).model_dump(mode="json")


def loading_check_body(*, failed: str = "") -> Json:
    """The loader's five checks, all passed but ``failed`` (a LOADING_CHECKS name)."""
    body: Json = {item.value: item.value != failed for item in LOADING_CHECKS}
    if failed:
        body["note"] = "桶身标签缺失 drum labels missing"
    return body
