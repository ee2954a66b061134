"""The sale day's users, for locust (run by ``bench.load``, headless, a step at a time).

Buyers browse their RFQs and orders, read an RFQ and compare its quotes, and look a supplier
up; suppliers quote and revise on open RFQs; the carrier's dispatcher follows its orders and
moves the shipments of the set-up's pool on, event by event, while the logger on its chilled trip
uploads readings; the regulator lists, searches and reads the filed e-waybills.
Every request is a real one to the running platform, with the tokens and objects ``bench.load``
prepared (``TRADEFLOW_LOAD_STATE`` names the file). A 2xx is a success; anything else is a
failure named by its status (``HTTP 503``), so the error mix can be told apart: shed (429, 503),
refused by the domain (4xx) and broken (5xx, no answer).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, events, task
from locust.contrib.fasthttp import ResponseContextManager

from bench.load_setup import READINGS_PER_BATCH, SECOND_BUYER, LoadState
from stack.demo_carrier import CARRIER_DISPATCH
from stack.demo_client import BUYER, DESTINATION, INSPECTOR
from stack.demo_fulfilment import proof_of_delivery

STATE = LoadState.load(Path(os.environ["TRADEFLOW_LOAD_STATE"]))
# Which step this process runs: each step's readings get times of their own (see Logger).
STEP = int(os.environ.get("TRADEFLOW_LOAD_STEP", "0"))
_supplier_numbers = itertools.count()
_logger_numbers = itertools.count()
# Writes as the clients saw them, over the whole step (the ramp too, which the statistics drop):
# each write's 2xx answers and those whose outcome is unknown (a 5xx or no answer other than a
# shed one, so the write may have happened), and the readings the 2xx answers said were stored.
WRITES: dict[str, int] = {"quote_2xx": 0, "quote_unknown": 0, "readings_2xx": 0}
WRITES |= {"readings_unknown": 0, "readings_stored": 0, "events_2xx": 0, "events_unknown": 0}
EVENTS = ("picked_up", "departed", "arrived", "delivered")  # each once, in this order
# Shipments of the pool not yet delivered, as this step's users know them.
MOVING = list(STATE.shipments)


@events.quitting.add_listener  # type: ignore[untyped-decorator]
def _save_writes(**_: Any) -> None:
    if path := os.environ.get("TRADEFLOW_LOAD_WRITES"):
        Path(path).write_text(json.dumps(WRITES))


def tally(kind: str, answer: ResponseContextManager) -> None:
    if 200 <= answer.status_code < 300:
        WRITES[f"{kind}_2xx"] += 1
    elif answer.status_code in (429, 503) and "capacity" in (answer.text or ""):
        pass  # shed before anything ran
    elif answer.status_code == 429 or 400 <= answer.status_code < 500:
        pass  # refused: nothing written
    else:
        WRITES[f"{kind}_unknown"] += 1


def judged(answer: ResponseContextManager) -> None:
    """2xx succeeds; anything else fails under its status, which the report groups by."""
    if not 200 <= answer.status_code < 300:
        answer.failure(f"HTTP {answer.status_code}")  # type: ignore[no-untyped-call]
    else:
        answer.success()  # type: ignore[no-untyped-call]


class Platform(FastHttpUser):
    abstract = True
    host = STATE.base
    wait_time = between(0.5, 2.0)
    email = ""

    def on_start(self) -> None:
        self.auth = {"Authorization": f"Bearer {STATE.tokens[self.email]}"}

    def get(self, path: str, name: str, **params: Any) -> Any:
        with self.client.get(
            path, headers=self.auth, params=params, name=name, catch_response=True
        ) as answer:
            judged(answer)
            return answer.json() if answer.status_code == 200 else None


class Buyer(Platform):
    weight = 4

    def on_start(self) -> None:
        self.email = random.choice((BUYER, BUYER, SECOND_BUYER))
        super().on_start()

    @task(3)
    def browse_rfqs(self) -> None:
        self.get("/rfqs", "buyer: list RFQs", limit=20)

    @task(3)
    def browse_orders(self) -> None:
        self.get("/orders", "buyer: list orders", limit=20)

    @task(2)
    def compare(self) -> None:
        if self.email != BUYER:
            return  # the load's RFQs are Huadong's
        rfq_id = random.choice(STATE.rfq_ids)
        self.get(f"/rfqs/{rfq_id}", "buyer: read RFQ")
        self.get(f"/rfqs/{rfq_id}/comparison", "buyer: compare quotes")

    @task(1)
    def look_up_supplier(self) -> None:
        org_id = random.choice(list(STATE.suppliers.values()))
        self.get(f"/accreditation/suppliers/{org_id}", "buyer: supplier standing")


class Supplier(Platform):
    """Quotes, then revises its price, on the one RFQ it is given for this step."""

    weight = 2

    def on_start(self) -> None:
        number = next(_supplier_numbers)
        emails = list(STATE.suppliers)
        self.email = emails[number % len(emails)]
        self.rfq_id = STATE.rfq_ids[(number // len(emails)) % len(STATE.rfq_ids)]
        self.revision: int | None = None
        super().on_start()
        self._resync()

    def _resync(self) -> None:
        """The revision this supplier's quote is at, from its own quotes on the RFQ."""
        quotes = self.get(f"/rfqs/{self.rfq_id}/quotes", "supplier: read own quotes", limit=100)
        mine = [q["revision"] for q in quotes or []]
        self.revision = max(mine) if mine else None

    @task
    def quote(self) -> None:
        terms = dict(STATE.terms)
        price = Decimal("8.00") + Decimal(random.randint(0, 150)) / 100
        terms["lines"] = [{**terms["lines"][0], "unit_price": str(price)}]  # type: ignore[index]
        body = {"terms": terms, "replaces_revision": self.revision}
        headers = {**self.auth, "Idempotency-Key": uuid.uuid4().hex}
        with self.client.post(
            f"/rfqs/{self.rfq_id}/quotes",
            json=body,
            headers=headers,
            name="supplier: quote",
            catch_response=True,
        ) as answer:
            judged(answer)
            tally("quote", answer)
            if answer.status_code == 200:
                self.revision = answer.json()["revision"]
        if answer.status_code == 409:
            self._resync()


