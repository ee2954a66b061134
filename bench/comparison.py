"""The quote comparison against a plain cheapest-price pick over the same seeded quotes.

The platform computes landed cost, arrival, eligibility, the weighted score and ranks for every
offer, and explanations for the offers shown, from the figures each quote was priced to when it
was recorded (``rules.quote_pricing``; pricing them is timed once, and the same comparison
pricing every quote afresh, as for revisions recorded before migration 0027, in the same
rounds); the baseline is a plain min over the same offers' unit prices. The route's work
(``GET /rfqs/{id}/comparison`` at 200 x 200) is measured in this process too, step by step: the
kept figures read back (``db.sourcing.recorded_quotes``), the comparison at the route's default,
and the answer's JSON, beside what reading the quotes' terms would cost (validated from their
JSON, as for revisions without figures); the database round trip and HTTP are not in it.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.stats import (
    Row,
    Timing,
    interleaved,
    median,
    print_header,
    require_counts,
    table,
    timed,
)
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
from db.comparison_store import DEFAULT_TOP
from rules import quotes_reference
from rules.quote_pricing import RecordedQuote, from_bytes, kept_figures
from rules.quotes import compare, compare_recorded

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


def recording(case: SourcingCase) -> list[bytes | None]:
    """Each quote's figures as the recording activity keeps them (``db.sourcing.quote_values``)."""
    return [kept_figures(quote.terms, case.rfq) for quote in case.quotes]


def read_back(case: SourcingCase, kept: list[bytes | None]) -> list[RecordedQuote]:
    """The quotes as ``db.sourcing.recorded_quotes`` reads them: their kept figures, no terms."""
    return [
        RecordedQuote(quote.quote_id, quote.supplier_org_id, quote.revision, from_bytes(figures))
        for quote, figures in zip(case.quotes, kept, strict=True)
    ]


def _unread(quote_ids: Sequence[str]) -> list[Quote]:
    raise AssertionError(f"the benchmark's quotes all have figures that serve: {quote_ids}")


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


def build_case(
    *, suppliers: int, lines: int, share: float = 0.5, seed: int = 20260302
) -> SourcingCase:
    """An RFQ of ``lines`` lines; each supplier quotes a random ``share`` of them."""
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
                    _quote_line(rng, line)
                    for line in rng.sample(rfq_lines, max(1, round(lines * share)))
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


@dataclass(frozen=True)
class ComparisonFigures:
    """Each round's timings: the platform's comparison from the figures kept when the quotes
    were recorded, the same pricing every quote afresh (revisions recorded before migration
    0027), its Decimal reference (None when not measured) and the plain min, interleaved
    (bench.stats.interleaved); and, once, pricing every quote as the recording activity does."""

    offers: int
    platform: tuple[Timing, ...]
    afresh: tuple[Timing, ...]
    reference: tuple[Timing, ...] | None
    baseline: tuple[Timing, ...]
    recording: Timing

    @property
    def platform_ms(self) -> tuple[float, ...]:
        return tuple(t.wall_ms for t in self.platform)

    @property
    def baseline_ms(self) -> tuple[float, ...]:
        return tuple(t.wall_ms for t in self.baseline)


def measure_comparison(
    case: SourcingCase, *, runs: int, top: int | None = None, reference: bool = False
) -> ComparisonFigures:
    """``runs`` interleaved rounds after one warm-up each; ``top`` keeps the best offers a line
    (the award task's three), scoring every offer all the same; ``reference`` times the Decimal
    reference (rules.quotes_reference) in the same rounds."""
    kept: list[bytes | None] = []
    recorded_in = timed(lambda: kept.extend(recording(case)))
    recorded = read_back(case, kept)
    options: dict[str, Any] = {
        "as_of": CLOSE.date(),
        "supplier_scores": case.scores,
        "ineligible": case.suspended,
        "top": top,
    }
    contenders: dict[str, Callable[[], object]] = {
        "platform": lambda: compare_recorded(case.rfq, recorded, load=_unread, **options),
        "afresh": lambda: compare(case.rfq, case.quotes, **options),
        "baseline": lambda: cheapest_unit_price(case.rfq, case.quotes),
    }
    if reference:
        contenders["reference"] = lambda: quotes_reference.compare(case.rfq, case.quotes, **options)
    timings = interleaved(contenders, rounds=runs)
    return ComparisonFigures(
        offers=case.offers,
        platform=tuple(timings["platform"]),
        afresh=tuple(timings["afresh"]),
        reference=tuple(timings["reference"]) if reference else None,
        baseline=tuple(timings["baseline"]),
        recording=recorded_in,
    )


