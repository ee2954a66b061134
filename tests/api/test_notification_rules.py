"""Notification rules over the real API: who may write them, each refusal naming the field and
the rule, a webhook secret shown once and kept on replace, the audit, and the in-app inbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from activities.notifications import NotificationActivities
from contracts.common import Role
from contracts.notifications import DeliverInput, PlanInput
from db.models import AuditEntry
from db.session import transaction
from gateways.mail import MailClient
from gateways.webhooks import WebhookClient
from tests.harness import cold_orders as co
from tests.harness import notifications as n
from tests.harness import sourcing as s

Caller = co.Caller
caller = co.caller


def _problem(answer: Any) -> tuple[str, str]:
    assert answer.status_code == 422, answer.text
    error = answer.json()["errors"][0]
    return error["field"], error["rule"]


async def test_only_the_principal_writes_and_every_member_reads(
    caller: Caller, sessions: sessionmaker[Session]
) -> None:
    order = n.buyer_order(sessions, Decimal(1))
    body = n.big_order_rule(channels=["in_app"])
    refused = await caller(order.finance).http.post("/notification-rules", json=body)
    assert refused.status_code == 403, refused.text
    created = await caller(order.buyer).http.post("/notification-rules", json=body)
    assert created.status_code == 201, created.text
    listed = await caller(order.finance).http.get("/notification-rules")
    assert [r["id"] for r in listed.json()] == [created.json()["id"]]
    other = s.member(sessions, s.buyer_org(sessions), Role.BUYER)
    assert (await caller(other).http.get("/notification-rules")).json() == []
    rule_url = f"/notification-rules/{created.json()['id']}"
    assert (await caller(other).http.delete(rule_url)).status_code == 404


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"event_type": "order_teleported"}, "event_type", "unknown event type"),
        (
            {
                "conditions": [
                    {
                        "field": "amount",
                        "op": "contains",
                        "value": {"amount": "1", "currency": "CNY"},
                    }
                ]
            },
            "conditions.0.op",
            "amount is money",
        ),
        (
            {"conditions": [{"field": "amount", "op": "gt", "value": 100000}]},
            "conditions.0.value",
            "must be money",
        ),
        (
            {"channels": ["webhook"], "webhook_url": "http://127.0.0.1:9/hook"},
            "webhook_url",
            "must not point at this machine",
        ),
        ({"recipient_roles": ["logistics"]}, "recipient_roles", "no member"),
        (
            {"recipient_roles": [], "recipient_user_ids": ["usr_nobody"]},
            "recipient_user_ids.0",
            "not a member",
        ),
    ],
)
async def test_a_wrong_rule_is_refused_naming_the_field_and_the_rule(
    caller: Caller,
    sessions: sessionmaker[Session],
    change: dict[str, Any],
    field: str,
    says: str,
) -> None:
    order = n.buyer_order(sessions, Decimal(1))
    body = n.big_order_rule(channels=["email"]) | change
    answer = await caller(order.buyer).http.post("/notification-rules", json=body)
    named, rule = _problem(answer)
    assert named == field
    assert says in rule and "Big orders to finance" in rule


async def test_a_generated_webhook_secret_is_shown_once_kept_on_replace_and_audited(
    caller: Caller, sessions: sessionmaker[Session]
) -> None:
    order = n.buyer_order(sessions, Decimal(1))
    buyer = caller(order.buyer)
    body = n.big_order_rule(channels=["webhook"], webhook_url="https://hooks.example.com/t")
    del body["webhook_secret"]
    created = (await buyer.http.post("/notification-rules", json=body)).json()
    assert len(created["webhook_secret"]) >= 32
    replaced = await buyer.http.put(
        f"/notification-rules/{created['id']}", json=body | {"name": "Renamed", "active": False}
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["webhook_secret"] is None and replaced.json()["name"] == "Renamed"
    (listed,) = (await buyer.http.get("/notification-rules")).json()
    assert "webhook_secret" not in listed and listed["active"] is False
    assert (await buyer.http.delete(f"/notification-rules/{created['id']}")).status_code == 204
    with transaction(sessions) as session:
        audited = session.scalars(
            select(AuditEntry).where(AuditEntry.target_id == created["id"]).order_by(AuditEntry.id)
        ).all()
    assert [a.action for a in audited] == [
        "notification_rule.saved",
        "notification_rule.saved",
        "notification_rule.deleted",
    ]
    assert all("webhook_secret" not in a.detail for a in audited)


async def test_the_inbox_shows_my_in_app_deliveries_and_their_unread_count(
    caller: Caller, sessions: sessionmaker[Session]
) -> None:
    order = n.buyer_order(sessions, Decimal("150000"))
    created = await caller(order.buyer).http.post(
        "/notification-rules", json=n.big_order_rule(channels=["in_app"])
    )
    assert created.status_code == 201, created.text
    n.confirm(sessions, order.order_id)
    activities = NotificationActivities(
        sessions,
        MailClient("127.0.0.1", 9, sender="t@test.example", timeout_s=1),
        WebhookClient(timeout_s=1),
        allow_loopback_webhooks=False,
    )
    (delivery_id,) = activities.plan_deliveries(
        PlanInput(event_id=order.confirmed_event_id)
    ).delivery_ids
    activities.deliver(DeliverInput(delivery_id=delivery_id))

    finance = caller(order.finance)
    inbox = (await finance.http.get("/notifications/inbox")).json()
    assert inbox["unread"] == 1
    (item,) = inbox["items"]
    assert (item["id"], item["event_type"], item["rule"]) == (
        delivery_id,
        "order_confirmed",
        "Big orders to finance",
    )
    assert "CNY 150,000.00" in item["message"]
    assert (
        await caller(order.buyer).http.post(f"/notifications/inbox/{delivery_id}/read")
    ).status_code == 404
    assert (await finance.http.post(f"/notifications/inbox/{delivery_id}/read")).status_code == 204
    assert (await finance.http.get("/notifications/inbox")).json()["unread"] == 0


async def test_the_inbox_pages_newest_first_by_the_link_header(
    caller: Caller, sessions: sessionmaker[Session]
) -> None:
    """Five deliveries (two at one instant), two a page: the ``Link`` header's pages give each
    once, newest first, the tie by id; the unread count is the whole inbox's on every page."""
    order = n.buyer_order(sessions, Decimal(1))
    member = order.finance
    at = datetime.now(UTC)
    times = [at, at - timedelta(seconds=1), at - timedelta(seconds=1), at - timedelta(seconds=2)]
    times.append(at - timedelta(seconds=3))
    ids = n.in_app(sessions, member.actor.user_id, member.actor.org_id, times)
    expected = [
        d for _, d in sorted(zip(times, ids, strict=True), key=lambda p: (-p[0].timestamp(), p[1]))
    ]
    http = caller(member).http
    pages: list[list[str]] = []
    url: str | None = "/notifications/inbox?limit=2"
    while url is not None:
        answer = await http.get(url)
        assert answer.status_code == 200, answer.text
        assert answer.json()["unread"] == 5
        pages.append([item["id"] for item in answer.json()["items"]])
        url = answer.links.get("next", {}).get("url")
        if url is not None:
            assert httpx.URL(url).params["cursor"] == answer.headers["x-next-cursor"]
        assert len(pages) <= len(expected), "the pages go on past the deliveries"
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [d for page in pages for d in page] == expected
