"""Notification rules, pure: what a rule may say, and which events it matches."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from contracts.common import Money, OrgKind, Role
from contracts.notifications import Condition, RuleBody
from rules.notification_rules import (
    condition_json,
    matches,
    may_manage_rules,
    rule_problems,
    webhook_url_problem,
)


def _rule(**fields: Any) -> RuleBody:
    body: dict[str, Any] = {
        "name": "big orders",
        "event_type": "order_confirmed",
        "recipient_roles": ["finance"],
        "channels": ["in_app", "email"],
    }
    return RuleBody.model_validate(body | fields)


def _problems(**fields: Any) -> list[tuple[str, str]]:
    found = rule_problems(_rule(**fields), allow_loopback_webhooks=False)
    return [(p.field, p.rule) for p in found]


def _condition(field: str, op: str, value: Any) -> Condition:
    return Condition.model_validate({"field": field, "op": op, "value": value})


CNY_100K = {"amount": "100000", "currency": "CNY"}


def test_the_issues_examples_are_valid_rules() -> None:
    assert _problems(conditions=[{"field": "amount", "op": "gt", "value": CNY_100K}]) == []
    assert (
        _problems(
            event_type="certificate_expiring",
            conditions=[{"field": "days_until_expiry", "op": "lte", "value": 30}],
            recipient_roles=["compliance"],
        )
        == []
    )


@pytest.mark.parametrize(
    ("fields", "field", "rule_says"),
    [
        ({"event_type": "order_shipped_to_mars"}, "event_type", "unknown event type"),
        (
            {"conditions": [{"field": "colour", "op": "eq", "value": "red"}]},
            "conditions.0.field",
            "has no field 'colour'",
        ),
        (
            {"conditions": [{"field": "buyer", "op": "gt", "value": "A"}]},
            "conditions.0.op",
            "buyer is text",
        ),
        (
            {"conditions": [{"field": "amount", "op": "contains", "value": CNY_100K}]},
            "conditions.0.op",
            "amount is money",
        ),
        (
            {"conditions": [{"field": "amount", "op": "gt", "value": 100000}]},
            "conditions.0.value",
            "must be money",
        ),
        (
            {"conditions": [{"field": "buyer", "op": "eq", "value": 5}]},
            "conditions.0.value",
            "must be text",
        ),
        (
            {
                "event_type": "certificate_expiring",
                "conditions": [{"field": "days_until_expiry", "op": "lt", "value": 2.5}],
            },
            "conditions.0.value",
            "whole number of days",
        ),
        ({"recipient_roles": []}, "recipient_roles", "need recipients"),
        ({"channels": ["webhook"], "recipient_roles": []}, "webhook_url", "required"),
        (
            {"channels": ["webhook"], "webhook_url": "http://hooks.example.com/x"},
            "webhook_url",
            "https://",
        ),
        ({"webhook_url": "https://hooks.example.com/x"}, "webhook_url", "only for the webhook"),
        ({"channels": ["email", "email"]}, "channels", "at most once"),
    ],
)
def test_a_wrong_rule_names_its_field(fields: dict[str, Any], field: str, rule_says: str) -> None:
    problems = _problems(**fields)
    assert problems, fields
    assert problems[0][0] == field
    assert rule_says in problems[0][1]


def test_webhook_addresses() -> None:
    assert webhook_url_problem("https://oapi.dingtalk.com/robot/send?x=1", False) is None
    assert webhook_url_problem("http://127.0.0.1:8306/hooks/a", True) is None
    assert webhook_url_problem("http://localhost/hooks/a", True) is None
    assert webhook_url_problem("http://127.0.0.1:8306/hooks/a", False) is not None
    assert webhook_url_problem("https://10.0.0.5/x", True) is not None
    assert webhook_url_problem("https://169.254.169.254/latest", True) is not None
    assert webhook_url_problem("ftp://example.com/x", True) is not None


def test_money_compares_only_in_its_own_currency() -> None:
    above = [_condition("amount", "gt", CNY_100K)]
    assert matches(above, {"amount": Money(amount=Decimal("100000.01"), currency="CNY")})
    assert not matches(above, {"amount": Money(amount=Decimal("100000"), currency="CNY")})
    assert not matches(above, {"amount": Money(amount=Decimal("900000"), currency="USD")})
    not_equal = [_condition("amount", "ne", CNY_100K)]
    assert not matches(not_equal, {"amount": Money(amount=Decimal(5), currency="USD")})


def test_days_numbers_text_and_missing_fields() -> None:
    soon = [_condition("days_until_expiry", "lte", 30)]
    assert matches(soon, {"days_until_expiry": 30})
    assert not matches(soon, {"days_until_expiry": 31})
    assert not matches(soon, {})  # the subject is gone: nothing to compare
    named = [_condition("buyer", "contains", "ＨＵＡＤＯＮＧ")]  # noqa: RUF001 (full-width, upper case)
    assert matches(named, {"buyer": "华东化工 / Huadong Chemicals"})
    assert not matches(named, {"buyer": "Nanfang"})
    both = [*soon, _condition("supplier", "eq", "hengxin")]
    assert matches(both, {"days_until_expiry": 3, "supplier": "Hengxin"})
    assert not matches(both, {"days_until_expiry": 3, "supplier": "Anxin"})
    assert matches([], {})


def test_stored_conditions_come_back_as_they_were() -> None:
    for condition in (
        _condition("amount", "gte", CNY_100K),
        _condition("days_until_expiry", "lt", 30),
        _condition("buyer", "eq", "30"),  # text that looks like a number stays text
    ):
        assert Condition.model_validate(condition_json(condition)) == condition


def test_who_may_write_rules() -> None:
    assert may_manage_rules(OrgKind.BUYER, [Role.BUYER])
    assert not may_manage_rules(OrgKind.BUYER, [Role.FINANCE])
    assert may_manage_rules(OrgKind.SUPPLIER, [Role.ADMIN])
    assert may_manage_rules(OrgKind.OPERATOR, [Role.OPS_SUPERVISOR])
    assert not may_manage_rules(OrgKind.OPERATOR, [Role.COMPLIANCE])
