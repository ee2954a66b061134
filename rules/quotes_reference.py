"""Quote comparison, the reference: every figure in Decimal, one offer at a time, as written.

``rules.quotes.compare`` computes the same comparison in integers of cents and floats, and
checks itself against this one (tests/rules/test_quotes_equivalence.py); it falls back to it
for amounts too large for its exactness argument and for scores and explanation figures that
sit on a rounding boundary. The definitions below are the comparison's, for both:

For one RFQ line of quantity q offered by one quote line, the landed cost and its components
come from ``rules.landed_cost``, on the buyer's VAT basis: net of deductible VAT for a general
taxpayer (the default), including VAT for a small-scale taxpayer. Then:

    arrival   = as_of + lead_time_days + transit_days   (as_of: normally the RFQ's close date)
    days_late = max(0, arrival - needed_by)
    stock_covers = stock_available >= q;   moq_fits = q >= min_order_quantity

An offer is eligible when its MOQ fits and its supplier is not in ``ineligible`` (suspended).
Short stock and lateness are flags, not disqualifications: the lead time covers production.

Score (0-100) against the eligible offers for the same line (all its offers when none is):

    price    = min landed_unit_cost / landed_unit_cost, computed as min landed_cost / landed_cost
               (every offer is for the same q, and that ratio has no unit-cost rounding in it)
    lead     = min max(1, days) / max(1, days), days = arrival - as_of (0 counts as 1, so it
               never divides by zero)
    supplier = supplier score / 100
    penalty  = min(LATE_PENALTY_MAX, LATE_PENALTY_PER_DAY x days_late)
    score    = max(0, 100 x sum(weight_i x component_i) / sum(weights) - penalty),
               to 2 places ROUND_HALF_UP (components unrounded until then)

Each component is capped at 1: only an ineligible offer can beat the eligible minimum and it must
not score above 100. A landed cost of zero scores price 1. A supplier missing from
``supplier_scores`` keeps its score from the RFQ's invitation (0 if it was not invited).

Rank: eligible offers first, then ineligible; within each, score descending, landed cost
ascending, supplier id, quote id. Ranks run 1..n per line. Each offer's explanation is one line:
the landed cost, its VAT basis ("net of deductible VAT" or "including VAT") and the break
applied, each component times its weight share, the score, then the flags: why it is
ineligible, the stock shortfall, the days late and the points they cost.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import NamedTuple

from contracts.common import money_text
from contracts.sourcing import (
    Comparison,
    EvaluationWeights,
    LineComparison,
    Quote,
    QuoteComparison,
    RfqInput,
)
from rules.landed_cost import LandedCost, covered_lines, line_costs

SCORE_PLACES = Decimal("0.01")
LATE_PENALTY_PER_DAY = Decimal(1)  # points off the score for each day past needed_by
LATE_PENALTY_MAX = Decimal(20)  # a late offer still ranks by price and supplier among late ones
MIN_DAYS_TO_ARRIVAL = 1

_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
# The explanation's multiplication sign, spelled out so it is not mistaken for the letter x.
_TIMES = "\N{MULTIPLICATION SIGN}"
_ALL_FIELDS = set(QuoteComparison.model_fields)
_NO_EXCLUSIONS: Mapping[str, Collection[str]] = MappingProxyType({})
# The explanation names the basis its landed costs are on.
NET_OF_VAT = "net of deductible VAT"
INCLUDING_VAT = "including VAT"


def arrival_date(*, as_of: date, lead_time_days: int, transit_days: int) -> date:
    return as_of + timedelta(days=lead_time_days + transit_days)


def days_late(arrival: date, needed_by: date) -> int:
    return max(0, (arrival - needed_by).days)


def late_penalty(late_days: int) -> Decimal:
    """Points off the score: LATE_PENALTY_PER_DAY a day, at most LATE_PENALTY_MAX."""
    return min(LATE_PENALTY_MAX, LATE_PENALTY_PER_DAY * late_days)


class _Offer(NamedTuple):
    """One quote line against one RFQ line, before it is scored. Atomic values only (no quote
    or line): the garbage collector untracks such tuples instead of traversing 300,000 of them."""

    supplier_org_id: str
    quote_id: str
    revision: int
    cost: LandedCost
    stock_available: Decimal
    min_order_quantity: Decimal
    days: int
    arrival: date
    late: int
    moq_fits: bool
    supplier_ok: bool
    eligible: bool
    supplier_score: Decimal
    supplier_component: Decimal


def _percent(weight: Decimal, total: Decimal) -> str:
    share = (_HUNDRED * weight / total).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{share.normalize():f}%" if share == share.to_integral_value() else f"{share}%"


@lru_cache(maxsize=4096)  # break and MOQ quantities repeat across offers; equal values print alike
def _quantity(value: Decimal) -> str:
    return f"{value.normalize():,f}"


class _Ranker:
    """One RFQ's weights, normalised once, applied line by line."""

    def __init__(self, weights: EvaluationWeights, currency: str, *, basis: str) -> None:
        self.weights = (weights.price, weights.lead_time, weights.supplier_score)
        self.total = sum(self.weights, _ZERO)
        self.percents = [_percent(w, self.total) for w in self.weights]
        self.currency = currency
        self.basis = basis

    def rank(
        self, offers: Sequence[_Offer], quantity: Decimal, shown: _Shown
    ) -> tuple[QuoteComparison, ...]:
        """The offers for one line, scored and ranked, best first; only the ``shown`` ones are
        explained and built (every offer still counts for the reference price and lead time)."""
        reference = [o for o in offers if o.eligible] or offers
        if not reference:
            return ()
        min_landed = min(o.cost.landed for o in reference)
        min_days = Decimal(min(max(MIN_DAYS_TO_ARRIVAL, o.days) for o in reference))
        components: list[tuple[Decimal, Decimal, Decimal, Decimal]] = []
        keys: list[tuple[bool, Decimal, Decimal, str, str]] = []
        for offer in offers:
            landed = offer.cost.landed
            found = score_components(
                min_landed=min_landed,
                landed=landed,
                min_days=min_days,
                days=offer.days,
                supplier=offer.supplier_component,
                weights=self.weights,
                total=self.total,
                late=offer.late,
            )
            components.append(found)
            keys.append(
                (not offer.eligible, -found[3], landed, offer.supplier_org_id, offer.quote_id)
            )
        order = sorted(range(len(offers)), key=keys.__getitem__)
        ranked: list[QuoteComparison] = []
        for rank, i in enumerate(order, start=1):
            if len(ranked) == shown.top:
                break
            offer = offers[i]
            if offer.supplier_org_id in shown.skip or (shown.eligible_only and not offer.eligible):
                continue
            explanation = self._explain(offer, quantity, components[i])
            ranked.append(_comparison(offer, rank, quantity, components[i][3], explanation))
        return tuple(ranked)

    def _explain(self, offer: _Offer, quantity: Decimal, components: tuple[Decimal, ...]) -> str:
        price, lead, supplier, score = components
        return explanation(
            landed=money_text(offer.cost.landed, self.currency),
            basis=self.basis,
            break_at=offer.cost.break_at,
            figures=(f"{price:.3f}", f"{lead:.3f}", f"{supplier:.3f}"),
            percents=self.percents,
            score=score,
            supplier_ok=offer.supplier_ok,
            min_order_quantity=None if offer.moq_fits else offer.min_order_quantity,
            shortfall=quantity - offer.stock_available
            if offer.stock_available < quantity
            else None,
            late=offer.late,
        )


