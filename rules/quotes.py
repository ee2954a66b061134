"""Quote comparison at scale: the reference's ranks, figures and explanations, fast.

What the comparison computes (landed cost, arrival, eligibility, the weighted score, ranks and
explanations) is defined, and written plainly in Decimal, in ``rules.quotes_reference``; this
module gives the same answer in a few microseconds an offer (``python -m bench.comparison``):

- landed costs in integer cents (``rules.landed_cost_cents``, exact by construction);
- scores in floats checked against rounding boundaries, ranks without ties, and
  Decimal figures, explanations and models built only for the offers shown (``top``,
  ``exclude``, ``eligible_only``), where the reference built every offer's
  (``rules.quote_ranking``).

Amounts beyond the integer path's bound, or a Decimal context other than the default's
precision and rounding, go to the reference. tests/rules/test_quotes_equivalence.py holds the
two to the same output on random RFQs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, getcontext
from itertools import repeat
from operator import add, attrgetter, ge
from types import MappingProxyType
from typing import NamedTuple, cast

from contracts.sourcing import (
    Comparison,
    LineComparison,
    Quote,
    QuoteLine,
    RfqInput,
)
from rules import quotes_reference
from rules.landed_cost_cents import (
    QUANTITY_SCALE,
    Unrepresentable,
    columns,
    line_costs,
    scaled,
)
from rules.quote_ranking import Offer, Quoted, Ranker, Shown
from rules.quotes_reference import (
    INCLUDING_VAT,
    LATE_PENALTY_MAX,
    LATE_PENALTY_PER_DAY,
    NET_OF_VAT,
    arrival_date,
    days_late,
    late_penalty,
)

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

_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_NO_EXCLUSIONS: Mapping[str, Collection[str]] = MappingProxyType({})


class _Lines(NamedTuple):
    """The RFQ's lines by place: a line id's place (the last, should an id repeat: its
    quantity prices them all, as in the reference), its id, quantity and thousandths."""

    place: dict[str, int]
    ids: list[str]
    quantity: list[Decimal]
    milli: list[int]


_line_id = attrgetter("line_id")


def _covered(quote: Quote, place_of: Mapping[str, int]) -> tuple[Sequence[QuoteLine], list[int]]:
    """The quote's lines for known RFQ lines, the first of a repeated id, and their RFQ places,
    in the quote's order (``covered_lines``' set, which orders them by the RFQ)."""
    lines = quote.terms.lines
    places = list(map(place_of.get, map(_line_id, lines)))
    if None not in places and len(set(places)) == len(places):
        return lines, cast(list[int], places)  # the usual quote: each known line once
    first: dict[int, QuoteLine] = {}
    for line, place in zip(lines, places, strict=True):
        if place is not None:
            first.setdefault(place, line)
    return list(first.values()), list(first)


def _offers(
    quotes: Sequence[Quote],
    rfq_lines: _Lines,
    *,
    invited: Mapping[str, Decimal],
    supplier_scores: Mapping[str, Decimal],
    ineligible: Collection[str],
    deducts_input_vat: bool,
    factor: float,
) -> tuple[list[list[Offer]], list[Quoted]]:
    """Every covered line of every quote with its landed cost, by RFQ line place; ``invited``:
    the RFQ's suppliers' scores; ``factor``: the points a supplier component of 1 is worth.
    Columns in C (map) where the reference looped: this runs for every offer."""
    offers: list[list[Offer]] = [[] for _ in rfq_lines.ids]
    quoted: list[Quoted] = []
    blocked = frozenset(ineligible)
    quantity_of = rfq_lines.quantity.__getitem__
    for quote in quotes:
        org = quote.supplier_org_id
        score = supplier_scores.get(org, invited.get(org, _ZERO))
        component = min(_ONE, max(_ZERO, score / _HUNDRED))
        ok = org not in blocked
        lines, places = _covered(quote, rfq_lines.place)
        if not lines:
            continue  # nothing to offer: the quote is not among ``quoted``
        quote_no, fields = len(quoted), columns(lines)
        costs = line_costs(
            quote.terms,
            fields,
            places,
            rfq_lines.quantity,
            rfq_lines.milli,
            deducts_input_vat=deducts_input_vat,
        )
        quoted.append(
            Quoted(
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
        eligible = map(ge, map(quantity_of, places), fields.moqs) if ok else repeat(False)
        # ``repeat`` never ends: the other columns, each a line long, end the tuples.
        rows = zip(
            costs.landed,
            map(add, fields.lead_times, fields.transits),
            eligible,
            repeat(quote_no),
            range(len(lines)),
            strict=False,
        )
        for place, offer in zip(places, rows, strict=False):
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
    ranker = Ranker(rfq, as_of=as_of, basis=basis, deducts=deducts_input_vat)
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
        ranker.priced(quoted)
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
                Shown(top, frozenset(exclude.get(line.line_id, ())), eligible_only),
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
