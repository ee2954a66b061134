"""Quote comparison at scale: the reference's ranks, figures and explanations, fast.

What the comparison computes (landed cost, arrival, eligibility, the weighted score, ranks and
explanations) is defined, and written plainly in Decimal, in ``rules.quotes_reference``; this
module gives the same answer in a few microseconds an offer (``python -m bench.comparison``):

- landed costs in integer cents (``rules.landed_cost_cents``, exact by construction), priced
  once a revision when it is recorded and read back (``rules.quote_pricing``);
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
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, getcontext
from itertools import repeat
from types import MappingProxyType
from typing import NamedTuple

from contracts.sourcing import (
    Comparison,
    LineComparison,
    Quote,
    QuoteTerms,
    RfqInput,
)
from rules import quotes_reference
from rules.landed_cost_cents import Unrepresentable
from rules.quote_pricing import PricedQuote, QuoteHeader, RecordedQuote, RfqLines, price_quote
from rules.quote_pricing import rfq_lines as rfq_lines_of
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
    "compare_recorded",
    "days_late",
    "late_penalty",
    "recommended_awards",
]

_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_NO_EXCLUSIONS: Mapping[str, Collection[str]] = MappingProxyType({})
_NOTHING_PRICED: Mapping[str, PricedQuote] = MappingProxyType({})


def _quoted(
    priced: Sequence[tuple[QuoteHeader, PricedQuote]],
    *,
    invited: Mapping[str, Decimal],
    supplier_scores: Mapping[str, Decimal],
    ineligible: Collection[str],
    deducts_input_vat: bool,
    factor: float,
) -> list[Quoted]:
    """Every quote covering an RFQ line with its figures, its supplier's standing applied:
    ``invited``: the RFQ's suppliers' scores; ``factor``: the points a supplier component of 1
    is worth."""
    quoted: list[Quoted] = []
    blocked = frozenset(ineligible)
    for quote, figures in priced:
        org = quote.supplier_org_id
        score = supplier_scores.get(org, invited.get(org, _ZERO))
        component = min(_ONE, max(_ZERO, score / _HUNDRED))
        ok = org not in blocked
        quoted.append(
            Quoted(
                quote,
                score,
                component,
                factor * float(component),
                f"{component:.3f}",
                ok,
                figures.fields,
                figures.costs(deducts_input_vat=deducts_input_vat),
                figures.places,
                figures.days,
                figures.moq_fits if ok else [False] * len(figures.places),
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


class _Options(NamedTuple):
    as_of: date
    supplier_scores: Mapping[str, Decimal]
    ineligible: Collection[str]
    top: int | None
    exclude: Mapping[str, Collection[str]]
    eligible_only: bool
    deducts_input_vat: bool


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
    priced: Mapping[str, PricedQuote] = _NOTHING_PRICED,
) -> Comparison:
    """Every quote covering each RFQ line, side by side and best first (rules.quotes_reference).

    ``top`` keeps the best offers a line, ``exclude`` drops suppliers from a line's list and
    ``eligible_only`` the ineligible offers; none of them changes a score or a rank, which
    always compare every offer. An award round asks for three; a screen may ask for all.
    ``deducts_input_vat``: the buyer is a general taxpayer and compares net of the VAT it
    deducts; False for a small-scale taxpayer, which compares including VAT. ``priced``: the
    quotes' figures priced when they were recorded (``rules.quote_pricing``), by quote id; the
    others are priced here.
    """
    options = _Options(
        as_of, supplier_scores, ineligible, top, exclude, eligible_only, deducts_input_vat
    )

    def figures(lines: RfqLines) -> list[tuple[QuoteHeader, PricedQuote]]:
        kept = [priced.get(quote.quote_id) for quote in quotes]
        return _serving(quotes, kept, lambda at: [quotes[i].terms for i in at], lines, options)

    return _compare(rfq, figures, lambda: quotes, options)


def compare_recorded(
    rfq: RfqInput,
    recorded: Sequence[RecordedQuote],
    *,
    load: Callable[[Sequence[str]], Sequence[Quote]],
    as_of: date,
    supplier_scores: Mapping[str, Decimal],
    ineligible: Collection[str] = (),
    top: int | None = None,
    exclude: Mapping[str, Collection[str]] = _NO_EXCLUSIONS,
    eligible_only: bool = False,
    deducts_input_vat: bool = True,
) -> Comparison:
    """``compare`` from the figures kept when the quotes were recorded, without their terms:
    a comparison of the API's largest RFQ read and validated 40,000 quote lines to show a
    thousand. ``load`` reads the named revisions' quotes, in the order named: only those whose
    figures cannot serve (none kept, or kept for other lines) are read and priced afresh, and
    every one when the reference must answer; the answer is ``compare``'s either way."""
    options = _Options(
        as_of, supplier_scores, ineligible, top, exclude, eligible_only, deducts_input_vat
    )

    def figures(lines: RfqLines) -> list[tuple[QuoteHeader, PricedQuote]]:
        def terms(at: list[int]) -> list[QuoteTerms]:
            return [quote.terms for quote in load([recorded[i].quote_id for i in at])]

        kept = [quote.priced for quote in recorded]
        return _serving(recorded, kept, terms, lines, options)

    return _compare(rfq, figures, lambda: load([quote.quote_id for quote in recorded]), options)


