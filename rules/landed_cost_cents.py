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

from collections import deque
from collections.abc import Sequence
from decimal import Decimal
from itertools import compress, repeat
from operator import add, floordiv, itemgetter, mul, setitem
from typing import NamedTuple

from contracts.sourcing import PriceBreak, QuoteLine, QuoteTerms

EXACT_BELOW = 10**26
QUANTITY_SCALE = 3  # thousandths
PRICE_SCALE = 4  # ten-thousandths, for prices, amounts and rates alike
_GOODS_DIVISOR = 10 ** (QUANTITY_SCALE + PRICE_SCALE - 2)  # thousandths x 1e-4 to cents
_RATE_DIVISOR: int = 10**PRICE_SCALE
_CENTS_DIVISOR = 10 ** (PRICE_SCALE - 2)
# Each divisor is even, so adding half of it before a floor division rounds half up.
_GOODS_HALF, _RATE_HALF, _CENTS_HALF = _GOODS_DIVISOR // 2, _RATE_DIVISOR // 2, _CENTS_DIVISOR // 2
_PRICE_UNIT = Decimal(10**PRICE_SCALE)
_ZERO = Decimal(0)
# Every field of a quote line the comparison reads, from its __dict__ in one C call: pydantic
# keeps a validated (or constructed) model's fields there. Reading the 40,000 lines of a
# 200 x 200 RFQ is bound by memory, so each line is visited once.
_FIELDS = itemgetter(
    "line_id",
    "unit_price",
    "price_breaks",
    "logistics_cost",
    "lead_time_days",
    "transit_days",
    "min_order_quantity",
)


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


def freight_shares(freight_cents: int, goods: list[int], places: list[int]) -> list[int]:
    """``rules.landed_cost.allocate_freight`` in cents: shares proportional to ``goods`` that sum
    exactly to the freight, the largest line taking the remainder: of equals, the first in RFQ
    order (the lowest of ``places``, the goods' lines' places in the RFQ)."""
    if not goods:
        return []
    weights = goods if any(goods) else [1] * len(goods)
    weight_sum = sum(weights)
    _checked(freight_cents * weight_sum * 10)
    heaviest = max(weights)
    largest = weights.index(heaviest)
    if weights.count(heaviest) > 1:
        largest = min(
            (i for i, weight in enumerate(weights) if weight == heaviest), key=places.__getitem__
        )
    twice, double_sum = 2 * freight_cents, 2 * weight_sum
    # (twice x w + weight_sum) // double_sum: half up, a column at a time in C.
    shares = list(
        map(
            floordiv,
            map(add, map(mul, repeat(twice), weights), repeat(weight_sum)),
            repeat(double_sum),
        )
    )
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
    return _broken(line.price_breaks, line.unit_price, quantity)


def _broken(
    breaks: Sequence[PriceBreak], price: Decimal, quantity: Decimal
) -> tuple[Decimal, Decimal | None]:
    break_at = None
    for price_break in breaks:
        at = price_break.min_quantity
        if at <= quantity and (break_at is None or at > break_at):
            price, break_at = price_break.unit_price, at
    return price, break_at


def _units(amounts: list[Decimal]) -> list[int]:
    """Amounts in ten-thousandths. int() truncates, so an amount with more than 4 places would
    lose its tail and the two sums differ (no loss can cancel another: none is negative)."""
    units = list(map(int, map(_PRICE_UNIT.__mul__, amounts)))
    if sum(amounts, _ZERO) * _PRICE_UNIT != sum(units):
        raise Unrepresentable("an amount with more than 4 places")
    return units


class QuoteCosts(NamedTuple):
    """One quote's covered lines' costs in cents, column by column, in the lines' order, and
    its tax rates in ten-thousandths (``tax``: a line's VAT, worked out for the lines shown)."""

    goods: list[int]
    logistics: list[int]
    shares: list[int]  # of the freight
    landed: list[int]
    rate: int
    freight_rate: int | None  # None: a mixed sale, the freight taxed at ``rate``

    def tax(self, i: int) -> int:
        """The VAT on line ``i``: on goods and logistics at the rate, on the freight share at
        the freight's own rate (each rounded half up), or on all three at the rate."""
        taxed, share = self.goods[i] + self.logistics[i], self.shares[i]
        if self.freight_rate is None:
            return (self.rate * (taxed + share) + _RATE_HALF) // _RATE_DIVISOR
        return (self.rate * taxed + _RATE_HALF) // _RATE_DIVISOR + (
            self.freight_rate * share + _RATE_HALF
        ) // _RATE_DIVISOR


