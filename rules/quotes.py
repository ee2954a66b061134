"""Quote comparison at scale: the reference's ranks, figures and explanations, fast.

What the comparison computes (landed cost, arrival, eligibility, the weighted score, ranks and
explanations) is defined, and written plainly in Decimal, in ``rules.quotes_reference``; this
module gives the same answer in a few microseconds an offer (``python -m bench.comparison``):

- landed costs in integer cents (``rules.landed_cost_cents``, exact by construction);
- scores in floats checked against rounding boundaries, ranks without ties, and
  Decimal figures, explanations and models built only for the offers shown (``top``,
  ``exclude``, ``eligible_only``), where the reference built every offer's
  (``rules.quote_ranking``);
- for the best few a line (``top``), only the offers that can be among them gathered by line
  and ranked, found a quote at a time against each line's minima (``rules.quote_shortlist``).

Amounts beyond the integer path's bound, or a Decimal context other than the default's
precision and rounding, go to the reference. tests/rules/test_quotes_equivalence.py holds the
two to the same output on random RFQs.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, getcontext
from itertools import repeat
from operator import add, ge
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
    LineColumns,
    Unrepresentable,
    columns,
    line_costs,
    scaled,
)
from rules.quote_ranking import Offer, Quoted, Ranker, Shown
from rules.quote_shortlist import shortlist
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


def _covered(
    quote: Quote, place_of: Mapping[str, int]
) -> tuple[Sequence[QuoteLine], LineColumns, list[int]] | None:
    """The quote's lines for known RFQ lines, the first of a repeated id, their fields and
    their RFQ places, in the quote's order (``covered_lines``' set, which orders them by the
    RFQ); None when it covers none."""
    lines = quote.terms.lines
    if not lines:
        return None
    fields = columns(lines)
    places = list(map(place_of.get, fields.line_ids))
    if None not in places and len(set(places)) == len(places):
        return lines, fields, cast(list[int], places)  # the usual quote: each known line once
    first: dict[int, int] = {}
    for i, place in enumerate(places):
        if place is not None:
            first.setdefault(place, i)
    if not first:
        return None
    kept = list(first.values())
    return (
        [lines[i] for i in kept],
        LineColumns._make([column[i] for i in kept] for column in fields),
        list(first),
    )


def _priced(
    quotes: Sequence[Quote],
    rfq_lines: _Lines,
    *,
    invited: Mapping[str, Decimal],
    supplier_scores: Mapping[str, Decimal],
    ineligible: Collection[str],
    deducts_input_vat: bool,
    factor: float,
) -> list[Quoted]:
    """Every quote covering an RFQ line, with its covered lines' landed costs, days to arrival
    and eligibility; ``invited``: the RFQ's suppliers' scores; ``factor``: the points a supplier
    component of 1 is worth. Columns in C (map) where the reference looped: this runs for
    every offer."""
    quoted: list[Quoted] = []
    blocked = frozenset(ineligible)
    quantity_of = rfq_lines.quantity.__getitem__
    for quote in quotes:
        covered = _covered(quote, rfq_lines.place)
        if covered is None:
            continue  # nothing to offer: the quote is not among ``quoted``
        lines, fields, places = covered
        org = quote.supplier_org_id
        score = supplier_scores.get(org, invited.get(org, _ZERO))
        component = min(_ONE, max(_ZERO, score / _HUNDRED))
        ok = org not in blocked
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
                places,
                list(map(add, fields.lead_times, fields.transits)),
                list(map(ge, map(quantity_of, places), fields.moqs))
                if ok
                else [False] * len(lines),
            )
        )
    return quoted


def _offers(quoted: Sequence[Quoted], lines: int) -> list[list[Offer]]:
    """Every offer, by RFQ line place: the whole list of each line, for a screen that shows
    every offer or leaves some out (``exclude``, ``eligible_only``)."""
    offers: list[list[Offer]] = [[] for _ in range(lines)]
    for quote_no, quote in enumerate(quoted):
        rows = zip(
            quote.costs.landed,
            quote.days,
            quote.eligible,
            repeat(quote_no),
            range(len(quote.places)),
            strict=False,  # ``repeat`` never ends: the other columns end the tuples
        )
        # offers[place].append(row) for each, in C
        deque(map(list.append, map(offers.__getitem__, quote.places), rows), 0)
    return offers


def _caps(
    top: int,
    exclude: Mapping[str, Collection[str]],
    place_of: Mapping[str, int],
    quoted: Sequence[Quoted],
    lines: int,
) -> list[int]:
    """How many of each line's best offers can hold its best ``top`` shown: ``top``, and as
    many again as the line's excluded suppliers have quotes (each offers a line once)."""
    caps = [top] * lines
    if exclude:
        quotes_of = Counter(supplier.quote.supplier_org_id for supplier in quoted)
        for line_id, skip in exclude.items():
            place = place_of.get(line_id)
            if place is not None:
                caps[place] = top + sum(quotes_of[org] for org in set(skip))
    return caps


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
        quoted = _priced(
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
    shortlisted = None
    if top is not None and top > 0:
        caps = _caps(top, exclude, rfq_lines.place, quoted, len(rfq.lines))
        shortlisted = shortlist(quoted, ranker, caps)
    offers = _offers(quoted, len(rfq.lines)) if shortlisted is None else shortlisted.offers
    places = [rfq_lines.place[line.line_id] for line in rfq.lines]
    lines = tuple(
        LineComparison(
            line_id=line.line_id,
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            offers=ranker.rank(
                offers[place],
                quoted,
                (line.quantity, rfq_lines.quantity[place], rfq_lines.milli[place]),
                Shown(top, frozenset(exclude.get(line.line_id, ())), eligible_only),
                None if shortlisted is None else shortlisted.minima[place],
            ),
        )
        for line, place in zip(rfq.lines, places, strict=True)
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
