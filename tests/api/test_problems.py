"""One error format everywhere: every error answer is RFC 9457 ``application/problem+json``, and
the OpenAPI document declares exactly that on every operation.

The real app over HTTP (its middleware, its handlers); each error path is reached as a client
would reach it, and each answer is checked against the ``Problem`` schema the app publishes.
Another copy of the app whose database is unreachable shows the 503s, and the accreditation
conflicts run against the dev server with no worker, so the first application stays running.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from contracts.accreditation import accreditation_workflow_id
from contracts.common import Role
from db.models import AccreditationApplication
from db.session import transaction
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness import builders as b
from tests.harness.api_server import TokenCaller, serving
from tests.harness.sourcing import accredited_supplier, member
from tests.harness.temporal import new_task_queue

PROBLEM_JSON = "application/problem+json"
INTERNALS = "password=hunter2 at /srv/secret.py"
PDF = ("doc.pdf", b.MINIMAL_PDF, "application/pdf")
# Error statuses whose route declares a body of its own: a report, not a problem.
OWN_ERROR_BODIES = {("get", "/ready", "503")}  # which dependency fails, each with its error


@pytest.fixture(scope="module")
def api_settings(settings: Settings, dev_env: WorkflowEnvironment) -> Settings:
    return settings.model_copy(
        update={
            "task_queue": new_task_queue(),
            "temporal_address": dev_env.client.service_client.config.target_host,
            "max_upload_bytes": 100_000,
        }
    )


@pytest.fixture(scope="module")
def app(api_settings: Settings) -> FastAPI:
    app = create_app(api_settings)

    @app.get("/test/raise", include_in_schema=False)
    def fail() -> None:
        raise RuntimeError(INTERNALS)

    return app


@pytest.fixture(scope="module")
def api_url(app: FastAPI) -> Iterator[str]:
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def problem_schema(app: FastAPI) -> Draft202012Validator:
    document = app.openapi()
    schema = {"$ref": "#/components/schemas/Problem", "components": document["components"]}
    return Draft202012Validator(schema)


def check(answer: httpx.Response, status: int, validator: Draft202012Validator) -> dict[str, Any]:
    """The answer is a problem with ``status`` that matches the published schema."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = answer.json()
    validator.validate(body)
    assert body["status"] == status and body["detail"]
    assert body["instance"] == answer.request.url.path
    return body


@pytest.fixture
def supplier(api_url: str, api_settings: Settings, sessions: sessionmaker[Session]) -> TokenCaller:
    org = b.make_org(sessions)
    return TokenCaller(api_url, api_settings.jwt_secret, member(sessions, org, Role.SUPPLIER))


# -- the OpenAPI document -------------------------------------------------------------------


