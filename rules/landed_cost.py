"""Landed cost: what delivering one RFQ line costs the buyer, on the buyer's VAT basis.

For one RFQ line of quantity q offered by one quote line, money rounded to 2 places ROUND_HALF_UP
at the end of each component (so the components add up to the landed cost exactly):

    unit_price       = price of the break with the highest min_quantity <= q, else unit_price
    goods            = round(q x unit_price)
    logistics        = round(the quote line's logistics_cost)
    freight_share    = the quote's freight, rounded to cents, spread over the RFQ lines the quote
                       covers in proportion to their goods: each line but the largest gets
                       round(freight x goods / total goods) and the largest (most goods; the first
                       in RFQ order on a tie) gets freight minus the others, so the shares sum to
                       the freight exactly. Should half-up shares of the others exceed the freight
                       (a few cents over many lines) they are rounded down instead, so no share
                       is ever negative. A quote with no goods value splits its freight evenly.
    tax              = round(tax_rate x (goods + logistics + freight_share)) when the quote
                       states no freight_tax_rate, else round(tax_rate x (goods + logistics))
                       + round(freight_tax_rate x freight_share)
    deductible       = tax for a buyer that deducts input VAT, else 0
    landed           = goods + logistics + freight_share + tax - deductible
    landed_unit_cost = landed / q, to 4 places ROUND_HALF_UP (unit prices carry 4)

VAT, as Chinese law has it:
- A general taxpayer (一般纳税人) deducts the input VAT on its purchases from its output VAT
  (增值税暂行条例 art. 8; 财税[2016]36号 附件1 art. 25 for services), so to it VAT is not a cost:
  it compares offers net of deductible VAT, and 100 net at 13% beats 105 net at 3%. A
  small-scale taxpayer (小规模纳税人) pays VAT at the levy rate on its sales and deducts no input
  VAT (增值税暂行条例 art. 11; 36号 附件1 art. 34), so to it VAT is a cost and it compares
  including VAT. The buyer organisation says which it is (default: general taxpayer).
  Deducting assumes the special VAT invoice (增值税专用发票) a supplier owes a general taxpayer;
  an offer that comes with only an ordinary invoice should be quoted with its VAT as cost.
- Rates since 2019-04-01 (财政部 税务总局 海关总署公告2019年第39号 art. 1): goods 13% (was 16%),
  transport services 9% (was 10%); small-scale suppliers invoice at the 3% levy rate. The VAT
  Law (增值税法, in force 2026-01-01) keeps these rates and the split between the two kinds of
  taxpayer.
- Freight: a supplier of goods that delivers them and charges for the delivery makes a mixed
  sale (混合销售), taxed as a sale of goods at the goods rate (36号 附件1 art. 40); freight
  invoiced as a transport service (by a carrier, or separately by the supplier's own transport
  business) takes the transport rate, TRANSPORT_VAT_RATE. So a quote states
  ``freight_tax_rate`` when its freight is invoiced apart from the goods, and without it the
  freight is taxed with the goods as before. That default also keeps every quote made before
  this field taxed, and so its contract drafted, exactly as it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import NamedTuple

from contracts.sourcing import PriceBreak, QuoteLine, QuoteTerms

CENT = Decimal("0.01")
UNIT_COST_PLACES = Decimal("0.0001")
GOODS_VAT_RATE = Decimal("0.13")  # 公告2019年第39号 art. 1: 16% became 13%
TRANSPORT_VAT_RATE = Decimal("0.09")  # 公告2019年第39号 art. 1: 10% became 9% (交通运输服务)

_ZERO = Decimal(0)
_ONE = Decimal(1)


class LandedCost(NamedTuple):
    """One quote line's cost of delivering one RFQ line, component by component."""

    unit_price: Decimal
    break_at: Decimal | None  # min_quantity of the price break applied, None for the list price
    goods: Decimal
    logistics: Decimal
    freight_share: Decimal
    tax: Decimal  # the VAT charged on goods, logistics and freight
    deductible: Decimal  # the part of ``tax`` the buyer deducts as input VAT
    landed: Decimal  # on the buyer's basis: net of ``deductible``
    landed_unit_cost: Decimal


def applicable_break(line: QuoteLine, quantity: Decimal) -> PriceBreak | None:
    """The break with the highest ``min_quantity`` that ``quantity`` reaches, if any."""
    best: PriceBreak | None = None
    for price_break in line.price_breaks:
        reached = price_break.min_quantity <= quantity
        if reached and (best is None or price_break.min_quantity > best.min_quantity):
            best = price_break
    return best