class LineColumns(NamedTuple):
    """Some quote lines' fields, a column each (``columns``)."""

    line_ids: Sequence[str]
    unit_prices: Sequence[Decimal]
    price_breaks: Sequence[Sequence[PriceBreak]]
    logistics_costs: Sequence[Decimal]
    lead_times: Sequence[int]
    transits: Sequence[int]
    moqs: Sequence[Decimal]


def columns(lines: Sequence[QuoteLine]) -> LineColumns:
    """The fields of ``lines`` (at least one) the comparison reads, a column each."""
    return LineColumns(*zip(*map(_FIELDS, map(vars, lines)), strict=True))


def line_costs(
    terms: QuoteTerms,
    fields: LineColumns,
    places: list[int],
    quantities: Sequence[Decimal],
    millis: Sequence[int],
    *,
    deducts_input_vat: bool,
) -> QuoteCosts:
    """``rules.landed_cost.line_costs`` in cents for the lines of ``fields`` (``covered_lines``,
    in any order), each priced at the quantity of its RFQ line: ``places`` are those lines' places,
    distinct, and ``quantities`` and ``millis`` (the same in thousandths) are by place.

    A column at a time, in comprehensions and maps, with the bounds checked once a quote on
    the largest figures: this runs for every offer of the comparison. The VAT is worked out
    for every line only when the buyer compares including it."""
    prices, breaks, logistics_costs = (
        list(fields.unit_prices),
        fields.price_breaks,
        fields.logistics_costs,
    )
    for i in compress(range(len(prices)), breaks):
        # ``_broken``, inline: half the lines of a large RFQ may have breaks.
        quantity, break_at = quantities[places[i]], None
        for price_break in breaks[i]:
            at = price_break.min_quantity
            if at <= quantity and (break_at is None or at > break_at):
                prices[i], break_at = price_break.unit_price, at
    units = _units(prices)
    line_millis = list(map(millis.__getitem__, places))
    if units and max(units) * max(line_millis) >= EXACT_BELOW:
        raise Unrepresentable("goods beyond the bound")
    # (milli x unit + half) // divisor: half up, a column at a time in C.
    goods = list(
        map(
            floordiv,
            map(add, map(mul, line_millis, units), repeat(_GOODS_HALF)),
            repeat(_GOODS_DIVISOR),
        )
    )
    # Most lines have no logistics cost: only the others are converted.
    logistics = [0] * len(goods)
    charged = list(compress(range(len(goods)), logistics_costs))
    if charged:
        units = _units(list(compress(logistics_costs, logistics_costs)))
        # logistics[i] = (units + half) // divisor for each charged line, in C
        cents = map(floordiv, map(add, units, repeat(_CENTS_HALF)), repeat(_CENTS_DIVISOR))
        deque(map(setitem, repeat(logistics), charged, cents), 0)
    taxed = list(map(add, goods, logistics)) if charged else goods
    freight = _half_up(scaled(terms.freight, PRICE_SCALE), _CENTS_DIVISOR)
    shares = freight_shares(freight, goods, places)
    rate = scaled(terms.tax_rate, PRICE_SCALE)
    freight_rate = (
        None if terms.freight_tax_rate is None else scaled(terms.freight_tax_rate, PRICE_SCALE)
    )
    if max(rate, freight_rate or 0) > _RATE_DIVISOR:
        raise Unrepresentable("a tax rate above 100%")
    landed = list(map(add, taxed, shares))
    # The tax products (rates of at most 10^4 ten-thousandths) and the unit cost's division
    # (landed x 10^6: in ten-thousandths, times ten) stay within the bound's 28 - 2 digits: the
    # tax is at most what it is charged on, so twice that covers both.
    if landed and max(landed) * 2 * 10**4 >= EXACT_BELOW:
        raise Unrepresentable("a landed cost beyond the bound")
    costs = QuoteCosts(goods, logistics, shares, landed, rate, freight_rate)
    if deducts_input_vat:
        return costs
    return costs._replace(landed=[cost + costs.tax(i) for i, cost in enumerate(landed)])
