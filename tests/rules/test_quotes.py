"""Price breaks, landed cost, arrival, eligibility, scores, ranks and awards, worked by hand."""

# The explanations print a real multiplication sign, which ruff would take for a letter x.
# ruff: noqa: RUF001

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from contracts.common import Actor, Role
from contracts.sourcing import (
    Comparison,
    EvaluationWeights,
    Incoterm,
    InvitedSupplier,
    PriceBreak,
    Quote,
    QuoteComparison,
    QuoteLine,
    QuoteTerms,
    RfqInput,
    RfqLine,
)
from rules.landed_cost import TRANSPORT_VAT_RATE, allocate_freight, landed_costs, unit_price_for
from rules.quotes import (
    LATE_PENALTY_MAX,
    arrival_date,
    compare,
    days_late,
    late_penalty,
    recommended_awards,
)

AS_OF = date(2026, 3, 2)
NEEDED_BY = date(2026, 4, 1)  # 30 days after AS_OF
BUYER = Actor(user_id="usr_buyer", org_id="org_buyer", roles=(Role.BUYER,))
D = Decimal


def rfq_line(line_id: str, quantity: str) -> RfqLine:
    return RfqLine(line_id=line_id, description=f"item {line_id}", quantity=D(quantity), unit="kg")


def make_rfq(
    *lines: RfqLine,
    weights: EvaluationWeights | None = None,
    invited: Mapping[str, str] | None = None,
) -> RfqInput:
    return RfqInput(
        rfq_id="rfq_1",
        buyer_org_id=BUYER.org_id,
        buyer_legal_name="Buyer Co",
        buyer_credit_code="91320200MA1HENGX3W",
        title="solvents",
        lines=lines,
        delivery_place="Suzhou",
        incoterm=Incoterm.DAP,
        needed_by=NEEDED_BY,
        quote_deadline=datetime(2026, 3, 2, 10, tzinfo=UTC),
        currency="CNY",
        payment_terms="30 days",
        weights=weights or EvaluationWeights(),
        sealed=True,
        category=None,
        suppliers=tuple(
            InvitedSupplier(org_id=org, legal_name=org, credit_code="x", score=D(score))
            for org, score in (invited or {}).items()
        ),
        created_by=BUYER,
        created_at=datetime(2026, 2, 1, tzinfo=UTC),
    )


def qline(
    line_id: str,
    unit_price: str,
    *,
    breaks: tuple[tuple[str, str], ...] = (),
    stock: str = "1000000",
    moq: str = "0",
    lead: int = 10,
    transit: int = 0,
    logistics: str = "0",
) -> QuoteLine:
    return QuoteLine(
        line_id=line_id,
        unit_price=D(unit_price),
        price_breaks=tuple(PriceBreak(min_quantity=D(q), unit_price=D(p)) for q, p in breaks),
        stock_available=D(stock),
        min_order_quantity=D(moq),
        lead_time_days=lead,
        transit_days=transit,
        logistics_cost=D(logistics),
    )


def make_quote(supplier: str, *lines: QuoteLine, freight: str = "0", tax_rate: str = "0") -> Quote:
    return Quote(
        quote_id=f"q_{supplier}",
        rfq_id="rfq_1",
        supplier_org_id=supplier,
        revision=1,
        terms=QuoteTerms(
            lines=lines,
            valid_until=date(2026, 6, 1),
            freight=D(freight),
            tax_rate=D(tax_rate),
        ),
        submitted_by="usr_supplier",
        submitted_at=datetime(2026, 3, 1, tzinfo=UTC),
    )


def run(
    rfq: RfqInput,
    *quotes: Quote,
    scores: Mapping[str, str] | None = None,
    ineligible: tuple[str, ...] = (),
) -> Comparison:
    supplier_scores = {org: D(score) for org, score in (scores or {}).items()}
    if scores is None:
        supplier_scores = {q.supplier_org_id: D(100) for q in quotes}
    return compare(rfq, quotes, as_of=AS_OF, supplier_scores=supplier_scores, ineligible=ineligible)


