"""End to end: a chilled order through the real API and the real worker on the dev server, its
logger posting readings as a device does, an excursion on the road, the buyer's quarantine and
claim, and the order's money and loss rates that follow.

The supplier confirms naming its carrier; the carrier's pickup is refused until one of its
registered loggers is on the trip. The pickup is reported 80 minutes late (the truck left before
anyone reported it; within the 90 minutes the lettuce's logger may be silent), so the logger's
hourly upload fits between the pickup and now: half an hour at 1 °C, then the reefer fails and
it reads 5 °C for 40 minutes, past the 30-minute tolerance while the mean kinetic temperature
stays under the 4 °C label, so the buyer decides on arrival. The excursion's task opens for the
carrier's logistics; the same batch again and the readings that continue the excursion open no
second. A logger of another trip cannot post as this one; bad telemetry is refused whole. On
PostgreSQL, S3 and the regulator sandbox; the time-skipping twin is
``tests.workflows.test_cold_chain_order``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from contracts.cold_chain import trip_id_for
from contracts.common import CENT, Role, money_text
from contracts.fulfilment import OrderStatus
from contracts.sourcing import ContractTerms
from db.cold_chain import TripStatus
from settings import Settings
from storage.object_store import ObjectStore
from tests.e2e import order_api
from tests.e2e.order_api import (
    Carriers,
    Json,
    OrderHandle,
    People,
    answered,
    confirm_with,
    decide,
    event,
    opened_task,
    order_reaches,
    pdf_text,
    problems,
    start,
    until,
)
from tests.harness import cold_chain as c
from tests.harness import cold_orders as co
from tests.harness import logger_api as la
from tests.harness import orders as o
from tests.harness import second_factor as sf
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller
from tests.harness.builders import MINIMAL_PDF

people = order_api.people
carriers = order_api.carriers
started = order_api.started
LOST = Decimal(20)  # cases of lettuce wilted, of the 400 shipped


@pytest.fixture
async def loggers() -> AsyncIterator[list[la.Logger]]:
    """Loggers the test registers; their clients are closed at the end."""
    made: list[la.Logger] = []
    yield made
    for logger in made:
        await logger.aclose()


async def rows(call: Awaitable[httpx.Response]) -> list[Json]:
    """The 200 answer's list."""
    answer = await call
    assert answer.status_code == 200, answer.text
    found: list[Json] = answer.json()
    return found


async def alerts(caller: TokenCaller, order_id: str, status: str = "open") -> list[Json]:
    """The order's cold-chain alert tasks in the caller's inbox, in ``status``."""
    params = {"kind": "cold_chain_alert", "subject_id": order_id, "status": status}
    return await rows(caller.http.get("/tasks", params=params))


