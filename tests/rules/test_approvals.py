"""Currency conversion for approval thresholds, and which levels an amount needs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from contracts.common import Money
from contracts.sourcing import DEFAULT_APPROVAL_CHAIN, ApprovalChain, ApprovalLevel, FxRate
from rules.approvals import convert, required_levels

D = Decimal


def rate(base: str, quote: str, value: str) -> FxRate:
    return FxRate(base=base, quote=quote, rate=D(value), as_of=date(2026, 3, 2), source="test")


def money(amount: str, currency: str) -> Money:
    return Money(amount=D(amount), currency=currency)


def test_same_currency_is_unchanged_and_needs_no_rate() -> None:
    amount = money("123.456", "CNY")
    assert convert(amount, "CNY", None) is amount


def test_convert_with_the_rate_as_quoted() -> None:
    usd_cny = rate("USD", "CNY", "7.1234")
    # 1,000.00 x 7.1234 = 7,123.40
    assert convert(money("1000.00", "USD"), "CNY", usd_cny) == money("7123.40", "CNY")
    # 0.50 x 7.01 = 3.505 -> 3.51 half up (half even would give 3.50)
    assert convert(money("0.50", "USD"), "CNY", rate("USD", "CNY", "7.01")) == money("3.51", "CNY")


def test_convert_against_the_inverse_rate_divides() -> None:
    usd_cny = rate("USD", "CNY", "7.00")
    # 7,000.00 / 7 = 1,000.00
    assert convert(money("7000.00", "CNY"), "USD", usd_cny) == money("1000.00", "USD")
    # 0.25 / 2 = 0.125 -> 0.13 half up (half even would give 0.12)
    assert convert(money("0.25", "CNY"), "USD", rate("USD", "CNY", "2")) == money("0.13", "USD")
    # 100.00 / 7.1234 = 14.03824... -> 14.04
    assert convert(money("100.00", "CNY"), "USD", rate("USD", "CNY", "7.1234")) == money(
        "14.04", "USD"
    )


@pytest.mark.parametrize("given", [None, rate("USD", "CNY", "7.1"), rate("EUR", "USD", "1.1")])
def test_a_missing_pair_is_refused_by_name(given: FxRate | None) -> None:
    with pytest.raises(ValueError, match="EUR/CNY"):
        convert(money("10.00", "EUR"), "CNY", given)


CHAIN = ApprovalChain(
    currency="CNY",
    levels=(
        ApprovalLevel(above=D(100_000), title="finance manager"),
        ApprovalLevel(above=D(1_000_000), title="finance director"),
    ),
)


@pytest.mark.parametrize(
    ("amount", "titles"),
    [
        ("0", ()),
        ("100000.00", ()),  # exactly at the threshold: not above it
        ("100000.01", ("finance manager",)),
        ("1000000.00", ("finance manager",)),
        ("1000000.01", ("finance manager", "finance director")),
    ],
)
def test_levels_are_those_strictly_below_the_amount(amount: str, titles: tuple[str, ...]) -> None:
    assert tuple(level.title for level in required_levels(D(amount), CHAIN)) == titles


def test_default_chain_boundary() -> None:
    assert required_levels(D("100000.00"), DEFAULT_APPROVAL_CHAIN) == ()
    assert required_levels(D("100000.01"), DEFAULT_APPROVAL_CHAIN) == DEFAULT_APPROVAL_CHAIN.levels