def offers_of(comparison: Comparison, line_id: str = "L1") -> dict[str, QuoteComparison]:
    (line,) = [line for line in comparison.lines if line.line_id == line_id]
    return {offer.supplier_org_id: offer for offer in line.offers}


def order_of(comparison: Comparison, line_id: str = "L1") -> list[str]:
    (line,) = [line for line in comparison.lines if line.line_id == line_id]
    return [offer.supplier_org_id for offer in line.offers]


# -- price breaks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        ("99.999", "10.0000"),  # below the first break: list price
        ("100", "9.5000"),  # exactly at a break: it applies
        ("499.999", "9.5000"),
        ("500", "9.0000"),  # the highest break reached wins
        ("10000", "9.0000"),
    ],
)
def test_price_break_boundaries(quantity: str, expected: str) -> None:
    # Breaks deliberately listed highest first: the rule picks by min_quantity, not position.
    line = qline("L1", "10.0000", breaks=(("500", "9.0000"), ("100", "9.5000")))
    assert unit_price_for(line, D(quantity)) == D(expected)


def test_break_price_reaches_the_comparison_and_explanation() -> None:
    rfq = make_rfq(rfq_line("L1", "500"))
    quote = make_quote("org_a", qline("L1", "10", breaks=(("100", "9.5"), ("500", "9"))))
    offer = offers_of(run(rfq, quote))["org_a"]
    # 500 x 9.00 = 4,500.00
    assert (offer.unit_price, offer.goods, offer.landed_cost) == (D(9), D("4500.00"), D("4500.00"))
    assert offer.explanation.startswith(
        "landed CNY 4,500.00 net of deductible VAT (break at 500 applied); "
    )


# -- freight allocation ----------------------------------------------------------------------


def test_freight_remainder_goes_to_the_largest_line() -> None:
    # goods 100, 100, 200; freight 0.10 -> exact 0.025, 0.025, 0.05
    # the two smaller round half up to 0.03 each; the largest takes 0.10 - 0.06 = 0.04
    # (rounding each share alone would give 0.03 + 0.03 + 0.05 = 0.11: a cent invented)
    shares = allocate_freight(D("0.10"), [D(100), D(100), D(200)])
    assert shares == [D("0.03"), D("0.03"), D("0.04")]
    assert sum(shares) == D("0.10")


def test_freight_remainder_on_a_tie_goes_to_the_first_line() -> None:
    # three equal lines, freight 100.00 -> 33.333... each -> 33.33, 33.33; first gets 33.34
    assert allocate_freight(D("100.00"), [D(5), D(5), D(5)]) == [
        D("33.34"),
        D("33.33"),
        D("33.33"),
    ]


def test_a_few_cents_over_many_lines_never_gives_a_negative_share() -> None:
    # 0.03 over six equal lines: 0.005 each; half up the five others take 0.05 > 0.03, which
    # would leave the first -0.02; rounded down instead they take 0.00 and the first 0.03
    shares = allocate_freight(D("0.03"), [D(1)] * 6)
    assert shares == [D("0.03"), *[D("0.00")] * 5]


def test_freight_without_goods_value_is_split_evenly_and_rounded_to_cents() -> None:
    # freight 10.004 -> 10.00; 3.333... -> 3.33, 3.33 and the first 10.00 - 6.66 = 3.34
    assert allocate_freight(D("10.004"), [D(0), D(0), D(0)]) == [D("3.34"), D("3.33"), D("3.33")]


