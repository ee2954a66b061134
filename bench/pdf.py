"""``python -m bench.pdf``: each document the platform renders, in absolute milliseconds, beside a
one-line page through the same weasyprint; renders interleaved and repeated (bench.stats).

Rendered in this process, as a worker's render process does (documents.render.render_here):
the accreditation certificate, the e-contract (20 lines), the invoice for that contract and the
e-waybill of a two-item dangerous-goods load.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from weasyprint import HTML  # type: ignore[import-untyped]

from activities.invoices import invoice_context
from bench.stats import Row, Timing, interleaved, median, print_header, require_counts, table
from contracts.accreditation import CertificateClaim
from contracts.fulfilment import IssueInvoiceInput, order_id_for
from documents.e_contract import render_contract_pdf
from documents.e_waybill import render_waybill_pdf
from documents.render import render_pdf
from tests.harness.builders import CERTIFICATION_BODY, SCOPE
from tests.harness.waybills import ACETONE, HYDROCHLORIC_ACID, waybill

CERTIFICATE_TEMPLATE = "accreditation_certificate.html.j2"
ONE_LINE = "<p>Tradeflow</p>"


@dataclass(frozen=True)
class PdfFigures:
    certificate_ms: tuple[float, ...]
    one_line_ms: tuple[float, ...]


def certificate_context(today: date) -> dict[str, object]:
    """What ``issue_accreditation_certificate`` renders for a two-certificate, tier-1 supplier."""
    certificates = [
        CertificateClaim(
            standard=standard,
            number=number,
            certification_body=CERTIFICATION_BODY,
            accreditation_body="CNAS",
            scope=SCOPE,
            issue_date=today - timedelta(days=200),
            expiry_date=today + timedelta(days=700),
        ).model_dump()
        for standard, number in (
            ("ISO 9001", "CN-QMS-2025-001881"),
            ("ISO 14001", "CN-EMS-2025-000917"),
        )
    ]
    return {
        "document_id": "app_bench:certificate",
        "certificate_no": "app_bench:certificate",
        "supplier_name": "江苏恒信化工有限公司",
        "credit_code": "91320200MA1HENGX3W",
        "tier": "tier_1",
        "risk_band": "low",
        "accredited_on": today,
        "expires_on": today + timedelta(days=700),
        "certificates": certificates,
        "approvers": ["王敏 Wang Min"],
    }


def _one_line() -> bytes:
    pdf: bytes = HTML(string=ONE_LINE).write_pdf()
    return pdf


def _checked(render: Callable[[], bytes]) -> Callable[[], bytes]:
    def run() -> bytes:
        pdf = render()
        if not pdf.startswith(b"%PDF-"):
            raise RuntimeError("the renderer returned something other than a PDF")
        return pdf

    return run


def documents(today: date) -> dict[str, Callable[[], bytes]]:
    """By name: one render of each document, from the data its activity would render."""
    # Imported here: bench.sourcing imports this module for ONE_LINE.
    from bench.sourcing import CONTRACT_LINES, contract_terms

    contract = contract_terms()
    accepted = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    invoice = invoice_context(
        IssueInvoiceInput(
            order_id=order_id_for(contract.contract_id),
            contract=contract,
            accepted_at=accepted,
            due_on=today + timedelta(days=30),
        )
    )
    load = waybill(
        "EW-BENCH-000001",
        order_id_for(contract.contract_id),
        loading_at=accepted + timedelta(days=2),
        items=(ACETONE, HYDROCHLORIC_ACID),
    )
    certificate = certificate_context(today)
    renders: dict[str, Callable[[], bytes]] = {
        "accreditation certificate": lambda: render_pdf(CERTIFICATE_TEMPLATE, certificate),
        f"e-contract, {CONTRACT_LINES} lines": lambda: render_contract_pdf(contract),
        f"invoice, {CONTRACT_LINES} lines": lambda: render_pdf("invoice.html.j2", invoice),
        "e-waybill, 2 dangerous goods": lambda: render_waybill_pdf(
            load,
            receipt_number="JTYS-320000-20260410-000123",
            filed_at=accepted + timedelta(days=1),
            status="filed",
        ),
    }
    return {name: _checked(render) for name, render in renders.items()}


BASELINE = "one-line page"


def measure_pdfs(*, renders: int) -> dict[str, list[Timing]]:
    """Every document and the one-line page, ``renders`` interleaved rounds after a warm-up
    (fonts load on first use)."""
    return interleaved({**documents(date.today()), BASELINE: _checked(_one_line)}, rounds=renders)


def pdf_rows(timings: dict[str, list[Timing]]) -> list[Row]:
    """Each document's median wall and CPU ms beside the one-line page's."""
    page = timings[BASELINE]
    return [
        Row(
            f"{name}: {clock}, median",
            "ms",
            median([read(t) for t in runs]),
            median([read(t) for t in page]),
        )
        for name, runs in timings.items()
        if name != BASELINE
        for clock, read in (("wall", _wall), ("CPU", _cpu))
    ]


def _wall(timing: Timing) -> float:
    return timing.wall_ms


def _cpu(timing: Timing) -> float:
    return timing.cpu_ms


def measure_pdf(*, renders: int) -> PdfFigures:
    """The certificate and the one-line page, interleaved rounds after one warm-up each."""
    context = certificate_context(date.today())
    timings = interleaved(
        {
            "certificate": _checked(lambda: render_pdf(CERTIFICATE_TEMPLATE, context)),
            BASELINE: _checked(_one_line),
        },
        rounds=renders,
    )
    return PdfFigures(
        tuple(t.wall_ms for t in timings["certificate"]),
        tuple(t.wall_ms for t in timings[BASELINE]),
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pdf", description=__doc__)
    parser.add_argument("--renders", type=int, default=10, help="interleaved rounds")
    arguments = parser.parse_args(argv)
    require_counts(parser, arguments, ("renders",))
    began = time.perf_counter()
    print_header(
        "Tradeflow PDF rendering benchmark",
        f"{arguments.renders} interleaved rounds after one warm-up, medians",
    )
    rows = pdf_rows(measure_pdfs(renders=arguments.renders))
    print(
        "\n".join(
            [
                "",
                *table(rows),
                "",
                "platform: the document rendered from its template in this process, in absolute "
                "ms (the figure to compare between machines)",
                f"baseline: a one-line HTML page ({ONE_LINE}) through the same weasyprint, "
                "rendered in the same rounds; the ratio says how much the document itself costs",
                f"\nbenchmark took {time.perf_counter() - began:.0f} s",
            ]
        )
    )


if __name__ == "__main__":
    main()
