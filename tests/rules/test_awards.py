"""Award choices and the contract terms an award makes, against hand-computed figures."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from contracts.common import Actor, Role
from contracts.sourcing import (
    EvaluationWeights,
    Incoterm,
    InvitedSupplier,
    Party,
    PriceBreak,
    Quote,
    QuoteLine,
    QuoteTerms,
    RfqInput,
    RfqLine,
)
from rules.awards import NO_AWARD, award_problem, by_supplier, draft_contract

AWARDED_AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
SUPPLIER = Party(org_id="org_s", legal_name="恒信化工", credit_code="91320200MA1HENGX3W")


def _rfq() -> RfqInput:
    return RfqInput(
        rfq_id="rfq_1",
        buyer_org_id="org_b",
        buyer_legal_name="华东精细化工",
        buyer_credit_code="91310000MA1BUYER1P",
        title="solvents",
        lines=(
            RfqLine(
                line_id="L1",
                description="Acetone",
                quantity=Decimal(1000),
                unit="L",
                un_number="UN1090",
                packing_group="II",
            ),
            RfqLine(line_id="L2", description="Ethanol", quantity=Decimal(300), unit="L"),
            RfqLine(line_id="L3", description="Toluene", quantity=Decimal(100), unit="L"),
        ),
        delivery_place="Shanghai",
        incoterm=Incoterm.DAP,
        needed_by=date(2027, 1, 15),
        quote_deadline=AWARDED_AT,
        currency="CNY",
        payment_terms="30 days",
        weights=EvaluationWeights(),
        sealed=False,
        category=None,
        suppliers=(
            InvitedSupplier(
                org_id="org_s",
                legal_name="恒信化工",
                credit_code="91320200MA1HENGX3W",
                score=Decimal(80),
            ),
        ),
        created_by=Actor(user_id="u_b", org_id="org_b", roles=(Role.BUYER,)),
        created_at=AWARDED_AT,
    )


def _quote(delivery_date: date | None = None) -> Quote:
    return Quote(
        quote_id="rfq_1:org_s:r2",
        rfq_id="rfq_1",
        supplier_org_id="org_s",
        revision=2,
        terms=QuoteTerms(
            lines=(
                QuoteLine(
                    line_id="L1",
                    unit_price=Decimal("10.00"),
                    price_breaks=(
                        PriceBreak(min_quantity=Decimal(500), unit_price=Decimal("9.00")),
                    ),
                    stock_available=Decimal(2000),
                    lead_time_days=5,
                    logistics_cost=Decimal("200.00"),
                    transit_days=2,
                ),
                QuoteLine(
                    line_id="L2",
                    unit_price=Decimal("20.00"),
                    stock_available=Decimal(300),
                    lead_time_days=10,
                    logistics_cost=Decimal("100.00"),
                    transit_days=3,
                ),
            ),
            valid_until=date(2027, 1, 1),
            freight=Decimal("150.00"),
            tax_rate=Decimal("0.13"),
            delivery_date=delivery_date,
        ),
        submitted_by="u_s",
        submitted_at=AWARDED_AT,
    )


def test_a_split_award_carries_only_the_awarded_lines_share_of_freight() -> None:
    terms = draft_contract(
        contract_id="rfq_1-C1",
        rfq=_rfq(),
        quote=_quote(),
        line_ids=["L1"],
        supplier=SUPPLIER,
        awarded_by="u_b",
        awarded_at=AWARDED_AT,
    )
    # L1 goods 1000 x 9.00 (break at 500) = 9,000.00; L2 goods 300 x 20.00 = 6,000.00.
    # Freight 150.00 by goods value: L1 150 x 9000/15000 = 90.00, L2 60.00.
    # L1 tax 13% of (9,000 + 200 + 90) = 1,207.70; total 9,000 + 200 + 90 + 1,207.70.
    (line,) = terms.lines
    assert (line.unit_price, line.amount, line.un_number) == (
        Decimal("9.00"),
        Decimal("9000.00"),
        "UN1090",
    )
    assert terms.goods_total.amount == Decimal("9000.00")
    assert terms.logistics.amount == Decimal("200.00")
    assert terms.freight.amount == Decimal("90.00")
    assert terms.tax.amount == Decimal("1207.70")
    assert terms.total.amount == Decimal("10497.70") and terms.total.currency == "CNY"
    # No delivery date quoted: award date + the longest lead time and transit (5 + 2 days).
    assert terms.delivery_date == date(2026, 12, 8)
    assert (terms.quote_id, terms.quote_revision) == ("rfq_1:org_s:r2", 2)


def test_both_lines_add_up_to_the_whole_quote_and_a_quoted_delivery_date_wins() -> None:
    terms = draft_contract(
        contract_id="rfq_1-C1",
        rfq=_rfq(),
        quote=_quote(delivery_date=date(2027, 1, 10)),
        line_ids=["L2", "L1"],
        supplier=SUPPLIER,
        awarded_by="u_b",
        awarded_at=AWARDED_AT,
    )
    # RFQ order, not the order given. L2 tax 13% of (6,000 + 100 + 60) = 800.80.
    assert [line.line_id for line in terms.lines] == ["L1", "L2"]
    assert terms.freight.amount == Decimal("150.00")
    assert terms.tax.amount == Decimal("2008.50")
    assert terms.total.amount == Decimal("17458.50")
    assert terms.delivery_date == date(2027, 1, 10)


def test_award_choices_are_checked_against_pending_lines_offers_and_failures() -> None:
    def check(choices: dict[str, str]) -> str | None:
        return award_problem(
            choices,
            pending=["L1", "L2"],
            offers={"L1": {"org_a", "org_b"}, "L2": {"org_b"}},
            excluded={"L1": {"org_a"}},
        )

    assert check({"L1": "org_b", "L2": NO_AWARD}) is None
    assert check({}) is None  # award as recommended
    assert check({"L3": "org_b"}) == "choices.L3: not a line awaiting award (L1, L2)"
    assert check({"L2": "org_a"}) == "choices.L2: org_a has no eligible quote for this line"
    assert check({"L1": "org_a"}) == "choices.L1: org_a's contract for this line already failed"
    assert check({"L1": NO_AWARD}) == "choices: award at least one line, or close the RFQ instead"


def test_awards_group_into_one_contract_per_supplier() -> None:
    grouped = by_supplier({"L1": "org_a", "L2": "org_b", "L3": "org_a", "L4": NO_AWARD})
    assert grouped == {"org_a": ("L1", "L3"), "org_b": ("L2",)}