def test_landed_costs_allocate_freight_in_rfq_order_and_tax_it() -> None:
    quantities = {"L1": D(10), "L2": D(10), "L3": D(10)}
    terms = make_quote(
        "org_a",
        # quote order differs from RFQ order; an unknown line and a repeated L1 are ignored
        qline("L3", "10"),
        qline("ZZ", "99"),
        qline("L1", "10"),
        qline("L1", "1"),
        qline("L2", "10"),
        freight="100.00",
        tax_rate="0.10",
    ).terms
    costs = landed_costs(terms, quantities, deducts_input_vat=False)
    assert list(costs) == ["L1", "L2", "L3"]
    # goods 10 x 10 = 100.00 each; freight 33.34 (L1, first of equals), 33.33, 33.33
    # L1: tax 0.10 x 133.34 = 13.334 -> 13.33; landed 146.67; unit 14.667 -> 14.6670
    # L2: tax 0.10 x 133.33 = 13.333 -> 13.33; landed 146.66; unit 14.666 -> 14.6660
    assert costs["L1"].freight_share == D("33.34")
    assert (costs["L1"].tax, costs["L1"].landed, costs["L1"].landed_unit_cost) == (
        D("13.33"),
        D("146.67"),
        D("14.6670"),
    )
    assert (costs["L2"].freight_share, costs["L2"].tax, costs["L2"].landed) == (
        D("33.33"),
        D("13.33"),
        D("146.66"),
    )
    assert sum(cost.freight_share for cost in costs.values()) == D("100.00")
    # a general taxpayer deducts the 13.33 VAT: 133.34 net, 13.3340 a unit
    net = landed_costs(terms, quantities)["L1"]
    assert (net.tax, net.deductible, net.landed, net.landed_unit_cost) == (
        D("13.33"),
        D("13.33"),
        D("133.34"),
        D("13.3340"),
    )


def test_each_component_is_rounded_half_up() -> None:
    quantities = {"L1": D(3), "L2": D(1)}
    terms = make_quote(
        "org_a", qline("L1", "3.3333", logistics="1.005"), qline("L2", "0.125"), tax_rate="0.13"
    ).terms
    costs = landed_costs(terms, quantities, deducts_input_vat=False)
    one, two = costs["L1"], costs["L2"]
    # L1: goods 3 x 3.3333 = 9.9999 -> 10.00; logistics 1.005 -> 1.01 (half even: 1.00)
    #     tax 0.13 x 11.01 = 1.4313 -> 1.43; landed 12.44; unit 12.44 / 3 = 4.14666 -> 4.1467
    assert (one.goods, one.logistics, one.tax, one.landed) == (
        D("10.00"),
        D("1.01"),
        D("1.43"),
        D("12.44"),
    )
    assert one.landed_unit_cost == D("4.1467")
    # L2: goods 1 x 0.125 -> 0.13 (half even: 0.12); tax 0.13 x 0.13 = 0.0169 -> 0.02
    assert (two.goods, two.tax, two.landed) == (D("0.13"), D("0.02"), D("0.15"))


# -- VAT basis: general taxpayer or small-scale (rules/landed_cost.py) --------------------------

PRICE_ONLY = EvaluationWeights(price=D(100), lead_time=D(0), supplier_score=D(0))
# 105 net from a small-scale supplier invoicing at the 3% levy rate, 100 net at the 13% goods
# rate (公告2019年第39号 art. 1)
SMALL_SCALE_SUPPLIER = make_quote("org_a", qline("L1", "1.05"), tax_rate="0.03")
GOODS_RATE_SUPPLIER = make_quote("org_b", qline("L1", "1.00"), tax_rate="0.13")


def test_a_general_taxpayer_compares_net_of_the_vat_it_deducts() -> None:
    """增值税暂行条例 art. 8: input VAT is deducted, so it is no cost to a general taxpayer."""
    rfq = make_rfq(rfq_line("L1", "100"), weights=PRICE_ONLY)
    comparison = run(rfq, SMALL_SCALE_SUPPLIER, GOODS_RATE_SUPPLIER)
    offers = offers_of(comparison)
    # org_a: goods 105.00, VAT 3.15 deducted: 105.00; org_b: goods 100.00, VAT 13.00: 100.00
    assert comparison.deducts_input_vat is True
    assert (offers["org_a"].tax, offers["org_a"].deductible_tax) == (D("3.15"), D("3.15"))
    assert (offers["org_b"].tax, offers["org_b"].deductible_tax) == (D("13.00"), D("13.00"))
    assert (offers["org_a"].landed_cost, offers["org_b"].landed_cost) == (D("105.00"), D("100.00"))
    # price 100/105 = 0.952380... -> 95.24
    assert order_of(comparison) == ["org_b", "org_a"]
    assert (offers["org_b"].score, offers["org_a"].score) == (D("100.00"), D("95.24"))
    assert offers["org_b"].explanation == (
        "landed CNY 100.00 net of deductible VAT; "
        "price 1.000×100%, lead 1.000×0%, supplier 1.000×0% → 100.00"
    )


