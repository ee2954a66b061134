"""Quote comparison at scale: the reference's ranks, figures and explanations, fast.

What the comparison computes (landed cost, arrival, eligibility, the weighted score, ranks and
explanations) is defined, and written plainly in Decimal, in ``rules.quotes_reference``; this
module gives the same answer for a 200-line, 200-supplier RFQ in tens of milliseconds:

- landed costs in integer cents (``rules.landed_cost_cents``, exact by construction);
- scores in floats, which are within 1e-11 of the exact score, rounded to the cent unless they
  lie within ``_BOUNDARY`` of a half cent: those few are recomputed in Decimal by the reference's
  own ``score_components``, so a score is the reference's to the cent, ties included;
- ranks from one integer a offer (eligibility, score, landed cost), the supplier and quote ids
  breaking ties only where two offers share that integer;
- Decimal figures, explanations and models built only for the offers shown (``top``,
  ``exclude``, ``eligible_only``), where the reference built every offer's.

Amounts beyond the integer path's bound, or a Decimal context other than the default's
precision and rounding, go to the reference. tests/rules/test_quotes_equivalence.py holds the
two to the same output on random RFQs.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, getcontext
from functools import lru_cache
from heapq import nsmallest
from itertools import compress, repeat
from operator import add, attrgetter, ge, lshift, mul, not_, sub
from types import MappingProxyType
from typing import Any, NamedTuple

from contracts.sourcing import (
    Comparison,
    LineComparison,
    Quote,
    QuoteComparison,
    QuoteLine,
    RfqInput,
)
from rules import quotes_reference
from rules.landed_cost_cents import (
    QUANTITY_SCALE,
    QuoteCosts,
    Unrepresentable,
    applicable_price,
    line_costs,
    scaled,
)
from rules.quotes_reference import (
    INCLUDING_VAT,
    LATE_PENALTY_MAX,
    LATE_PENALTY_PER_DAY,
    MIN_DAYS_TO_ARRIVAL,
    NET_OF_VAT,
    arrival_date,
    days_late,
    explanation,
    late_penalty,
    score_components,
)
from rules.quotes_reference import _percent as percent

__all__ = [
    "INCLUDING_VAT",
    "LATE_PENALTY_MAX",
    "LATE_PENALTY_PER_DAY",
    "NET_OF_VAT",
    "arrival_date",
    "compare",
    "days_late",
    "late_penalty",
    "recommended_awards",
]

# A float score or figure this close to a rounding boundary is recomputed in Decimal: floats
# err by about 1e-11 here (scores are at most 10,000 cents), so this leaves a wide margin.
_BOUNDARY = 1e-6
_MAX_SCORE_CENTS = 10_000
_SCORE_BITS = 14  # 10,000 cents fit in 14 bits
_LANDED_BITS = 76  # landed costs stay under 10^22 cents (rules.landed_cost_cents) < 2^76
_INELIGIBLE_KEY = 1 << (_SCORE_BITS + _LANDED_BITS)
_PENALTY_MAX = float(LATE_PENALTY_MAX)
_PENALTY_PER_DAY = float(LATE_PENALTY_PER_DAY)
_ZERO = Decimal(0)
_ZERO_CENTS = Decimal("0.00")
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_ALL_FIELDS = set(QuoteComparison.model_fields)
_NO_EXCLUSIONS: Mapping[str, Collection[str]] = MappingProxyType({})
_new = object.__new__
_set = object.__setattr__

# One offer: landed cents, days to arrival, eligible, its quote's index and its line's place
# among the lines that quote covers. Plain ints: hundreds of thousands are made, and tuples of
# atomic values are soon untracked by the garbage collector.
_Offer = tuple[int, int, bool, int, int]


class _Quoted(NamedTuple):
    """One quote: its supplier's standing, and the RFQ lines it covers with their costs."""

    quote: Quote
    score: Decimal
    component: Decimal  # the supplier's score / 100, capped to 0..1
    points: float  # the supplier component's weighted points
    component_text: str  # the component to 3 places, as the explanation prints it
    ok: bool  # not suspended
    lines: list[QuoteLine]  # covered, in RFQ order
    costs: QuoteCosts


