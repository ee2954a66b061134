"""A quote revision priced against its RFQ's lines: once, when it is recorded, not every comparison.

Pricing a quote (each covered line's goods, logistics, freight share, VAT and landed cost in
cents, its days to arrival, whether its MOQ fits) depends on nothing but the revision's terms
and the RFQ's lines (ids and quantities), and neither ever changes: a revision is a row of its
own and an RFQ's lines are fixed when it opens. Yet it was most of a comparison's time, redone
for every comparison of every offer (1,000 x 1,000 half quoted: 1.4 of 1.8 s of CPU).

So the activity recording a revision prices it here and keeps the figures beside its terms
(``quotes.priced``, migration 0027), and ``rules.quotes.compare`` reads them, applying only what
may change after a quote is recorded: the supplier's standing (score, suspension) and the buyer's
VAT basis (the landed cost is kept both net of the VAT and including it). The figures name the
lines they were priced against (``RfqLines.digest``): figures for other lines, from an older
format, or missing (a revision recorded before 0027, an amount past the integer path's bound)
are not used, and the quote is priced afresh, by the same function.
"""

from __future__ import annotations

import hashlib
import sys
from array import array
from collections.abc import Mapping, Sequence
from decimal import Decimal
from operator import add, ge
from typing import NamedTuple

from contracts.sourcing import QuoteLine, QuoteTerms, RfqInput
from rules.landed_cost_cents import (
    QUANTITY_SCALE,
    LineColumns,
    QuoteCosts,
    columns,
    line_costs,
    scaled,
)

FORMAT = 1  # of the kept figures (``as_bytes``): figures of another format are priced afresh


class RfqLines(NamedTuple):
    """The RFQ's lines by place: a line id's place (the last, should an id repeat: its quantity
    prices them all, as in the reference), its id, quantity and thousandths, and a digest of the
    ids and quantities naming what a quote was priced against."""

    place: dict[str, int]
    ids: list[str]
    quantity: list[Decimal]
    milli: list[int]
    digest: str


def rfq_lines(rfq: RfqInput) -> RfqLines:
    """The RFQ's lines; raises ``Unrepresentable`` for a quantity past the integer path."""
    ids = [line.line_id for line in rfq.lines]
    quantities = [line.quantity for line in rfq.lines]
    milli = [scaled(q, QUANTITY_SCALE) for q in quantities]
    named = "\n".join(f"{line_id}\t{m}" for line_id, m in zip(ids, milli, strict=True))
    return RfqLines(
        {line_id: place for place, line_id in enumerate(ids)},
        ids,
        quantities,
        milli,
        hashlib.sha256(named.encode()).hexdigest(),
    )


class PricedQuote(NamedTuple):
    """One revision's covered lines priced, column by column in the quote's order: the lines
    it covers (``kept``: their indices among the quote's lines, None for all of them in order),
    their RFQ places, costs net of VAT, each line's VAT, days to arrival and MOQ fit."""

    digest: str  # RfqLines.digest of the lines priced against
    kept: list[int] | None
    places: list[int]
    goods: list[int]
    logistics: list[int]
    shares: list[int]
    landed: list[int]  # net of VAT
    taxes: list[int] | None  # by line; None when priced for a buyer deducting VAT only
    rate: int
    freight_rate: int | None
    days: list[int]
    moq_fits: list[bool]

    def costs(self, *, deducts_input_vat: bool) -> QuoteCosts:
        """The lines' costs on the buyer's basis: landed net of VAT, or including it."""
        landed = self.landed
        if not deducts_input_vat:
            if self.taxes is None:
                raise ValueError("priced without the VAT for a buyer who cannot deduct it")
            landed = list(map(add, landed, self.taxes))
        return QuoteCosts(
            self.goods, self.logistics, self.shares, landed, self.rate, self.freight_rate
        )

    def lines(self, terms: QuoteTerms) -> Sequence[QuoteLine]:
        """The quote lines these figures are for, in their order."""
        lines = terms.lines
        return lines if self.kept is None else [lines[i] for i in self.kept]

    def as_bytes(self) -> bytes | None:
        """The figures as kept in ``quotes.priced``: the digest, then signed 64-bit integers,
        little-endian (a header, then a column after another); None past 64 bits (a quote of
        trillions: priced afresh at each comparison). Read back by ``from_bytes``, at memory
        speed: a comparison of 500,000 offers decoded these from JSON in 0.4 s."""
        n = len(self.places)
        header = [
            FORMAT,
            n,
            self.rate,
            -1 if self.freight_rate is None else self.freight_rate,
            self.kept is not None,
            self.taxes is not None,
        ]
        figures = array("q", header)
        try:
            for column in (
                self.kept or (),
                self.places,
                self.goods,
                self.logistics,
                self.shares,
                self.landed,
                self.taxes or (),
                self.days,
                self.moq_fits,
            ):
                figures.extend(column)
        except OverflowError:
            return None
        if sys.byteorder != "little":
            figures.byteswap()
        return bytes.fromhex(self.digest) + figures.tobytes()


