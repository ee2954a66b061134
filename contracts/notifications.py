"""Notification rules: what an organisation asks to hear about, and the workflow that delivers it.

A process event (an order confirmed, a certificate about to expire) is recorded in the outbox
table ``process_events`` in the transaction that records the event itself; the worker's relay
starts one ``NotificationWorkflow`` an event (id from ``notification_workflow_id``), which plans
a delivery for each recipient and channel the organisation's matching rules name, then delivers
each one, retried, exactly once.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from contracts.common import Frozen, Line, Money, Role

# The one notification kind that never becomes a process event: a rule matching the news that
# a delivery failed, delivered by a failing webhook, would feed itself.
DELIVERY_FAILED_KIND = "notification_delivery_failed"


class Channel(StrEnum):
    IN_APP = "in_app"  # the workbench's bell: the delivery row is the message
    EMAIL = "email"
    WEBHOOK = "webhook"


class FieldType(StrEnum):
    MONEY = "money"  # an amount in one currency, compared only with amounts in that currency
    NUMBER = "number"
    DAYS = "days"  # whole days
    TEXT = "text"


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    CONTAINS = "contains"  # text only, case-insensitive


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


Number = Annotated[Decimal, Field(gt=-(10**18), lt=10**18, allow_inf_nan=False)]


class Condition(Frozen):
    """One test on an event's field; a rule's conditions must all hold."""

    field: Line = Field(max_length=60)
    op: Op
    # Money as {"amount", "currency"}, numbers and days as numbers, text as a string.
    value: Money | Number | Annotated[Line, Field(max_length=200)]


class RuleBody(Frozen):
    """A rule as its organisation writes it (create and replace alike)."""

    name: Line = Field(min_length=1, max_length=120)
    event_type: Line = Field(max_length=60)
    conditions: tuple[Condition, ...] = Field(default=(), max_length=10)
    recipient_roles: tuple[Role, ...] = Field(default=(), max_length=10)
    recipient_user_ids: tuple[Annotated[Line, Field(max_length=40)], ...] = Field(
        default=(), max_length=50
    )
    channels: tuple[Channel, ...] = Field(min_length=1, max_length=3)
    webhook_url: Line | None = Field(default=None, max_length=500)
    # Omitted: a new rule gets a generated one (shown once), a replaced rule keeps its own.
    webhook_secret: Line | None = Field(default=None, min_length=16, max_length=200)
    active: bool = True


class NotificationInput(Frozen):
    event_id: Line


class PlanInput(Frozen):
    event_id: Line


class DeliveryPlan(Frozen):
    """The event's deliveries, in a fixed order, each by its id."""

    delivery_ids: tuple[Line, ...]


class DeliverInput(Frozen):
    delivery_id: Line


class FailDeliveryInput(Frozen):
    delivery_id: Line
    reason: Line = Field(max_length=1000)


class NotificationOutcome(Frozen):
    event_id: Line
    delivered: int
    failed: int


def notification_workflow_id(event_id: str) -> str:
    return f"notification:{event_id}"
