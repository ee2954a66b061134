"""The accreditation certificate rendered to a real PDF and read back with pypdf."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from jinja2 import UndefinedError
from pypdf import PdfReader

from contracts.accreditation import CertificateClaim
from contracts.common import Money
from documents.render import (
    FONT_PATH,
    date_cn,
    font_available,
    money,
    render_html,
    render_pdf,
)

CERTIFICATE = "accreditation_certificate.html.j2"
ROOT = Path(__file__).resolve().parents[2]


def certificate_context(**overrides: object) -> dict[str, object]:
    claim = CertificateClaim(
        standard="ISO 9001",
        number="CN-QMS-2024-000123",
        certification_body="中国质量认证中心",
        accreditation_body="CNAS",
        scope="电子元器件的设计和生产",
        issue_date=date(2024, 3, 1),
        expiry_date=date(2027, 2, 28),
    )
    context: dict[str, object] = {
        "document_id": "doc_5b1e07c2",
        "certificate_no": "TF-ACC-2026-000417",
        "supplier_name": "深圳市华强电子有限公司",
        "credit_code": "91440300MA5F1234XY",
        "tier": "tier_1",
        "risk_band": "low",
        "accredited_on": date(2026, 11, 29),
        "expires_on": date(2027, 11, 29),
        # A dict, as the activity passes after model_dump, and a model read by attribute.
        "certificates": [
            claim.model_dump(),
            claim.model_copy(update={"standard": "ISO 14001", "number": "CN-EMS-88"}),
        ],
        "approvers": ["王芳", "李强"],
    }
    context.update(overrides)
    return context


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def certificate_pdf() -> bytes:
    return render_pdf(CERTIFICATE, certificate_context())


def test_the_cjk_font_is_installed() -> None:
    assert font_available(), f"install fonts-wqy-microhei ({FONT_PATH})"


def test_certificate_text_is_bilingual(certificate_pdf: bytes) -> None:
    assert certificate_pdf.startswith(b"%PDF-")
    text = pdf_text(certificate_pdf)
    for expected in [
        "供应商资质认证证书",
        "Supplier Accreditation Certificate",
        "Tradeflow 贸易流",
        "TF-ACC-2026-000417",
        "深圳市华强电子有限公司",
        "91440300MA5F1234XY",
        "一级 Tier 1",
        "低 Low",
        "2026年11月29日",
        "2027年11月29日",
        "中国质量认证中心",
        "CN-EMS-88",
        "2027年2月28日",
        "王芳、李强",
        "Tradeflow 平台运营 / Platform Operations",
        "统一社会信用代码 / Unified",
        "it does not certify or warrant product quality",
    ]:
        assert expected in text, expected


def test_every_page_carries_page_numbers_and_the_document_id(certificate_pdf: bytes) -> None:
    text = pdf_text(certificate_pdf)
    assert "第 1 页，共 1 页 / Page 1 of 1" in text
    assert text.count("doc_5b1e07c2") == 2  # under the title and in the footer


def test_long_certificates_run_onto_a_second_page_with_its_own_footer() -> None:
    claim = {
        "standard": "ISO 9001",
        "number": "CN-QMS-1",
        "certification_body": "中国质量认证中心",
        "scope": "电子元器件的设计和生产 " * 60,
        "expiry_date": date(2027, 2, 28),
    }
    pdf = render_pdf(CERTIFICATE, certificate_context(certificates=[claim, claim]))
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) >= 2
    last = pages[-1].extract_text()
    assert f"Page {len(pages)} of {len(pages)}" in last and "doc_5b1e07c2" in last


def test_the_pdf_embeds_wenquanyi(certificate_pdf: bytes) -> None:
    base_fonts: set[str] = set()
    for page in PdfReader(io.BytesIO(certificate_pdf)).pages:
        resources: Any = page["/Resources"]
        fonts: Any = resources["/Font"]
        base_fonts |= {str(font.get_object()["/BaseFont"]) for font in fonts.values()}
    # Subset fonts are named "ABCDEF+Family".
    assert any(name.split("+")[-1].startswith("WenQuanYi-Micro-Hei") for name in base_fonts), (
        base_fonts
    )


# Renders three PDFs in place and two in a render process, counting weasyprint's folders.
RENDERS_AND_EXITS = """
import glob, os
from documents.render import render_pdf, stop_render_processes, use_render_processes
from tests.documents.test_render import CERTIFICATE, certificate_context
folders = os.path.join(os.environ["TMPDIR"], "**", "weasyprint-*")
first = render_pdf(CERTIFICATE, certificate_context())
for _ in range(2):
    assert render_pdf(CERTIFICATE, certificate_context()) == first
print(len(glob.glob(folders, recursive=True)))
use_render_processes(1)
for _ in range(2):
    assert render_pdf(CERTIFICATE, certificate_context()) == first
stop_render_processes()
print(len(glob.glob(folders, recursive=True)))
"""


def test_a_thread_keeps_one_copy_of_the_font_and_no_process_leaves_it_behind(
    tmp_path: Path,
) -> None:
    # weasyprint copies an @font-face's font (5 MB) into a folder of its own; each render used
    # to, and a render process ended without removing its copies.
    environment = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", RENDERS_AND_EXITS],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # One copy while this thread renders; the render process's went with it.
    assert done.stdout.split() == ["1", "1"]
    assert not list(tmp_path.rglob("weasyprint-*"))
    # Nor the render process's own temporary folder.
    assert not list(tmp_path.glob("tradeflow-pool-processes-*/*"))


def test_supplier_input_is_escaped_not_interpreted() -> None:
    context = certificate_context(supplier_name='<script>alert("x")</script> 华强')

    html = render_html(CERTIFICATE, context)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; 华强" in html
    # Shown literally in the PDF rather than swallowed as markup.
    assert '<script>alert("x")</script> 华强' in pdf_text(render_pdf(CERTIFICATE, context))


def test_no_certificates_reads_none() -> None:
    html = render_html(CERTIFICATE, certificate_context(certificates=[]))
    assert "无 / None" in html


def test_a_missing_context_key_fails_loudly() -> None:
    context = certificate_context()
    del context["credit_code"]
    with pytest.raises(UndefinedError, match="credit_code"):
        render_html(CERTIFICATE, context)


def test_an_unknown_tier_fails_loudly() -> None:
    with pytest.raises(UndefinedError):
        render_html(CERTIFICATE, certificate_context(tier="tier_9"))


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (Decimal("1234567.005"), "CNY", "CNY 1,234,567.01"),
        (Decimal("-0.125"), "USD", "USD -0.13"),
        (Decimal("999.994"), "EUR", "EUR 999.99"),
        (1000000, "CNY", "CNY 1,000,000.00"),
        (Money(amount=Decimal("88000.5"), currency="USD"), None, "USD 88,000.50"),
    ],
)
def test_money(value: Money | Decimal | int, currency: str | None, expected: str) -> None:
    assert money(value, currency) == expected


def test_money_refuses_floats_and_bare_amounts_without_currency() -> None:
    with pytest.raises(TypeError):
        money(0.1, "CNY")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        money(Decimal("1"))


def test_date_cn() -> None:
    assert date_cn(date(2026, 11, 29)) == "2026年11月29日"
    assert date_cn(date(2027, 1, 5)) == "2027年1月5日"