def from_bytes(kept: bytes | None) -> PricedQuote | None:
    """Figures kept by ``PricedQuote.as_bytes``; None when absent or of another format."""
    if kept is None or len(kept) < _DIGEST_BYTES + _HEADER * 8:
        return None
    figures = array("q")
    figures.frombytes(kept[_DIGEST_BYTES:])
    if sys.byteorder != "little":
        figures.byteswap()
    values = figures.tolist()
    form, n, rate, freight_rate, with_kept, with_taxes = values[:_HEADER]
    names = [
        name
        for name in _COLUMNS
        if (name != "kept" or with_kept) and (name != "taxes" or with_taxes)
    ]
    if form != FORMAT or n < 1 or len(values) != _HEADER + n * len(names):
        return None
    cut = {
        name: values[start : start + n]
        for name, start in zip(names, range(_HEADER, len(values), n), strict=True)
    }
    return PricedQuote(
        digest=kept[:_DIGEST_BYTES].hex(),
        kept=cut.get("kept"),
        places=cut["places"],
        goods=cut["goods"],
        logistics=cut["logistics"],
        shares=cut["shares"],
        landed=cut["landed"],
        taxes=cut.get("taxes"),
        rate=rate,
        freight_rate=None if freight_rate < 0 else freight_rate,
        days=cut["days"],
        moq_fits=list(map(bool, cut["moq_fits"])),
    )


_DIGEST_BYTES = 32  # sha256
_HEADER = 6
_COLUMNS = (
    "kept",
    "places",
    "goods",
    "logistics",
    "shares",
    "landed",
    "taxes",
    "days",
    "moq_fits",
)


def _covered(
    lines: Sequence[QuoteLine], place_of: Mapping[str, int]
) -> tuple[list[int] | None, LineColumns, list[int]] | None:
    """The indices of the quote's lines for known RFQ lines, the first of a repeated id (None:
    all of them, the usual quote), their fields and RFQ places, in the quote's order
    (``covered_lines``' set, which orders them by the RFQ); None when it covers none."""
    if not lines:
        return None
    fields = columns(lines)
    places = list(map(place_of.get, fields.line_ids))
    if None not in places and len(set(places)) == len(places):
        return None, fields, places  # type: ignore[return-value]  # no None among them
    first: dict[int, int] = {}
    for i, place in enumerate(places):
        if place is not None:
            first.setdefault(place, i)
    if not first:
        return None
    kept = list(first.values())
    return (
        kept,
        LineColumns._make([column[i] for i in kept] for column in fields),
        list(first),
    )


def price_quote(terms: QuoteTerms, rfq: RfqLines, *, with_taxes: bool = True) -> PricedQuote | None:
    """The quote's covered lines priced against ``rfq``'s (None when it covers none); raises
    ``Unrepresentable`` past the integer path's bound. ``with_taxes=False`` leaves each line's
    VAT out, for a comparison net of VAT pricing afresh."""
    covered = _covered(terms.lines, rfq.place)
    if covered is None:
        return None
    kept, fields, places = covered
    costs = line_costs(terms, fields, places, rfq.quantity, rfq.milli, deducts_input_vat=True)
    return PricedQuote(
        digest=rfq.digest,
        kept=kept,
        places=places,
        goods=costs.goods,
        logistics=costs.logistics,
        shares=costs.shares,
        landed=costs.landed,
        taxes=list(map(costs.tax, range(len(places)))) if with_taxes else None,
        rate=costs.rate,
        freight_rate=costs.freight_rate,
        days=list(map(add, fields.lead_times, fields.transits)),
        moq_fits=list(map(ge, map(rfq.quantity.__getitem__, places), fields.moqs)),
    )