def test_a_small_scale_taxpayer_compares_including_vat() -> None:
    """增值税暂行条例 art. 11: a small-scale taxpayer deducts no input VAT, so VAT is cost."""
    rfq = make_rfq(rfq_line("L1", "100"), weights=PRICE_ONLY)
    comparison = compare(
        rfq,
        (SMALL_SCALE_SUPPLIER, GOODS_RATE_SUPPLIER),
        as_of=AS_OF,
        supplier_scores={"org_a": D(100), "org_b": D(100)},
        deducts_input_vat=False,
    )
    offers = offers_of(comparison)
    # org_a: 105.00 + 3.15 = 108.15; org_b: 100.00 + 13.00 = 113.00
    assert comparison.deducts_input_vat is False
    assert (offers["org_a"].landed_cost, offers["org_b"].landed_cost) == (D("108.15"), D("113.00"))
    assert (offers["org_a"].deductible_tax, offers["org_b"].deductible_tax) == (D(0), D(0))
    # price 108.15/113 = 0.957079... -> 95.71
    assert order_of(comparison) == ["org_a", "org_b"]
    assert (offers["org_a"].score, offers["org_b"].score) == (D("100.00"), D("95.71"))
    assert offers["org_a"].explanation.startswith("landed CNY 108.15 including VAT; ")


def _freight_terms(freight_tax_rate: Decimal | None) -> QuoteTerms:
    return QuoteTerms(
        lines=(qline("L1", "3"), qline("L2", "7")),
        valid_until=date(2026, 6, 1),
        freight=D("100.01"),
        tax_rate=D("0.13"),
        freight_tax_rate=freight_tax_rate,
    )


def test_freight_invoiced_as_transport_takes_the_transport_rate() -> None:
    """公告2019年第39号 art. 1: transport services 9%, goods 13%."""
    quantities = {"L1": D(100), "L2": D(100)}
    costs = landed_costs(_freight_terms(TRANSPORT_VAT_RATE), quantities, deducts_input_vat=False)
    one, two = costs["L1"], costs["L2"]
    # goods 300.00 and 700.00; freight 100.01: L1 round(30.003) = 30.00, L2 the rest, 70.01
    assert (one.freight_share, two.freight_share) == (D("30.00"), D("70.01"))
    # L1: 0.13 x 300.00 = 39.00 + 0.09 x 30.00 = 2.70 -> 41.70; landed 371.70
    # L2: 0.13 x 700.00 = 91.00 + 0.09 x 70.01 = 6.3009 -> 6.30 -> 97.30; landed 867.31
    assert (one.tax, one.landed) == (D("41.70"), D("371.70"))
    assert (two.tax, two.landed) == (D("97.30"), D("867.31"))
    # a general taxpayer deducts both rates' VAT alike
    net = landed_costs(_freight_terms(TRANSPORT_VAT_RATE), quantities)
    assert (net["L2"].deductible, net["L2"].landed) == (D("97.30"), D("770.01"))


def test_freight_without_its_own_rate_is_taxed_with_the_goods() -> None:
    """财税[2016]36号 附件1 art. 40: a goods seller's delivery is a mixed sale, taxed as goods."""
    quantities = {"L1": D(100), "L2": D(100)}
    costs = landed_costs(_freight_terms(None), quantities, deducts_input_vat=False)
    # L2: 0.13 x (700.00 + 70.01) = 100.1013 -> 100.10, rounded once as before the field existed
    assert (costs["L2"].tax, costs["L2"].landed) == (D("100.10"), D("870.11"))


