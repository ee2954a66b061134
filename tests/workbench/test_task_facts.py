"""The task page's facts, on tasks real processes opened (dev server, real worker, the real API
serving the pages), each page read by the person the task is for: the accreditation analysis
with Z'' and its zone, the quote comparison and its award form, the cold trip's chart, the loan's
assessment; and the documents the page links, downloaded under the API's rule."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from contracts.cold_chain import ColdChainInput
from contracts.common import OPERATOR_ORG_ID, Actor, Role
from contracts.finance import LoanInput, loan_workflow_id
from contracts.sourcing import BuyerActionInput, SubmitQuoteInput
from contracts.sourcing import rfq_workflow_id as rfq_id_of
from contracts.tasks import DecideTaskInput, TaskAnswer
from db.models import HumanTask, Rfq
from db.seed import DEMO_PASSWORD
from gateways.certification_registry import CertificationRegistryClient
from security.totp import Authenticator
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness import builders as b
from tests.harness import cold_chain as c
from tests.harness import cold_orders as co
from tests.harness import loan_trades as lo
from tests.harness import sourcing as s
from tests.harness.temporal import eventually, start_accreditation, terminate_all
from tests.harness.workbench import Person, login_user
from workflows.cold_chain import ColdChainWorkflow
from workflows.loan import LoanWorkflow
from workflows.rfq import RfqWorkflow

_SELECTED = re.compile(r'<select name="(choice\.[^"]+)"[^>]*>(.*?)</select>', re.DOTALL)
_OPTION = re.compile(r'<option value="([^"]+)" selected>')


@dataclass(frozen=True)
class Stage:
    """What every test here works with: the API serving the pages, the dev server's client and
    the worker's task queue, the database and the store; and the people it signed in."""

    api_url: str
    client: Client
    task_queue: str
    sessions: sessionmaker[Session]
    store: ObjectStore
    people: list[Person]

    async def signed_in(self, email: str) -> Person:
        person = Person(self.api_url)
        self.people.append(person)
        assert (await asyncio.to_thread(person.sign_in, email)).status_code == 200
        return person


@pytest.fixture
async def stage(
    api_url: str,
    worker: None,
    dev_env: WorkflowEnvironment,
    e2e_settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
) -> AsyncIterator[Stage]:
    made = Stage(api_url, dev_env.client, e2e_settings.task_queue, sessions, store, [])
    yield made
    for person in made.people:
        person.close()


async def fetch(person: Person, path: str) -> httpx.Response:
    """A page, fetched off the event loop: the worker runs on this loop and the page may wait
    for it (a live status query, a decision's update)."""
    return await asyncio.to_thread(person.get, path)


async def open_task(sessions: sessionmaker[Session], subject_id: str, kind: str) -> HumanTask:
    async def opened() -> HumanTask | None:
        with sessions() as session:
            return session.scalars(
                select(HumanTask)
                .where(HumanTask.subject_id == subject_id, HumanTask.kind == kind)
                .where(HumanTask.status == "open")
            ).first()

    return await eventually(opened, what=f"an open {kind} task", attempts=600, interval=0.1)


async def test_the_accreditation_review_shows_z_and_its_zone_and_its_documents(
    stage: Stage, registry: CertificationRegistryClient
) -> None:
    sessions, store, client = stage.sessions, stage.store, stage.client
    app = b.one_certificate_application(sessions, store, registry)
    handle = await start_accreditation(client, app, task_queue=stage.task_queue)
    try:
        task = await open_task(sessions, app.application_id, "accreditation_review")
        compliance = await stage.signed_in("compliance@tradeflow.example")
        page = await fetch(compliance, f"/workbench/tasks/{task.id}")
        assert page.status_code == 200, page.text
        assert 'data-testid="z-score"' in page.text and "Altman Z''" in page.text
        assert re.search(r'data-testid="z-zone">安全区<', page.text), page.text
        assert "流动比率" in page.text
        assert 'data-testid="risk-band" data-band="low">低<' in page.text
        assert app.certificates[0].number in page.text and "有效" in page.text

        licence = app.licence_document.document_id
        assert f'href="/workbench/documents/{licence}"' in page.text
        named = f'data-testid="document-link">{app.licence_document.filename}</a>'
        assert named in page.text and "准入申请材料" in page.text  # its name and kind, not its id
        pdf = await fetch(compliance, f"/workbench/documents/{licence}")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        buyer = await stage.signed_in("buyer@huadong.example")
        assert (await fetch(buyer, f"/workbench/documents/{licence}")).status_code == 404
        assert (await fetch(buyer, f"/workbench/tasks/{task.id}")).status_code == 404
    finally:
        await terminate_all(client, [handle.id])