class _Shown(NamedTuple):
    top: int | None
    skip: frozenset[str]
    eligible_only: bool


def _built(values: dict[str, Any]) -> QuoteComparison:
    """A QuoteComparison from values already valid, as ``model_construct`` makes it (the same
    fields set, no extra, no private state) at a fifth of its cost: it dominated at 40,000
    offers. The test of equivalence compares these with the reference's, field and JSON."""
    model = _new(QuoteComparison)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", _ALL_FIELDS)
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


def _cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2) if value else _ZERO_CENTS


# Scores repeat (at most 10,001 of them): each Decimal is made once. Decimals are immutable.
_score = lru_cache(maxsize=_MAX_SCORE_CENTS + 1)(_cents)


def _near_half(value: float) -> bool:
    """True when ``value`` is within _BOUNDARY of x.5, where rounding could go either way."""
    return abs(value - math.floor(value) - 0.5) < _BOUNDARY


class _Ranker:
    """One RFQ's weights and basis, applied line by line."""

    def __init__(self, rfq: RfqInput, *, as_of: date, basis: str, deducts: bool) -> None:
        weights = rfq.weights
        self.weights = (weights.price, weights.lead_time, weights.supplier_score)
        self.total = sum(self.weights, _ZERO)
        self.percents = [percent(w, self.total) for w in self.weights]
        total = float(self.total)
        self.factors = tuple(100 * float(w) / total for w in self.weights)
        self.currency = rfq.currency
        self.basis = basis
        self.deducts = deducts
        self.as_of = as_of
        self.to_needed_by = (rfq.needed_by - as_of).days
        self.arrivals: dict[int, date] = {}
        self.supplier_points: list[float] = []  # by quote, once the quotes are priced
        # By the line's shortest days to arrival, then by days: the lead component's points less
        # the late penalty. A few hundred values serve every line.
        self.day_points: dict[int, dict[int, float]] = {}

    def rank(
        self,
        offers: Sequence[_Offer],
        quoted: Sequence[_Quoted],
        quantity: tuple[Decimal, Decimal, int],
        shown: _Shown,
    ) -> tuple[QuoteComparison, ...]:
        """The shown offers for one line, scored and ranked against all of them, best first.
        ``quantity``: the line's own, and the one its offers are priced at, also in thousandths
        (the same unless a line id repeats)."""
        if not offers:
            return ()
        landed, days, eligible = list(zip(*offers, strict=True))[:3]
        if all(eligible) or not any(eligible):  # the reference offers: the eligible, or all
            min_landed, min_days = min(landed), min(days)
        else:
            min_landed, min_days = min(compress(landed, eligible)), min(compress(days, eligible))
        min_days = max(MIN_DAYS_TO_ARRIVAL, min_days)
        scores, keys = self._scores(offers, quoted, min_landed, min_days)
        count = len(offers)
        if len(set(keys)) < count:  # equal score and cost: the reference's ties, by supplier
            quotes = [quoted[o[3]].quote for o in offers]  # then quote id
            order: Iterable[int] = sorted(
                range(count), key=lambda i: (keys[i], quotes[i].supplier_org_id, quotes[i].quote_id)
            )
        elif shown.top is not None and not shown.skip and not shown.eligible_only:
            order = nsmallest(shown.top, range(count), key=keys.__getitem__)  # ranks 1..top
        else:
            order = sorted(range(count), key=keys.__getitem__)
        ranked: list[QuoteComparison] = []
        for rank, i in enumerate(order, start=1):
            if len(ranked) == shown.top:
                break
            offer = offers[i]
            if quoted[offer[3]].quote.supplier_org_id in shown.skip or (
                shown.eligible_only and not offer[2]
            ):
                continue
            ranked.append(
                self._comparison(offer, quoted, rank, scores[i], quantity, min_landed, min_days)
            )
        return tuple(ranked)

    def _components(
        self, offer: _Offer, quoted: _Quoted, min_landed: int, min_days: int
    ) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """The reference's Decimal components and score, for the few offers on a boundary."""
        return score_components(
            min_landed=_cents(min_landed),
            landed=_cents(offer[0]),
            min_days=Decimal(min_days),
            days=offer[1],
            supplier=quoted.component,
            weights=self.weights,
            total=self.total,
            late=max(0, offer[1] - self.to_needed_by),
        )

    def _floats(self, offer: _Offer, min_landed: int, min_days: int) -> tuple[float, float]:
        landed, days = offer[0], max(MIN_DAYS_TO_ARRIVAL, offer[1])
        price = 1.0 if landed <= min_landed else min_landed / landed
        return price, 1.0 if days <= min_days else min_days / days

    def _scores(
        self, offers: Sequence[_Offer], quoted: Sequence[_Quoted], min_landed: int, min_days: int
    ) -> tuple[list[int], list[int]]:
        """Each offer's score in cents (0..10,000), the reference's to the cent, and its sort key:
        ineligible after eligible, then score descending, then landed cost, in one integer.

        One loop with everything local, the lead time's points and the late penalty worked out
        once a distinct day count: it runs once for every offer of the comparison."""
        f_price, f_lead, _ = self.factors
        landed_column, days_column, eligible_column, quote_column, _ = zip(*offers, strict=True)
        day_points = self.day_points.setdefault(min_days, {})
        for days in set(days_column).difference(day_points):
            counted = max(MIN_DAYS_TO_ARRIVAL, days)
            late = days - self.to_needed_by
            penalty = min(_PENALTY_MAX, _PENALTY_PER_DAY * late) if late > 0 else 0.0
            lead = 1.0 if counted <= min_days else min_days / counted
            day_points[days] = f_lead * lead - penalty
        priced = f_price * min_landed
        if min(landed_column) > 0:
            # The usual case, a column at a time in C (map): the same sums as the loop below.
            # Capped at f_price: the float quotient of an offer cheaper than the minimum (an
            # ineligible one) can fall an ulp below it; the boundary check covers that ulp.
            point_column = map(
                add,
                map(
                    add,
                    map(min, repeat(f_price), map(priced.__truediv__, landed_column)),
                    map(day_points.__getitem__, days_column),
                ),
                map(self.supplier_points.__getitem__, quote_column),
            )
            halfways = [p * 100 + 0.5 for p in point_column]
            if min(map(abs, map(sub, halfways, map(round, halfways)))) > _BOUNDARY:
                scores = list(map(max, repeat(0), map(int, halfways)))
                keys = list(
                    map(
                        add,
                        map(mul, map(not_, eligible_column), repeat(_INELIGIBLE_KEY)),
                        map(
                            add,
                            map(
                                lshift,
                                map(sub, repeat(_MAX_SCORE_CENTS), scores),
                                repeat(_LANDED_BITS),
                            ),
                            landed_column,
                        ),
                    )
                )
                return scores, keys
        # A score on a boundary (or a landed cost of zero): offer by offer, with Decimal where
        # a float cannot tell which way the reference rounds.
        scores = []
        keys = []
        for offer in offers:
            landed, days, eligible, quote_no, _ = offer
            points = (
                (f_price if landed <= min_landed else priced / landed)
                + day_points[days]
                + self.supplier_points[quote_no]
            )
            halfway = points * 100 + 0.5
            if halfway < 0.5:  # below zero: the reference's max(0, ...)
                score = 0
            else:
                score = int(halfway)
                if not _BOUNDARY < halfway - score < 1 - _BOUNDARY:
                    exact = self._components(offer, quoted[quote_no], min_landed, min_days)
                    score = int(exact[3].scaleb(2))
            scores.append(score)
            keys.append(
                (0 if eligible else _INELIGIBLE_KEY)
                + ((_MAX_SCORE_CENTS - score) << _LANDED_BITS)
                + landed
            )
        return scores, keys

    def _figures(
        self, offer: _Offer, supplier: _Quoted, min_landed: int, min_days: int
    ) -> tuple[str, str, str]:
        """The price, lead and supplier components to 3 places, as the reference prints them."""
        price, lead = self._floats(offer, min_landed, min_days)
        if _near_half(price * 1000) or _near_half(lead * 1000):
            exact = self._components(offer, supplier, min_landed, min_days)
            return f"{exact[0]:.3f}", f"{exact[1]:.3f}", supplier.component_text
        return f"{price:.3f}", f"{lead:.3f}", supplier.component_text

    def _comparison(
        self,
        offer: _Offer,
        quoted: Sequence[_Quoted],
        rank: int,
        score_cents: int,
        quantity: tuple[Decimal, Decimal, int],
        min_landed: int,
        min_days: int,
    ) -> QuoteComparison:
        landed_cents, days, eligible, quote_no, place = offer
        supplier = quoted[quote_no]
        line, costs = supplier.lines[place], supplier.costs
        own, priced_at, milli = quantity
        price, break_at = applicable_price(line, priced_at)
        moq_fits = priced_at >= line.min_order_quantity
        tax = _cents(costs.taxes[place])
        score = _score(score_cents)
        late = max(0, days - self.to_needed_by)
        arrival = self.arrivals.get(days)
        if arrival is None:
            arrival = self.arrivals[days] = arrival_date(
                as_of=self.as_of, lead_time_days=days, transit_days=0
            )
        stock_covers = line.stock_available >= own
        text = explanation(
            # money_text's format, from the cents it would quantize to
            landed=f"{self.currency} {landed_cents // 100:,}.{landed_cents % 100:02d}",
            basis=self.basis,
            break_at=break_at,
            figures=self._figures(offer, supplier, min_landed, min_days),
            percents=self.percents,
            score=score,
            supplier_ok=supplier.ok,
            min_order_quantity=None if moq_fits else line.min_order_quantity,
            shortfall=None if stock_covers else own - line.stock_available,
            late=late,
        )
        quote = supplier.quote
        unit_cost = (2 * landed_cents * 10**5 + milli) // (2 * milli)  # ten-thousandths, half up
        return _built(
            {
                "supplier_org_id": quote.supplier_org_id,
                "quote_id": quote.quote_id,
                "revision": quote.revision,
                "unit_price": price,
                "goods": _cents(costs.goods[place]),
                "logistics": _cents(costs.logistics[place]),
                "freight_share": _cents(costs.shares[place]),
                "tax": tax,
                "deductible_tax": tax if self.deducts else _ZERO,
                "landed_cost": _cents(landed_cents),
                "landed_unit_cost": Decimal(unit_cost).scaleb(-4),
                "stock_covers": stock_covers,
                "moq_fits": moq_fits,
                "arrival": arrival,
                "days_late": late,
                "supplier_score": supplier.score,
                "score": score,
                "rank": rank,
                "eligible": eligible,
                "explanation": text,
            }
        )


