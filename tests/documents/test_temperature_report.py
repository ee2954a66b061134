"""The temperature report and credit note rendered to real PDFs and read back with pypdf (the
chart's own structure: test_temperature_chart).

The trip: chilled fish fillets (0 ~ 4 °C) with two loggers over a day; the rear logger ran
above the range for 1 h 05 min (an excursion, peak 9.4 °C), the buyer quarantined the goods and,
after inspection, accepted them with a claim on 12 of the 120 cartons, the carrier liable.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from contracts.cold_chain import (
    Assessment,
    ColdLine,
    DecisionInput,
    Disposition,
    Liable,
    LoggerFigures,
    RunView,
    SeriesBucket,
    ZoneProfile,
)
from contracts.common import Actor, Money
from contracts.fulfilment import ShipmentLine
from documents.temperature_chart import X_LABEL, Y_LABEL
from documents.temperature_report import (
    ReportParties,
    duration_text,
    range_text,
    render_credit_note,
    render_temperature_report,
    silence_view,
)

START = datetime(2026, 4, 10, 0, 0, tzinfo=UTC)
CHILLED = ZoneProfile(
    zone="chilled",
    label="冷藏 chilled 0-4 °C",
    min_celsius=Decimal(0),
    max_celsius=Decimal(4),
    critical_max_celsius=Decimal(12),
    mkt_label_max_celsius=Decimal(5),
)
FROZEN = ZoneProfile(
    zone="frozen", label="冷冻 frozen ≤ -18 °C", min_celsius=None, max_celsius=Decimal(-18)
)
FILLETS = ColdLine(
    line_id="L1",
    description="冰鲜三文鱼柳 Chilled salmon fillets",
    quantity=Decimal(120),
    unit="箱 carton",
    unit_price=Decimal("102.875"),
    zone="chilled",
)
EXCURSION = RunView(
    logger_id="LOG-REAR",
    zone="chilled",
    side="above",
    start=START + timedelta(hours=10),
    end=START + timedelta(hours=11, minutes=5),
    duration_s=3900,
    peak_celsius=Decimal("9.4"),
    ongoing=False,
    is_excursion=True,
    critical=False,
)
SHORT_RUN = EXCURSION.model_copy(
    update={
        "start": START + timedelta(hours=15),
        "end": START + timedelta(hours=15, minutes=12),
        "duration_s": 720,
        "peak_celsius": Decimal("4.6"),
        "is_excursion": False,
    }
)


def figures(logger_id: str, **values: object) -> LoggerFigures:
    base = LoggerFigures(
        logger_id=logger_id,
        zone="chilled",
        readings=1440,
        min_celsius=Decimal("1.20"),
        max_celsius=Decimal("3.80"),
        mean_celsius=Decimal("2.41"),
        mkt_celsius=Decimal("2.57"),
        time_logged_s=86340,
        time_in_range_s=86340,
        time_out_of_range_s=0,
        budget_left_s=7200,
        budget_exhausted=False,
        last_reading_at=START + timedelta(hours=23, minutes=59),
        breach_at=None,
        verdict="accept",
        reasons=(),
        silences=(),
    )
    return base.model_copy(update=values)


FRONT = figures("LOG-FRONT")
REAR = figures(
    "LOG-REAR",
    max_celsius=Decimal("9.40"),
    mean_celsius=Decimal("3.02"),
    mkt_celsius=Decimal("3.87"),
    time_in_range_s=81660,
    time_out_of_range_s=4680,
    budget_left_s=2520,
    verdict="release_with_deviation",
    reasons=("excursion", "silence"),
    silences=("gap 2026-04-10T18:00:00+00:00/2026-04-10T18:25:00+00:00",),
)
ASSESSMENT = Assessment(
    trip_id="PO-2026-0417-S1",
    as_of=START + timedelta(days=1),
    arrived=True,
    loggers=(FRONT, REAR),
    runs=(EXCURSION, SHORT_RUN),
    warnings=(),
    verdict="release_with_deviation",
    reasons=("excursion", "silence"),
)
DECISION = DecisionInput(
    trip_id="PO-2026-0417-S1",
    order_id="PO-2026-0417",
    shipment=1,
    disposition=Disposition.ACCEPT_WITH_CLAIM,
    quarantined=True,
    automatic=False,
    decided_by=Actor(user_id="chen.jing", org_id="org_buyer"),
    decided_at=START + timedelta(days=1, hours=6),
    comment="抽检 12 箱感官异常 Sensory defects in 12 inspected cartons",
    lost=(ShipmentLine(line_id="L1", quantity=Decimal(12)),),
    shipped=(ShipmentLine(line_id="L1", quantity=Decimal(120)),),
    claim=Money(amount=Decimal("1234.50"), currency="CNY"),
    liable=Liable.CARRIER,
    liable_org_id="org_carrier",
    route="上海 Shanghai → 北京 Beijing",
    carrier_org_id="org_carrier",
    gs1_disposition="sellable_accessible",
    assessment=ASSESSMENT,
)
PARTIES = ReportParties(
    buyer="北京鲜达食品有限公司", supplier="上海海洋水产有限公司", carrier="顺丰冷运有限公司"
)


def hourly(base: str, bump_at: int | None = None) -> list[SeriesBucket]:
    """A day of hourly buckets around ``base`` °C, 6 °C warmer at hour ``bump_at``."""
    buckets = []
    for hour in range(24):
        mean = Decimal(base) + (Decimal(6) if hour == bump_at else Decimal(0))
        buckets.append(
            SeriesBucket(
                start=START + timedelta(hours=hour),
                readings=60,
                min_celsius=mean - Decimal("0.6"),
                max_celsius=mean + Decimal("0.4") * (4 if hour == bump_at else 1),
                mean_celsius=mean,
            )
        )
    return buckets


SERIES = {"LOG-FRONT": hourly("2.4"), "LOG-REAR": hourly("2.9", bump_at=10)}
ZONE_OF = {"LOG-FRONT": "chilled", "LOG-REAR": "chilled"}


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def report_pdf(decision: DecisionInput, **overrides: object) -> str:
    """The report's text, read across the lines pypdf breaks where the PDF does."""
    arguments: dict[str, Any] = {
        "zones": (CHILLED,),
        "lines": (FILLETS,),
        "series": SERIES,
        "zone_of": ZONE_OF,
        "parties": PARTIES,
        "credit_note_id": "CN-PO-2026-0417-S1",
        "issued_at": START + timedelta(days=1, hours=6, minutes=1),
    }
    pdf = render_temperature_report(decision, **(arguments | overrides))
    assert pdf.startswith(b"%PDF-")
    return " ".join(pdf_text(pdf).split())


