"""The bilingual temperature report (温度记录报告) and the credit note (贷项通知单) of a cold trip.

The report is the trip's record on arrival: the zones and their ranges, the chart, every logger's
figures, the excursions and silences, the decision and the rules it rests on (domain-rules.md §2:
MKT with ΔH/R, China GSP and EU GDP 9.2 on receiving). It is rendered from the decision alone
(its assessment carries the figures) plus what the decision does not hold: the zones, lines,
downsampled series, parties' legal names and the credit note's id. Times print in UTC, as the
chart's axis does; durations as "1 h 05 min" (whole minutes, rounded down, so a run just under a
tolerance never prints as reaching it).

The credit note is the claim turned into an adjustment of the invoice: lost quantities at the
lines' prices, the total as the claim states it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from markupsafe import Markup

from contracts.cold_chain import (
    ColdLine,
    DecisionInput,
    Disposition,
    Liable,
    LoggerFigures,
    RunView,
    SeriesBucket,
    ZoneProfile,
)
from contracts.common import Money, money_text
from documents.e_contract import quantity_text
from documents.render import render_pdf
from documents.temperature_chart import temperature_chart_svg

REPORT_TEMPLATE = "temperature_report.html.j2"
CREDIT_NOTE_TEMPLATE = "credit_note.html.j2"
R_J_PER_MOL_K = Decimal("8.3144621")  # the gas constant as rules.mkt uses it
DISPOSITION_LABELS: dict[Disposition, str] = {
    Disposition.ACCEPT: "接收 Accept",
    Disposition.ACCEPT_WITH_CLAIM: "接收并索赔 Accept with claim",
    Disposition.QUARANTINE: "隔离待检 Quarantine for inspection",
    Disposition.REJECT: "拒收 Reject",
}
VERDICT_LABELS = {  # rules.cold_chain.Verdict
    "accept": "合格 Accept",
    "release_with_deviation": "偏差放行 Release with deviation",
    "quarantine": "隔离 Quarantine",
}
REASON_LABELS = {  # rules.cold_chain.Reason
    "no_readings": "无读数 No readings",
    "critical": "超临界限 Critical limit passed",
    "budget_exhausted": "稳定性预算耗尽 Stability budget exhausted",
    "mkt_over_label": "MKT 超标签上限 MKT above label maximum",
    "excursion": "温度偏离 Excursion",
    "silence": "记录仪中断 Logger silent",
}
GS1_LABELS = {  # GS1 CBV dispositions, domain-rules.md §2
    "sellable_accessible": "可售 Sellable, accessible (sellable_accessible)",
    "sellable_not_accessible": "可售不可取 Sellable, not accessible (sellable_not_accessible)",
    "non_sellable_other": "不可售 Non-sellable (non_sellable_other)",
    "damaged": "损坏 Damaged (damaged)",
    "destroyed": "销毁 Destroyed (destroyed)",
}
SILENCE_LABELS = {  # rules.cold_chain_excursions.SilenceKind
    "start": "起运后无读数 No readings after the start",
    "gap": "记录中断 Gap",
    "end": "到达前无读数 No readings before the end",
    "ongoing": "仍无读数 Still silent",
}
SIDE_LABELS = {"above": "高于上限 Above", "below": "低于下限 Below"}
LIABLE_LABELS: dict[Liable, str] = {
    Liable.CARRIER: "承运人 Carrier",
    Liable.SUPPLIER: "供应商 Supplier",
}


@dataclass(frozen=True)
class ReportParties:
    """The legal names the report prints; no carrier when the supplier ships itself."""

    buyer: str
    supplier: str
    carrier: str | None


def render_temperature_report(
    decision: DecisionInput,
    *,
    zones: Sequence[ZoneProfile],
    lines: Sequence[ColdLine],
    series: Mapping[str, Sequence[SeriesBucket]],
    zone_of: Mapping[str, str],
    parties: ReportParties,
    credit_note_id: str | None,
    issued_at: datetime,
) -> bytes:
    """The report's PDF bytes, ready to hash and store."""
    assessment = decision.assessment
    shipped = {s.line_id: s.quantity for s in decision.shipped}
    lost = {s.line_id: s.quantity for s in decision.lost}
    chart = temperature_chart_svg(series, zones, zone_of, assessment.runs)
    context = {
        "document_id": f"TR-{decision.trip_id}",
        "decision": decision,
        "parties": parties,
        "issued_at": utc_text(issued_at),
        "as_of": utc_text(assessment.as_of),
        "chart": Markup(chart),  # built from escaped parts by temperature_chart_svg
        "zones": [_zone_view(zone) for zone in zones],
        "lines": [
            {
                "line": line,
                "shipped": quantity_text(shipped.get(line.line_id, line.quantity)),
                "lost": quantity_text(lost.get(line.line_id, Decimal(0))),
            }
            for line in lines
        ],
        "loggers": [_logger_view(f) for f in assessment.loggers],
        "runs": [_run_view(run) for run in assessment.runs],
        "silences": [silence_view(f.logger_id, s) for f in assessment.loggers for s in f.silences],
        "verdict": VERDICT_LABELS.get(assessment.verdict, assessment.verdict),
        "reasons": [REASON_LABELS.get(r, r) for r in assessment.reasons],
        "disposition": DISPOSITION_LABELS[decision.disposition],
        "decided_by": _decided_by(decision),
        "decided_at": utc_text(decision.decided_at),
        "gs1": GS1_LABELS.get(decision.gs1_disposition, decision.gs1_disposition),
        "lost": [
            f"{s.line_id}: {quantity_text(s.quantity)} {_unit(lines, s.line_id)}".rstrip()
            for s in decision.lost
        ],
        "claim": _money(decision.claim),
        "liable": _liable(decision.liable, parties),
        "credit_note_id": credit_note_id,
    }
    return render_pdf(REPORT_TEMPLATE, context)


