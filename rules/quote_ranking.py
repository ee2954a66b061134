"""Quote ranking at scale: each line's offers scored, ranked and, for those shown, built.

``rules.quotes`` prices every offer in integer cents; here, a line at a time, scores are
computed in floats, which are within 1e-11 of the exact score, and rounded to the cent unless
they lie within ``_BOUNDARY`` of a half cent: those few are recomputed in Decimal by the
reference's own ``score_components``, so a score is the reference's to the cent, ties included.
Ranks order eligibility, score, landed cost, then each quote's place in (supplier, quote id)
order, so no two offers of a line tie: the best N are sorted among the offers standing at or above
the N-th only, a full list by one integer a offer. Decimal figures, explanations and models are
built only for the offers shown.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache
from itertools import compress, repeat
from operator import add, ge, lshift, mul, not_, sub
from typing import Any, NamedTuple

from contracts.sourcing import QuoteComparison, RfqInput
from rules.landed_cost_cents import QuoteCosts
from rules.quote_pricing import QuoteHeader, ShownLine
from rules.quotes_reference import (
    LATE_PENALTY_MAX,
    LATE_PENALTY_PER_DAY,
    MIN_DAYS_TO_ARRIVAL,
    arrival_date,
    explanation,
    score_components,
)
from rules.quotes_reference import _percent as percent

# A float score or figure this close to a rounding boundary is recomputed in Decimal: floats
# err by about 1e-11 here (scores are at most 10,000 cents), so this leaves a wide margin.
_BOUNDARY = 1e-6
MAX_SCORE_CENTS = 10_000
_SCORE_BITS = 14  # 10,000 cents fit in 14 bits
_LANDED_BITS = 76  # landed costs stay under 10^22 cents (rules.landed_cost_cents) < 2^76
_PENALTY_MAX = float(LATE_PENALTY_MAX)
_PENALTY_PER_DAY = float(LATE_PENALTY_PER_DAY)
_ZERO = Decimal(0)
_ZERO_CENTS = Decimal("0.00")
_ALL_FIELDS = set(QuoteComparison.model_fields)
_new = object.__new__
_set = object.__setattr__

# One offer: landed cents, days to arrival, eligible, its quote's index and its line's place
# among the lines that quote covers. Plain ints: hundreds of thousands are made, and tuples of
# atomic values are soon untracked by the garbage collector.
Offer = tuple[int, int, bool, int, int]


class Quoted(NamedTuple):
    """One quote: its supplier's standing, and the RFQ lines it covers with their costs."""

    quote: QuoteHeader
    score: Decimal
    component: Decimal  # the supplier's score / 100, capped to 0..1
    points: float  # the supplier component's weighted points
    component_text: str  # the component to 3 places, as the explanation prints it
    ok: bool  # not suspended
    fields: Sequence[ShownLine]  # of the covered lines, in the quote's order
    costs: QuoteCosts
    # By covered line, as ``fields``: its RFQ line's place, its days to arrival (lead time and
    # transit) and whether it is eligible (its supplier not suspended, its MOQ met).
    places: list[int]
    days: list[int]
    eligible: list[bool]


class Shown(NamedTuple):
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
_score = lru_cache(maxsize=MAX_SCORE_CENTS + 1)(_cents)


def _near_half(value: float) -> bool:
    """True when ``value`` is within _BOUNDARY of x.5, where rounding could go either way."""
    return abs(value - math.floor(value) - 0.5) < _BOUNDARY