@pytest.fixture(scope="module")
def report_text() -> str:
    return report_pdf(DECISION)


def test_report_is_bilingual_with_its_ids_and_parties(report_text: str) -> None:
    for text in (
        "温度记录报告",
        "Temperature Report",
        "TR-PO-2026-0417-S1",
        "PO-2026-0417",
        "北京鲜达食品有限公司",
        "上海海洋水产有限公司",
        "顺丰冷运有限公司",
        "冰鲜三文鱼柳",
        "0 ~ 4 °C",
        "> 12 °C",  # the critical maximum
    ):
        assert text in report_text, text


def test_report_prints_the_figures_and_the_excursion(report_text: str) -> None:
    for text in (
        "3.87 °C",  # the rear logger's MKT
        "9.40 °C",  # its maximum
        "1 h 05 min",  # the excursion's duration
        "1 h 18 min",  # its time out of range
        "42 min",  # the budget left
        "2026-04-10 10:00 UTC",
        "偏差放行 Release with deviation",
        "短时超限 Short run",
        "记录中断 Gap 2026-04-10 18:00 UTC 2026-04-10 18:25 UTC 25 min",  # the silence
        "ΔH/R ≈ 10,000 K",
        "GDP 9.2",
    ):
        assert text in report_text, text


def test_report_prints_the_decision_and_the_claim(report_text: str) -> None:
    for text in (
        "接收并索赔 Accept with claim",
        "chen.jing (org_buyer)",
        "CNY 1,234.50",
        "承运人 Carrier: 顺丰冷运有限公司",
        "CN-PO-2026-0417-S1",
        "L1: 12 箱 carton",
        "sellable_accessible",
    ):
        assert text in report_text, text