# -- arrival and lateness ----------------------------------------------------------------------


def test_arrival_and_lateness_boundaries() -> None:
    # 2026-03-02 + 25 + 5 = 2026-04-01, the needed-by date: on time
    on_time = arrival_date(as_of=AS_OF, lead_time_days=25, transit_days=5)
    assert (on_time, days_late(on_time, NEEDED_BY)) == (date(2026, 4, 1), 0)
    late = arrival_date(as_of=AS_OF, lead_time_days=26, transit_days=5)
    assert (late, days_late(late, NEEDED_BY)) == (date(2026, 4, 2), 1)
    early = arrival_date(as_of=AS_OF, lead_time_days=0, transit_days=0)
    assert days_late(early, NEEDED_BY) == 0


def test_late_penalty_is_per_day_and_capped() -> None:
    assert late_penalty(0) == 0
    assert late_penalty(3) == D(3)
    assert late_penalty(1000) == LATE_PENALTY_MAX


def test_lateness_is_a_penalty_and_a_flag_not_a_disqualification() -> None:
    rfq = make_rfq(rfq_line("L1", "100"))
    on_time = make_quote("org_a", qline("L1", "10", lead=30))
    late = make_quote("org_b", qline("L1", "10", lead=33))
    offers = offers_of(run(rfq, on_time, late))
    # org_b: price 1; lead 30/33 = 0.90909...; supplier 1
    #   60 + 25 x 0.90909 + 15 = 97.7272...; 3 days late -> -3 -> 94.73
    assert (offers["org_b"].arrival, offers["org_b"].days_late) == (date(2026, 4, 4), 3)
    assert offers["org_b"].eligible
    assert offers["org_b"].score == D("94.73")
    assert offers["org_b"].explanation.endswith("; arrives 3 days late (score -3)")
    assert offers["org_a"].score == D("100.00")


# -- scores and weights ----------------------------------------------------------------------

# One line of 100 kg; org_a: 10.00/kg, 10 days, supplier score 80;
#                     org_b: 12.50/kg,  5 days, supplier score 100.
TWO_OFFERS = (
    make_quote("org_a", qline("L1", "10.00", lead=10)),
    make_quote("org_b", qline("L1", "12.50", lead=5)),
)
TWO_SCORES = {"org_a": "80", "org_b": "100"}


def test_weighted_score_worked_example() -> None:
    comparison = run(make_rfq(rfq_line("L1", "100")), *TWO_OFFERS, scores=TWO_SCORES)
    offers = offers_of(comparison)
    # landed 1,000.00 and 1,250.00; price 1000/1000 = 1 and 1000/1250 = 0.8
    # lead: min 5 days; 5/10 = 0.5 and 5/5 = 1; supplier 0.8 and 1.0
    # org_a: 60 x 1 + 25 x 0.5 + 15 x 0.8 = 60 + 12.5 + 12 = 84.50
    # org_b: 60 x 0.8 + 25 x 1 + 15 x 1 = 48 + 25 + 15 = 88.00
    assert (offers["org_a"].score, offers["org_b"].score) == (D("84.50"), D("88.00"))
    assert order_of(comparison) == ["org_b", "org_a"]
    assert (offers["org_b"].rank, offers["org_a"].rank) == (1, 2)
    assert offers["org_a"].explanation == (
        "landed CNY 1,000.00 net of deductible VAT; "
        "price 1.000×60%, lead 0.500×25%, supplier 0.800×15% → 84.50"
    )