def _serving(
    quotes: Sequence[QuoteHeader],
    kept: Sequence[PricedQuote | None],
    terms: Callable[[list[int]], Sequence[QuoteTerms]],
    lines: RfqLines,
    options: _Options,
) -> list[tuple[QuoteHeader, PricedQuote]]:
    """Each quote with the figures it is compared by: those kept where they serve, else its
    terms (``terms``, asked only for those quotes, by their places) priced here; a quote that
    covers no RFQ line is left out."""
    deducts = options.deducts_input_vat
    figures = list(kept)
    lacking = [
        i
        for i, priced in enumerate(kept)
        if priced is None or not priced.serves(lines, deducts_input_vat=deducts)
    ]
    if lacking:
        for i, quote_terms in zip(lacking, terms(lacking), strict=True):
            figures[i] = price_quote(quote_terms, lines, with_taxes=not deducts)
    return [
        (quote, priced) for quote, priced in zip(quotes, figures, strict=True) if priced is not None
    ]


def _default_context() -> bool:
    context = getcontext()
    return context.prec >= 28 and context.rounding == ROUND_HALF_EVEN


def _compare(
    rfq: RfqInput,
    figures: Callable[[RfqLines], Sequence[tuple[QuoteHeader, PricedQuote]]],
    quotes: Callable[[], Sequence[Quote]],
    options: _Options,
) -> Comparison:
    """The comparison from each quote's figures against the RFQ's lines; ``quotes``: the
    quotes themselves, for the reference when the integer path cannot answer."""
    top, exclude, eligible_only = options.top, options.exclude, options.eligible_only
    basis = NET_OF_VAT if options.deducts_input_vat else INCLUDING_VAT
    ranker = Ranker(rfq, as_of=options.as_of, basis=basis, deducts=options.deducts_input_vat)
    try:
        if not _default_context():
            raise Unrepresentable("a Decimal context other than the default")
        rfq_lines = rfq_lines_of(rfq)
        quoted = _quoted(
            figures(rfq_lines),
            invited={supplier.org_id: supplier.score for supplier in rfq.suppliers},
            supplier_scores=options.supplier_scores,
            ineligible=options.ineligible,
            deducts_input_vat=options.deducts_input_vat,
            factor=ranker.factors[2],
        )
        ranker.priced(quoted)
    except Unrepresentable:
        return quotes_reference.compare(rfq, quotes(), **options._asdict())
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
        as_of=options.as_of,
        deducts_input_vat=options.deducts_input_vat,
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
