"""``python -m bench.sourcing``: the quote comparison and the e-contract against bare baselines.

Every figure is paired with a baseline measured in the same process on the same machine, and the
ratio (platform time ÷ baseline time) is the number worth comparing between machines.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from weasyprint import HTML  # type: ignore[import-untyped]

from bench.comparison import build_case, measure_comparison
from bench.pdf import ONE_LINE
from bench.stats import Row, mean, percentile, print_header, require_counts, table
from contracts.common import Money
from contracts.sourcing import ContractLine, ContractTerms, Incoterm, Party, TemperatureRange
from documents.e_contract import render_contract_pdf

SMALL_CASE = (20, 200)  # suppliers, lines
CONTRACT_LINES = 20


def contract_terms(lines: int = CONTRACT_LINES) -> ContractTerms:
    """A contract of ``lines`` lines, some dangerous goods and some cold chain, as awarded."""
    contract_lines = tuple(
        ContractLine(
            line_id=f"L{i:03d}",
            description=f"乙酸乙酯 Ethyl acetate, grade {i}",
            specification="GB/T 3728-2007, purity ≥ 99.5%, 200 L steel drums",
            quantity=Decimal(100 * (i + 1)),
            unit="kg",
            unit_price=Decimal("7.8250"),
            amount=Decimal(100 * (i + 1)) * Decimal("7.8250"),
            un_number="UN1173" if i % 3 == 0 else None,
            packing_group="II" if i % 3 == 0 else None,
            temperature=TemperatureRange(min_celsius=Decimal(2), max_celsius=Decimal(8))
            if i % 5 == 0
            else None,
        )
        for i in range(lines)
    )
    goods = sum((line.amount for line in contract_lines), Decimal(0))
    freight, logistics = Decimal("1200.00"), Decimal("350.00")
    tax = ((goods + freight + logistics) * Decimal("0.13")).quantize(Decimal("0.01"))
    return ContractTerms(
        contract_id="ctr_bench",
        rfq_id="rfq_bench",
        buyer=Party(
            org_id="org_buyer", legal_name="苏州买方化工有限公司", credit_code="91320500MA1BUYER1X"
        ),
        supplier=Party(
            org_id="org_supplier",
            legal_name="江苏恒信化工有限公司",
            credit_code="91320200MA1HENGX3W",
        ),
        quote_id="q_bench",
        quote_revision=2,
        lines=contract_lines,
        goods_total=Money(amount=goods, currency="CNY"),
        logistics=Money(amount=logistics, currency="CNY"),
        freight=Money(amount=freight, currency="CNY"),
        tax=Money(amount=tax, currency="CNY"),
        total=Money(amount=goods + logistics + freight + tax, currency="CNY"),
        delivery_place="苏州工业园区 Suzhou Industrial Park",
        incoterm=Incoterm.DAP,
        delivery_date=date(2026, 4, 1),
        payment_terms="30 days after delivery",
        awarded_by="usr_bench_buyer",
        awarded_at=datetime(2026, 3, 3, 2, tzinfo=UTC),
    )


@dataclass(frozen=True)
class ContractPdfFigures:
    contract_ms: tuple[float, ...]
    one_line_ms: tuple[float, ...]


def _timed_pdf(render: Callable[[], bytes]) -> float:
    began = time.perf_counter()
    pdf = render()
    elapsed_ms = (time.perf_counter() - began) * 1000
    if not pdf.startswith(b"%PDF-"):
        raise RuntimeError("the renderer returned something other than a PDF")
    return elapsed_ms


def measure_contract_pdf(*, renders: int) -> ContractPdfFigures:
    """As bench.pdf does: alternating renders after one warm-up each (fonts load on first use)."""
    terms = contract_terms()

    def contract() -> bytes:
        return render_contract_pdf(terms)

    def one_line() -> bytes:
        pdf: bytes = HTML(string=ONE_LINE).write_pdf()
        return pdf

    _timed_pdf(contract)
    _timed_pdf(one_line)
    contract_ms: list[float] = []
    one_line_ms: list[float] = []
    for _ in range(renders):
        contract_ms.append(_timed_pdf(contract))
        one_line_ms.append(_timed_pdf(one_line))
    return ContractPdfFigures(tuple(contract_ms), tuple(one_line_ms))


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sourcing", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="timed comparisons per case")
    parser.add_argument("--suppliers", type=int, default=300, help="suppliers in the large case")
    parser.add_argument("--lines", type=int, default=2_000, help="RFQ lines in the large case")
    parser.add_argument("--renders", type=int, default=20, help="timed renders per document")
    arguments = parser.parse_args(argv)
    require_counts(parser, arguments, ("runs", "suppliers", "lines", "renders"))
    return arguments


def _comparison_rows(arguments: argparse.Namespace) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    notes: list[str] = []
    cases = (
        (SMALL_CASE, None),
        ((arguments.suppliers, arguments.lines), None),
        ((arguments.suppliers, arguments.lines), 3),
    )
    for (suppliers, lines), top in cases:
        case = build_case(suppliers=suppliers, lines=lines)
        figures = measure_comparison(case, runs=arguments.runs, top=top)
        shown = "every offer" if top is None else f"best {top} a line"
        label = f"compare {suppliers} suppliers x {lines:,} lines, {shown}"
        platform, baseline = figures.platform_ms, figures.baseline_ms
        rows.append(Row(f"{label}: p50", "ms", percentile(platform, 50), percentile(baseline, 50)))
        rows.append(Row(f"{label}: mean", "ms", mean(platform), mean(baseline)))
        notes.append(
            f"- {label}: {case.offers:,} offers (each supplier quotes a seeded random half of "
            f"the lines), suspended suppliers: {len(case.suspended)}"
        )
    return rows, notes


def main(argv: Sequence[str] | None = None) -> None:
    arguments = _arguments(argv)
    began = time.perf_counter()
    print_header(
        "Tradeflow sourcing benchmarks",
        f"{arguments.runs} timed comparisons per case, {arguments.renders} renders per document",
    )
    rows, notes = _comparison_rows(arguments)
    pdf = measure_contract_pdf(renders=arguments.renders)
    rows.append(
        Row(
            f"e-contract PDF render, {CONTRACT_LINES} lines: mean",
            "ms",
            mean(pdf.contract_ms),
            mean(pdf.one_line_ms),
        )
    )
    lines = [
        "",
        *table(rows),
        "",
        "cases:",
        *notes,
        "baselines, same process and machine:",
        "- compare: per line, a plain min over the same offers' list unit prices (no breaks, "
        "freight, tax, lead time, eligibility, scores, ranks or explanations); runs "
        "interleaved after one warm-up each",
        f"- e-contract PDF: a one-line HTML page through weasyprint; {arguments.renders} "
        "renders each, interleaved",
        "ratio = platform time / baseline time",
        f"\nbenchmark took {time.perf_counter() - began:.0f} s",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
