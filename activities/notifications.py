"""Notification rules' deliveries: planned from the rules an event matches, then sent.

``plan_deliveries`` inserts one delivery row an event, channel and recipient (ON CONFLICT DO
NOTHING on the key), so a retry, or a second rule naming the same person, adds nothing.
``deliver`` sends one: in-app is the row itself, e-mail goes over SMTP, a webhook is POSTed
signed. The send happens outside any database transaction and the row is marked delivered
after it; a crash between the two sends again with the same key (Message-ID for e-mail,
``X-Tradeflow-Delivery`` for webhooks), which the receiver drops as a repeat.
``fail_delivery`` records that a delivery gave up and tells the organisation's principal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.common import Role
from contracts.notifications import (
    DELIVERY_FAILED_KIND,
    Channel,
    Condition,
    DeliverInput,
    DeliveryPlan,
    DeliveryStatus,
    FailDeliveryInput,
    PlanInput,
)
from contracts.tasks import NotifyInput
from db.event_facts import event_facts
from db.models import Organisation, User
from db.notification_rules import (
    NotificationDelivery,
    NotificationRule,
    ProcessEvent,
    delivery_id_for,
)
from db.notifications import store_notification
from db.session import transaction
from gateways.http_adapter import ExternalSystemRejected, ExternalSystemUnavailable
from gateways.mail import MailClient
from gateways.webhooks import WebhookClient
from rules.notification_rules import PRINCIPAL_ROLE, matches, webhook_url_problem

# The types the workflow's retry policy stops at.
REJECTED = "DeliveryRejected"


class NotificationActivities:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        mail: MailClient,
        webhooks: WebhookClient,
        *,
        allow_loopback_webhooks: bool,
    ) -> None:
        self._sessions = sessions
        self._mail = mail
        self._webhooks = webhooks
        self._allow_loopback = allow_loopback_webhooks

    @activity.defn(name="plan_deliveries")
    def plan_deliveries(self, plan: PlanInput) -> DeliveryPlan:
        """Match the event against its organisations' active rules and insert the deliveries;
        every retry finds the same rows (their keys are unique), and answers all of them."""
        with transaction(self._sessions) as session:
            event = session.get(ProcessEvent, plan.event_id)
            if event is None:
                raise ApplicationError(f"no event {plan.event_id}", type="InvalidRecord")
            rules = session.scalars(
                select(NotificationRule)
                .where(
                    NotificationRule.org_id.in_(event.org_ids),
                    NotificationRule.event_type == event.event_type,
                    NotificationRule.active,
                )
                .order_by(NotificationRule.created_at, NotificationRule.id)
            ).all()
            facts = event_facts(session, event) if rules else {}
            # One row a key: the first matching rule (oldest first) plans it.
            rows: dict[str, dict[str, Any]] = {}
            for rule in rules:
                conditions = [Condition.model_validate(c) for c in rule.conditions]
                if matches(conditions, facts):
                    for row in _planned(session, event, rule):
                        rows.setdefault(row["key"], row)
            if rows:
                session.execute(
                    insert(NotificationDelivery)
                    .values(list(rows.values()))
                    .on_conflict_do_nothing(index_elements=[NotificationDelivery.key])
                )
            ids = session.scalars(
                select(NotificationDelivery.id)
                .where(NotificationDelivery.event_id == event.id)
                .order_by(NotificationDelivery.key)
            ).all()
        return DeliveryPlan(delivery_ids=tuple(ids))

    @activity.defn(name="deliver")
    def deliver(self, request: DeliverInput) -> None:
        """Send one delivery unless it is settled; a failure is noted on the row, and raised
        retryable (the receiver may come back) or not (it refused)."""
        with transaction(self._sessions) as session:
            row = session.get(NotificationDelivery, request.delivery_id)
            if row is None:
                raise ApplicationError(f"no delivery {request.delivery_id}", type="InvalidRecord")
            if row.status != DeliveryStatus.PENDING:
                return
            send = None if row.channel == Channel.IN_APP else self._sender(session, row)
        try:
            if send is not None:
                send()
        except ExternalSystemRejected as refused:
            self._note(request.delivery_id, str(refused))
            raise ApplicationError(str(refused), type=REJECTED, non_retryable=True) from refused
        except ExternalSystemUnavailable as unavailable:
            self._note(request.delivery_id, str(unavailable))
            raise ApplicationError(str(unavailable), type="DeliveryUnavailable") from unavailable
        with transaction(self._sessions) as session:
            session.execute(
                update(NotificationDelivery)
                .where(
                    NotificationDelivery.id == request.delivery_id,
                    NotificationDelivery.status == DeliveryStatus.PENDING,
                )
                .values(
                    status=DeliveryStatus.DELIVERED,
                    delivered_at=datetime.now(UTC),
                    attempts=NotificationDelivery.attempts + 1,
                    last_error="",
                )
            )

    @activity.defn(name="fail_delivery")
    def fail_delivery(self, failure: FailDeliveryInput) -> None:
        """Mark the delivery failed and tell its organisation's principal in-app, once."""
        with transaction(self._sessions) as session:
            row = session.get(NotificationDelivery, failure.delivery_id, with_for_update=True)
            if row is None or row.status != DeliveryStatus.PENDING:
                return
            row.status = DeliveryStatus.FAILED
            # A day's time-out says less than the last attempt's own error: keep both.
            if row.last_error and row.last_error not in failure.reason:
                row.last_error = f"{failure.reason}; last attempt: {row.last_error}"[:2000]
            else:
                row.last_error = failure.reason
            rule = session.get(NotificationRule, row.rule_id) if row.rule_id else None
            event = session.get(ProcessEvent, row.event_id)
            org = session.get(Organisation, row.org_id)
            what = event.event_type if event else row.event_id
            store_notification(
                session,
                NotifyInput(
                    notification_id=f"delivery_failed:{row.id}",
                    org_id=row.org_id,
                    role=PRINCIPAL_ROLE.get(org.kind) if org else Role.ADMIN,
                    kind=DELIVERY_FAILED_KIND,
                    subject_type="notification_rule",
                    subject_id=row.rule_id or "deleted",
                    message=(
                        f"Rule {rule.name if rule else '(deleted)'!r} could not deliver {what} "
                        f"by {row.channel}: {row.last_error}"
                    )[:2000],
                ),
            )

    def _sender(self, session: Session, row: NotificationDelivery) -> Callable[[], object]:
        """What sends this delivery, read now so that nothing holds the transaction open."""
        event = session.get_one(ProcessEvent, row.event_id)
        rule = session.get(NotificationRule, row.rule_id) if row.rule_id else None
        if rule is None:
            raise ApplicationError("its rule was deleted", type=REJECTED, non_retryable=True)
        subject = f"[Tradeflow] {rule.name}: {event.event_type}"
        if row.channel == Channel.EMAIL:
            user = session.get_one(User, row.recipient_user_id)
            body = (
                f"{event.message}\n\n{event.subject_type} {event.subject_id}, "
                f"{event.occurred_at:%Y-%m-%d %H:%M} UTC.\nRule: {rule.name}\n"
            )
            to, key = user.email, row.key
            return lambda: self._mail.send(delivery_key=key, to=to, subject=subject, body=body)
        url, secret = rule.webhook_url or "", rule.webhook_secret or ""
        if problem := webhook_url_problem(url, self._allow_loopback):
            raise ApplicationError(f"webhook_url {problem}", type=REJECTED, non_retryable=True)
        payload = _webhook_payload(event, rule, row)
        key = row.key
        return lambda: self._webhooks.post(
            url=url, secret=secret, delivery_key=key, payload=payload
        )

    def _note(self, delivery_id: str, error: str) -> None:
        with transaction(self._sessions) as session:
            session.execute(
                update(NotificationDelivery)
                .where(NotificationDelivery.id == delivery_id)
                .values(attempts=NotificationDelivery.attempts + 1, last_error=error[:2000])
            )


