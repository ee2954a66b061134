"""The bell and the rules page: the API's own rule functions behind a plain form."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import User
from db.notification_rules import NotificationRule
from tests.harness import notifications as n
from tests.harness.workbench import Person
from workbench.pages import notifications

BUYER = "buyer@huadong.example"


@pytest.fixture
def buyer(api_url: str) -> Iterator[Person]:
    person = Person(api_url)
    person.sign_in(BUYER)
    yield person
    person.close()


def _rule_form(name: str, value: str) -> dict[str, str]:
    return {
        "event_type": "order_confirmed",
        "name": name,
        "field_0": "amount",
        "op_0": "gt",
        "value_0": value,
        "currency_0": "CNY",
        "recipient_roles": "finance",
        "channels": "email",
    }


def test_a_rule_is_validated_on_save_and_listed_and_deleted(
    buyer: Person, sessions: sessionmaker[Session]
) -> None:
    page = buyer.get("/workbench/notification-rules", event_type="order_confirmed").text
    assert "amount (money)" in page and 'data-testid="rule-form"' in page

    refused = buyer.post("/workbench/notification-rules", _rule_form("Bad", "a lot"))
    assert refused.status_code == 422
    assert "conditions.0.value" in refused.text

    name = f"Big orders {uuid.uuid4().hex[:6]}"
    saved = buyer.post("/workbench/notification-rules", _rule_form(name, "100,000"))
    assert saved.status_code == 200 and 'data-testid="rule-saved"' in saved.text
    with sessions() as session:
        rule = session.scalars(select(NotificationRule).where(NotificationRule.name == name)).one()
        assert rule.conditions == [
            {"field": "amount", "op": "gt", "value": {"amount": "100000", "currency": "CNY"}}
        ]
        assert rule.recipient_roles == ["finance"] and rule.channels == ["email"]
    assert f'data-rule-id="{rule.id}"' in buyer.get("/workbench/notification-rules").text

    gone = buyer.post(f"/workbench/notification-rules/{rule.id}/delete", {})
    assert f'data-rule-id="{rule.id}"' not in gone.text


def test_a_member_who_may_not_manage_rules_gets_no_form_and_a_refusal(api_url: str) -> None:
    finance = Person(api_url)
    finance.sign_in("finance@huadong.example")
    try:
        assert 'data-testid="rule-form"' not in finance.get("/workbench/notification-rules").text
        refused = finance.post("/workbench/notification-rules", _rule_form("Mine", "1"))
        assert refused.status_code == 403
    finally:
        finance.close()


def _buyer(sessions: sessionmaker[Session]) -> User:
    with sessions() as session:
        return session.scalars(select(User).where(User.email == BUYER)).one()


def test_the_bell_counts_unread_and_marks_read(
    buyer: Person, sessions: sessionmaker[Session]
) -> None:
    tag = uuid.uuid4().hex[:10]
    user = _buyer(sessions)
    message = f"订单 ord_{tag} 已确认 order confirmed"
    (delivery,) = n.in_app(sessions, user.id, user.org_id, [None], message=message)
    bell = buyer.get("/workbench/notifications").text
    assert f"订单 ord_{tag} 已确认" in bell
    unread = int(re.findall(r'data-testid="unread">(\d+)<', bell)[0])
    assert unread >= 1
    after = buyer.post(f"/workbench/notifications/{delivery}/read", {}).text
    row = after.split(f'data-delivery-id="{delivery}"')[1].split("</tr>")[0]
    assert "标为已读" not in row
    still = re.findall(r'data-testid="unread">(\d+)<', after)
    assert (int(still[0]) if still else 0) == unread - 1


def test_the_bell_pages_and_marking_read_keeps_the_page(
    buyer: Person, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delivery a page: the newer first, the older on the next page; marked read there, the
    bell comes back to that page."""
    monkeypatch.setattr(notifications, "BELL_SHOWN", 1)
    ahead = datetime.now(UTC) + timedelta(days=1)  # newer than any other test's deliveries
    user = _buyer(sessions)
    newer, older = n.in_app(sessions, user.id, user.org_id, [ahead, ahead - timedelta(seconds=1)])
    first = buyer.get("/workbench/notifications").text
    assert f'data-delivery-id="{newer}"' in first and older not in first
    found = re.search(r'href="([^"]+)" data-testid="next-page"', first)
    assert found is not None
    url = httpx.URL(html.unescape(found.group(1)))
    second = buyer.get(url.path, **dict(url.params)).text
    assert f'data-delivery-id="{older}"' in second and newer not in second
    back = f"{url.path}?{url.query.decode()}"
    after = buyer.post(f"/workbench/notifications/{older}/read", {"back": back}).text
    assert f'data-delivery-id="{older}"' in after and 'data-testid="first-page"' in after
    elsewhere = buyer.post(
        f"/workbench/notifications/{newer}/read", {"back": "https://example.com/"}
    )
    assert str(elsewhere.url).endswith("/workbench/notifications")  # never off the bell
