"""End to end, the demo carrier's path: it applies with its operating licence over REST, compliance
approves, buyers and suppliers find it among the carriers, it registers its fleet, and a licence
renewal is checked in the register. Dev server, real API over HTTP, real worker, the sandbox
seeded as ``make up`` seeds it (the requests here are the ones the demo makes)."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from typing import Any

import httpx
from pypdf import PdfReader

from db.seed import DEMO_CARRIER_ID, DEMO_PASSWORD
from tests.harness import builders as b
from tests.harness.temporal import eventually

PDF = ("scan.pdf", b.MINIMAL_PDF, "application/pdf")
# The demo carrier's licence as the registry sandbox's seed has it (sandboxes/seed).
ANDA_LICENCE = {
    "number": "320200300128",
    "issuing_authority": "无锡市交通运输局",
    "permitted_classes": ["2", "3", "8"],  # narrower than the register's: allowed
    "issue_date": "2024-01-15",
    "expiry_date": "2028-01-14",
    "phone": "+86 510 8520 1234",
}


async def login(api_url: str, email: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=api_url, timeout=60)
    token = await http.post("/auth/token", data={"username": email, "password": DEMO_PASSWORD})
    assert token.status_code == 200, token.text
    http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    return http


def carrier_form(**changes: Any) -> dict[str, Any]:
    latest = date.today().year - 1
    return {
        "credit_code": "91320200MA1ANDA7XF",
        "licence_number": "91320200MA1ANDA7XF",
        "certificates": [],
        "financials": [
            json.loads(year.model_dump_json(exclude={"document"}))
            for year in b.healthy_years(latest)
        ],
        "carrier_licence": ANDA_LICENCE,
    } | changes


def multipart(form: dict[str, Any], *, scan: bool = True) -> dict[str, Any]:
    files = [("licence", PDF)] + [("statement_files", PDF) for _ in form["financials"]]
    files += [("certificate_files", PDF) for _ in form["certificates"]]
    return {
        "data": {"application": json.dumps(form)},
        "files": files + ([("operating_licence", PDF)] if scan else []),
    }


async def test_carrier_forms_that_do_not_fit_the_organisation_are_refused(api_url: str) -> None:
    manager = await login(api_url, "manager@anda.example")
    supplier = await login(api_url, "supplier@anxin.example")
    cases = [
        (manager, multipart(carrier_form(carrier_licence=None)), "application.carrier_licence"),
        (manager, multipart(carrier_form(), scan=False), "operating_licence"),
        (
            manager,
            multipart(carrier_form(carrier_licence=ANDA_LICENCE | {"permitted_classes": ["10"]})),
            "application.carrier_licence.permitted_classes.0",
        ),
        (
            supplier,
            multipart(carrier_form(credit_code="91440300MA3ANX1N19")),
            "application.carrier_licence",
        ),
    ]
    for caller, request, field in cases:
        answer = await caller.post("/accreditation/applications", **request)
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == field
    dispatcher = await login(api_url, "dispatch@anda.example")
    assert (
        await dispatcher.post("/accreditation/applications", **multipart(carrier_form()))
    ).status_code == 403


async def test_the_demo_carrier_is_accredited_and_registers_its_fleet(
    api_url: str, worker: None
) -> None:
    manager = await login(api_url, "manager@anda.example")
    applied = await manager.post("/accreditation/applications", **multipart(carrier_form()))
    assert applied.status_code == 202, applied.text
    application_id = applied.json()["application_id"]

    compliance = await login(api_url, "compliance@tradeflow.example")

    async def review_task() -> dict[str, Any] | None:
        inbox = (await compliance.get("/tasks", params={"subject_id": application_id})).json()
        return inbox[0] if inbox else None

    task = await eventually(review_task, what="the carrier's review task", attempts=300)
    assert task["title"] == "Review carrier accreditation: 江苏安达危险品运输有限公司"
    assert "operating licence 320200300128" in task["summary"]
    decided = await compliance.post(
        f"/tasks/{task['task_id']}/decision", json={"outcome": "approve"}
    )
    assert decided.status_code == 200 and decided.json()["process_status"] == "accredited"

    buyer = await login(api_url, "buyer@huadong.example")
    carriers = (await buyer.get("/carriers", params={"hazard_class": "2.3"})).json()
    anda = next(row for row in carriers if row["org_id"] == DEMO_CARRIER_ID)
    assert anda["permitted_classes"] == ["2", "3", "8"] and anda["licence_expiry"] == "2028-01-14"
    standing = (await manager.get(f"/accreditation/suppliers/{DEMO_CARRIER_ID}")).json()
    # Accredited as a carrier, not as a supplier: no RFQ invites it to quote.
    assert standing["status"] == "accredited" and standing["eligible_for_sourcing"] is False
    pdf = await manager.get(f"/documents/{standing['certificate_document_id']}")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "承运人资质认证证书" in text and "320200300128" in text

    inspection = (date.today() + timedelta(days=180)).isoformat()
    truck = await manager.post(
        f"/carriers/{DEMO_CARRIER_ID}/vehicles",
        json={
            "plate": "苏B·D8121",
            "plate_colour": "yellow",
            "transport_certificate_number": "苏交运管锡字320200061234号",
            "permitted_classes": ["3", "8"],
            "inspection_valid_until": inspection,
            "max_load_kg": "18000",
            "trailer_plate": "苏B·3377挂",
            "trailer_certificate_number": "苏交运管锡字320200061235号",
            "tank_number": "JS-TK-2023-0815",
            "tank_volume_litres": "20000",
        },
    )
    assert truck.status_code == 201, truck.text
    expiry = (date.today() + timedelta(days=700)).isoformat()
    for person in (
        {
            "name": "王建国",
            "role": "driver",
            "categories": ["dg_driver"],
            "no": "320211198001011234",
        },
        {"name": "李明", "role": "escort", "categories": ["dg_escort"], "no": "320211198502023456"},
    ):
        registered = await manager.post(
            f"/carriers/{DEMO_CARRIER_ID}/crew",
            json={
                "name": person["name"],
                "role": person["role"],
                "qualification_certificate_number": person["no"],
                "qualification_categories": person["categories"],
                "certificate_expiry": expiry,
                "phone": "+86 139 1510 0001",
            },
        )
        assert registered.status_code == 201, registered.text
    dispatcher = await login(api_url, "dispatch@anda.example")
    crew = (await dispatcher.get(f"/carriers/{DEMO_CARRIER_ID}/crew")).json()
    assert sorted(m["role"] for m in crew) == ["driver", "escort"]

    # A "renewal" the register holds as suspended is refused, naming why; the dispatcher may not.
    suspended = ANDA_LICENCE | {
        "number": "TEST-320200-SUSPENDED",
        "permitted_classes": ["3", "8"],
        "issue_date": "2023-03-01",
        "expiry_date": "2027-02-28",
    }
    renewal: dict[str, Any] = {
        "data": {"licence": json.dumps(suspended)},
        "files": [("file", PDF)],
    }
    assert (await dispatcher.post("/accreditation/licence-renewals", **renewal)).status_code == 403
    refused = await manager.post("/accreditation/licence-renewals", **renewal)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [
        {"field": "licence", "rule": "register status is Suspended (must be Valid)"}
    ]
