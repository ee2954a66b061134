"""A notification rule end to end: written over the real API, fired by an order's confirmation
(recorded by the order's own activity), relayed from the outbox by the worker's relay to the
notification workflow on the dev server, and read back from the mail sandbox's inbox and a
webhook receiver whose signature the test checks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import WorkflowEnvironment

from gateways.certification_registry import CertificationRegistryClient
from gateways.regulator import RegulatorClient
from sandboxes.mail import MailSandbox
from sandboxes.webhook_sink import WebhookSinkSandbox
from settings import Settings
from stack.event_relay import relay_events
from storage.object_store import ObjectStore
from tests.harness import notifications as n
from tests.harness.api_server import TokenCaller, running_api
from tests.harness.notifications import mail_sandbox, webhook_sink  # noqa: F401 (fixtures)
from tests.harness.temporal import eventually
from worker import build_worker


@pytest.fixture(scope="module")
def local_settings(e2e_settings: Settings, mail: MailSandbox) -> Settings:
    """Rules may post to the webhook sink on this machine, and e-mail goes to the sandbox."""
    return e2e_settings.model_copy(
        update={"webhook_allow_loopback": True, "smtp_port": mail.smtp_port}
    )


@pytest.fixture(scope="module")
def api(local_settings: Settings) -> Iterator[str]:
    with running_api(local_settings) as url:
        yield url


@pytest.fixture
async def relaying_worker(
    dev_env: WorkflowEnvironment,
    local_settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
    regulator: RegulatorClient,
) -> AsyncIterator[None]:
    """The worker with its relay, as ``worker.py`` runs them."""
    stop = asyncio.Event()
    async with build_worker(
        dev_env.client,
        settings=local_settings,
        sessions=sessions,
        store=store,
        registry=registry,
        regulator=regulator,
    ):
        relay = asyncio.create_task(
            relay_events(
                dev_env.client,
                sessions,
                task_queue=local_settings.task_queue,
                stop=stop,
                poll_s=0.1,
            )
        )
        yield
        stop.set()
        await relay


async def test_a_confirmed_big_order_reaches_finance_by_email_and_signed_webhook(
    api: str,
    local_settings: Settings,
    sessions: sessionmaker[Session],
    mail: MailSandbox,
    sink: WebhookSinkSandbox,
    relaying_worker: None,
) -> None:
    order = n.buyer_order(sessions, Decimal("180000.50"))
    hook = f"{sink.url}/hooks/{order.order_id}"
    buyer = TokenCaller(api, local_settings.jwt_secret, order.buyer)
    rule = n.big_order_rule(channels=["email", "webhook"], webhook_url=hook)
    created = await buyer.http.post("/notification-rules", json=rule)
    assert created.status_code == 201, created.text

    n.confirm(sessions, order.order_id)

    email = f"{order.finance.actor.user_id}@test.example"

    async def mailed() -> list[dict[str, Any]] | None:
        async with httpx.AsyncClient() as http:
            got = (await http.get(f"{mail.url}/messages", params={"to": email})).json()
        return got["messages"] or None

    (message,) = await eventually(mailed, what="the e-mail in the sandbox's inbox")
    assert message["subject"] == "[Tradeflow] Big orders to finance: order_confirmed"
    assert f"Order {order.order_id} confirmed: CNY 180,000.50" in message["body"]
    assert message["copies"] == 1

    async def posted() -> list[dict[str, Any]] | None:
        return await asyncio.to_thread(n.received, sink.url, order.order_id) or None

    (hooked,) = await eventually(posted, what="the signed webhook")  # signature checked
    assert hooked["json"]["event"]["subject_id"] == order.order_id
    assert hooked["json"]["rule"]["id"] == created.json()["id"]