def test_every_operation_declares_its_errors_as_problems(app: FastAPI) -> None:
    document = app.openapi()
    text = json.dumps(document)
    assert "HTTPValidationError" not in text and '/ValidationError"' not in text
    schemas = document["components"]["schemas"]
    assert {"type", "title", "status", "detail"} <= set(schemas["Problem"]["required"])
    operations = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) > 40
    for method, path, operation in operations:
        responses = operation["responses"]
        where = f"{method.upper()} {path}"
        assert {"500", "503"} <= responses.keys(), where
        if operation.get("security"):
            assert {"401", "403"} <= responses.keys(), where
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in responses, where
        if "{" in path:
            assert "404" in responses, where
        for code, response in responses.items():
            if code[0] in "45" and (method, path, code) not in OWN_ERROR_BODIES:
                assert response["content"] == {
                    PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, f"{where} {code}"
    token = document["paths"]["/auth/token"]["post"]["responses"]
    assert "401" in token
    uploads = document["paths"]["/orders/{order_id}/documents"]["post"]["responses"]
    assert {"413", "415"} <= uploads.keys()
    download = document["paths"]["/documents/{document_id}"]["get"]["responses"]["200"]
    assert {"application/pdf", "image/png", "image/jpeg"} <= download["content"].keys()


# -- each error path ------------------------------------------------------------------------


async def test_authentication_failures_are_problems_that_keep_www_authenticate(
    api_url: str, problem_schema: Draft202012Validator
) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        anonymous = await http.get("/auth/me")
        forged = await http.get("/auth/me", headers={"Authorization": "Bearer not.a.token"})
        login = await http.post(
            "/auth/token", data={"username": "nobody@x.example", "password": "x"}
        )
    for answer in (anonymous, forged, login):
        check(answer, 401, problem_schema)
        assert answer.headers["www-authenticate"] == "Bearer"


async def test_routing_role_and_missing_objects_are_problems(
    api_url: str, supplier: TokenCaller, problem_schema: Draft202012Validator
) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        nowhere = await http.get("/nowhere")
        wrong_method = await http.delete("/auth/me")
    check(nowhere, 404, problem_schema)
    check(wrong_method, 405, problem_schema)
    assert "GET" in wrong_method.headers["allow"]
    forbidden = await supplier.http.post("/rfqs", json={})
    check(forbidden, 403, problem_schema)
    missing = await supplier.http.get("/documents/doc_nobody_has")
    assert check(missing, 404, problem_schema)["detail"] == "document not found"


async def test_invalid_input_names_each_field_in_errors(
    supplier: TokenCaller, problem_schema: Draft202012Validator
) -> None:
    query = await supplier.http.get("/tasks", params={"limit": 0})
    assert check(query, 422, problem_schema)["errors"][0]["field"] == "limit"
    body = await supplier.http.post(
        "/rfqs/x/quotes", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    problem = check(body, 422, problem_schema)
    assert problem["title"] == "Unprocessable Entity"
    assert problem["errors"] == [
        {
            "field": "body",
            "rule": "is not valid JSON: Expecting property name enclosed in "
            "double quotes at character 1",
        }
    ]

    long_key = await supplier.http.post("/rfqs", json={}, headers={"Idempotency-Key": "k" * 201})
    (error,) = check(long_key, 422, problem_schema)["errors"]
    assert error == {"field": "Idempotency-Key", "rule": "at most 200 characters"}


async def test_uploads_refused_by_size_or_type_are_problems_naming_the_part(
    supplier: TokenCaller, problem_schema: Draft202012Validator
) -> None:
    form = {"application": json.dumps(application_form())}
    parts = [("certificate_files", PDF), ("statement_files", PDF)]
    too_big = ("big.pdf", b.MINIMAL_PDF + b"0" * 100_001, "application/pdf")
    not_pdf = ("licence.txt", b"plain text", "text/plain")
    for licence, status in ((too_big, 413), (not_pdf, 415)):
        answer = await supplier.http.post(
            "/accreditation/applications", data=form, files=[("licence", licence), *parts]
        )
        assert check(answer, status, problem_schema)["errors"][0]["field"] == "licence"


async def test_an_unexpected_error_is_a_500_problem_without_internals(
    api_url: str, problem_schema: Draft202012Validator
) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        answer = await http.get("/test/raise")
    body = check(answer, 500, problem_schema)
    assert "hunter2" not in answer.text and "secret" not in answer.text
    assert answer.headers["x-request-id"] in body["detail"]


async def test_an_unreachable_database_answers_503_problems_with_retry_after(
    api_settings: Settings, sessions: sessionmaker[Session], problem_schema: Draft202012Validator
) -> None:
    unreachable = api_settings.model_copy(
        update={"database_url": "postgresql+psycopg2://nobody@127.0.0.1:9/none"}
    )
    org = b.make_org(sessions)
    with serving(create_app(unreachable)) as url:
        user = TokenCaller(url, api_settings.jwt_secret, member(sessions, org, Role.SUPPLIER))
        read = await user.http.get("/auth/me")
        keyed = await user.http.post("/rfqs", json={}, headers={"Idempotency-Key": "k1"})
    for answer in (read, keyed):  # the route's handler, and the idempotency middleware
        check(answer, 503, problem_schema)
        assert answer.headers["retry-after"] == "5"


# -- applying again -------------------------------------------------------------------------


def application_form() -> dict[str, Any]:
    return {
        "credit_code": b.unique_credit_code(),
        "licence_number": "JS-320200-2019-0042",
        "certificates": [
            {
                "standard": "ISO 9001",
                "number": "CN-QMS-2025-001881",
                "certification_body": "China Quality Certification Centre (CQC)",
                "accreditation_body": "CNAS",
                "scope": "Production and sale of hazardous chemicals",
                "issue_date": "2025-03-01",
                "expiry_date": "2028-02-28",
            }
        ],
        "financials": [
            json.loads(
                b.healthy_years(date.today().year - 1)[0].model_dump_json(exclude={"document"})
            )
        ],
    }


async def apply(user: TokenCaller) -> httpx.Response:
    return await user.http.post(
        "/accreditation/applications",
        data={"application": json.dumps(application_form())},
        files=[("licence", PDF), ("certificate_files", PDF), ("statement_files", PDF)],
    )


async def test_an_accredited_supplier_applying_again_is_told_how_to_renew(
    api_url: str,
    api_settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    dev_env: WorkflowEnvironment,
    problem_schema: Draft202012Validator,
) -> None:
    org = accredited_supplier(sessions, store, expires_on=date(2030, 1, 1))
    user = TokenCaller(api_url, api_settings.jwt_secret, member(sessions, org, Role.SUPPLIER))
    try:
        assert (await apply(user)).status_code == 202  # the process keeping the standing
        again = await apply(user)
        problem = check(again, 409, problem_schema)
        assert problem["type"] == "urn:tradeflow:problem:already-accredited"
        assert problem["title"] == "Already accredited"
        assert "accredited" in problem["detail"] and "2030-01-01" in problem["detail"]
        assert "POST /accreditation/renewals" in problem["detail"]
        assert problem["renewal_url"] == "/accreditation/renewals"
    finally:
        await dev_env.client.get_workflow_handle(accreditation_workflow_id(org.id)).terminate()


async def test_a_supplier_under_review_applying_again_is_told_its_application_status(
    api_url: str,
    api_settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    dev_env: WorkflowEnvironment,
    problem_schema: Draft202012Validator,
) -> None:
    org = b.make_org(sessions)
    user = TokenCaller(api_url, api_settings.jwt_secret, member(sessions, org, Role.SUPPLIER))
    try:
        first = await apply(user)
        assert first.status_code == 202
        application_id = first.json()["application_id"]
        record_under_review(sessions, store, org.id, application_id)
        again = await apply(user)
        problem = check(again, 409, problem_schema)
        assert problem["type"] == "urn:tradeflow:problem:application-in-progress"
        assert problem["application_status"] == "under_review"
        assert problem["application_url"] == f"/accreditation/applications/{application_id}"
        assert f"{application_id} is under_review" in problem["detail"]
    finally:
        await dev_env.client.get_workflow_handle(accreditation_workflow_id(org.id)).terminate()


def record_under_review(
    sessions: sessionmaker[Session], store: ObjectStore, org_id: str, application_id: str
) -> None:
    """The application row as the workflow records it once checks pass (no worker runs here)."""
    licence = b.store_document(sessions, store, org_id=org_id)
    with transaction(sessions) as session:
        session.add(
            AccreditationApplication(
                id=application_id,
                supplier_org_id=org_id,
                workflow_id=accreditation_workflow_id(org_id),
                status="under_review",
                legal_name="测试化工有限公司",
                credit_code=b.unique_credit_code(),
                licence_number="JS-320200-2019-0042",
                licence_document_id=licence.document_id,
                product_categories=[],
                reasons=[],
                submitted_by="usr_test",
                submitted_at=datetime.now(UTC),
            )
        )