def unit_price_for(line: QuoteLine, quantity: Decimal) -> Decimal:
    """The unit price after the applicable break, else the line's own unit price."""
    price_break = applicable_break(line, quantity)
    return line.unit_price if price_break is None else price_break.unit_price


def allocate_freight(freight: Decimal, goods: Sequence[Decimal]) -> list[Decimal]:
    """Freight shares proportional to ``goods`` that sum exactly to the freight in cents."""
    if not goods:
        return []
    total = freight.quantize(CENT, rounding=ROUND_HALF_UP)
    weights = list(goods) if any(goods) else [_ONE] * len(goods)
    largest = weights.index(max(weights))  # the first of equals; lines come in RFQ order
    shares = _shares(total, weights, largest, ROUND_HALF_UP)
    if shares[largest] < 0:
        # Half a cent rounded up on many lines outweighed the whole freight; rounding the
        # others down leaves the largest line at least its exact share.
        shares = _shares(total, weights, largest, ROUND_DOWN)
    return shares


def _shares(total: Decimal, weights: list[Decimal], largest: int, rounding: str) -> list[Decimal]:
    weight_sum = sum(weights, _ZERO)
    shares = [(total * w / weight_sum).quantize(CENT, rounding=rounding) for w in weights]
    shares[largest] = total - (sum(shares, _ZERO) - shares[largest])
    return shares


def covered_lines(terms: QuoteTerms, quantities: Mapping[str, Decimal]) -> list[QuoteLine]:
    """Quote lines for known RFQ lines, in RFQ order; a repeated line id keeps its first."""
    first: dict[str, QuoteLine] = {}
    for line in terms.lines:
        if line.line_id in quantities:
            first.setdefault(line.line_id, line)
    return [first[line_id] for line_id in quantities if line_id in first]


def _tax(terms: QuoteTerms, goods_and_logistics: Decimal, freight_share: Decimal) -> Decimal:
    if terms.freight_tax_rate is None:  # a mixed sale: the freight is taxed with the goods
        taxable = goods_and_logistics + freight_share
        return (terms.tax_rate * taxable).quantize(CENT, rounding=ROUND_HALF_UP)
    goods_tax = (terms.tax_rate * goods_and_logistics).quantize(CENT, rounding=ROUND_HALF_UP)
    freight_tax = (terms.freight_tax_rate * freight_share).quantize(CENT, rounding=ROUND_HALF_UP)
    return goods_tax + freight_tax


def line_costs(
    terms: QuoteTerms,
    lines: Sequence[QuoteLine],
    quantities: Mapping[str, Decimal],
    *,
    deducts_input_vat: bool,
) -> list[LandedCost]:
    """The landed cost of each of ``lines`` (``covered_lines``), sharing the quote's freight."""
    breaks = [applicable_break(line, quantities[line.line_id]) for line in lines]
    prices = [
        line.unit_price if b is None else b.unit_price
        for line, b in zip(lines, breaks, strict=True)
    ]
    goods = [
        (quantities[line.line_id] * price).quantize(CENT, rounding=ROUND_HALF_UP)
        for line, price in zip(lines, prices, strict=True)
    ]
    shares = allocate_freight(terms.freight, goods)
    costs: list[LandedCost] = []
    for line, price_break, price, line_goods, share in zip(
        lines, breaks, prices, goods, shares, strict=True
    ):
        logistics = line.logistics_cost.quantize(CENT, rounding=ROUND_HALF_UP)
        tax = _tax(terms, line_goods + logistics, share)
        deductible = tax if deducts_input_vat else _ZERO
        landed = line_goods + logistics + share + tax - deductible
        unit_cost = (landed / quantities[line.line_id]).quantize(
            UNIT_COST_PLACES, rounding=ROUND_HALF_UP
        )
        break_at = None if price_break is None else price_break.min_quantity
        costs.append(
            LandedCost(
                price, break_at, line_goods, logistics, share, tax, deductible, landed, unit_cost
            )
        )
    return costs


def landed_costs(
    terms: QuoteTerms, quantities: Mapping[str, Decimal], *, deducts_input_vat: bool = True
) -> dict[str, LandedCost]:
    """Each covered line's landed cost; ``quantities``: RFQ line id to quantity, in RFQ order."""
    lines = covered_lines(terms, quantities)
    costs = line_costs(terms, lines, quantities, deducts_input_vat=deducts_input_vat)
    return {line.line_id: cost for line, cost in zip(lines, costs, strict=True)}