async def test_a_buyer_awards_from_the_comparison_on_the_task_page(stage: Stage) -> None:
    sessions, store, client = stage.sessions, stage.store, stage.client
    buyer = s.member(sessions, s.buyer_org(sessions), Role.BUYER)
    cheap, dear = (s.accredited_supplier(sessions, store) for _ in range(2))
    now = datetime.now(UTC)
    rfq = s.rfq(buyer, [cheap, dear], now=now)
    handle = await client.start_workflow(
        RfqWorkflow.run, rfq, id=rfq_id_of(rfq.rfq_id), task_queue=stage.task_queue
    )
    try:
        for org, price in ((cheap, "9.00"), (dear, "9.40")):
            actor = Actor(user_id=f"usr_{org.id}", org_id=org.id, roles=(Role.SUPPLIER,))
            terms = s.quote_terms(valid_until=(now + timedelta(days=30)).date(), price_l1=price)
            await handle.execute_update(
                RfqWorkflow.submit_quote,
                SubmitQuoteInput(terms=terms, actor=actor, standing="accredited"),
            )
        await handle.execute_update(RfqWorkflow.close_early, BuyerActionInput(actor=buyer.actor))
        task = await open_task(sessions, rfq.rfq_id, "rfq_award")

        person = await stage.signed_in(login_user(sessions, buyer.org.id, Role.BUYER))
        page = await fetch(person, f"/workbench/tasks/{task.id}")
        assert page.status_code == 200, page.text
        assert 'data-testid="comparison"' in page.text
        for org in (cheap, dear):
            assert f'data-testid="offer-L1-{org.id}"' in page.text
            assert f'data-testid="total-{org.id}"' in page.text
        assert "目标价" in page.text and 'data-testid="saving-L1"' in page.text
        form = {name: _OPTION.findall(body) for name, body in _SELECTED.findall(page.text)}
        assert set(form) == {"choice.L1", "choice.L2"}
        assert form["choice.L1"] == [cheap.id], "the cheaper quote is recommended"
        assert 'data-testid="award-choice-L1"' in page.text

        # The buyer keeps L1 as recommended and gives L2 to the dearer supplier.
        answer = await asyncio.to_thread(
            person.post,
            f"/workbench/tasks/{task.id}/decision",
            {
                "outcome": "award",
                "choices_for": "award",
                "choice.L1": form["choice.L1"][0],
                "choice.L2": dear.id,
                "idempotency_key": uuid.uuid4().hex,
            },
        )
        assert answer.status_code == 200, answer.text
        assert 'data-testid="answer"' in answer.text and "授标中" in answer.text

        def rfq_status() -> str:
            with sessions() as session:
                row = session.get(Rfq, rfq.rfq_id)
                assert row is not None
                return row.status

        async def moved_on() -> str | None:
            status = rfq_status()
            assert status == "awarding", status
            return status

        await eventually(moved_on, attempts=300, interval=0.1)
    finally:
        await terminate_all(client, [handle.id])


async def test_a_cold_chain_alert_shows_the_temperature_chart_with_its_excursion(
    stage: Stage,
) -> None:
    sessions, client = stage.sessions, stage.client
    order = co.cold_order(sessions)
    assert order.carrier_org_id is not None
    trip_id = co.open_trip(sessions, order)
    logger_id = f"LG-{uuid.uuid4().hex[:8]}"
    c.logger_on_trip(
        sessions, org_id=order.carrier_org_id, trip_id=trip_id, logger_id=logger_id, zone="chilled"
    )
    start = datetime.now(UTC) - timedelta(minutes=100)
    trip = await client.start_workflow(
        ColdChainWorkflow.run,
        ColdChainInput(
            trip_id=trip_id,
            order_id=order.order_id,
            shipment=1,
            zones=(co.CHILLED,),
            lines=(co.cold_line(),),
            currency="CNY",
            buyer_org_id=order.buyer_org_id,
            supplier_org_id=order.supplier_org_id,
            carrier_org_id=order.carrier_org_id,
            trip_start=start,
        ),
        id=f"ColdChain:{trip_id}",
        task_queue=stage.task_queue,
    )
    try:
        # Half an hour at 5 °C, then the reefer fails: 12 °C for 50 minutes, past the 30 allowed.
        readings = c.every(start, start + timedelta(minutes=40), timedelta(minutes=5), "5")
        readings += c.every(
            start + timedelta(minutes=45), start + timedelta(minutes=95), timedelta(minutes=5), "12"
        )
        batch = c.store(sessions, trip_id, logger_id, readings, low=Decimal(2), high=Decimal(8))
        await trip.signal(ColdChainWorkflow.readings, batch)

        async def excursion() -> HumanTask | None:
            with sessions() as session:
                return session.scalars(
                    select(HumanTask)
                    .where(HumanTask.workflow_id == trip.id, HumanTask.kind == "cold_chain_alert")
                    .where(HumanTask.details["alert"].astext.startswith("excursion:"))
                ).first()

        task = await eventually(excursion, attempts=600, interval=0.1)
        dispatcher = login_user(sessions, order.carrier_org_id, Role.LOGISTICS)
        person = await stage.signed_in(dispatcher)
        page = await fetch(person, f"/workbench/tasks/{task.id}")
        assert page.status_code == 200, page.text
        chart = re.search(r'data-testid="temperature-chart">(.*?)</figure>', page.text, re.DOTALL)
        assert chart is not None and chart.group(1).startswith("<svg")
        assert 'fill="#c0362c"' in chart.group(1), "readings outside the band are marked"
        assert "chilled 2-8 °C" in page.text
        assert 'data-testid="excursions"' in page.text and "温度偏离" in page.text
    finally:
        await terminate_all(client, [trip.id])