def render_credit_note(
    *,
    credit_note_id: str,
    order_id: str,
    invoice_id: str,
    buyer: str,
    supplier: str,
    lines: Sequence[tuple[ColdLine, Decimal]],
    amount: Money,
    reason: str,
    liable: str,
    issued_at: datetime,
) -> bytes:
    """The credit note's PDF bytes: each line's lost quantity at its price, and the total."""
    views = [
        {
            "line": line,
            "quantity": quantity_text(quantity),
            "unit_price": money_text(line.unit_price, amount.currency),
            "value": money_text(line.unit_price * quantity, amount.currency),
        }
        for line, quantity in lines
    ]
    return render_pdf(
        CREDIT_NOTE_TEMPLATE,
        {
            "document_id": credit_note_id,
            "credit_note_id": credit_note_id,
            "order_id": order_id,
            "invoice_id": invoice_id,
            "buyer": buyer,
            "supplier": supplier,
            "lines": views,
            "amount": money_text(amount.amount, amount.currency),
            "reason": reason,
            "liable": liable,
            "issued_at": utc_text(issued_at),
        },
    )


def duration_text(seconds: int) -> str:
    """'1 h 05 min', '45 min', '2 d 03 h 00 min'; whole minutes, rounded down."""
    minutes = max(seconds, 0) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours:02d} h {minutes:02d} min"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


def celsius_text(value: Decimal | None) -> str:
    """'4.25 °C' to 0.01 °C; '—' without readings."""
    return "—" if value is None else f"{value.quantize(Decimal('0.01'))} °C"


