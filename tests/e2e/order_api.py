"""What the order end-to-end modules share: the people who call the API, the orders they start,
waiting for what a person would see (a task in the inbox, an order's status), and a
dangerous-goods shipment taken from confirmation to its filing the way its three parties do it
(the supplier confirms naming the carrier, the consignor declares, the carrier makes the waybill,
the loader checks).

A test module takes the fixtures by assignment (``people = order_api.people``).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from contracts.fulfilment import OrderOutcome, OrderStatus, order_id_for
from contracts.sourcing import ContractTerms
from contracts.waybill import WaybillItem
from security.keys import jwt_secret_from_settings
from settings import Settings
from tests.harness import carrier_api as ca
from tests.harness import orders as o
from tests.harness import sourcing as s
from tests.harness import waybills as w
from tests.harness.api_server import TokenCaller
from tests.harness.temporal import eventually

REGULATOR_ORG_ID = "org_demo_regulator"
OrderHandle = WorkflowHandle[Any, OrderOutcome]
People = Callable[[s.Member], TokenCaller]
Carriers = Callable[..., Awaitable[ca.CarrierParty]]
Json = dict[str, Any]


@pytest.fixture
async def people(api_url: str, e2e_settings: Settings) -> AsyncIterator[People]:
    """Callers over HTTP for members, closed at the end."""
    secret = jwt_secret_from_settings(e2e_settings)
    made: list[TokenCaller] = []

    def make(member: s.Member) -> TokenCaller:
        made.append(TokenCaller(api_url, secret, member))
        return made[-1]

    yield make
    for caller in made:
        await caller.http.aclose()


@pytest.fixture
async def carriers(
    api_url: str, e2e_settings: Settings, sessions: sessionmaker[Session]
) -> AsyncIterator[Carriers]:
    """Accredited carriers with their fleet registered over HTTP
    (``tests.harness.carrier_api.carrier_over_api``'s options), closed at the end."""
    secret = jwt_secret_from_settings(e2e_settings)
    made: list[ca.CarrierParty] = []

    async def make(**options: Any) -> ca.CarrierParty:
        made.append(await ca.carrier_over_api(sessions, api_url=api_url, secret=secret, **options))
        return made[-1]

    yield make
    for carrier in made:
        await carrier.aclose()


@pytest.fixture
async def started(dev_env: WorkflowEnvironment) -> AsyncIterator[list[OrderHandle]]:
    """Orders the test starts; any still running at the end is terminated."""
    handles: list[OrderHandle] = []
    yield handles
    for handle in handles:
        with contextlib.suppress(RPCError):
            await handle.terminate("test finished")


async def start(
    dev_env: WorkflowEnvironment,
    settings: Settings,
    started: list[OrderHandle],
    terms: ContractTerms,
) -> str:
    """The executed contract's order, started as the contract workflow starts it."""
    handle = await o.start_order(dev_env.client, terms, task_queue=settings.task_queue)
    started.append(handle)
    return order_id_for(terms.contract_id)


async def until(probe: Callable[[], Awaitable[Any]]) -> Any:
    return await eventually(probe, attempts=1200, interval=0.1)


async def opened_task(caller: TokenCaller, kind: str, subject_id: str) -> Json:
    """The caller's open task of ``kind`` on the subject, once it is in the inbox."""

    async def probe() -> Json | None:
        answer = await caller.http.get("/tasks", params={"kind": kind, "subject_id": subject_id})
        assert answer.status_code == 200, answer.text
        return answer.json()[0] if answer.json() else None

    found: Json = await until(probe)
    return found


async def next_task(caller: TokenCaller, kind: str, subject_id: str, after: Json) -> Json:
    """The task of ``kind`` opened after ``after`` was answered."""

    async def probe() -> Json | None:
        answer = await caller.http.get("/tasks", params={"kind": kind, "subject_id": subject_id})
        assert answer.status_code == 200, answer.text
        fresh = [t for t in answer.json() if t["task_id"] != after["task_id"]]
        return fresh[0] if fresh else None

    found: Json = await until(probe)
    return found


async def order_reaches(caller: TokenCaller, order_id: str, status: OrderStatus) -> Json:
    async def probe() -> Json | None:
        answer = await caller.http.get(f"/orders/{order_id}")
        ok = answer.status_code == 200 and answer.json()["status"] == status.value
        return answer.json() if ok else None

    found: Json = await until(probe)
    return found


async def decide(
    caller: TokenCaller, task: Json, outcome: str, choices: dict[str, str] | None = None
) -> Json:
    answer = await caller.http.post(
        f"/tasks/{task['task_id']}/decision", json={"outcome": outcome, "choices": choices or {}}
    )
    assert answer.status_code == 200, answer.text
    decided: Json = answer.json()
    return decided


async def answered(call: Awaitable[httpx.Response]) -> Json:
    """The 200 answer's body."""
    answer = await call
    assert answer.status_code == 200, answer.text
    body: Json = answer.json()
    return body


def problems(answer: httpx.Response) -> dict[str, str]:
    """A problem's fields at fault, each with its rule."""
    return {p["field"]: p["rule"] for p in answer.json()["errors"]}


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def event(kind: str, **extra: Any) -> Json:
    """A carrier event now, on the road."""
    at = datetime.now().astimezone().isoformat()
    return {"kind": kind, "at": at, "location": "G2 京沪高速 Wuxi", **extra}


async def confirm_with(supplier: TokenCaller, order_id: str, carrier: ca.CarrierParty) -> Json:
    """The supplier confirms the order whole, naming its carrier."""
    task = await opened_task(supplier, "order_confirmation", order_id)
    confirmed = await decide(supplier, task, "confirm", {"carrier": carrier.org_id})
    assert confirmed["process_status"] == "confirmed", confirmed
    return confirmed


async def file_shipment(
    order_id: str,
    *,
    logistics: TokenCaller,
    carrier: ca.CarrierParty,
    consignor_credit_code: str,
    items: tuple[WaybillItem, ...],
    loading_at: datetime,
    **trip: Any,
) -> Json:
    """Shipment 1 of a confirmed order from its consignment list to its filing: declared by the
    supplier's logistics, made by the carrier's dispatcher, checked by the loader. Answers
    the loading check's answer (``filing``)."""
    shipment = f"/orders/{order_id}/shipments/1"
    await opened_task(logistics, "consignment_list", order_id)
    declared = await answered(
        logistics.http.post(
            f"{shipment}/consignment",
            json=ca.consignment_body(consignor_credit_code, items=items),
        )
    )
    assert declared["process_status"] == "awaiting_waybill", declared
    await opened_task(carrier.dispatcher, "waybill_submission", order_id)
    made = await answered(
        carrier.dispatcher.http.post(
            f"{shipment}/waybill/make", json=carrier.order(loading_at, **trip)
        )
    )
    assert made["process_status"] == "awaiting_loading_check", made
    await opened_task(logistics, "loading_check", order_id)
    loaded = await answered(
        logistics.http.post(f"{shipment}/loading-check", json=ca.loading_check_body())
    )
    assert loaded["process_status"] == "filing", loaded
    return loaded


async def deliver(order_id: str, carrier: ca.CarrierParty, proof: bytes) -> str:
    """The carrier reports shipment 1 picked up, departed, arrived and delivered with its proof
    of delivery, uploaded by the carrier; answers the proof's document id."""
    events = f"/orders/{order_id}/shipments/1/events"
    http = carrier.dispatcher.http
    for kind in ("picked_up", "departed", "arrived"):
        await answered(http.post(events, json=event(kind)))
    uploaded = await http.post(
        f"/orders/{order_id}/documents",
        files={"file": ("签收单 POD.pdf", proof, "application/pdf")},
    )
    assert uploaded.status_code == 201, uploaded.text
    document_id: str = uploaded.json()["document_id"]
    await answered(
        http.post(events, json=event("delivered", proof_of_delivery_document_id=document_id))
    )
    return document_id


ACETONE_ONLY = (w.ACETONE,)
MIXED = (w.ACETONE, w.HYDROCHLORIC_ACID)