def comparison_rows(label: str, figures: ComparisonFigures) -> list[Row]:
    """Medians: wall and CPU milliseconds, microseconds an offer against the plain min, and,
    when measured, the platform against its Decimal reference."""

    def med(timings: Sequence[Timing], cpu: bool = False) -> float:
        return median([t.cpu_ms if cpu else t.wall_ms for t in timings])

    per_offer = 1000 / figures.offers
    platform, baseline = figures.platform, figures.baseline
    rows = [
        Row(f"{label}: wall, median", "ms", med(platform), med(baseline)),
        Row(f"{label}: CPU, median", "ms", med(platform, True), med(baseline, True)),
        Row(
            f"{label}: per offer, CPU",
            "µs",
            med(platform, True) * per_offer,
            med(baseline, True) * per_offer,
        ),
        Row(
            f"{label}: CPU, every quote priced afresh (no kept figures)",
            "ms",
            med(figures.afresh, True),
            med(baseline, True),
        ),
        Row(
            f"{label}: pricing every quote as recorded, once, CPU per offer",
            "µs",
            figures.recording.cpu_ms * per_offer,
            med(baseline, True) * per_offer,
        ),
    ]
    if figures.reference is not None:
        rows.append(
            Row(
                f"{label}: per offer, CPU, against the Decimal reference",
                "µs",
                med(platform, True) * per_offer,
                med(figures.reference, True) * per_offer,
            )
        )
    return rows


def measure_route(case: SourcingCase, *, runs: int) -> list[Row]:
    """The route's steps in this process, interleaved with the plain min: CPU medians."""
    stored = [quote.terms.model_dump(mode="json") for quote in case.quotes]
    options: dict[str, Any] = {
        "as_of": CLOSE.date(),
        "supplier_scores": case.scores,
        "ineligible": case.suspended,
        "top": DEFAULT_TOP,
    }
    kept = recording(case)
    recorded = read_back(case, kept)
    shown = compare_recorded(case.rfq, recorded, load=_unread, **options)
    contenders: dict[str, Callable[[], object]] = {
        "kept figures read back": lambda: read_back(case, kept),
        f"comparison, best {DEFAULT_TOP} a line": lambda: compare_recorded(
            case.rfq, recorded, load=_unread, **options
        ),
        f"answer's JSON, best {DEFAULT_TOP} a line": shown.model_dump_json,
        "baseline": lambda: cheapest_unit_price(case.rfq, case.quotes),
    }
    # Read only for revisions without figures (recorded before migration 0027): not summed.
    contenders["quotes' terms read back (validated from JSON), not needed"] = lambda: [
        QuoteTerms.model_validate(terms) for terms in stored
    ]
    timings = interleaved(contenders, rounds=runs)
    baseline = median([t.cpu_ms for t in timings.pop("baseline")])
    steps = {name: median([t.cpu_ms for t in found]) for name, found in timings.items()}
    label = f"route's work, {len(case.quotes)} suppliers x {len(case.rfq.lines):,} lines"
    summed = sum(ms for name, ms in steps.items() if "not needed" not in name)
    return [
        *(Row(f"{label}: {name}, CPU", "ms", ms, baseline) for name, ms in steps.items()),
        Row(f"{label}: the three, CPU", "ms", summed, baseline),
    ]


CASES = (
    # suppliers, lines, share of the lines each supplier quotes, shown a line (None: all)
    (200, 200, 1.0, None),  # the API's largest RFQ, every supplier quoting every line
    (200, 200, 1.0, 3),
    (1_000, 1_000, 0.5, None),
    (1_000, 1_000, 0.5, 3),
)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.comparison", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="interleaved rounds per case")
    parser.add_argument(
        "--no-reference",
        dest="reference",
        action="store_false",
        help="do not time the Decimal reference (it takes most of the run)",
    )
    arguments = parser.parse_args(argv)
    require_counts(parser, arguments, ("runs",))
    return arguments


def main(argv: Sequence[str] | None = None) -> None:
    arguments = _arguments(argv)
    began = time.perf_counter()
    print_header(
        "Tradeflow quote comparison benchmark",
        f"{arguments.runs} interleaved rounds per case after one warm-up, medians",
    )
    rows: list[Row] = []
    notes: list[str] = []
    built: dict[tuple[int, int, float], SourcingCase] = {}
    for suppliers, lines, share, top in CASES:
        if (suppliers, lines, share) not in built:
            built = {
                (suppliers, lines, share): build_case(suppliers=suppliers, lines=lines, share=share)
            }
        case = built[(suppliers, lines, share)]
        figures = measure_comparison(
            case, runs=arguments.runs, top=top, reference=arguments.reference
        )
        shown = "every offer" if top is None else f"best {top} a line"
        label = f"{suppliers} suppliers x {lines:,} lines, {shown}"
        rows.extend(comparison_rows(label, figures))
        notes.append(
            f"- {label}: {case.offers:,} offers (each supplier quotes {share:.0%} of the lines), "
            f"suspended suppliers: {len(case.suspended)}"
        )
        print(f"measured {label}", flush=True)
        if (suppliers, lines, top) == (200, 200, 3):
            rows.extend(measure_route(case, runs=arguments.runs))
            print("measured the route's work", flush=True)
    print(
        "\n".join(
            [
                "",
                *table(rows),
                "",
                "cases:",
                *notes,
                "baselines, same process, rounds interleaved (A B, B A, ...):",
                "- a plain min over the same offers' list unit prices per line (no breaks, "
                "freight, tax, lead time, eligibility, scores, ranks or explanations)",
                "- the Decimal reference (rules.quotes_reference): the same answer, as the "
                "platform computed it before issue 13",
                "- the route's work: each step against the plain min; the database round trip "
                "(200 rows of quote JSON) and HTTP are not in it",
                "ratio = platform time / baseline time; CPU: time.process_time",
                f"\nbenchmark took {time.perf_counter() - began:.0f} s",
            ]
        )
    )


if __name__ == "__main__":
    main()
