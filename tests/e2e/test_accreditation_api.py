"""End to end: dev server, real API over HTTP, real worker, PostgreSQL, S3 and the sandbox."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.models import AccreditationApplication, Document
from db.seed import DEMO_PASSWORD, seed_demo
from db.session import transaction
from gateways.certification_registry import CertificationRegistryClient
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness import builders as b
from tests.harness.api_server import running_api
from tests.harness.histories import record_history
from tests.harness.temporal import eventually, new_task_queue
from worker import build_worker

HENGXIN = "org_demo_supplier_hengxin"
HENGXIN_CODE = "91320200MA1HENGX53"
PDF = ("doc.pdf", b.MINIMAL_PDF, "application/pdf")


@pytest.fixture(scope="module")
def e2e_settings(settings: Settings, dev_env: WorkflowEnvironment) -> Settings:
    return settings.model_copy(
        update={
            "task_queue": new_task_queue(),
            "temporal_address": dev_env.client.service_client.config.target_host,
            "max_upload_bytes": 200_000,
        }
    )


@pytest.fixture(scope="module")
def api_url(e2e_settings: Settings, sessions: sessionmaker[Session]) -> Iterator[str]:
    with transaction(sessions) as session:
        seed_demo(session)
    with running_api(e2e_settings) as url:
        yield url


@pytest.fixture
async def worker(
    dev_env: WorkflowEnvironment,
    e2e_settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
) -> AsyncIterator[None]:
    async with build_worker(
        dev_env.client, settings=e2e_settings, sessions=sessions, store=store, registry=registry
    ):
        yield


class Caller:
    def __init__(self, base: str, email: str) -> None:
        self.http = httpx.AsyncClient(base_url=base, timeout=30)
        self.email = email

    async def login(self) -> Caller:
        answer = await self.http.post(
            "/auth/token", data={"username": self.email, "password": DEMO_PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        self.http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        return self


async def caller(api_url: str, email: str) -> Caller:
    return await Caller(api_url, email).login()


def application_form(*, credit_code: str = HENGXIN_CODE, year: int | None = None) -> dict[str, Any]:
    latest = year or date.today().year - 1
    return {
        "credit_code": credit_code,
        "licence_number": "JS-320200-2019-0042",
        "product_categories": ["chemicals"],
        "certificates": [
            {
                "standard": standard,
                "number": number,
                "certification_body": "China Quality Certification Centre (CQC)",
                "accreditation_body": "CNAS",
                "scope": "危险化学品的生产与销售 Production and sale of hazardous chemicals",
                "issue_date": "2025-03-01",
                "expiry_date": "2028-02-28",
            }
            for standard, number in (
                ("ISO 9001", "CN-QMS-2025-001881"),
                ("ISO 14001", "CN-EMS-2025-000917"),
            )
        ],
        "financials": [
            json.loads(year_.model_dump_json(exclude={"document"}))
            for year_ in b.healthy_years(latest)
        ],
    }


def multipart(form: dict[str, Any], *, licence: tuple[str, bytes, str] = PDF) -> dict[str, Any]:
    return {
        "data": {"application": json.dumps(form)},
        "files": [("licence", licence)]
        + [("certificate_files", PDF) for _ in form["certificates"]]
        + [("statement_files", PDF) for _ in form["financials"]],
    }


async def test_supplier_is_accredited_through_rest_and_the_inbox(
    api_url: str, worker: None, sessions: sessionmaker[Session], dev_env: WorkflowEnvironment
) -> None:
    supplier = await caller(api_url, "supplier@hengxin.example")
    request = multipart(
        application_form(), licence=("营业执照.pdf", b.MINIMAL_PDF, "application/pdf")
    )
    key = {"Idempotency-Key": "apply-hengxin-1"}

    applied = await supplier.http.post("/accreditation/applications", headers=key, **request)
    assert applied.status_code == 202, applied.text
    replayed = await supplier.http.post("/accreditation/applications", headers=key, **request)
    assert replayed.status_code == 202 and replayed.json() == applied.json()
    assert replayed.headers["idempotent-replayed"] == "true"
    other_body = multipart(application_form(year=date.today().year - 2))
    assert (
        await supplier.http.post("/accreditation/applications", headers=key, **other_body)
    ).status_code == 422
    second = await supplier.http.post("/accreditation/applications", **request)
    assert second.status_code == 409  # one accreditation process per supplier
    application_id = applied.json()["application_id"]

    compliance = await caller(api_url, "compliance@tradeflow.example")

    async def review_task() -> dict[str, Any] | None:
        inbox = (await compliance.http.get("/tasks", params={"subject_id": application_id})).json()
        return inbox[0] if inbox else None

    task = await eventually(review_task, attempts=300, interval=0.1)
    assert task["kind"] == "accreditation_review" and "Risk band: low" in task["summary"]

    buyer = await caller(api_url, "buyer@huadong.example")
    assert (
        await buyer.http.post(f"/tasks/{task['task_id']}/decision", json={"outcome": "approve"})
    ).status_code == 404
    rival = await caller(api_url, "supplier@anxin.example")
    assert (
        await rival.http.get(f"/accreditation/applications/{application_id}")
    ).status_code == 404
    assert (
        await buyer.http.get(f"/accreditation/applications/{application_id}")
    ).status_code == 404
    bad_outcome = await compliance.http.post(
        f"/tasks/{task['task_id']}/decision", json={"outcome": "maybe"}
    )
    assert bad_outcome.status_code == 422

    decided = await compliance.http.post(
        f"/tasks/{task['task_id']}/decision",
        json={"outcome": "approve", "comment": "documents in order"},
        headers={"Idempotency-Key": "decide-1"},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["process_status"] == "accredited"
    again = await compliance.http.post(
        f"/tasks/{task['task_id']}/decision", json={"outcome": "approve"}
    )
    assert again.status_code == 409  # decided: the workflow's validator calls it stale
    mine = (await supplier.http.get(f"/accreditation/applications/{application_id}")).json()
    assert mine["status"] == "accredited"
    assert [c["passed"] for c in mine["certificates"]] == [True, True]

    assert (await rival.http.get(f"/accreditation/suppliers/{HENGXIN}")).status_code == 404
    licence = await supplier.http.get(f"/documents/{mine['licence_document_id']}")
    assert licence.status_code == 200
    assert (
        "filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf"
        in licence.headers["content-disposition"]
    )
    standing = (await buyer.http.get(f"/accreditation/suppliers/{HENGXIN}")).json()
    assert standing["status"] == "accredited" and standing["eligible_for_sourcing"] is True

    pdf = await supplier.http.get(f"/documents/{standing['certificate_document_id']}")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "江苏恒信化工有限公司" in text and HENGXIN_CODE in text
    assert (
        await rival.http.get(f"/documents/{standing['certificate_document_id']}")
    ).status_code == 404

    with sessions() as session:
        row = session.get(AccreditationApplication, application_id)
        assert row is not None and row.status == "accredited"

    admin = await caller(api_url, "admin@tradeflow.example")
    chain = (await admin.http.get("/audit/verify")).json()
    assert chain["intact"] is True and chain["entries"] > 5
    downloads = (
        await admin.http.get("/audit/entries", params={"action": "document.downloaded"})
    ).json()
    assert any(e["target_id"] == standing["certificate_document_id"] for e in downloads)
    assert (await supplier.http.get("/audit/verify")).status_code == 403
    await record_history(
        dev_env.client.get_workflow_handle(applied.json()["workflow_id"]),
        "accreditation_rest_dev_server",
    )


def _counts(sessions: sessionmaker[Session], org_id: str) -> tuple[int, int]:
    with sessions() as session:
        return (
            session.scalar(
                select(func.count()).select_from(Document).where(Document.org_id == org_id)
            )
            or 0,
            session.scalar(
                select(func.count())
                .select_from(AccreditationApplication)
                .where(AccreditationApplication.supplier_org_id == org_id)
            )
            or 0,
        )


@pytest.mark.parametrize(
    ("mutate", "status", "field"),
    [
        (lambda f, r: f.update(credit_code="91320200MA1HENGX54"), 422, "application.credit_code"),
        (
            lambda f, r: f["financials"][0].update(revenue="lots"),
            422,
            "application.financials.0.revenue",
        ),
        (lambda f, r: f["certificates"][0].update(expiry_date="2024-01-01"), 422, "application"),
        (
            lambda f, r: f["financials"][1].update(total_assets="1e40"),
            422,
            "application.financials.1.total_assets",
        ),
        (
            lambda f, r: f.update(product_categories=["x" * 101]),
            422,
            "application.product_categories.0",
        ),
        (
            lambda f, r: r.update(licence=("licence.txt", b"plain text", "application/pdf")),
            415,
            "licence",
        ),
        (
            lambda f, r: r.update(
                licence=("big.pdf", b"%PDF-" + b"0" * 300_000, "application/pdf")
            ),
            413,
            "licence",
        ),
    ],
    ids=[
        "credit-code",
        "figure",
        "dates",
        "huge-figure",
        "long-category",
        "file-type",
        "oversized",
    ],
)
async def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    api_url: str, sessions: sessionmaker[Session], mutate: Any, status: int, field: str
) -> None:
    supplier = await caller(api_url, "supplier@anxin.example")
    form = application_form(credit_code="91440300MA3ANX1N19")
    overrides: dict[str, Any] = {}
    mutate(form, overrides)
    before = _counts(sessions, "org_demo_supplier_anxin")

    answer = await supplier.http.post("/accreditation/applications", **multipart(form, **overrides))

    assert answer.status_code == status, answer.text
    assert answer.json()["errors"][0]["field"].startswith(field)
    assert _counts(sessions, "org_demo_supplier_anxin") == before


async def test_requests_need_a_valid_token_and_the_right_role(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as anonymous:
        assert (await anonymous.get("/tasks")).status_code == 401
        forged = {"Authorization": "Bearer not.a.token"}
        assert (await anonymous.get("/tasks", headers=forged)).status_code == 401
        wrong = await anonymous.post(
            "/auth/token", data={"username": "buyer@huadong.example", "password": "x"}
        )
        assert wrong.status_code == 401
    buyer = await caller(api_url, "buyer@huadong.example")
    form = application_form()
    assert (
        await buyer.http.post("/accreditation/applications", **multipart(form))
    ).status_code == 403
    assert (await buyer.http.get("/audit/verify")).status_code == 403
