"""Notification rules: the catalogue of process events, checking a rule, and matching an event.

Catalogue: each event type names its subject type and the fields a condition may test, each
with its type. Every event also carries ``message`` (text). Field values are resolved from the
database when the event is evaluated (``db.event_facts``); a field with no value (a subject
since deleted) makes every condition on it false.

Operators by type: ``eq``/``ne`` for all; ``gt``/``gte``/``lt``/``lte`` for money, numbers and
days; ``contains`` for text. Text compares case-insensitively after NFKC folding (full-width
letters equal ASCII ones). Money compares only with money in its own currency: a condition in CNY is
false for an amount in USD, whatever the operator (no silent conversion at yesterday's rate).

A rule's conditions must all hold (AND). Checking a rule (``rule_problems``) answers each field
at fault with the rule it broke, so the API names them in its 422.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from contracts.common import Money, OrgKind, Role
from contracts.notifications import Channel, Condition, FieldType, Op, RuleBody

Fact = Money | Decimal | int | str | None

_ORDER = {"amount": FieldType.MONEY, "buyer": FieldType.TEXT, "supplier": FieldType.TEXT}
_CONTRACT = _ORDER
_LOAN = {"principal": FieldType.MONEY, "buyer": FieldType.TEXT, "supplier": FieldType.TEXT}
_APPLICATION = {"supplier": FieldType.TEXT}


@dataclass(frozen=True)
class EventType:
    subject_type: str
    description: str
    fields: Mapping[str, FieldType]


def _event(subject: str, description: str, fields: Mapping[str, FieldType]) -> EventType:
    return EventType(subject, description, {**fields, "message": FieldType.TEXT})


EVENT_TYPES: Mapping[str, EventType] = {
    "order_confirmed": _event("order", "the supplier confirmed an order", _ORDER),
    "shipment_ready": _event("order", "a shipment is ready to dispatch", _ORDER),
    "order_invoiced": _event("order", "an order was accepted and invoiced", _ORDER),
    "order_completed": _event("order", "an order was paid in full", _ORDER),
    "order_cancelled": _event("order", "an order was cancelled", _ORDER),
    "order_refused": _event("order", "the supplier did not confirm an order", _ORDER),
    "contract_to_sign": _event("contract", "a contract waits for signatures", _CONTRACT),
    "contract_executed": _event("contract", "a contract was signed by both parties", _CONTRACT),
    "certificate_expiring": _event(
        "accreditation_application",
        "a supplier's certificate expires soon",
        {**_APPLICATION, "days_until_expiry": FieldType.DAYS},
    ),
    "accreditation_accredited": _event(
        "accreditation_application", "an accreditation was granted", _APPLICATION
    ),
    "accreditation_rejected": _event(
        "accreditation_application", "an accreditation was refused", _APPLICATION
    ),
    "loan_disbursed": _event("loan", "a loan was paid out", _LOAN),
    "loan_overdue": _event("loan", "a loan is overdue", _LOAN),
    "loan_repaid": _event("loan", "a loan was repaid", _LOAN),
    "loan_written_off": _event("loan", "a loan was written off", _LOAN),
    "loan_recovery": _event("loan", "a payment came on a written-off loan", _LOAN),
    "incident_opened": _event("process", "a step keeps failing (platform ops)", {}),
    "catalogue_import_finished": _event(
        "catalogue_import",
        "a catalogue import finished (completed, rejected or stopped)",
        {
            "status": FieldType.TEXT,
            "rows_written": FieldType.NUMBER,
            "error_count": FieldType.NUMBER,
        },
    ),
}

OPS_BY_TYPE: Mapping[FieldType, frozenset[Op]] = {
    FieldType.MONEY: frozenset({Op.EQ, Op.NE, Op.GT, Op.GTE, Op.LT, Op.LTE}),
    FieldType.NUMBER: frozenset({Op.EQ, Op.NE, Op.GT, Op.GTE, Op.LT, Op.LTE}),
    FieldType.DAYS: frozenset({Op.EQ, Op.NE, Op.GT, Op.GTE, Op.LT, Op.LTE}),
    FieldType.TEXT: frozenset({Op.EQ, Op.NE, Op.CONTAINS}),
}


# Who may write an organisation's rules: its principal (the role that acts for the organisation)
# and an admin of it; every member may read them.
PRINCIPAL_ROLE: Mapping[str, Role] = {
    OrgKind.BUYER: Role.BUYER,
    OrgKind.SUPPLIER: Role.SUPPLIER,
    OrgKind.CARRIER: Role.CARRIER,
    OrgKind.OPERATOR: Role.OPS_SUPERVISOR,
    OrgKind.REGULATOR: Role.REGULATOR,
}


def may_manage_rules(org_kind: str, roles: Sequence[Role]) -> bool:
    principal = PRINCIPAL_ROLE.get(org_kind)
    return Role.ADMIN in roles or (principal is not None and principal in roles)


@dataclass(frozen=True)
class Problem:
    field: str  # dotted path in the rule's body: "conditions.0.value"
    rule: str


def rule_problems(body: RuleBody, *, allow_loopback_webhooks: bool) -> list[Problem]:
    """Everything wrong with ``body`` that needs no database; empty when it may be saved."""
    event = EVENT_TYPES.get(body.event_type)
    if event is None:
        known = ", ".join(sorted(EVENT_TYPES))
        return [Problem("event_type", f"unknown event type {body.event_type!r}; one of {known}")]
    problems = [
        p
        for i, condition in enumerate(body.conditions)
        for p in _condition_problems(f"conditions.{i}", condition, event, body.event_type)
    ]
    if len(set(body.channels)) != len(body.channels):
        problems.append(Problem("channels", "each channel at most once"))
    personal = {Channel.IN_APP, Channel.EMAIL} & set(body.channels)
    if personal and not (body.recipient_roles or body.recipient_user_ids):
        names = " and ".join(sorted(c.value for c in personal))
        problems.append(Problem("recipient_roles", f"{names} need recipients: roles or users"))
    if Channel.WEBHOOK in body.channels:
        if body.webhook_url is None:
            problems.append(Problem("webhook_url", "required for the webhook channel"))
        elif url_problem := webhook_url_problem(body.webhook_url, allow_loopback_webhooks):
            problems.append(Problem("webhook_url", url_problem))
    elif body.webhook_url is not None:
        problems.append(Problem("webhook_url", "only for the webhook channel"))
    return problems


def _condition_problems(
    where: str, condition: Condition, event: EventType, event_type: str
) -> list[Problem]:
    kind = event.fields.get(condition.field)
    if kind is None:
        known = ", ".join(sorted(event.fields))
        return [
            Problem(f"{where}.field", f"{event_type} has no field {condition.field!r}; {known}")
        ]
    if condition.op not in OPS_BY_TYPE[kind]:
        allowed = ", ".join(sorted(o.value for o in OPS_BY_TYPE[kind]))
        return [Problem(f"{where}.op", f"{condition.field} is {kind.value}: one of {allowed}")]
    value = condition.value
    if kind is FieldType.MONEY and not isinstance(value, Money):
        return [Problem(f"{where}.value", "must be money: {amount, currency}")]
    if kind in (FieldType.NUMBER, FieldType.DAYS) and not isinstance(value, Decimal):
        return [Problem(f"{where}.value", f"must be a number ({kind.value})")]
    if kind is FieldType.DAYS and isinstance(value, Decimal) and value != value.to_integral():
        return [Problem(f"{where}.value", "must be a whole number of days")]
    if kind is FieldType.TEXT and not isinstance(value, str):
        return [Problem(f"{where}.value", "must be text")]
    return []


def webhook_url_problem(url: str, allow_loopback: bool) -> str | None:
    """Webhooks go over HTTPS; plain HTTP only to this machine, and only when allowed (the
    local sandboxes). A private address is refused either way: a rule must not make the
    platform call into its own network."""
    split = urlsplit(url)
    host = split.hostname or ""
    if split.scheme not in ("https", "http") or not host:
        return "must be an https:// URL"
    loopback = host == "localhost" or _is_ip(host, lambda ip: ip.is_loopback)
    if loopback:
        return None if allow_loopback else "must not point at this machine"
    if split.scheme != "https":
        return "must be an https:// URL"
    if _is_ip(host, lambda ip: ip.is_private or ip.is_link_local or ip.is_reserved):
        return "must not point at a private address"
    return None


def _is_ip(
    host: str, test: Callable[[ipaddress.IPv4Address | ipaddress.IPv6Address], bool]
) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return test(address)


def condition_json(condition: Condition) -> dict[str, Any]:
    """A condition as stored (JSONB) and answered: money as {amount, currency} with the amount
    a string, a plain number as a JSON number (a string would come back as text)."""
    value = condition.value
    stored: Any = value
    if isinstance(value, Money):
        stored = value.model_dump(mode="json")
    elif isinstance(value, Decimal):
        stored = int(value) if value == value.to_integral() else float(value)
    return {"field": condition.field, "op": condition.op.value, "value": stored}


def matches(conditions: Sequence[Condition], facts: Mapping[str, Fact]) -> bool:
    """Whether every condition holds on the event's facts."""
    return all(_holds(c, facts.get(c.field)) for c in conditions)


def _holds(condition: Condition, fact: Fact) -> bool:
    value, op = condition.value, condition.op
    if fact is None:
        return False
    if isinstance(value, Money):
        if not isinstance(fact, Money) or fact.currency != value.currency:
            return False
        return _compare(fact.amount, op, value.amount)
    if isinstance(value, Decimal):
        if isinstance(fact, bool) or not isinstance(fact, int | Decimal):
            return False
        return _compare(Decimal(fact), op, value)
    if not isinstance(fact, str):
        return False
    have, want = _fold(fact), _fold(value)
    if op is Op.CONTAINS:
        return want in have
    return _compare(have, op, want)


def _compare(have: Decimal | str, op: Op, want: Decimal | str) -> bool:
    if op is Op.EQ:
        return have == want
    if op is Op.NE:
        return have != want
    if isinstance(have, str) or isinstance(want, str):
        return False
    return {
        Op.GT: have > want,
        Op.GTE: have >= want,
        Op.LT: have < want,
        Op.LTE: have <= want,
    }.get(op, False)


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
