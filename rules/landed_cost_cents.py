"""Landed cost in integer cents: ``rules.landed_cost``'s figures exactly, without Decimal.

The comparison prices every quote line against every RFQ line (a million offers for 1,000
suppliers and 1,000 lines); in Decimal that arithmetic was half its time. Here amounts are Python
integers in fixed point: quantities in thousandths (``Quantity`` has 3 places), prices and
rates in ten-thousandths (``Amount`` and the tax rates have 4), money in cents, and each of the
reference's ``quantize(CENT, ROUND_HALF_UP)`` is the integer division ``(2n + d) // 2d``.

Why the figures are the reference's to the cent: integers are exact, and so is Decimal while a
coefficient fits its 28 digits; the reference's one inexact step, a division rounded to 28
digits before it is quantized, moves a quotient by less than half a unit in its 28th digit, while
a quotient n/d that is not exactly on a rounding boundary lies at least 1/2d from it. Both hold
while every product below stays under ``EXACT_BELOW`` (10^26, two digits of margin), so an amount
beyond it (a trillion-unit line at a trillion a unit) raises ``Unrepresentable`` and the caller
computes with the reference instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from contracts.sourcing import QuoteLine, QuoteTerms

EXACT_BELOW = 10**26
QUANTITY_SCALE = 3  # thousandths
PRICE_SCALE = 4  # ten-thousandths, for prices, amounts and rates alike
_GOODS_DIVISOR = 10 ** (QUANTITY_SCALE + PRICE_SCALE - 2)  # thousandths x 1e-4 to cents
_RATE_DIVISOR = 10**PRICE_SCALE
_CENTS_DIVISOR = 10 ** (PRICE_SCALE - 2)
# Each divisor is even, so adding half of it before a floor division rounds half up.
_GOODS_HALF, _RATE_HALF, _CENTS_HALF = _GOODS_DIVISOR // 2, _RATE_DIVISOR // 2, _CENTS_DIVISOR // 2
_PRICE_UNIT = Decimal(10**PRICE_SCALE)
_ZERO = Decimal(0)


class Unrepresentable(Exception):
    """An amount beyond the integer path's exactness bound (module docstring)."""


def scaled(value: Decimal, places: int) -> int:
    """``value`` x 10^places as an integer; refuses a value with more places or out of bounds."""
    shifted = value.scaleb(places)
    whole = int(shifted)
    if whole != shifted or not 0 <= whole < EXACT_BELOW:
        raise Unrepresentable(str(value))
    return whole


def _half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, both non-negative."""
    return (2 * numerator + denominator) // (2 * denominator)


def _checked(value: int) -> int:
    if value >= EXACT_BELOW:
        raise Unrepresentable(str(value))
    return value


def freight_shares(freight_cents: int, goods: Sequence[int]) -> list[int]:
    """``rules.landed_cost.allocate_freight`` in cents: shares proportional to ``goods`` that sum
    exactly to the freight, the largest line (the first of equals) taking the remainder."""
    if not goods:
        return []
    weights = list(goods) if any(goods) else [1] * len(goods)
    weight_sum = sum(weights)
    _checked(freight_cents * weight_sum * 10)
    largest = weights.index(max(weights))
    shares = [_half_up(freight_cents * w, weight_sum) for w in weights]
    others = sum(shares) - shares[largest]
    if others > freight_cents:
        # As the reference: half cents rounded up on many lines outweighed the whole freight,
        # so the others are rounded down and the largest keeps at least its exact share.
        shares = [freight_cents * w // weight_sum for w in weights]
        others = sum(shares) - shares[largest]
    shares[largest] = freight_cents - others
    return shares


def applicable_price(line: QuoteLine, quantity: Decimal) -> tuple[Decimal, Decimal | None]:
    """The unit price after the applicable break, and that break's ``min_quantity`` (None for
    the list price): ``rules.landed_cost.applicable_break``, without building a list."""
    price, break_at = line.unit_price, None
    for price_break in line.price_breaks:
        at = price_break.min_quantity
        if at <= quantity and (break_at is None or at > break_at):
            price, break_at = price_break.unit_price, at
    return price, break_at


CentsCost = tuple[Decimal, Decimal | None, int, int, int, int, int]
"""unit price, break at, goods, logistics, freight share, tax, landed (money in cents)."""


def line_costs(
    terms: QuoteTerms,
    lines: Sequence[tuple[QuoteLine, Decimal, int]],
    *,
    deducts_input_vat: bool,
) -> list[CentsCost]:
    """``rules.landed_cost.line_costs`` in cents for ``lines``: each covered quote line with its
    RFQ line's quantity and that quantity in thousandths, in RFQ order.

    One loop of integer steps a line, with the bounds checked once a quote on its largest
    figures: this runs once for every offer in the comparison."""
    priced: list[tuple[Decimal, Decimal | None]] = []
    goods: list[int] = []
    logistics: list[int] = []
    scaled_sum = 0  # the prices and logistics costs as integers, to check them in one go
    decimal_sum = _ZERO
    largest = 0
    for line, quantity, milli in lines:
        if line.price_breaks:
            price, break_at = applicable_price(line, quantity)
        else:
            price, break_at = line.unit_price, None
        priced.append((price, break_at))
        # int() truncates: a price with more than 4 places would lose its tail here, and the
        # sums below would differ (every amount is non-negative, so no loss can cancel another).
        units = int(price * _PRICE_UNIT)
        product = milli * units
        largest = max(largest, product)
        goods.append((product + _GOODS_HALF) // _GOODS_DIVISOR)
        cost = line.logistics_cost
        if cost:
            cost_units = int(cost * _PRICE_UNIT)
            logistics.append((cost_units + _CENTS_HALF) // _CENTS_DIVISOR)
            scaled_sum += units + cost_units
            decimal_sum += price + cost
        else:
            logistics.append(0)
            scaled_sum += units
            decimal_sum += price
    if largest >= EXACT_BELOW or decimal_sum * _PRICE_UNIT != scaled_sum:
        raise Unrepresentable("a price or logistics cost beyond 4 places or the bound")
    shares = freight_shares(_half_up(scaled(terms.freight, PRICE_SCALE), _CENTS_DIVISOR), goods)
    rate = scaled(terms.tax_rate, PRICE_SCALE)
    freight_rate = (
        None if terms.freight_tax_rate is None else scaled(terms.freight_tax_rate, PRICE_SCALE)
    )
    if max(rate, freight_rate or 0) > _RATE_DIVISOR:
        raise Unrepresentable("a tax rate above 100%")
    costs: list[CentsCost] = []
    highest = 0
    for (price, break_at), line_goods, line_logistics, share in zip(
        priced, goods, logistics, shares, strict=True
    ):
        taxed = line_goods + line_logistics
        if freight_rate is None:  # a mixed sale: the freight is taxed with the goods
            tax = (rate * (taxed + share) + _RATE_HALF) // _RATE_DIVISOR
        else:
            tax = (rate * taxed + _RATE_HALF) // _RATE_DIVISOR + (
                freight_rate * share + _RATE_HALF
            ) // _RATE_DIVISOR
        landed = taxed + share + (0 if deducts_input_vat else tax)
        highest = max(highest, taxed + share + tax)
        costs.append((price, break_at, line_goods, line_logistics, share, tax, landed))
    # The tax products (rates of at most 10^4 ten-thousandths) and the unit cost's division
    # (landed x 10^6: in ten-thousandths, times ten) stay within the bound's 28 - 2 digits.
    _checked(highest * 10**4)
    return costs