def test_weights_are_normalised() -> None:
    rfq_2_1_1 = make_rfq(
        rfq_line("L1", "100"),
        weights=EvaluationWeights(price=D(2), lead_time=D(1), supplier_score=D(1)),
    )
    rfq_50_25_25 = make_rfq(
        rfq_line("L1", "100"),
        weights=EvaluationWeights(price=D(50), lead_time=D(25), supplier_score=D(25)),
    )
    small = offers_of(run(rfq_2_1_1, *TWO_OFFERS, scores=TWO_SCORES))
    large = offers_of(run(rfq_50_25_25, *TWO_OFFERS, scores=TWO_SCORES))
    # org_a: 100 x (2 x 1 + 0.5 + 0.8) / 4 = 82.50; org_b: 100 x (1.6 + 1 + 1) / 4 = 90.00
    assert {org: o.score for org, o in small.items()} == {"org_a": D("82.50"), "org_b": D("90.00")}
    assert {org: (o.score, o.rank) for org, o in small.items()} == {
        org: (o.score, o.rank) for org, o in large.items()
    }
    assert "price 0.800×50%, lead 1.000×25%, supplier 1.000×25%" in small["org_b"].explanation


def test_weights_change_the_ranking() -> None:
    price_only = make_rfq(
        rfq_line("L1", "100"),
        weights=EvaluationWeights(price=D(1), lead_time=D(0), supplier_score=D(0)),
    )
    comparison = run(price_only, *TWO_OFFERS, scores=TWO_SCORES)
    # price only: org_a 100 x 1 = 100.00, org_b 100 x 0.8 = 80.00
    assert order_of(comparison) == ["org_a", "org_b"]
    assert offers_of(comparison)["org_b"].score == D("80.00")


def test_zero_days_to_arrival_counts_as_one_day() -> None:
    rfq = make_rfq(rfq_line("L1", "100"))
    now = make_quote("org_a", qline("L1", "10", lead=0, transit=0))
    later = make_quote("org_b", qline("L1", "10", lead=1, transit=1))
    offers = offers_of(run(rfq, now, later))
    # org_a: 0 days -> 1; lead 1/1 = 1. org_b: 2 days; lead 1/2 = 0.5
    # org_b: 60 + 25 x 0.5 + 15 = 87.50
    assert offers["org_a"].arrival == AS_OF
    assert (offers["org_a"].score, offers["org_b"].score) == (D("100.00"), D("87.50"))
    assert "lead 0.500×25%" in offers["org_b"].explanation


def test_missing_supplier_score_falls_back_to_the_invitation_then_zero() -> None:
    rfq = make_rfq(rfq_line("L1", "100"), invited={"org_a": "80"})
    offers = offers_of(
        run(
            rfq,
            make_quote("org_a", qline("L1", "10")),
            make_quote("org_b", qline("L1", "10")),
            scores={},
        )
    )
    # both price 1, lead 1: org_a 60 + 25 + 15 x 0.8 = 97.00; org_b 60 + 25 + 0 = 85.00
    assert (offers["org_a"].supplier_score, offers["org_a"].score) == (D(80), D("97.00"))
    assert (offers["org_b"].supplier_score, offers["org_b"].score) == (D(0), D("85.00"))


# -- eligibility and ranks -------------------------------------------------------------------


def test_suspended_supplier_ranks_last_even_when_cheapest() -> None:
    rfq = make_rfq(rfq_line("L1", "100"))
    cheap = make_quote("org_cheap", qline("L1", "5"))
    fair = make_quote("org_fair", qline("L1", "10"))
    dear = make_quote("org_dear", qline("L1", "20"))
    comparison = run(rfq, cheap, fair, dear, ineligible=("org_cheap",))
    offers = offers_of(comparison)
    assert order_of(comparison) == ["org_fair", "org_dear", "org_cheap"]
    assert not offers["org_cheap"].eligible
    # price against the eligible minimum 1,000.00: org_fair 1, org_dear 0.5;
    # org_cheap would be 2 and is capped at 1, so its score stays at 100
    assert offers["org_fair"].score == D("100.00")
    assert offers["org_dear"].score == D("70.00")  # 60 x 0.5 + 25 + 15
    assert offers["org_cheap"].score == D("100.00")
    assert "ineligible: supplier suspended or not accredited" in offers["org_cheap"].explanation


