"""The quote comparison against a plain cheapest-price pick over the same seeded quotes.

The platform computes landed cost, arrival, eligibility, the weighted score, ranks and
explanations for every offer; the baseline is a plain min over the same offers' unit prices.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from contracts.common import Actor, Role
from contracts.sourcing import (
    EvaluationWeights,
    Incoterm,
    InvitedSupplier,
    PriceBreak,
    Quote,
    QuoteLine,
    QuoteTerms,
    RfqInput,
    RfqLine,
)
from rules.quotes import compare

CLOSE = datetime(2026, 3, 2, 10, tzinfo=UTC)
PRICE_PLACES = Decimal("0.0001")
SUSPENDED_SHARE = 0.03  # a few invited suppliers are suspended by the time the RFQ closes


@dataclass(frozen=True)
class SourcingCase:
    rfq: RfqInput
    quotes: tuple[Quote, ...]
    scores: dict[str, Decimal]
    suspended: frozenset[str]

    @property
    def offers(self) -> int:
        return sum(len(quote.terms.lines) for quote in self.quotes)


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    """A random amount with 4 decimals between ``low`` and ``high``."""
    return Decimal(rng.randint(low * 10_000, high * 10_000)).scaleb(-4)


def _quote_line(rng: random.Random, line: RfqLine) -> QuoteLine:
    price = _money(rng, 1, 500)
    # Half the lines have two breaks, each 5% below the last.
    steps = sorted(rng.sample([100, 500, 1_000, 2_000, 5_000], 2)) if rng.random() < 0.5 else []
    breaks = tuple(
        PriceBreak(
            min_quantity=Decimal(step),
            unit_price=(price * (1 - Decimal(i + 1) / 20)).quantize(PRICE_PLACES),
        )
        for i, step in enumerate(steps)
    )
    return QuoteLine(
        line_id=line.line_id,
        unit_price=price,
        price_breaks=breaks,
        stock_available=Decimal(rng.randint(0, 6_000)),
        min_order_quantity=Decimal(rng.choice([0, 0, 0, 50, 200, 1_000])),
        lead_time_days=rng.randint(0, 60),
        logistics_cost=_money(rng, 0, 300) if rng.random() < 0.3 else Decimal(0),
        transit_days=rng.randint(0, 10),
    )


def build_case(*, suppliers: int, lines: int, seed: int = 20260302) -> SourcingCase:
    """An RFQ of ``lines`` lines; each supplier quotes a random half of them."""
    rng = random.Random(seed)
    buyer = Actor(user_id="usr_bench_buyer", org_id="org_bench_buyer", roles=(Role.BUYER,))
    rfq_lines = tuple(
        RfqLine(
            line_id=f"L{i:05d}",
            description=f"line {i}",
            quantity=Decimal(rng.randint(10, 5_000)),
            unit="kg",
        )
        for i in range(lines)
    )
    invited = tuple(
        InvitedSupplier(
            org_id=f"org_sup_{i:04d}",
            legal_name=f"Supplier {i}",
            credit_code="91320200MA1HENGX3W",
            score=Decimal(rng.choice([20, 65, 80, 100])),
        )
        for i in range(suppliers)
    )
    rfq = RfqInput(
        rfq_id="rfq_bench",
        buyer_org_id=buyer.org_id,
        buyer_legal_name="Bench Buyer",
        buyer_credit_code="91320200MA1HENGX3W",
        title="bench",
        lines=rfq_lines,
        delivery_place="Suzhou",
        incoterm=Incoterm.DAP,
        needed_by=CLOSE.date() + timedelta(days=40),
        quote_deadline=CLOSE,
        currency="CNY",
        payment_terms="30 days",
        weights=EvaluationWeights(),
        sealed=True,
        category=None,
        suppliers=invited,
        created_by=buyer,
        created_at=CLOSE - timedelta(days=14),
    )
    quotes = tuple(
        Quote(
            quote_id=f"q_{supplier.org_id}",
            rfq_id=rfq.rfq_id,
            supplier_org_id=supplier.org_id,
            revision=1,
            terms=QuoteTerms(
                lines=tuple(
                    _quote_line(rng, line) for line in rng.sample(rfq_lines, max(1, lines // 2))
                ),
                valid_until=CLOSE.date() + timedelta(days=60),
                freight=_money(rng, 0, 20_000),
                tax_rate=rng.choice([Decimal(0), Decimal("0.09"), Decimal("0.13")]),
            ),
            submitted_by="usr_bench_supplier",
            submitted_at=CLOSE - timedelta(days=1),
        )
        for supplier in invited
    )
    scores = {s.org_id: s.score for s in invited}
    suspended = frozenset(s.org_id for s in invited if rng.random() < SUSPENDED_SHARE)
    return SourcingCase(rfq, quotes, scores, suspended)


def cheapest_unit_price(rfq: RfqInput, quotes: Sequence[Quote]) -> dict[str, str]:
    """The baseline: per line, the supplier with the lowest list unit price; nothing else."""
    known = {line.line_id for line in rfq.lines}
    best: dict[str, tuple[Decimal, str]] = {}
    for quote in quotes:
        for line in quote.terms.lines:
            if line.line_id not in known:
                continue
            current = best.get(line.line_id)
            if current is None or line.unit_price < current[0]:
                best[line.line_id] = (line.unit_price, quote.supplier_org_id)
    return {line_id: supplier for line_id, (_, supplier) in best.items()}


def _timed_ms(run: Callable[[], object]) -> float:
    began = time.perf_counter()
    run()
    return (time.perf_counter() - began) * 1000


@dataclass(frozen=True)
class ComparisonFigures:
    platform_ms: tuple[float, ...]
    baseline_ms: tuple[float, ...]


def measure_comparison(
    case: SourcingCase, *, runs: int, top: int | None = None
) -> ComparisonFigures:
    """Alternating runs after one warm-up each; ``top`` keeps the best offers a line (the award
    task's three), scoring every offer all the same."""

    def platform() -> object:
        return compare(
            case.rfq,
            case.quotes,
            as_of=CLOSE.date(),
            supplier_scores=case.scores,
            ineligible=case.suspended,
            top=top,
        )

    def baseline() -> object:
        return cheapest_unit_price(case.rfq, case.quotes)

    _timed_ms(platform)
    _timed_ms(baseline)
    platform_ms: list[float] = []
    baseline_ms: list[float] = []
    for _ in range(runs):
        platform_ms.append(_timed_ms(platform))
        baseline_ms.append(_timed_ms(baseline))
    return ComparisonFigures(tuple(platform_ms), tuple(baseline_ms))
