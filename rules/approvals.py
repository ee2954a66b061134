"""Approval thresholds: converting a contract's total into the chain's currency, and the levels.

convert:   same currency -> unchanged;
           rate base/quote = from/to -> amount x rate;
           rate base/quote = to/from -> amount / rate;
           rounded to 2 places ROUND_HALF_UP. Any other rate (or none) is a ValueError.
levels:    every level whose ``above`` is strictly below the amount, in the chain's order, so
           an amount exactly at a threshold does not need that level.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from contracts.common import Money
from contracts.sourcing import ApprovalChain, ApprovalLevel, FxRate

CENT = Decimal("0.01")


def convert(amount: Money, to_currency: str, rate: FxRate | None) -> Money:
    """``amount`` in ``to_currency`` at ``rate`` (either direction of the pair)."""
    if amount.currency == to_currency:
        return amount
    if rate is not None and (rate.base, rate.quote) == (amount.currency, to_currency):
        converted = amount.amount * rate.rate
    elif rate is not None and (rate.base, rate.quote) == (to_currency, amount.currency):
        converted = amount.amount / rate.rate
    else:
        given = "none" if rate is None else f"{rate.base}/{rate.quote}"
        raise ValueError(
            f"no FX rate for {amount.currency}/{to_currency} (or {to_currency}/"
            f"{amount.currency}); rate given: {given}"
        )
    return Money(amount=converted.quantize(CENT, rounding=ROUND_HALF_UP), currency=to_currency)


def required_levels(
    amount_in_chain_currency: Decimal, chain: ApprovalChain
) -> tuple[ApprovalLevel, ...]:
    """The levels an amount needs: those whose threshold it strictly exceeds, in order."""
    return tuple(level for level in chain.levels if level.above < amount_in_chain_currency)