def score_components(
    *,
    min_landed: Decimal,
    landed: Decimal,
    min_days: Decimal,
    days: int,
    supplier: Decimal,
    weights: tuple[Decimal, Decimal, Decimal],
    total: Decimal,
    late: int,
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """An offer's price, lead and supplier components and its score (module docstring)."""
    w_price, w_lead, w_supplier = weights
    price = _ONE if landed == 0 else min(_ONE, min_landed / landed)
    lead = min(_ONE, min_days / max(MIN_DAYS_TO_ARRIVAL, days))
    weighted = _HUNDRED * (w_price * price + w_lead * lead + w_supplier * supplier)
    score = max(_ZERO, weighted / total - late_penalty(late)).quantize(
        SCORE_PLACES, rounding=ROUND_HALF_UP
    )
    return price, lead, supplier, score


def explanation(
    *,
    landed: str,
    basis: str,
    break_at: Decimal | None,
    figures: tuple[str, str, str],
    percents: Sequence[str],
    score: Decimal,
    supplier_ok: bool,
    min_order_quantity: Decimal | None,
    shortfall: Decimal | None,
    late: int,
) -> str:
    """An offer's one-line explanation from its figures: ``figures`` are the price, lead and
    supplier components to 3 places, ``min_order_quantity`` the MOQ it falls below (None when
    it fits) and ``shortfall`` the stock it lacks (None when its stock covers the line)."""
    text = f"landed {landed} {basis}"
    if break_at is not None:
        text += f" (break at {_quantity(break_at)} applied)"
    (price, lead, supplier), (p_price, p_lead, p_supplier) = figures, percents
    parts = [
        text,
        f"price {price}{_TIMES}{p_price}, lead {lead}{_TIMES}{p_lead}, "
        f"supplier {supplier}{_TIMES}{p_supplier} → {score}",
    ]
    if not supplier_ok:
        parts.append("ineligible: supplier suspended or not accredited")
    if min_order_quantity is not None:
        parts.append(f"ineligible: below MOQ of {_quantity(min_order_quantity)}")
    if shortfall is not None:
        parts.append(f"stock short by {_quantity(shortfall)}")
    if late:
        days = "day" if late == 1 else "days"
        parts.append(f"arrives {late} {days} late (score -{late_penalty(late):f})")
    return "; ".join(parts)


def _comparison(
    offer: _Offer, rank: int, quantity: Decimal, score: Decimal, explanation: str
) -> QuoteComparison:
    # Unvalidated: every value comes from validated contracts or the arithmetic above. Why:
    # validation gives each offer its own set of the 19 field names (2.2 kB, five times the
    # values' dict); every offer sets every field, so all can share one (pydantic never mutates
    # a frozen model's set; model_copy copies it). At 300,000 offers: 0.7 GB and a GC pass less.
    cost = offer.cost
    return QuoteComparison.model_construct(
        _ALL_FIELDS,
        supplier_org_id=offer.supplier_org_id,
        quote_id=offer.quote_id,
        revision=offer.revision,
        unit_price=cost.unit_price,
        goods=cost.goods,
        logistics=cost.logistics,
        freight_share=cost.freight_share,
        tax=cost.tax,
        deductible_tax=cost.deductible,
        landed_cost=cost.landed,
        landed_unit_cost=cost.landed_unit_cost,
        stock_covers=offer.stock_available >= quantity,
        moq_fits=offer.moq_fits,
        arrival=offer.arrival,
        days_late=offer.late,
        supplier_score=offer.supplier_score,
        score=score,
        rank=rank,
        eligible=offer.eligible,
        explanation=explanation,
    )


def _offers(
    rfq: RfqInput,
    quotes: Sequence[Quote],
    *,
    as_of: date,
    supplier_scores: Mapping[str, Decimal],
    ineligible: Collection[str],
    deducts_input_vat: bool,
) -> dict[str, list[_Offer]]:
    """Every covered line of every quote, with its landed cost and flags, by RFQ line id."""
    quantities = {line.line_id: line.quantity for line in rfq.lines}
    offers: dict[str, list[_Offer]] = {line_id: [] for line_id in quantities}
    blocked = frozenset(ineligible)
    invited = {supplier.org_id: supplier.score for supplier in rfq.suppliers}
    arrivals: dict[int, date] = {}  # by days to arrival: a few hundred values at most
    for quote in quotes:
        supplier = quote.supplier_org_id
        score = supplier_scores.get(supplier, invited.get(supplier, _ZERO))
        component = min(_ONE, max(_ZERO, score / _HUNDRED))
        supplier_ok = supplier not in blocked
        lines = covered_lines(quote.terms, quantities)
        costs = line_costs(quote.terms, lines, quantities, deducts_input_vat=deducts_input_vat)
        for line, cost in zip(lines, costs, strict=True):
            days = line.lead_time_days + line.transit_days
            if days not in arrivals:
                arrivals[days] = arrival_date(as_of=as_of, lead_time_days=days, transit_days=0)
            moq_fits = quantities[line.line_id] >= line.min_order_quantity
            offers[line.line_id].append(
                _Offer(
                    supplier_org_id=supplier,
                    quote_id=quote.quote_id,
                    revision=quote.revision,
                    cost=cost,
                    stock_available=line.stock_available,
                    min_order_quantity=line.min_order_quantity,
                    days=days,
                    arrival=arrivals[days],
                    late=days_late(arrivals[days], rfq.needed_by),
                    moq_fits=moq_fits,
                    supplier_ok=supplier_ok,
                    eligible=moq_fits and supplier_ok,
                    supplier_score=score,
                    supplier_component=component,
                )
            )
    return offers


class _Shown(NamedTuple):
    top: int | None
    skip: frozenset[str]
    eligible_only: bool


def compare(
    rfq: RfqInput,
    quotes: Sequence[Quote],
    *,
    as_of: date,
    supplier_scores: Mapping[str, Decimal],
    ineligible: Collection[str] = (),
    top: int | None = None,
    exclude: Mapping[str, Collection[str]] = _NO_EXCLUSIONS,
    eligible_only: bool = False,
    deducts_input_vat: bool = True,
) -> Comparison:
    """``rules.quotes.compare``'s answer (its options alike) the slow and plain way: every
    offer priced in Decimal, scored, explained and built before the options pick some."""
    offers = _offers(
        rfq,
        quotes,
        as_of=as_of,
        supplier_scores=supplier_scores,
        ineligible=ineligible,
        deducts_input_vat=deducts_input_vat,
    )
    basis = NET_OF_VAT if deducts_input_vat else INCLUDING_VAT
    ranker = _Ranker(rfq.weights, rfq.currency, basis=basis)
    lines = tuple(
        LineComparison(
            line_id=line.line_id,
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            offers=ranker.rank(
                offers[line.line_id],
                line.quantity,
                _Shown(top, frozenset(exclude.get(line.line_id, ())), eligible_only),
            ),
        )
        for line in rfq.lines
    )
    return Comparison(
        rfq_id=rfq.rfq_id,
        currency=rfq.currency,
        as_of=as_of,
        deducts_input_vat=deducts_input_vat,
        lines=lines,
    )
