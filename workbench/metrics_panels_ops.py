"""The dashboard's operations panels: decision lead times, e-waybill filing, the cold chain,
the loan book and the regulator's filings per day (``workbench.metrics_panels`` has the trade
panels and says how a panel is made)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from workbench.charts import Chart, Series, bar_chart, gauge, stacked_bar_chart
from workbench.i18n import Lang, money, process_label
from workbench.metrics import Panel, currencies, hours, percent, rate, week_label
from workbench.metrics_ops import ColdRecord, DecisionTimes, Exposure, FilingFigures, Filings
from workbench.metrics_panels import T, none, pct
from workbench.terms import term


def lead_times(
    t: T, lang: Lang, groups: Sequence[DecisionTimes], every: DecisionTimes | None
) -> Panel:
    """Hours from a task's creation to its decision, median and p90, per process and kind
    (a kind, "accreditation_review", is named in words: it says its process too)."""
    slowest_first = sorted(groups, key=lambda g: (-g.p90, g.process or "", g.kind or ""))
    if slowest_first and every is not None:
        slowest = f"{term(lang, slowest_first[0].kind or '')} {hours(slowest_first[0].p90)}"
        headline = t("dash_lead_headline").format(median=hours(every.median), slowest=slowest)
    else:
        headline = t("dash_lead_headline").format(median="—", slowest="—")
    shown = slowest_first[:8]
    labels = [term(lang, g.kind or "") for g in shown]
    # The axis in the unit the slowest reads in, so minutes-long decisions are not 0.0 h bars.
    unit, per_hour = _unit(slowest_first[0].p90 if slowest_first else 0.0)
    chart = Chart(
        t("dash_lead_time"),
        [
            Series(t("dash_median"), _rounded(labels, [g.median for g in shown], per_hour)),
            Series("p90", _rounded(labels, [g.p90 for g in shown], per_hour)),
        ],
        unit=unit,
    )
    return Panel(
        key="lead_time",
        title=t("dash_lead_time"),
        headline=headline,
        chart=bar_chart(chart) if slowest_first else none(t, "dash_lead_time"),
        columns=(t("process"), t("task"), t("dash_decided"), t("dash_median"), "p90"),
        rows=[
            (
                process_label(lang, g.process or ""),
                term(lang, g.kind or ""),
                str(g.decided),
                hours(g.median),
                hours(g.p90),
            )
            for g in slowest_first
        ],
    )


def _unit(slowest: float) -> tuple[str, float]:
    """The unit a span of ``slowest`` hours reads in (as ``hours`` says it) and its size."""
    if slowest < 1:
        return "min", 60.0
    return ("h", 1.0) if slowest < 48 else ("d", 1 / 24)


def _rounded(labels: list[str], spans: list[float], per_hour: float) -> list[tuple[str, Decimal]]:
    return [
        (label, Decimal(str(round(span * per_hour, 1))))
        for label, span in zip(labels, spans, strict=True)
    ]


def filings(t: T, rows: Sequence[Filings], every: FilingFigures) -> Panel:
    """E-waybills filed and refused by week, the success rate and the time to the receipt."""
    filed, refused = every.filed, every.refused
    success = rate(filed, filed + refused)
    chart = Chart(
        t("dash_filings"),
        [
            Series(t("dash_filed"), [(week_label(r.week), r.filed) for r in rows]),
            Series(t("dash_refused"), [(week_label(r.week), r.refused) for r in rows]),
        ],
    )
    return Panel(
        key="filings",
        title=t("dash_filings"),
        headline=t("dash_filings_headline").format(
            filed=filed,
            refused=refused,
            rate=percent(success),
            median=hours(every.median),
            p90=hours(every.p90),
        ),
        chart=stacked_bar_chart(chart) if rows else none(t, "dash_filings"),
        columns=(
            t("dash_week"),
            t("dash_filed"),
            t("dash_refused"),
            t("dash_rate"),
            t("dash_median"),
            "p90",
        ),
        rows=[
            (
                r.week.isoformat(),
                str(r.filed),
                str(r.refused),
                percent(rate(r.filed, r.filed + r.refused)),
                hours(r.median),
                hours(r.p90),
            )
            for r in reversed(rows)
        ],
        extra=(gauge(t("dash_filing_success"), success),) if success is not None else (),
    )


def cold_chain(t: T, key: str, rows: Sequence[ColdRecord]) -> Panel:
    """Decided cold trips by route or carrier: excursion rate, loss rate, value lost."""
    trips, excursions = sum(r.trips for r in rows), sum(r.excursions for r in rows)
    lost, shipped = (
        sum((r.lost for r in rows), Decimal(0)),
        sum((r.shipped for r in rows), Decimal(0)),
    )
    chart = Chart(
        t(key),
        [
            Series(
                t("dash_excursion_rate"),
                [(r.group[:18], pct(r.excursions, r.trips)) for r in rows],
            ),
            Series(t("dash_loss_rate"), [(r.group[:18], pct(r.lost, r.shipped)) for r in rows]),
        ],
        unit="%",
    )
    return Panel(
        key=key.removeprefix("dash_"),
        title=t(key),
        headline=t("dash_cold_headline").format(
            trips=trips,
            excursions=percent(rate(excursions, trips)),
            loss=percent(rate(lost, shipped)),
        ),
        chart=bar_chart(chart) if rows else none(t, key),
        columns=(
            t("dash_group"),
            t("dash_trips"),
            t("dash_excursion_rate"),
            t("dash_loss_rate"),
            t("dash_value_lost"),
        ),
        rows=[
            (
                r.group,
                str(r.trips),
                percent(rate(r.excursions, r.trips)),
                percent(rate(r.lost, r.shipped)),
                "; ".join(money(v, code) for code, v in r.loss_value) or "—",
            )
            for r in rows
        ],
    )


def loans(
    t: T, lang: Lang, rows: Sequence[Exposure], bad_debt: Sequence[tuple[str, Decimal]]
) -> Panel:
    """What loans still owe by grade and status (stacked, main currency), and the bad-debt
    rate per currency where the caller oversees the whole book (``bad_debt`` empty otherwise)."""
    found = currencies(r.currency for r in rows)
    owed = [
        money(sum((r.owed for r in rows if r.currency == code), Decimal(0)), code) for code in found
    ]
    overdue = [
        money(
            sum((r.owed for r in rows if r.currency == code and r.status == "overdue"), Decimal(0)),
            code,
        )
        for code in found
    ]
    headline = t("dash_loans_headline").format(
        owed="; ".join(owed) or "—",
        loans=sum(r.loans for r in rows),
        overdue="; ".join(overdue) or "—",
    )
    if bad_debt:
        headline += " · " + "; ".join(
            t("dash_bad_debt_rate") + f" {code} {percent(value)}" for code, value in bad_debt
        )
    main = found[0] if found else "CNY"
    statuses = sorted({r.status for r in rows if r.currency == main})
    series = [
        Series(
            term(lang, status),
            [(r.grade, r.owed) for r in rows if r.currency == main and r.status == status],
        )
        for status in statuses
    ]
    return Panel(
        key="loans",
        title=t("dash_loans"),
        headline=headline,
        chart=stacked_bar_chart(Chart(f"{t('dash_loans')} · {main}", series, unit=main))
        if series
        else none(t, "dash_loans"),
        columns=(
            t("dash_currency"),
            t("dash_grade"),
            t("status"),
            t("dash_loan_count"),
            t("dash_owed"),
        ),
        rows=[
            (r.currency, r.grade, term(lang, r.status), str(r.loans), money(r.owed, r.currency))
            for r in rows
        ],
        extra=tuple(gauge(f"{t('dash_bad_debt_rate')} {code}", value) for code, value in bad_debt),
    )


def filings_per_day(t: T, rows: Sequence[tuple[date, int]]) -> Panel:
    """The regulator's view: e-waybills filed per China day."""
    total = sum(n for _, n in rows)
    chart = Chart(
        t("dash_filings_per_day"),
        [Series(t("dash_filed"), [(d.strftime("%m-%d"), n) for d, n in rows])],
    )
    return Panel(
        key="filings_per_day",
        title=t("dash_filings_per_day"),
        headline=t("dash_filings_per_day_headline").format(total=total, days=len(rows)),
        chart=bar_chart(chart) if rows else none(t, "dash_filings_per_day"),
        columns=(t("dash_day"), t("dash_filed")),
        rows=[(d.isoformat(), str(n)) for d, n in reversed(rows)],
    )