class Ranker:
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
        self.supplier_points: list[float] = []  # by quote, in points x 100 (set by ``priced``)
        self.ties: list[int] = []  # by quote: its place in (supplier, quote id) order
        self.tie_bits = 0
        # By the line's shortest days to arrival, then by days: the lead component's points less
        # the late penalty, x 100, plus the half that rounds half up. A few hundred values serve
        # every line.
        self.day_tables: dict[int, dict[int, float]] = {}

    def priced(self, quoted: Sequence[Quoted]) -> None:
        """The quotes' supplier points, and their order among equal scores and costs: the
        reference's ties go by supplier then quote id (then the quotes' order: sorted is
        stable), which a key's last bits carry, so every offer of a line has its own key."""
        self.supplier_points = [100 * q.points for q in quoted]
        by_supplier = sorted(
            range(len(quoted)),
            key=lambda i: (quoted[i].quote.supplier_org_id, quoted[i].quote.quote_id),
        )
        self.ties = [0] * len(quoted)
        for tie, quote_no in enumerate(by_supplier):
            self.ties[quote_no] = tie
        self.tie_bits = len(quoted).bit_length()

    def rank(
        self,
        offers: Sequence[Offer],
        quoted: Sequence[Quoted],
        quantity: tuple[Decimal, Decimal, int],
        shown: Shown,
        minima: tuple[int, int] | None = None,
    ) -> tuple[QuoteComparison, ...]:
        """The shown offers for one line, scored and ranked against all of them, best first.
        ``quantity``: the line's own, and the one its offers are priced at, also in thousandths
        (the same unless a line id repeats). ``minima``: the line's lowest landed cost and
        shortest days to arrival (at least 1) when ``offers`` are only the candidates for the
        best ``shown.top`` (``rules.quote_shortlist``); None: ``offers`` are all of them."""
        if not offers:
            return ()
        landed, days, eligible, _, _ = columns = list(zip(*offers, strict=True))
        everyone = all(eligible)
        if minima is not None:
            min_landed, min_days = minima
        elif everyone or not any(eligible):  # the reference offers: the eligible, or all
            min_landed, min_days = min(landed), min(days)
        else:
            min_landed, min_days = min(compress(landed, eligible)), min(compress(days, eligible))
        min_days = max(MIN_DAYS_TO_ARRIVAL, min_days)
        scores = self._scores(offers, columns, quoted, min_landed, min_days)
        order: Iterable[int]
        if shown.top is not None and not shown.skip and not shown.eligible_only:
            order = self._best(shown.top, columns, scores, everyone)
        else:
            order = sorted(
                range(len(offers)), key=self._keys(columns, scores, everyone).__getitem__
            )
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

    def _best(
        self, top: int, columns: list[tuple[Any, ...]], scores: list[int], everyone: bool
    ) -> list[int]:
        """The places of the ``top`` best offers, best first, sorting only those that can be:
        the offers standing at least as high as the top-th (eligible first, then score)."""
        landed, _, eligible, quote_nos, _ = columns
        standing = scores
        if not everyone:  # an ineligible offer stands below every eligible one
            below = map(mul, map(not_, eligible), repeat(MAX_SCORE_CENTS + 1))
            standing = list(map(sub, scores, below))
        cut = sorted(standing, reverse=True)[min(top, len(standing)) - 1]
        candidates = compress(range(len(standing)), map(ge, standing, repeat(cut)))
        ties = self.ties
        return sorted(candidates, key=lambda i: (-standing[i], landed[i], ties[quote_nos[i]]))[:top]

    def _keys(self, columns: list[tuple[Any, ...]], scores: list[int], everyone: bool) -> list[int]:
        """Every offer's sort key, one integer: ineligible after eligible, score descending,
        landed cost, then the tie's order (``priced``)."""
        landed, _, eligible, quote_nos, _ = columns
        tie_bits = self.tie_bits
        score_shift = _LANDED_BITS + tie_bits
        keys = list(
            map(
                add,
                map(lshift, map(sub, repeat(MAX_SCORE_CENTS), scores), repeat(score_shift)),
                map(
                    add,
                    map(lshift, landed, repeat(tie_bits)),
                    map(self.ties.__getitem__, quote_nos),
                ),
            )
        )
        if everyone:
            return keys
        ineligible = 1 << (score_shift + _SCORE_BITS)
        return list(map(add, keys, map(mul, map(not_, eligible), repeat(ineligible))))

    def _components(
        self, offer: Offer, quoted: Quoted, min_landed: int, min_days: int
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

    def _floats(self, offer: Offer, min_landed: int, min_days: int) -> tuple[float, float]:
        landed, days = offer[0], max(MIN_DAYS_TO_ARRIVAL, offer[1])
        price = 1.0 if landed <= min_landed else min_landed / landed
        return price, 1.0 if days <= min_days else min_days / days

    def day_points(self, min_days: int, days_column: Iterable[int]) -> dict[int, float]:
        """The lead time's points less the late penalty, x 100, plus a half, by days to arrival
        for a line whose shortest is ``min_days``: once a distinct day count."""
        f_lead = self.factors[1]
        day_points = self.day_tables.setdefault(min_days, {})
        for days in set(days_column).difference(day_points):
            counted = max(MIN_DAYS_TO_ARRIVAL, days)
            late = days - self.to_needed_by
            penalty = min(_PENALTY_MAX, _PENALTY_PER_DAY * late) if late > 0 else 0.0
            lead = 1.0 if counted <= min_days else min_days / counted
            day_points[days] = 100 * (f_lead * lead - penalty) + 0.5
        return day_points

    def _scores(
        self,
        offers: Sequence[Offer],
        columns: list[tuple[Any, ...]],
        quoted: Sequence[Quoted],
        min_landed: int,
        min_days: int,
    ) -> list[int]:
        """Each offer's score in cents (0..10,000), the reference's to the cent: a float within
        1e-9 of the exact score x 100 plus a half, floored, unless it is within _BOUNDARY of an
        integer, where the reference's Decimal decides. It runs once for every offer."""
        landed_column, days_column, _, quote_column, _ = columns
        day_points = self.day_points(min_days, days_column)
        f_price = 100 * self.factors[0]
        lowest = min(landed_column)
        if lowest > 0:
            # The usual case, a column at a time in C (map): the same sums as the loop below.
            # An offer cheaper than the minimum (an ineligible one) is capped at f_price;
            # the quotient of the cheapest itself may err by an ulp, which the boundary check
            # covers.
            prices = map((f_price * min_landed).__truediv__, landed_column)
            if lowest < min_landed:
                prices = map(min, repeat(f_price), prices)
            halfways = list(
                map(
                    add,
                    map(add, prices, map(day_points.__getitem__, days_column)),
                    map(self.supplier_points.__getitem__, quote_column),
                )
            )
            scores = list(map(math.floor, halfways))
            fractions = list(map(sub, halfways, scores))
            if min(fractions) > _BOUNDARY and max(fractions) < 1 - _BOUNDARY:
                return list(map(max, repeat(0), scores)) if min(scores) < 0 else scores
        # A score on a boundary (or a landed cost of zero): offer by offer, with Decimal where
        # a float cannot tell which way the reference rounds.
        priced = f_price * min_landed
        scores = []
        for offer in offers:
            landed, days, _, quote_no, _ = offer
            halfway = (
                (f_price if landed <= min_landed else priced / landed)
                + day_points[days]
                + self.supplier_points[quote_no]
            )
            score = math.floor(halfway)
            if score < 0:  # below zero: the reference's max(0, ...)
                score = 0
            elif not _BOUNDARY < halfway - score < 1 - _BOUNDARY:
                exact = self._components(offer, quoted[quote_no], min_landed, min_days)
                score = int(exact[3].scaleb(2))
            scores.append(score)
        return scores

    def _figures(
        self, offer: Offer, supplier: Quoted, min_landed: int, min_days: int
    ) -> tuple[str, str, str]:
        """The price, lead and supplier components to 3 places, as the reference prints them."""
        price, lead = self._floats(offer, min_landed, min_days)
        if _near_half(price * 1000) or _near_half(lead * 1000):
            exact = self._components(offer, supplier, min_landed, min_days)
            return f"{exact[0]:.3f}", f"{exact[1]:.3f}", supplier.component_text
        return f"{price:.3f}", f"{lead:.3f}", supplier.component_text

    def _comparison(
        self,
        offer: Offer,
        quoted: Sequence[Quoted],
        rank: int,
        score_cents: int,
        quantity: tuple[Decimal, Decimal, int],
        min_landed: int,
        min_days: int,
    ) -> QuoteComparison:
        landed_cents, days, eligible, quote_no, place = offer
        supplier = quoted[quote_no]
        costs = supplier.costs
        price, break_at, stock, moq = supplier.fields[place]
        own, priced_at, milli = quantity
        moq_fits = priced_at >= moq
        tax = _cents(costs.tax(place))
        score = _score(score_cents)
        late = max(0, days - self.to_needed_by)
        arrival = self.arrivals.get(days)
        if arrival is None:
            arrival = self.arrivals[days] = arrival_date(
                as_of=self.as_of, lead_time_days=days, transit_days=0
            )
        stock_covers = stock >= own
        text = explanation(
            # money_text's format, from the cents it would quantize to
            landed=f"{self.currency} {landed_cents // 100:,}.{landed_cents % 100:02d}",
            basis=self.basis,
            break_at=break_at,
            figures=self._figures(offer, supplier, min_landed, min_days),
            percents=self.percents,
            score=score,
            supplier_ok=supplier.ok,
            min_order_quantity=None if moq_fits else moq,
            shortfall=None if stock_covers else own - stock,
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
