"""Rendering the accreditation certificate against a one-line page through the same weasyprint."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from weasyprint import HTML  # type: ignore[import-untyped]

from contracts.accreditation import CertificateClaim
from documents.render import render_pdf
from tests.harness.builders import CERTIFICATION_BODY, SCOPE

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


def _timed(render: Callable[[], bytes]) -> float:
    began = time.perf_counter()
    pdf = render()
    elapsed_ms = (time.perf_counter() - began) * 1000
    if not pdf.startswith(b"%PDF-"):
        raise RuntimeError("weasyprint returned something other than a PDF")
    return elapsed_ms


def measure_pdf(*, renders: int) -> PdfFigures:
    """Alternating renders after one warm-up each (fonts load on first use)."""
    context = certificate_context(date.today())

    def certificate() -> bytes:
        return render_pdf(CERTIFICATE_TEMPLATE, context)

    _timed(certificate)
    _timed(_one_line)
    certificate_ms: list[float] = []
    one_line_ms: list[float] = []
    for _ in range(renders):
        certificate_ms.append(_timed(certificate))
        one_line_ms.append(_timed(_one_line))
    return PdfFigures(tuple(certificate_ms), tuple(one_line_ms))
