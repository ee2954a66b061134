"""The demo buyer's notification rule, and what it delivered: in the bell, by e-mail, by webhook.

Before sourcing, Huadong's buyer sets a rule: "when an order above CNY 100,000 is confirmed, tell
finance in the workbench's bell and by e-mail, and post to our chat bot". After fulfilment the
demo reads what arrived: finance's bell (``GET /notifications/inbox``), the mail sandbox's inbox,
and the webhook sink, checking each webhook's signature with the secret shown once when the rule
was made. A second run keeps the first run's rule (its secret is not shown again, so the
signature of that rule's posts cannot be checked here).
"""

from __future__ import annotations

import httpx

from gateways.webhooks import signature_valid
from stack.demo_client import BUYER, FINANCE, Caller, step, wait_for

RULE_NAME = "大额订单确认 Orders above CNY 100,000 confirmed"
MAIL_INBOX = "http://127.0.0.1:8305"
WEBHOOK_SINK = "http://127.0.0.1:8306"
HOOK = "huadong-finance"


def set_rule(api: str) -> str | None:
    """Huadong's rule (made once); the webhook's signing secret when made now."""
    step("Huadong's buyer sets a notification rule on big confirmed orders")
    buyer = Caller(api, BUYER)
    if any(r["name"] == RULE_NAME for r in buyer.call("GET", "/notification-rules")):
        print("  the rule is already set (from an earlier run)")
        return None
    saved = buyer.call(
        "POST",
        "/notification-rules",
        json={
            "name": RULE_NAME,
            "event_type": "order_confirmed",
            "conditions": [
                {"field": "amount", "op": "gt", "value": {"amount": "100000", "currency": "CNY"}}
            ],
            "recipient_roles": ["finance"],
            "channels": ["in_app", "email", "webhook"],
            "webhook_url": f"{WEBHOOK_SINK}/hooks/{HOOK}",
        },
    )
    print(f"  rule {saved['id']}: order_confirmed, amount > CNY 100,000 → finance")
    print("  channels: in-app, e-mail, webhook (secret shown once, kept by the demo)")
    secret: str | None = saved["webhook_secret"]
    return secret


def show_deliveries(api: str, secret: str | None) -> None:
    """What the rule delivered for the orders confirmed in this round."""
    step("What Huadong's rule delivered")
    finance = Caller(api, FINANCE)
    bell = wait_for(
        "finance's bell",
        lambda: [
            i
            for i in finance.call("GET", "/notifications/inbox")["items"]
            if i["rule"] == RULE_NAME
        ],
    )
    print(f"  finance's bell: {len(bell)} notification(s); newest: {bell[0]['message']}")
    mails = wait_for(
        "the e-mail",
        lambda: httpx.get(f"{MAIL_INBOX}/messages", params={"to": FINANCE}).json()["messages"],
    )
    print(f"  e-mail to {FINANCE}: {len(mails)}; newest subject: {mails[-1]['subject']}")
    posts = wait_for(
        "the webhook",
        lambda: httpx.get(f"{WEBHOOK_SINK}/hooks/{HOOK}").json()["deliveries"],
    )
    newest = posts[-1]
    headers = {k.lower(): v for k, v in newest["headers"].items()}
    print(f"  webhook posts: {len(posts)}; newest delivery {headers['x-tradeflow-delivery']}")
    if secret is not None:
        valid = signature_valid(
            secret,
            headers["x-tradeflow-timestamp"],
            newest["body"].encode("utf-8"),
            headers["x-tradeflow-signature"],
        )
        print(f"  its signature checks with the rule's secret: {valid}")