def _planned(session: Session, event: ProcessEvent, rule: NotificationRule) -> list[dict[str, Any]]:
    """The rule's deliveries: one per recipient for in-app and e-mail, one for its webhook."""
    users: list[str] = []
    if {Channel.IN_APP, Channel.EMAIL} & set(rule.channels):
        users = list(
            session.scalars(
                select(User.id)
                .where(
                    User.org_id == rule.org_id,
                    or_(
                        User.roles.overlap(rule.recipient_roles),
                        User.id.in_(rule.recipient_user_ids),
                    ),
                )
                .order_by(User.id)
            )
        )
    rows = []
    for channel in rule.channels:
        recipients: list[str | None] = [None] if channel == Channel.WEBHOOK else list(users)
        for user_id in recipients:
            key = f"{event.id}:{channel}:{user_id or rule.id}"
            rows.append(
                {
                    "id": delivery_id_for(key),
                    "key": key,
                    "event_id": event.id,
                    "rule_id": rule.id,
                    "org_id": rule.org_id,
                    "channel": channel,
                    "recipient_user_id": user_id,
                    "status": DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "last_error": "",
                }
            )
    return rows


def _webhook_payload(
    event: ProcessEvent, rule: NotificationRule, row: NotificationDelivery
) -> dict[str, Any]:
    return {
        "delivery": row.key,
        "rule": {"id": rule.id, "name": rule.name},
        "organisation": rule.org_id,
        "event": {
            "id": event.id,
            "type": event.event_type,
            "subject_type": event.subject_type,
            "subject_id": event.subject_id,
            "occurred_at": event.occurred_at.isoformat(),
            "message": event.message,
        },
        # What chat bots show (DingTalk, WeCom and Feishu robots read a text field).
        "text": f"{rule.name}: {event.message}",
    }