async def test_a_chilled_order_with_an_excursion_ends_in_a_claim_off_what_the_buyer_pays(
    api_url: str,
    worker: None,
    people: People,
    carriers: Carriers,
    started: list[OrderHandle],
    loggers: list[la.Logger],
    dev_env: WorkflowEnvironment,
    e2e_settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
) -> None:
    who = o.parties(sessions, store)
    buyer, finance, supplier, logistics = (
        people(m) for m in (who.buyer, who.finance, who.supplier, who.logistics)
    )
    outsider = people(s.member(sessions, s.buyer_org(sessions), Role.BUYER))
    carrier = await carriers()
    dispatch = carrier.dispatcher
    terms = o.executed_contract(sessions, who, now=datetime.now(UTC), lines=(c.CHILLED_LETTUCE,))
    order_id = await start(dev_env, e2e_settings, started, terms)
    trip_id = trip_id_for(order_id, 1)
    temperature = f"/orders/{order_id}/shipments/1/temperature"
    events = f"/orders/{order_id}/shipments/1/events"

    # -- confirmed; the planned trip shows on the order, and the pickup waits for a logger --
    await confirm_with(supplier, order_id, carrier)
    ready = await order_reaches(buyer, order_id, OrderStatus.READY_TO_DISPATCH)
    (planned,) = ready["shipments"]
    zones = [z["label"] for z in (await answered(buyer.http.get(temperature)))["zones"]]
    assert zones[0].startswith("冷鲜 chilled 0")
    assert planned["cold_chain"] == {
        "trip_id": trip_id,
        "status": "planned",
        "zones": zones,
        "loggers": 0,
        "disposition": None,
        "lost": None,
        "loss_rate": None,
        "report_document_id": None,
        "claim": None,
        "credit_note_id": None,
    }
    pickup = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=80)

    def at(minutes: float) -> datetime:
        return pickup + timedelta(minutes=minutes)

    picked_up = event("picked_up", at=pickup.isoformat())
    unlogged = await dispatch.http.post(events, json=picked_up)
    assert unlogged.status_code == 422, unlogged.text
    assert "assign a logger before pickup" in problems(unlogged)["kind"]
    logger = await la.registered(api_url, carrier.manager)
    loggers.append(logger)
    await la.assigned(dispatch, logger, order_id, zone="chilled")
    assert (await answered(dispatch.http.post(events, json=picked_up)))["status"] == "in_transit"

    # -- the logger uploads: in range, then 40 minutes at 5 °C -------------------------------
    cool = [(at(m), "1.0") for m in range(5, 31, 5)]
    warm = [(at(m), "5.0") for m in range(35, 76, 5)]

    async def taken() -> Json | None:
        # Readings are taken once the trip's workflow has begun it (409 until then).
        answer = await logger.post(cool)
        assert answer.status_code in (202, 409), answer.text
        return answer.json() if answer.status_code == 202 else None

    assert await until(taken) == {"trip_id": trip_id, "stored": 6, "duplicates": 0}
    assert (await logger.post(warm)).json()["stored"] == 9

    async def alerted() -> list[Json] | None:
        found = await alerts(dispatch, order_id)
        return [t for t in found if t["details"]["alert"].startswith("excursion:")] or None

    (alert,) = await until(alerted)
    assert alert["role"] == "logistics", alert  # the carrier's: the goods are in its hands
    assert logger.logger_id in alert["summary"] and "5.00 °C at worst" in alert["summary"]
    assert alert["details"]["chart"] == f"{temperature}/chart.svg"
    assert not await alerts(logistics, order_id)  # not the supplier's to act on

    async def notified() -> Json | None:
        answer = await buyer.http.get("/notifications", params={"kind": "cold_chain_alert"})
        return next((n for n in answer.json() if n["subject_id"] == order_id), None)

    assert "温度偏离 Excursion" in (await until(notified))["message"]

    # The same batch again stores nothing; the excursion goes on, then ends: one task still.
    again = await logger.post(warm)
    assert again.status_code == 202 and again.json()["duplicates"] == 9
    ending = await logger.post([(at(77), "5.0"), (at(79), "1.0")])
    assert ending.json()["stored"] == 2

    async def assessed() -> Json | None:
        figures = (await answered(buyer.http.get(temperature)))["figures"] or {}
        (figured,) = figures.get("loggers") or [{"readings": 0}]
        return figures if figured["readings"] == 17 else None

    figures = await until(assessed)
    (run,) = figures["runs"]
    assert run["is_excursion"] and run["duration_s"] == 44 * 60
    assert Decimal(figures["loggers"][0]["mkt_celsius"]) <= 4
    acknowledged = await dispatch.http.post(
        f"/tasks/{alert['task_id']}/decision",
        json={"outcome": "acknowledge", "comment": "冷机重启 reefer restarted at the depot"},
    )
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.json()["process_status"] == "acknowledged"

    # -- another trip's logger cannot post as this one; bad telemetry leaves nothing ---------
    other = co.cold_order(sessions)
    other_trip = co.open_trip(sessions, other)
    assert other.dispatcher is not None
    keeper = people(other.dispatcher)
    stranger = await la.registered(api_url, keeper)
    loggers.append(stranger)
    await la.assigned(keeper, stranger, other.order_id, zone="chilled")
    co.set_trip(sessions, other_trip, status=TripStatus.IN_TRANSIT, started_at=pickup)
    posing = await stranger.post([(at(78), "9.0")], as_logger=logger.logger_id)
    assert posing.status_code == 403, posing.text
    own = await stranger.post([(at(78), "9.0")])
    assert own.status_code == 202 and own.json()["trip_id"] == other_trip
    held = la.stored(sessions, logger.logger_id)
    assert held == 17
    impossible = await logger.post(
        [(at(78), "1.0"), (at(78.5), "150"), (datetime.now(UTC) + timedelta(hours=1), "1.0")]
    )
    assert impossible.status_code == 422, impossible.text
    rules = problems(impossible)
    assert set(rules) == {"readings.1", "readings.2"}, rules
    assert rules["readings.1"].startswith("above_physical_maximum")
    assert rules["readings.2"].startswith("after_trip")
    # A new reading with an old instant's changed value: inserted, then taken back whole.
    rewritten = await logger.post([(at(78), "1.0"), (at(40), "2.0")])
    assert rewritten.status_code == 422, rewritten.text
    assert problems(rewritten)["readings.1"].startswith("conflicts_with_stored")
    assert la.stored(sessions, logger.logger_id) == held

    # -- delivered: the buyer quarantines, then claims what wilted ---------------------------
    for kind in ("departed", "arrived"):
        await answered(dispatch.http.post(events, json=event(kind)))
    uploaded = await dispatch.http.post(
        f"/orders/{order_id}/documents",
        files={"file": ("签收单 POD.pdf", MINIMAL_PDF, "application/pdf")},
    )
    assert uploaded.status_code == 201, uploaded.text
    proof = uploaded.json()["document_id"]
    delivered = event("delivered", proof_of_delivery_document_id=proof)
    await answered(dispatch.http.post(events, json=delivered))
    disposition = await opened_task(buyer, "cold_chain_disposition", order_id)
    assert "release_with_deviation" in disposition["summary"]
    held_back = await decide(buyer, disposition, "quarantine")
    assert held_back["process_status"] == "quarantined"
    inspection = await opened_task(buyer, "cold_chain_inspection", order_id)
    decision = f"/tasks/{inspection['task_id']}/decision"
    claimed = await buyer.http.post(
        decision,
        json={
            "outcome": "accept_with_claim",
            "comment": "20 cases wilted",
            "choices": {"lost:L9": str(LOST)},
        },
    )
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["process_status"] == "accept_with_claim"
    claim = _claim(terms)

    # -- the order's view: the trip decided, the credit off what the buyer owes --------------
    async def decided() -> Json | None:
        order = await answered(buyer.http.get(f"/orders/{order_id}"))
        cold = order["shipments"][0]["cold_chain"]
        return order if cold["disposition"] == "accept_with_claim" else None

    order = await until(decided)
    total = Decimal(order["total"]["amount"])
    cold = order["shipments"][0]["cold_chain"]
    assert (cold["status"], cold["loggers"], cold["lost"]) == ("decided", 1, {"L9": "20"})
    assert Decimal(cold["loss_rate"]) == Decimal("0.05")
    assert Decimal(cold["claim"]["amount"]) == claim and cold["credit_note_id"]
    assert Decimal(order["credited"]["amount"]) == claim
    assert Decimal(order["outstanding"]["amount"]) == total - claim
    # The carrier, liable by default, sees its claim but not the order's money.
    carried = await answered(dispatch.http.get(f"/orders/{order_id}"))
    assert carried["total"] is carried["credited"] is carried["outstanding"] is None
    assert carried["shipments"][0]["cold_chain"]["claim"] == cold["claim"]
    trip = await answered(buyer.http.get(temperature))
    assert (trip["liable"], trip["liable_org_id"]) == ("carrier", carrier.org_id)
    assert trip["report_document_id"] == cold["report_document_id"]
    for path in (temperature, f"{temperature}/report"):
        assert (await outsider.http.get(path)).status_code == 404

    # -- the temperature report, read back ----------------------------------------------------
    report = await buyer.http.get(f"{temperature}/report")
    assert report.status_code == 200 and report.headers["content-type"] == "application/pdf"
    text = pdf_text(report.content)
    for expected in (
        "温度",
        "Temperature",
        logger.logger_id,
        "MKT",
        "Excursion",
        "Accept with claim",
        "20 cases wilted",
        money_text(claim, "CNY"),
        cold["credit_note_id"],
    ):
        assert expected in text, expected
    assert (await dispatch.http.get(f"{temperature}/report")).status_code == 200

    # -- the loss rates by carrier and by route reflect it ----------------------------------
    for by in ("carrier", "route"):
        (rate,) = await rows(buyer.http.get("/cold-chain/loss-rates", params={"by": by}))
        assert (rate["trips"], Decimal(rate["shipped"]), Decimal(rate["lost"])) == (
            1,
            Decimal(400),
            LOST,
        )
        assert Decimal(rate["loss_rate"]) == Decimal("0.05")
        assert [Decimal(v["amount"]) for v in rate["loss_value"]] == [claim]
        assert rate["key"] == (carrier.org_id if by == "carrier" else trip["route"])

    # -- accepted, invoiced, and paid less the claim ----------------------------------------
    acceptance = await opened_task(buyer, "order_acceptance", order_id)
    # The trip is over: its one alert was the excursion's, however many batches repeated it.
    assert [t["task_id"] for t in await alerts(dispatch, order_id, "decided")] == [alert["task_id"]]
    for status in ("open", "cancelled"):
        assert not await alerts(dispatch, order_id, status), status
    assert (await decide(buyer, acceptance, "accept"))["process_status"] == "invoiced"
    await order_reaches(finance, order_id, OrderStatus.INVOICED)
    payments = f"/orders/{order_id}/payments"
    proved = await sf.step_up(finance)  # paying needs a second factor just proved
    whole = await finance.http.post(payments, json=_payment(total), headers=proved)
    assert whole.status_code == 422 and f"outstanding {total - claim}" in whole.text
    paid = finance.http.post(payments, json=_payment(total - claim), headers=proved)
    rest = await answered(paid)
    assert rest["status"] == "completed" and Decimal(rest["outstanding"]["amount"]) == 0
    assert (await started[0].result()).status == OrderStatus.COMPLETED
    final = await order_reaches(buyer, order_id, OrderStatus.COMPLETED)
    assert Decimal(final["paid"]["amount"]) == total - claim
    assert Decimal(final["outstanding"]["amount"]) == 0
    listed = await rows(buyer.http.get("/orders", params={"status": "completed"}))
    (summary,) = [row for row in listed if row["order_id"] == order_id]
    assert Decimal(summary["credited"]["amount"]) == claim


def _claim(terms: ContractTerms) -> Decimal:
    """The lost cases at their price plus the tax paid on them, by hand."""
    (line,) = terms.lines
    pre_tax = terms.total.amount - terms.tax.amount
    value = LOST * line.unit_price * (1 + terms.tax.amount / pre_tax)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _payment(amount: Decimal) -> Json:
    return {
        "amount": {"amount": str(amount), "currency": "CNY"},
        "reference": f"BANK-COLD-{amount}",
        "paid_on": date.today().isoformat(),
    }