def test_moq_misfit_is_ineligible_and_the_boundary_fits() -> None:
    rfq = make_rfq(rfq_line("L1", "200"))
    too_big = make_quote("org_a", qline("L1", "5", moq="200.001"))
    exact = make_quote("org_b", qline("L1", "10", moq="200"))
    comparison = run(rfq, too_big, exact)
    offers = offers_of(comparison)
    assert (offers["org_a"].moq_fits, offers["org_a"].eligible) == (False, False)
    assert (offers["org_b"].moq_fits, offers["org_b"].eligible) == (True, True)
    assert order_of(comparison) == ["org_b", "org_a"]
    assert "ineligible: below MOQ of 200.001" in offers["org_a"].explanation


def test_short_stock_is_a_flag_not_a_disqualification() -> None:
    rfq = make_rfq(rfq_line("L1", "100"))
    short = make_quote("org_a", qline("L1", "10", stock="80"))
    stocked = make_quote("org_b", qline("L1", "11", stock="100"))
    comparison = run(rfq, short, stocked)
    offers = offers_of(comparison)
    assert (offers["org_a"].stock_covers, offers["org_a"].eligible) == (False, True)
    assert offers["org_b"].stock_covers
    assert order_of(comparison)[0] == "org_a"
    assert offers["org_a"].explanation.endswith("; stock short by 20")


def test_ties_break_on_landed_cost_then_supplier_id() -> None:
    lead_only = make_rfq(
        rfq_line("L1", "100"),
        weights=EvaluationWeights(price=D(0), lead_time=D(1), supplier_score=D(0)),
    )
    quotes = (
        make_quote("org_c", qline("L1", "10")),
        make_quote("org_b", qline("L1", "10")),
        make_quote("org_a", qline("L1", "11")),
    )
    comparison = run(lead_only, *quotes)
    # all score 100.00 on lead time alone; org_a costs more; org_b before org_c by id
    assert {o.score for o in comparison.lines[0].offers} == {D("100.00")}
    assert order_of(comparison) == ["org_b", "org_c", "org_a"]
    assert order_of(run(lead_only, *reversed(quotes))) == ["org_b", "org_c", "org_a"]


def test_lines_without_quotes_and_unknown_lines() -> None:
    rfq = make_rfq(rfq_line("L1", "10"), rfq_line("L2", "10"))
    comparison = run(rfq, make_quote("org_a", qline("L1", "1"), qline("NOPE", "1")))
    assert [line.line_id for line in comparison.lines] == ["L1", "L2"]
    assert comparison.lines[1].offers == ()
    assert (comparison.rfq_id, comparison.currency, comparison.as_of) == ("rfq_1", "CNY", AS_OF)


# -- recommended awards ----------------------------------------------------------------------


def test_recommended_awards_skip_exclusions_and_ineligible_offers() -> None:
    rfq = make_rfq(rfq_line("L1", "100"), rfq_line("L2", "100"), rfq_line("L3", "100"))
    quotes = (
        make_quote("org_a", qline("L1", "10"), qline("L2", "10")),
        make_quote("org_b", qline("L1", "9"), qline("L2", "11")),
        make_quote("org_s", qline("L1", "5"), qline("L2", "5")),
    )
    comparison = run(rfq, *quotes, ineligible=("org_s",))
    # L1: org_b (cheapest eligible), org_a, org_s (suspended); L2: org_a, org_b, org_s; L3 none
    assert recommended_awards(comparison) == {"L1": "org_b", "L2": "org_a"}
    assert recommended_awards(comparison, exclude={"L1": {"org_b"}}) == {
        "L1": "org_a",
        "L2": "org_a",
    }
    # nobody eligible left on L1: the line is omitted, never given to the suspended supplier
    assert recommended_awards(comparison, exclude={"L1": ("org_a", "org_b")}) == {"L2": "org_a"}


def test_a_line_with_only_ineligible_offers_is_ranked_but_not_recommended() -> None:
    rfq = make_rfq(rfq_line("L1", "100"))
    comparison = run(
        rfq,
        make_quote("org_a", qline("L1", "10", moq="500")),
        make_quote("org_b", qline("L1", "20", moq="500")),
    )
    offers = offers_of(comparison)
    # against each other: org_a price 1 -> 100.00; org_b 2000 vs 1000 -> 0.5 -> 70.00
    assert (offers["org_a"].score, offers["org_b"].score) == (D("100.00"), D("70.00"))
    assert order_of(comparison) == ["org_a", "org_b"]
    assert recommended_awards(comparison) == {}


