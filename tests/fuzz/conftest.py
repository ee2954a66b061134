"""A small world for the fuzzer: the real API over HTTP and a real worker on a task queue of their
own; a buyer, a supplier, a supplier applying for accreditation, the order's carrier, ops and a
regulator user; an open RFQ and a dangerous-goods order confirmed with its carrier, awaiting its
consignment list.

The fuzzer starts real processes; every one started on this module's task queue is ended when
the module is done, so the shared dev server is left as idle as it was found.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from contracts.common import OPERATOR_ORG_ID, Role
from contracts.fulfilment import order_id_for
from db.models import Organisation, User
from db.seed import seed_demo
from db.session import transaction
from gateways.certification_registry import CertificationRegistryClient
from gateways.regulator import RegulatorClient
from security.keys import jwt_secret_from_settings
from security.tokens import issue_token
from settings import Settings
from storage.object_store import ObjectStore
from tests.fuzz.bodies import bodies, rfq_body
from tests.harness import carriers as c
from tests.harness import orders as o
from tests.harness import sourcing as s
from tests.harness.api_server import running_api
from tests.harness.builders import make_org, register_certificate
from tests.harness.temporal import eventually, new_task_queue
from worker import build_worker

REGULATOR_ORG_ID = "org_demo_regulator"


@dataclass(frozen=True)
class World:
    """What the fuzzer runs against: the API, a bearer token a role, ids that exist and bodies
    that get past validation, mutated."""

    api_url: str
    tokens: dict[str, str]  # role name (buyer, supplier, applicant, ...) -> bearer token
    ids: dict[str, dict[str, str]]  # role name -> path parameter -> an id that role may use
    bodies: dict[str, st.SearchStrategy[Any]]  # operation label -> mutations of a valid body
    task_queue: str  # where the processes the fuzzer starts run


@pytest.fixture(scope="module")
def fuzz_settings(settings: Settings, dev_env: WorkflowEnvironment) -> Settings:
    return settings.model_copy(
        update={
            "task_queue": new_task_queue(),
            "temporal_address": dev_env.client.service_client.config.target_host,
        }
    )


@pytest.fixture(scope="module")
def fuzz_api_url(fuzz_settings: Settings, sessions: sessionmaker[Session]) -> Iterator[str]:
    with transaction(sessions) as session:
        seed_demo(session)  # the operator and regulator organisations, the demo rates
    with running_api(fuzz_settings) as url:
        yield url


@pytest.fixture(scope="module")
async def fuzz_worker(
    dev_env: WorkflowEnvironment,
    fuzz_settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
    regulator: RegulatorClient,
) -> AsyncIterator[None]:
    async with build_worker(
        dev_env.client,
        settings=fuzz_settings,
        sessions=sessions,
        store=store,
        registry=registry,
        regulator=regulator,
    ):
        yield
    await _end_everything_on(dev_env.client, fuzz_settings.task_queue)


@pytest.fixture(scope="module")
async def world(
    fuzz_api_url: str,
    fuzz_worker: None,
    fuzz_settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    dev_env: WorkflowEnvironment,
    registry: CertificationRegistryClient,
) -> World:
    secret = jwt_secret_from_settings(fuzz_settings)
    buyer_org = s.buyer_org(sessions)
    supplier_org = s.accredited_supplier(sessions, store)
    applicant = make_org(sessions)  # a supplier not accredited yet
    today = date.today()
    claim = register_certificate(
        registry,
        holder=applicant.legal_name,
        issued=today - timedelta(days=30),
        expires=today + timedelta(days=600),
    )
    carrier_org = c.accredited_carrier(sessions, classes=("3", "8"))
    fleet = (
        c.add_vehicle(sessions, carrier_org.id).id,
        c.add_crew(sessions, carrier_org.id, role="driver").id,
        c.add_crew(sessions, carrier_org.id, role="escort", name="李押运").id,
    )
    operator = s.org_row(sessions, OPERATOR_ORG_ID)
    regulator_org = s.org_row(sessions, REGULATOR_ORG_ID)
    users = {
        "buyer": (buyer_org, (Role.BUYER, Role.FINANCE)),
        "supplier": (supplier_org, (Role.SUPPLIER, Role.LOGISTICS)),
        "applicant": (applicant, (Role.SUPPLIER,)),
        # The order's carrier: its manager registers the fleet, its dispatchers make waybills.
        "carrier": (carrier_org, (Role.CARRIER, Role.LOGISTICS)),
        "ops": (operator, (Role.ADMIN, Role.COMPLIANCE, Role.OPS_SUPERVISOR, Role.LOGISTICS)),
        "regulator": (regulator_org, (Role.REGULATOR,)),
    }
    tokens = {name: _token(sessions, secret, org, roles) for name, (org, roles) in users.items()}
    rfq_id = await _open_rfq(fuzz_api_url, tokens["buyer"], supplier_org.id)
    who = o.Parties(
        buyer=s.member(sessions, buyer_org, Role.BUYER),
        finance=s.member(sessions, buyer_org, Role.FINANCE),
        supplier=s.member(sessions, supplier_org, Role.SUPPLIER),
        logistics=s.member(sessions, supplier_org, Role.LOGISTICS),
    )
    # Acetone only: the seed consignment list carries exactly that, so the waybill can be made.
    terms = o.executed_contract(sessions, who, now=datetime.now(UTC), lines=s.lines()[:1])
    await o.start_order(dev_env.client, terms, task_queue=fuzz_settings.task_queue)
    order_id = order_id_for(terms.contract_id)
    await _confirm(fuzz_api_url, tokens["supplier"], order_id, carrier_org.id)
    shared = {
        "rfq_id": rfq_id,
        "contract_id": terms.contract_id,
        "order_id": order_id,
        "shipment": "1",
    }
    return World(
        api_url=fuzz_api_url,
        tokens=tokens,
        ids={name: {**shared, "org_id": org.id} for name, (org, _) in users.items()},
        bodies=bodies(
            supplier=supplier_org,
            order_id=order_id,
            fleet=fleet,
            applicant=applicant,
            claim=claim,
        ),
        task_queue=fuzz_settings.task_queue,
    )


def _token(
    sessions: sessionmaker[Session], secret: str, org: Organisation, roles: tuple[Role, ...]
) -> str:
    """A user of ``org`` holding ``roles`` (a row, so the API's current-user check passes)."""
    user_id = f"usr_fuzz_{uuid.uuid4().hex[:10]}"
    with transaction(sessions) as session:
        session.add(
            User(
                id=user_id,
                org_id=org.id,
                email=f"{user_id}@fuzz.example",
                full_name="Fuzz " + "/".join(r.value for r in roles),
                password_hash="not-a-login",
                roles=[r.value for r in roles],
            )
        )
    return issue_token(
        secret=secret,
        user_id=user_id,
        org_id=org.id,
        roles=roles,
        ttl=timedelta(hours=2),
        now=datetime.now(UTC),
    )


def _client(api_url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


async def _open_rfq(api_url: str, token: str, supplier_id: str) -> str:
    """An RFQ open for quotes, created through the API, inviting the fuzzing supplier."""
    async with _client(api_url, token) as http:
        answer = await http.post("/rfqs", json=rfq_body(supplier_id, now=datetime.now(UTC)))
        answer.raise_for_status()
        rfq_id: str = answer.json()["rfq_id"]
    return rfq_id


async def _confirm(api_url: str, token: str, order_id: str, carrier_org_id: str) -> None:
    """The supplier confirms the order naming its carrier and waits for the consignment list's
    task, so the list can be declared, the waybill made from it and the shipment reported."""
    async with _client(api_url, token) as http:
        task_id = await _open_task(http, "order_confirmation", order_id)
        decision = {"outcome": "confirm", "choices": {"carrier": carrier_org_id}}
        (await http.post(f"/tasks/{task_id}/decision", json=decision)).raise_for_status()
        await _open_task(http, "consignment_list", order_id)


async def _open_task(http: httpx.AsyncClient, kind: str, subject_id: str) -> str:
    async def task() -> str | None:
        params = {"kind": kind, "subject_id": subject_id}
        found = (await http.get("/tasks", params=params)).raise_for_status().json()
        return str(found[0]["task_id"]) if found else None

    return await eventually(task, attempts=600, interval=0.1)


async def retrying_activities(client: Client, task_queue: str) -> list[str]:
    """Each activity of a running process on ``task_queue`` that has failed and is retrying."""
    found = []
    async for execution in client.list_workflows(_running_on(task_queue)):
        with contextlib.suppress(RPCError):  # it ended meanwhile
            described = await client.get_workflow_handle(execution.id).describe()
            found += [
                f"{execution.id}: {pending.activity_type.name}, attempt {pending.attempt}: "
                f"{pending.last_failure.message}"
                for pending in described.raw_description.pending_activities
                if pending.attempt > 1
            ]
    return found


async def processes_on(client: Client, task_queue: str) -> set[str]:
    """The workflow ids of every process, running or ended, on ``task_queue``."""
    return {e.id async for e in client.list_workflows(f'TaskQueue = "{task_queue}"')}


def _running_on(task_queue: str) -> str:
    return f'TaskQueue = "{task_queue}" AND ExecutionStatus = "Running"'


async def _end_everything_on(client: Client, task_queue: str) -> None:
    """Terminate every process still running on the fuzzer's task queue."""
    async for execution in client.list_workflows(_running_on(task_queue)):
        with contextlib.suppress(RPCError):  # it ended meanwhile
            await client.get_workflow_handle(execution.id).terminate("fuzzing finished")
