"""A revision's figures priced when it is recorded (rules.quote_pricing): kept exactly, used by
the comparison when they were priced against the RFQ's lines, ignored otherwise.

The equivalence of a comparison from kept figures with the reference, on random RFQs, is in
tests/rules/test_quotes_equivalence.py.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from decimal import Decimal
from functools import partial

from contracts.sourcing import Quote
from rules.quote_pricing import (
    FORMAT,
    PricedQuote,
    RecordedQuote,
    from_bytes,
    price_quote,
    rfq_lines,
)
from rules.quotes import compare, compare_recorded
from tests.rules.test_quotes import AS_OF, make_quote, make_rfq, qline, rfq_line

D = Decimal
RFQ = make_rfq(rfq_line("L1", "100"), rfq_line("L2", "40"))


def _compare(*quotes_: object, priced: dict[str, PricedQuote]) -> list[list[Decimal]]:
    found = compare(
        RFQ,
        quotes_,  # type: ignore[arg-type]
        as_of=AS_OF,
        supplier_scores={},
        priced=priced,
    )
    return [[offer.landed_cost for offer in line.offers] for line in found.lines]


def test_figures_read_back_are_the_figures_priced() -> None:
    quote = make_quote(
        "org_a",
        qline("L2", "3.5", breaks=(("10", "3.25"),), logistics="12.5", moq="50"),
        qline("L9", "1"),  # not an RFQ line: not covered
        qline("L1", "7.1234", lead=4, transit=2),
        qline("L2", "99"),  # a repeated line: the first counts
        freight="80",
        tax_rate="0.13",
    )
    priced = price_quote(quote.terms, rfq_lines(RFQ))
    assert priced is not None
    assert priced.places == [1, 0]
    assert priced.days == [10, 6] and priced.moq_fits == [False, True]
    assert priced.taxes is not None and len(priced.taxes) == 2
    # What a shown offer needs of its line: the price after the break at 40, stock and MOQ,
    # with the places the supplier wrote them in.
    assert list(priced.fields) == [
        (D("3.25"), D("10"), D("1000000"), D("50")),
        (D("7.1234"), None, D("1000000"), D("0")),
    ]
    read = from_bytes(priced.as_bytes())
    assert read == priced
    assert read is not None and str(read.fields[0][0]) == "3.25"


def test_the_comparison_reads_the_kept_figures() -> None:
    quote = make_quote("org_a", qline("L1", "10"), qline("L2", "10"))
    priced = price_quote(quote.terms, rfq_lines(RFQ))
    assert priced is not None
    assert _compare(quote, priced={}) == [[D("1000.00")], [D("400.00")]]
    # Figures altered on purpose are what it shows: they are used, not priced again.
    altered = priced._replace(landed=[123, 456])
    assert _compare(quote, priced={quote.quote_id: altered}) == [[D("1.23")], [D("4.56")]]


def test_figures_priced_against_other_lines_are_priced_afresh() -> None:
    quote = make_quote("org_a", qline("L1", "10"), qline("L2", "10"))
    other = make_rfq(rfq_line("L1", "5"), rfq_line("L2", "40"))
    stale = price_quote(quote.terms, rfq_lines(other))
    assert stale is not None and stale.landed[0] == 5_000
    assert _compare(quote, priced={quote.quote_id: stale}) == [[D("1000.00")], [D("400.00")]]


def test_a_quote_past_64_bits_keeps_no_figures() -> None:
    big = make_rfq(rfq_line("L1", "1000000000"))
    quote = make_quote("org_a", qline("L1", "100000000"))
    priced = price_quote(quote.terms, rfq_lines(big))
    assert priced is not None and priced.landed[0] >= 2**63
    assert priced.as_bytes() is None


# The figures of test_recorded_quotes_are_compared_without_their_terms's first quote as format 2
# kept them (every column 64 bits wide): rows recorded before format 3 are read, not re-priced.
WIDE = bytes.fromhex(
    "705487c00a14b7773ee92e414e1ff22e1bd2369e467df65767f61d25557daec7c838653a0200000000000000"
    "02000000000000000000000000000000ffffffffffffffff00000000000000000100000000000000a0860100"
    "0000000050c30000000000000000000000000000000000000000000000000000000000000000000000000000"
    "a08601000000000050c3000000000000000000000000000000000000000000000a000000000000000a000000"
    "000000000100000000000000010000000000000000000000000000000d000000000000001700000000000000"
    "3130090931303030303030093031322e35300909350930"
)


def test_figures_kept_in_the_wide_format_are_read() -> None:
    quote = make_quote("org_a", qline("L1", "10"), qline("L2", "12.50", stock="5"))
    priced = price_quote(quote.terms, rfq_lines(RFQ))
    assert priced is not None and from_bytes(WIDE) == priced
    narrow = priced.as_bytes()
    assert narrow is not None and len(narrow) < len(WIDE) and from_bytes(narrow) == priced


def test_each_column_is_kept_as_wide_as_its_widest_value() -> None:
    quote = make_quote("org_a", qline("L1", "10"), qline("L2", "10"))
    priced = price_quote(quote.terms, rfq_lines(RFQ))
    assert priced is not None
    for value in (-(2**7), 2**7, -(2**15) - 1, 2**15, 2**31, -(2**31) - 1, 2**63 - 1):
        wide = priced._replace(goods=[5, value], logistics=[-(2**63), 0])
        kept = wide.as_bytes()
        assert kept is not None and from_bytes(kept) == wide


def test_figures_damaged_of_another_format_or_cut_short_are_not_read() -> None:
    quote = make_quote("org_a", qline("L1", "10"), qline("L2", "10"))
    priced = price_quote(quote.terms, rfq_lines(RFQ))
    assert priced is not None
    kept = priced.as_bytes()
    assert kept is not None and from_bytes(kept) == priced
    assert from_bytes(None) is None
    assert from_bytes(kept[:-8]) is None
    for at in range(0, len(kept), 7):  # any byte changed: the CRC refuses it
        assert from_bytes(kept[:at] + bytes([kept[at] ^ 0x10]) + kept[at + 1 :]) is None
    body = kept[4:]  # after the CRC: the digest, then the format
    other = body[:32] + (FORMAT + 1).to_bytes(8, "little") + body[40:]
    assert from_bytes(zlib.crc32(other).to_bytes(4, "little") + other) is None


def _recorded(quote: Quote, priced: PricedQuote | None) -> RecordedQuote:
    return RecordedQuote(quote.quote_id, quote.supplier_org_id, quote.revision, priced)


def test_recorded_quotes_are_compared_without_their_terms() -> None:
    quotes_ = [
        make_quote("org_a", qline("L1", "10"), qline("L2", "12.50", stock="5")),
        make_quote("org_b", qline("L1", "9.5", moq="500"), freight="30", tax_rate="0.13"),
    ]
    lines = rfq_lines(RFQ)
    kept = [_recorded(q, from_bytes(_bytes(price_quote(q.terms, lines)))) for q in quotes_]

    def unread(quote_ids: Sequence[str]) -> list[Quote]:
        raise AssertionError(f"terms read though every quote's figures serve: {quote_ids}")

    for deducts in (True, False):
        options = {"as_of": AS_OF, "supplier_scores": {}, "deducts_input_vat": deducts}
        expected = compare(RFQ, quotes_, **options)  # type: ignore[arg-type]
        found = compare_recorded(RFQ, kept, load=unread, **options)  # type: ignore[arg-type]
        assert found == expected
        assert found.model_dump_json() == expected.model_dump_json()


def test_recorded_quotes_without_figures_for_these_lines_are_read() -> None:
    quotes_ = [make_quote("org_a", qline("L1", "10")), make_quote("org_b", qline("L1", "9"))]
    other = rfq_lines(make_rfq(rfq_line("L1", "7")))
    cases = [
        [
            _recorded(quotes_[0], None),
            _recorded(quotes_[1], price_quote(quotes_[1].terms, rfq_lines(RFQ))),
        ],
        [_recorded(q, price_quote(q.terms, other)) for q in quotes_],
    ]
    for recorded, read in zip(cases, [["q_org_a"], ["q_org_a", "q_org_b"]], strict=True):
        loads: list[list[str]] = []
        load = partial(_counted, loads, {quote.quote_id: quote for quote in quotes_})
        found = compare_recorded(RFQ, recorded, load=load, as_of=AS_OF, supplier_scores={})
        assert loads == [read]  # only the quotes whose figures cannot serve
        assert found == compare(RFQ, quotes_, as_of=AS_OF, supplier_scores={})


def _counted(
    loads: list[list[str]], quotes_: dict[str, Quote], quote_ids: Sequence[str]
) -> list[Quote]:
    loads.append(list(quote_ids))
    return [quotes_[quote_id] for quote_id in quote_ids]


def _bytes(priced: PricedQuote | None) -> bytes | None:
    return None if priced is None else priced.as_bytes()
