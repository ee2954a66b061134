"""Notification rules' test data: an order of a given amount and its buyer's people, the
order confirmed through the real activity, a rule's body, and what a webhook receiver got; and
the mail and webhook-sink sandboxes as module fixtures (import them into the test module)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from activities.fulfilment_records import FulfilmentRecords
from contracts.common import Role
from contracts.fulfilment import OrderStatus, OrderStatusInput
from contracts.notifications import RuleBody
from db.models import Order
from db.notification_rules import NotificationDelivery, ProcessEvent, event_id_for
from db.session import transaction
from gateways.webhooks import signature_valid
from sandboxes.mail import MailSandbox
from sandboxes.webhook_sink import WebhookSinkSandbox
from tests.harness import listings
from tests.harness import sourcing as s
from tests.harness.builders import make_org

SECRET = "test-only-webhook-secret-0123456789"


@pytest.fixture(scope="module", name="mail")
def mail_sandbox() -> Iterator[MailSandbox]:
    with MailSandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="module", name="sink")
def webhook_sink() -> Iterator[WebhookSinkSandbox]:
    with WebhookSinkSandbox() as sandbox:
        yield sandbox


@dataclass(frozen=True)
class BuyerOrder:
    order_id: str
    buyer: s.Member  # the buyer organisation's principal: writes its rules
    finance: s.Member  # who the rules tell

    @property
    def confirmed_event_id(self) -> str:
        """The id the order's confirmation is recorded under (db.notification_rules)."""
        return event_id_for(f"order:{self.order_id}:confirmed")


def buyer_order(sessions: sessionmaker[Session], amount: Decimal) -> BuyerOrder:
    """An order awaiting the supplier's confirmation, worth ``amount`` CNY."""
    buyer_org = s.buyer_org(sessions)
    supplier = make_org(sessions)
    (order_id,) = listings.orders(sessions, buyer_org.id, supplier.id, 1)
    with transaction(sessions) as session:
        session.execute(update(Order).where(Order.id == order_id).values(total_amount=amount))
    return BuyerOrder(
        order_id,
        s.member(sessions, buyer_org, Role.BUYER),
        s.member(sessions, buyer_org, Role.FINANCE),
    )


def confirm(sessions: sessionmaker[Session], order_id: str) -> None:
    """The supplier's confirmation, recorded by the order workflow's own activity."""
    FulfilmentRecords(sessions).set_order_status(
        OrderStatusInput(order_id=order_id, status=OrderStatus.CONFIRMED)
    )


def big_order_rule(*, channels: list[str], webhook_url: str | None = None) -> dict[str, Any]:
    """The issue's example: an order above 100,000 CNY confirmed, tell finance."""
    body: dict[str, Any] = {
        "name": "Big orders to finance",
        "event_type": "order_confirmed",
        "conditions": [
            {"field": "amount", "op": "gt", "value": {"amount": "100000", "currency": "CNY"}}
        ],
        "recipient_roles": ["finance"],
        "channels": channels,
    }
    if webhook_url is not None:
        body |= {"webhook_url": webhook_url, "webhook_secret": SECRET}
    return RuleBody.model_validate(body).model_dump(mode="json")


def received(sink_url: str, hook: str) -> list[dict[str, Any]]:
    """What the webhook sink got on ``hook``, each checked for a valid signature."""
    deliveries: list[dict[str, Any]] = httpx.get(f"{sink_url}/hooks/{hook}").json()["deliveries"]
    for delivery in deliveries:
        headers = delivery["headers"]
        assert signature_valid(
            SECRET,
            headers["x-tradeflow-timestamp"],
            delivery["body"].encode("utf-8"),
            headers["x-tradeflow-signature"],
        ), headers
        delivery["json"] = json.loads(delivery["body"])
    return deliveries


def in_app(
    sessions: sessionmaker[Session],
    user_id: str,
    org_id: str,
    times: Sequence[datetime | None],
    *,
    message: str = "confirmed",
) -> list[str]:
    """One event delivered in-app to the user once a time in ``times`` (None: now), as the
    relay records deliveries; their ids, in ``times``' order."""
    tag = uuid.uuid4().hex[:10]
    with transaction(sessions) as session:
        event = ProcessEvent(
            id=f"evt_{tag}",
            source=f"test:{tag}",
            event_type="order_confirmed",
            subject_type="order",
            subject_id=f"ord_{tag}",
            org_ids=[org_id],
            message=message,
            relayed_at=datetime.now(UTC),
        )
        session.add(event)
        session.flush()
        ids = [f"dlv_{tag}_{n}" for n in range(len(times))]
        session.add_all(
            NotificationDelivery(
                id=delivery_id,
                key=f"test:{delivery_id}",
                event_id=event.id,
                org_id=org_id,
                channel="in_app",
                recipient_user_id=user_id,
                status="delivered",
                **({"created_at": at} if at is not None else {}),
            )
            for delivery_id, at in zip(ids, times, strict=True)
        )
    return ids