class _Lines(NamedTuple):
    """The RFQ's lines by place: a line id's place (the last, should an id repeat: its
    quantity prices them all, as in the reference), its id, quantity and thousandths."""

    place: dict[str, int]
    ids: list[str]
    quantity: list[Decimal]
    milli: list[int]


_lead_time = attrgetter("lead_time_days")
_transit = attrgetter("transit_days")
_moq = attrgetter("min_order_quantity")


def _offers(
    quotes: Sequence[Quote],
    rfq_lines: _Lines,
    *,
    invited: Mapping[str, Decimal],
    supplier_scores: Mapping[str, Decimal],
    ineligible: Collection[str],
    deducts_input_vat: bool,
    factor: float,
) -> tuple[list[list[_Offer]], list[_Quoted]]:
    """Every covered line of every quote with its landed cost, by RFQ line place; ``invited``:
    the RFQ's suppliers' scores; ``factor``: the points a supplier component of 1 is worth.
    Columns in C (map) where the reference looped: this runs for every offer."""
    offers: list[list[_Offer]] = [[] for _ in rfq_lines.ids]
    quoted: list[_Quoted] = []
    blocked = frozenset(ineligible)
    place_of = rfq_lines.place
    for quote_no, quote in enumerate(quotes):
        org = quote.supplier_org_id
        score = supplier_scores.get(org, invited.get(org, _ZERO))
        component = min(_ONE, max(_ZERO, score / _HUNDRED))
        ok = org not in blocked
        # The first quote line for each known RFQ line (reversed: the first one written wins),
        # in RFQ order.
        first = {
            line.line_id: line for line in reversed(quote.terms.lines) if line.line_id in place_of
        }
        places = sorted(map(place_of.__getitem__, first))
        lines = list(map(first.__getitem__, map(rfq_lines.ids.__getitem__, places)))
        quantities = list(map(rfq_lines.quantity.__getitem__, places))
        costs = line_costs(
            quote.terms,
            lines,
            quantities,
            list(map(rfq_lines.milli.__getitem__, places)),
            deducts_input_vat=deducts_input_vat,
        )
        quoted.append(
            _Quoted(
                quote,
                score,
                component,
                factor * float(component),
                f"{component:.3f}",
                ok,
                lines,
                costs,
            )
        )
        eligible = map(ge, quantities, map(_moq, lines)) if ok else repeat(False)
        days = map(add, map(_lead_time, lines), map(_transit, lines))
        # ``repeat`` never ends: the other columns, each a line long, end the tuples.
        columns = zip(
            costs.landed, days, eligible, repeat(quote_no), range(len(lines)), strict=False
        )
        for place, offer in zip(places, columns, strict=False):
            offers[place].append(offer)
    return offers, quoted


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
    """Every quote covering each RFQ line, side by side and best first (rules.quotes_reference).

    ``top`` keeps the best offers a line, ``exclude`` drops suppliers from a line's list and
    ``eligible_only`` the ineligible offers; none of them changes a score or a rank, which
    always compare every offer. An award round asks for three; a screen may ask for all.
    ``deducts_input_vat``: the buyer is a general taxpayer and compares net of the VAT it
    deducts; False for a small-scale taxpayer, which compares including VAT.
    """
    context = getcontext()
    basis = NET_OF_VAT if deducts_input_vat else INCLUDING_VAT
    ranker = _Ranker(rfq, as_of=as_of, basis=basis, deducts=deducts_input_vat)
    try:
        if context.prec < 28 or context.rounding != ROUND_HALF_EVEN:
            raise Unrepresentable("a Decimal context other than the default")
        quantities = [line.quantity for line in rfq.lines]
        rfq_lines = _Lines(
            {line.line_id: place for place, line in enumerate(rfq.lines)},
            [line.line_id for line in rfq.lines],
            quantities,
            [scaled(q, QUANTITY_SCALE) for q in quantities],
        )
        offers, quoted = _offers(
            quotes,
            rfq_lines,
            invited={supplier.org_id: supplier.score for supplier in rfq.suppliers},
            supplier_scores=supplier_scores,
            ineligible=ineligible,
            deducts_input_vat=deducts_input_vat,
            factor=ranker.factors[2],
        )
        ranker.supplier_points = [q.points for q in quoted]
    except Unrepresentable:
        return quotes_reference.compare(
            rfq,
            quotes,
            as_of=as_of,
            supplier_scores=supplier_scores,
            ineligible=ineligible,
            top=top,
            exclude=exclude,
            eligible_only=eligible_only,
            deducts_input_vat=deducts_input_vat,
        )
    lines = tuple(
        LineComparison(
            line_id=line.line_id,
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            offers=ranker.rank(
                offers[rfq_lines.place[line.line_id]],
                quoted,
                (
                    line.quantity,
                    rfq_lines.quantity[rfq_lines.place[line.line_id]],
                    rfq_lines.milli[rfq_lines.place[line.line_id]],
                ),
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


def recommended_awards(
    comparison: Comparison, *, exclude: Mapping[str, Collection[str]] = _NO_EXCLUSIONS
) -> dict[str, str]:
    """Line id to the supplier of its best-ranked eligible offer not excluded for that line."""
    awards: dict[str, str] = {}
    for line in comparison.lines:
        excluded = exclude.get(line.line_id, ())
        candidates = [
            offer
            for offer in line.offers
            if offer.eligible and offer.supplier_org_id not in excluded
        ]
        if candidates:
            awards[line.line_id] = min(candidates, key=lambda offer: offer.rank).supplier_org_id
    return awards