# -- property ---------------------------------------------------------------------------------


def _random_case(rng: random.Random) -> tuple[RfqInput, list[Quote], dict[str, Decimal], set[str]]:
    lines = [rfq_line(f"L{i}", str(rng.randint(1, 1000))) for i in range(rng.randint(1, 6))]
    weights = EvaluationWeights(
        price=D(rng.randint(1, 100)),
        lead_time=D(rng.randint(0, 100)),
        supplier_score=D(rng.randint(0, 100)),
    )
    suppliers = [f"org_{i:02d}" for i in range(rng.randint(1, 9))]
    quotes = []
    for supplier in suppliers:
        chosen = rng.sample(lines, rng.randint(1, len(lines)))
        quoted = [
            qline(
                line.line_id,
                f"{rng.randint(0, 10_000)}.{rng.randint(0, 9999):04d}",
                breaks=(("100", f"{rng.randint(0, 9000)}"),) if rng.random() < 0.4 else (),
                stock=str(rng.randint(0, 1500)),
                moq=rng.choice(["0", "0", "50", "900"]),
                lead=rng.randint(0, 60),
                transit=rng.randint(0, 10),
                logistics=str(rng.randint(0, 500)),
            )
            for line in chosen
        ]
        freight = f"{rng.randint(0, 5000)}.{rng.randint(0, 99):02d}"
        tax = rng.choice(["0", "0.09", "0.13"])
        quotes.append(make_quote(supplier, *quoted, freight=freight, tax_rate=tax))
    scores = {s: D(rng.choice([20, 65, 80, 100])) for s in suppliers}
    suspended = {s for s in suppliers if rng.random() < 0.2}
    return make_rfq(*lines, weights=weights), quotes, scores, suspended


def test_random_comparisons_rank_a_permutation_with_the_best_eligible_first() -> None:
    rng = random.Random(20260302)
    for _ in range(200):
        rfq, quotes, scores, suspended = _random_case(rng)
        comparison = compare(rfq, quotes, as_of=AS_OF, supplier_scores=scores, ineligible=suspended)
        for line in comparison.lines:
            offers = line.offers
            assert [o.rank for o in offers] == list(range(1, len(offers) + 1))
            assert all(D(0) <= o.score <= D(100) for o in offers)
            eligible = [o for o in offers if o.eligible]
            # every eligible offer before every ineligible one
            assert offers[: len(eligible)] == tuple(eligible)
            if eligible:
                best = max(eligible, key=lambda o: (o.score, -o.landed_cost))
                assert (offers[0].score, offers[0].landed_cost) == (best.score, best.landed_cost)
            for offer in offers:
                parts = offer.goods + offer.logistics + offer.freight_share + offer.tax
                # the default buyer is a general taxpayer: all the VAT charged is deducted
                assert offer.deductible_tax == offer.tax
                assert offer.landed_cost == parts - offer.deductible_tax
        for quote in quotes:
            shares = [
                o.freight_share
                for line in comparison.lines
                for o in line.offers
                if o.supplier_org_id == quote.supplier_org_id
            ]
            freight = quote.terms.freight.quantize(D("0.01"))
            assert sum(shares, D(0)) == freight and min(shares) >= 0


def test_the_comparison_validates_and_survives_a_json_round_trip() -> None:
    # compare skips validating its offers (model_construct): this checks what it builds is valid
    rng = random.Random(7)
    rfq, quotes, scores, suspended = _random_case(rng)
    comparison = compare(rfq, quotes, as_of=AS_OF, supplier_scores=scores, ineligible=suspended)
    again = Comparison.model_validate_json(comparison.model_dump_json())
    assert again == comparison
    assert Comparison.model_validate(comparison.model_dump()) == comparison