async def test_the_loan_approval_shows_the_assessment(stage: Stage) -> None:
    sessions, store, client = stage.sessions, stage.store, stage.client
    lo.platform_org(sessions)
    trade = lo.trade(sessions, store)
    application = trade.application("600000")
    handle = await client.start_workflow(
        LoanWorkflow.run,
        LoanInput(application=application),
        id=loan_workflow_id(application.loan_id),
        task_queue=stage.task_queue,
    )
    try:
        confirming = await open_task(sessions, application.loan_id, "loan_receivable_confirmation")
        buyer_finance = Actor(
            user_id="usr_facts_fin", org_id=trade.buyer.org.id, roles=(Role.FINANCE,)
        )
        await handle.execute_update(
            "decide_task",
            DecideTaskInput(task_id=confirming.id, outcome="confirm", actor=buyer_finance),
            result_type=TaskAnswer,
        )
        task = await open_task(sessions, application.loan_id, "loan_approval")
        assert task.org_id == OPERATOR_ORG_ID
        person = await stage.signed_in("finance@tradeflow.example")
        page = await fetch(person, f"/workbench/tasks/{task.id}")
        assert page.status_code == 200, page.text
        assert 'data-testid="assessment"' in page.text
        grade = re.search(r'data-testid="grade">([A-E])<', page.text)
        assert grade is not None and grade.group(1) == task.details["grade"]
        assert re.search(r'data-testid="score">\d+ / 100<', page.text)
        assert re.search(r'data-testid="apr">\d+\.\d\d%<', page.text)
        assert 'data-testid="reasons"' in page.text and "实际年化利率" in page.text
        assert "CNY 600,000.00" in page.text

        # Approving moves money: the page asks for the authenticator's code, as the API asks
        # for a step-up grant, and refuses without one.
        approver = login_user(sessions, OPERATOR_ORG_ID, Role.FINANCE)
        deciding = await stage.signed_in(approver)
        decision = f"/workbench/tasks/{task.id}/decision"
        page = await fetch(deciding, f"/workbench/tasks/{task.id}")
        assert 'name="code"' in page.text
        unenrolled = await asyncio.to_thread(deciding.post, decision, {"outcome": "approve"})
        assert unenrolled.status_code == 403 and "no second factor is enrolled" in unenrolled.text
        device = await _enrolled(stage.api_url, approver)
        wrong = await asyncio.to_thread(
            deciding.post, decision, {"outcome": "approve", "code": "000000"}
        )
        assert wrong.status_code == 403 and "wrong code" in wrong.text
        code = device.code(datetime.now(UTC))
        assert code is not None
        approved = await asyncio.to_thread(
            deciding.post, decision, {"outcome": "approve", "code": code}
        )
        assert approved.status_code == 200, approved.text
        assert 'data-testid="answer"' in approved.text and 'data-status="decided"' in approved.text
    finally:
        await terminate_all(client, [handle.id])


async def _enrolled(api_url: str, email: str) -> Authenticator:
    """The user's authenticator, enrolled and confirmed over the API as its app would."""
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        token = await http.post("/auth/token", data={"username": email, "password": DEMO_PASSWORD})
        http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        begun = await http.post("/auth/second-factor/enrolment")
        device = Authenticator(begun.json()["secret"])
        code = device.code(datetime.now(UTC))
        confirmed = await http.post("/auth/second-factor/confirmation", json={"code": code})
        assert confirmed.status_code == 200, confirmed.text
    return device