def utc_text(value: datetime) -> str:
    """'2026-04-10 08:00 UTC'."""
    if value.utcoffset() is None:
        raise ValueError("report times must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def range_text(low: Decimal | None, high: Decimal | None) -> str:
    """'0 ~ 4 °C', '≤ -18 °C', '≥ 15 °C'."""
    if low is not None and high is not None:
        return f"{_celsius(low)} ~ {_celsius(high)} °C"
    if high is not None:
        return f"≤ {_celsius(high)} °C"
    if low is not None:
        return f"≥ {_celsius(low)} °C"
    return "—"


def critical_text(low: Decimal | None, high: Decimal | None) -> str:
    """'< -2 °C; > 12 °C': the values past which a reading is critical; '—' without limits."""
    limits = [f"< {_celsius(low)} °C"] if low is not None else []
    limits += [f"> {_celsius(high)} °C"] if high is not None else []
    return "; ".join(limits) or "—"


def _celsius(value: Decimal) -> str:
    return quantity_text(value) if value == value.to_integral_value() else f"{value.normalize()}"


def _zone_view(zone: ZoneProfile) -> dict[str, object]:
    delta_h_over_r = (zone.delta_h_j_per_mol / R_J_PER_MOL_K).quantize(Decimal(1))
    return {
        "zone": zone,
        "range": range_text(zone.min_celsius, zone.max_celsius),
        "critical": critical_text(zone.critical_min_celsius, zone.critical_max_celsius),
        "warning_margin": _celsius(zone.warning_margin),
        "single_tolerance": duration_text(zone.single_tolerance_s),
        "budget": duration_text(zone.cumulative_tolerance_s),
        "max_silence": duration_text(zone.max_silence_s),
        "delta_h_kj": quantity_text((zone.delta_h_j_per_mol / 1000).normalize()),
        "delta_h_over_r": quantity_text(delta_h_over_r),
        "mkt_label_max": "—"
        if zone.mkt_label_max_celsius is None
        else f"{_celsius(zone.mkt_label_max_celsius)} °C",
    }


def _logger_view(f: LoggerFigures) -> dict[str, object]:
    return {
        "figures": f,
        "min": celsius_text(f.min_celsius),
        "max": celsius_text(f.max_celsius),
        "mean": celsius_text(f.mean_celsius),
        "mkt": celsius_text(f.mkt_celsius),
        "in_range": duration_text(f.time_in_range_s),
        "out_of_range": duration_text(f.time_out_of_range_s),
        "budget_left": duration_text(f.budget_left_s),
        "verdict": VERDICT_LABELS.get(f.verdict, f.verdict),
        "reasons": [REASON_LABELS.get(r, r) for r in f.reasons],
    }


def _run_view(run: RunView) -> dict[str, object]:
    return {
        "run": run,
        "side": SIDE_LABELS.get(run.side, run.side),
        "start": utc_text(run.start),
        "end": utc_text(run.end) + (" (进行中 ongoing)" if run.ongoing else ""),
        "duration": duration_text(run.duration_s),
        "peak": celsius_text(run.peak_celsius),
        "kind": "偏离 Excursion" if run.is_excursion else "短时超限 Short run",
        "critical": "是 Yes" if run.critical else "否 No",
    }


def silence_view(logger_id: str, silence: str) -> dict[str, str]:
    """A silence as LoggerFigures carries it (its kind, then an ISO 8601 interval:
    "gap 2026-03-01T10:00:00+00:00/2026-03-01T10:40:00+00:00"), split for the table; printed
    as is when it is not that."""
    kind, _, interval = silence.partition(" ")
    try:
        start, end = (datetime.fromisoformat(at) for at in interval.split("/"))
        span = duration_text(int((end - start).total_seconds()))
        times = (utc_text(start), utc_text(end))
    except ValueError:  # not an interval, or naive times: the text as the figures state it
        return {"logger": logger_id, "kind": silence, "start": "", "end": "", "duration": ""}
    label = SILENCE_LABELS.get(kind, kind)
    return {
        "logger": logger_id,
        "kind": label,
        "start": times[0],
        "end": times[1],
        "duration": span,
    }


def _decided_by(decision: DecisionInput) -> str:
    if decision.automatic:
        return "自动 (无偏离) Automatic (no excursion)"
    if decision.decided_by is None:
        return "—"
    return f"{decision.decided_by.user_id} ({decision.decided_by.org_id})"


def _liable(liable: Liable | None, parties: ReportParties) -> str:
    if liable is None:
        return "—"
    name = parties.carrier if liable is Liable.CARRIER else parties.supplier
    return f"{LIABLE_LABELS[liable]}: {name or '—'}"


def _money(value: Money | None) -> str:
    return "—" if value is None else money_text(value.amount, value.currency)


def _unit(lines: Sequence[ColdLine], line_id: str) -> str:
    return next((line.unit for line in lines if line.line_id == line_id), "")