def test_report_embeds_the_chart(report_text: str) -> None:
    for text in (Y_LABEL, X_LABEL, "chilled max 4 °C", "LOG-REAR (chilled)", "04-10 12:00"):
        assert text in report_text, text


def test_automatic_acceptance_without_carrier_or_claim() -> None:
    decision = DECISION.model_copy(
        update={
            "disposition": Disposition.ACCEPT,
            "quarantined": False,
            "automatic": True,
            "decided_by": None,
            "lost": (),
            "claim": None,
            "liable": None,
            "liable_org_id": None,
            "assessment": ASSESSMENT.model_copy(
                update={"loggers": (FRONT,), "runs": (), "verdict": "accept", "reasons": ()}
            ),
        }
    )
    text = report_pdf(
        decision,
        series={"LOG-FRONT": SERIES["LOG-FRONT"]},
        parties=ReportParties(buyer="买方 B", supplier="卖方 S", carrier=None),
        credit_note_id=None,
    )
    assert "自动 (无偏离) Automatic (no excursion)" in text
    assert "No reading outside the range." in text
    assert "Shipped by the supplier" in text


def test_credit_note() -> None:
    pdf = render_credit_note(
        credit_note_id="CN-PO-2026-0417-S1",
        order_id="PO-2026-0417",
        invoice_id="INV-PO-2026-0417",
        buyer=PARTIES.buyer,
        supplier=PARTIES.supplier,
        lines=((FILLETS, Decimal(12)),),
        amount=Money(amount=Decimal("1234.50"), currency="CNY"),
        reason="温度偏离 Temperature excursion, trip PO-2026-0417-S1",
        liable="承运人 Carrier: 顺丰冷运有限公司",
        issued_at=START + timedelta(days=1, hours=6),
    )
    text = " ".join(pdf_text(pdf).split())
    for expected in (
        "贷项通知单",
        "Credit Note",
        "CN-PO-2026-0417-S1",
        "INV-PO-2026-0417",
        "12 箱 carton",
        "CNY 102.88",  # the unit price, as money
        "CNY 1,234.50",
        "2026-04-11 06:00 UTC",
        "顺丰冷运有限公司",
    ):
        assert expected in text, expected


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 min"),
        (59, "0 min"),
        (3900, "1 h 05 min"),
        (2520, "42 min"),
        (93600, "1 d 02 h 00 min"),
    ],
)
def test_duration_text(seconds: int, text: str) -> None:
    assert duration_text(seconds) == text


def test_silence_view() -> None:
    assert silence_view("L", "end 2026-04-10T22:00:00+00:00/2026-04-11T00:00:00+00:00") == {
        "logger": "L",
        "kind": "到达前无读数 No readings before the end",
        "start": "2026-04-10 22:00 UTC",
        "end": "2026-04-11 00:00 UTC",
        "duration": "2 h 00 min",
    }
    assert silence_view("L", "gap yesterday")["kind"] == "gap yesterday"


def test_range_text() -> None:
    assert range_text(Decimal(2), Decimal(8)) == "2 ~ 8 °C"
    assert range_text(None, Decimal(-18)) == "≤ -18 °C"
    assert range_text(Decimal("15.5"), None) == "≥ 15.5 °C"
