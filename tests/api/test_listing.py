"""A page answered by ``api.pagination.Listing`` is what FastAPI would have answered had the
route returned its models: the same body to the byte, the same headers in the same order, the
same OpenAPI operation. And ``loaded`` reads a row's columns even after its session committed.

Two routes of one FastAPI app serve the same items, one returning models (FastAPI validates them
against its ``response_model`` and writes the JSON), the other through ``Listing``; the items
carry what JSON writers disagree on (non-ASCII and control characters, decimals, aware times,
floats written with exponents, nested models, nulls).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any

from fastapi import FastAPI, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from api.pagination import NEXT_PAGE_HEADERS, Keyset, Listing, Page, ascending, loaded, paged
from db.models import Organisation
from tests.harness.builders import make_org


class Amount(BaseModel):
    amount: Decimal
    currency: str


class Item(BaseModel):
    id: str
    name: str
    total: Amount | None
    at: datetime
    details: dict[str, Any]
    tags: list[str]


ITEMS = Listing(Item)
BY_ID = Keyset("items", (ascending(Organisation.id),))


def _fields(i: int) -> dict[str, Any]:
    return {
        "id": f"itm_{i:03d}",
        "name": f'危险品 "{i}"\u2028\x01\t\\ é',
        "total": {"amount": Decimal(f"{i}123456789.10"), "currency": "CNY"} if i % 2 else None,
        "at": datetime(2026, 1, 2, 3, 4, 5, i * 1000, tzinfo=timezone(timedelta(hours=8))),
        "details": {"big": 1e16 * (i + 1), "small": 1e-7, "ratio": 0.1 * i, "n": None, "ok": True},
        "tags": ["UN1203", str(i)],
        "ignored": "a column no field names",
    }


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/models", responses=NEXT_PAGE_HEADERS)
    def as_models(page: Annotated[Page, paged(BY_ID)]) -> list[Item]:
        page.response.headers["X-Next-Cursor"] = "abc"
        return [Item.model_validate(_fields(i)) for i in range(page.limit)]

    @app.get("/listing", response_model=ITEMS.response_model, responses=NEXT_PAGE_HEADERS)
    def as_listing(page: Annotated[Page, paged(BY_ID)]) -> Response:
        page.response.headers["X-Next-Cursor"] = "abc"
        return ITEMS.answer(page, [_fields(i) for i in range(page.limit)])

    return app


def test_a_listing_answers_the_bytes_and_headers_fastapi_would() -> None:
    with TestClient(_app()) as client:
        for limit in (1, 7, 100):
            models = client.get("/models", params={"limit": limit})
            listing = client.get("/listing", params={"limit": limit})
            assert listing.status_code == models.status_code == 200
            assert listing.content == models.content
            assert listing.headers.items() == models.headers.items()
        assert len(client.get("/listing", params={"limit": 100}).json()) == 100


def test_a_listing_documents_the_operation_as_a_route_returning_models() -> None:
    document = _app().openapi()
    models, listing = document["paths"]["/models"]["get"], document["paths"]["/listing"]["get"]
    for operation in (models, listing):
        # Named after each function and path: all that differs.
        del operation["operationId"], operation["summary"]
        del operation["responses"]["200"]["content"]["application/json"]["schema"]["title"]
    assert listing == models


def test_loaded_reads_a_row_its_session_has_expired(sessions: sessionmaker[Session]) -> None:
    org = make_org(sessions)
    with sessions() as session:
        row = session.get(Organisation, org.id)
        assert row is not None
        assert loaded(row)["legal_name"] == org.legal_name
        session.commit()  # expires every loaded attribute
        values = loaded(row)
        assert (values["id"], values["legal_name"]) == (org.id, org.legal_name)
        assert values["created_at"] <= datetime.now(UTC)