class Carrier(Platform):
    """The dispatcher follows its orders; the logger on board uploads its readings."""

    weight = 2
    email = CARRIER_DISPATCH

    def on_start(self) -> None:
        super().on_start()
        # Times of this user's own: the step, the user and a counter apart, all after pickup.
        user = next(_logger_numbers)
        self.next_at = datetime.fromisoformat(STATE.trip_start) + timedelta(
            microseconds=STEP * 1_000_000_000 + user * 1_000_000 + 1
        )
        self.logger = {"Authorization": f"Logger {STATE.logger_id}:{STATE.logger_secret}"}

    @task(3)
    def upload_readings(self) -> None:
        readings = []
        for i in range(READINGS_PER_BATCH):
            at = self.next_at + timedelta(microseconds=i)
            readings.append({"at": at.isoformat(), "celsius": f"{random.uniform(4, 6):.2f}"})
        self.next_at += timedelta(microseconds=READINGS_PER_BATCH)
        with self.client.post(
            "/cold-chain/readings",
            json={"logger_id": STATE.logger_id, "readings": readings},
            headers=self.logger,
            name="logger: upload readings",
            catch_response=True,
        ) as answer:
            judged(answer)
            tally("readings", answer)
            if 200 <= answer.status_code < 300:
                WRITES["readings_stored"] += answer.json()["stored"]

    @task(1)
    def follow_orders(self) -> None:
        self.get("/orders", "carrier: list orders", limit=20)
        self.get(f"/orders/{STATE.trip_order_id}", "carrier: read order")

    @task(2)
    def move_shipment(self) -> None:
        """A shipment of the pool, read to see where it stands, then its next event. Two users
        may pick the same shipment at once: the second event of a kind is refused ("already
        reported", 422), never recorded twice."""
        if not MOVING:
            return  # every shipment of the pool delivered
        order_id, number = random.choice(MOVING)
        order = self.get(f"/orders/{order_id}", "carrier: read order")
        if order is None:
            return
        shipment = next(s for s in order["shipments"] if s["shipment"] == number)
        done = {event["kind"] for event in shipment["events"]}
        kind = next((k for k in EVENTS if k not in done), None)
        if kind is None:
            if (order_id, number) in MOVING:
                MOVING.remove((order_id, number))
            return
        body: dict[str, Any] = {"kind": kind, "at": datetime.now(UTC).isoformat()}
        body["location"] = DESTINATION if kind in ("arrived", "delivered") else "G2 京沪高速"
        if kind == "delivered":
            if (proof := self._upload_proof(order_id, number)) is None:
                return
            body["proof_of_delivery_document_id"] = proof
        with self.client.post(
            f"/orders/{order_id}/shipments/{number}/events",
            json=body,
            headers={**self.auth, "Idempotency-Key": uuid.uuid4().hex},
            name="carrier: shipment event",
            catch_response=True,
        ) as answer:
            judged(answer)
            tally("events", answer)

    def _upload_proof(self, order_id: str, number: int) -> str | None:
        """The signed proof of delivery, uploaded to the order (multipart, made by hand: the
        fast client has no files argument); its document id."""
        boundary = uuid.uuid4().hex
        form = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="pod-{number}.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        form += proof_of_delivery(order_id, number) + f"\r\n--{boundary}--\r\n".encode()
        headers = {**self.auth, "Content-Type": f"multipart/form-data; boundary={boundary}"}
        with self.client.post(
            f"/orders/{order_id}/documents",
            data=form,  # type: ignore[arg-type]
            headers=headers,
            name="carrier: upload proof of delivery",
            catch_response=True,
        ) as answer:
            judged(answer)
            return str(answer.json()["document_id"]) if 200 <= answer.status_code < 300 else None


class Regulator(Platform):
    weight = 1
    email = INSPECTOR

    @task(3)
    def list_waybills(self) -> None:
        found = self.get("/regulator/waybills", "regulator: list waybills", limit=20)
        if found:
            number = random.choice(found)["waybill_number"]
            self.get(f"/regulator/waybills/{number}", "regulator: read waybill")

    @task(1)
    def search_waybills(self) -> None:
        self.get("/regulator/waybills", "regulator: search by UN number", un_number="UN1090")
        self.get("/regulator/waybills", "regulator: search by carrier", carrier="安达危险品运输")
