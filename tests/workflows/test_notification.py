"""The notification workflow on the time-skipping server: a confirmed order matching a rule is
told in-app, by e-mail and by a signed webhook, once each; a webhook failing twice is retried
and delivered once; one the receiver refuses is failed and the organisation's principal told."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.routes.notification_rules import save_rule
from contracts.notifications import (
    DELIVERY_FAILED_KIND,
    NotificationInput,
    NotificationOutcome,
    RuleBody,
    notification_workflow_id,
)
from db.models import Notification
from db.notification_rules import NotificationDelivery
from db.session import transaction
from gateways.certification_registry import CertificationRegistryClient
from gateways.regulator import RegulatorClient
from sandboxes.control import SandboxControl
from sandboxes.mail import MailSandbox
from sandboxes.webhook_sink import WebhookSinkSandbox
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness import notifications as n
from tests.harness.histories import record_history
from tests.harness.notifications import mail_sandbox, webhook_sink  # noqa: F401 (fixtures)
from tests.harness.temporal import new_task_queue
from worker import build_worker
from workflows.notification import NotificationWorkflow


@pytest.fixture
def sink_control(sink: WebhookSinkSandbox) -> Iterator[SandboxControl]:
    control = SandboxControl(sink.url)
    control.clear_faults()
    yield control
    control.clear_faults()


@pytest.fixture
async def client(
    time_skipping_env: WorkflowEnvironment,
    settings: Settings,
    sessions: sessionmaker[Session],
    store: ObjectStore,
    registry: CertificationRegistryClient,
    regulator: RegulatorClient,
    mail: MailSandbox,
) -> AsyncIterator[tuple[Client, str]]:
    task_queue = new_task_queue()
    local = settings.model_copy(
        update={
            "smtp_port": mail.smtp_port,
            "webhook_allow_loopback": True,
            "webhook_timeout_s": 2.0,
        }
    )
    async with build_worker(
        time_skipping_env.client,
        settings=local,
        sessions=sessions,
        store=store,
        registry=registry,
        regulator=regulator,
        task_queue=task_queue,
    ):
        yield time_skipping_env.client, task_queue


def _ruled_order(
    sessions: sessionmaker[Session], sink: WebhookSinkSandbox, amount: str, channels: list[str]
) -> n.BuyerOrder:
    """An order of ``amount`` CNY whose buyer has the big-order rule (its webhook on the sink
    under the order's id), confirmed twice: a retried activity records the event once."""
    order = n.buyer_order(sessions, Decimal(amount))
    hook = f"{sink.url}/hooks/{order.order_id}"
    body = n.big_order_rule(channels=channels, webhook_url=hook)
    with sessions() as session:
        rule = RuleBody.model_validate(body)
        save_rule(session, order.buyer.actor, rule, allow_loopback_webhooks=True)
    n.confirm(sessions, order.order_id)
    n.confirm(sessions, order.order_id)
    return order


async def _notify(client: tuple[Client, str], event_id: str) -> NotificationOutcome:
    temporal, task_queue = client
    handle = await temporal.start_workflow(
        NotificationWorkflow.run,
        NotificationInput(event_id=event_id),
        id=notification_workflow_id(event_id),
        task_queue=task_queue,
    )
    outcome: NotificationOutcome = await handle.result()
    return outcome


def _deliveries(sessions: sessionmaker[Session], event_id: str) -> list[NotificationDelivery]:
    with sessions() as session:
        return list(
            session.scalars(
                select(NotificationDelivery)
                .where(NotificationDelivery.event_id == event_id)
                .order_by(NotificationDelivery.key)
            )
        )


async def test_a_big_order_is_told_in_app_by_email_and_by_signed_webhook_once_each(
    client: tuple[Client, str],
    sessions: sessionmaker[Session],
    mail: MailSandbox,
    sink: WebhookSinkSandbox,
) -> None:
    big = _ruled_order(sessions, sink, "250000", ["in_app", "email", "webhook"])
    small = _ruled_order(sessions, sink, "50000", ["in_app", "email", "webhook"])

    outcome = await _notify(client, big.confirmed_event_id)
    assert (outcome.delivered, outcome.failed) == (3, 0)
    assert await _notify(client, small.confirmed_event_id) == NotificationOutcome(
        event_id=small.confirmed_event_id, delivered=0, failed=0
    )

    rows = _deliveries(sessions, big.confirmed_event_id)
    assert sorted(r.channel for r in rows) == ["email", "in_app", "webhook"]
    assert {r.status for r in rows} == {"delivered"}
    assert {r.recipient_user_id for r in rows if r.channel != "webhook"} == {
        big.finance.actor.user_id
    }
    email = f"{big.finance.actor.user_id}@test.example"
    (message,) = httpx.get(f"{mail.url}/messages", params={"to": email}).json()["messages"]
    assert "Big orders to finance" in message["subject"]
    assert "CNY 250,000.00" in message["body"]
    (posted,) = n.received(sink.url, big.order_id)
    assert posted["json"]["event"]["type"] == "order_confirmed"
    assert posted["headers"]["x-tradeflow-delivery"] == rows[-1].key
    assert n.received(sink.url, small.order_id) == []
    await record_history(
        client[0].get_workflow_handle(notification_workflow_id(big.confirmed_event_id)),
        "notification_delivered",
    )


async def test_a_failing_webhook_is_retried_then_delivered_once(
    client: tuple[Client, str],
    sessions: sessionmaker[Session],
    sink: WebhookSinkSandbox,
    sink_control: SandboxControl,
) -> None:
    order = _ruled_order(sessions, sink, "120000", ["webhook"])
    sink_control.set_fault(mode="error", status=503, count=2, paths=[f"/hooks/{order.order_id}"])

    outcome = await _notify(client, order.confirmed_event_id)

    assert (outcome.delivered, outcome.failed) == (1, 0)
    attempts = sink_control.requests(path_prefix=f"/hooks/{order.order_id}")
    assert [a["fault"] for a in attempts] == ["error", "error", None]
    assert len(n.received(sink.url, order.order_id)) == 1
    (row,) = _deliveries(sessions, order.confirmed_event_id)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 3, "")


async def test_a_refused_webhook_fails_and_the_principal_is_told(
    client: tuple[Client, str],
    sessions: sessionmaker[Session],
    sink: WebhookSinkSandbox,
    sink_control: SandboxControl,
) -> None:
    order = _ruled_order(sessions, sink, "300000", ["webhook"])
    sink_control.set_fault(mode="error", status=410, paths=[f"/hooks/{order.order_id}"])

    outcome = await _notify(client, order.confirmed_event_id)

    assert (outcome.delivered, outcome.failed) == (0, 1)
    (row,) = _deliveries(sessions, order.confirmed_event_id)
    assert row.status == "failed" and "410" in row.last_error
    with transaction(sessions) as session:
        told = session.scalars(
            select(Notification).where(
                Notification.org_id == order.buyer.org.id, Notification.kind == DELIVERY_FAILED_KIND
            )
        ).all()
    assert [(t.role, "410" in t.message) for t in told] == [("buyer", True)]
