"""The dashboard's trade panels (orders, on-time delivery, savings, suppliers, receivables):
the queries' rows turned into a headline, a chart and a table; ``workbench.metrics_panels_ops``
has the operations panels, made the same way.

No I/O here: each function takes rows (``workbench.metrics_orders``, ``workbench.metrics_ops``)
and the page's translator, and returns a ``Panel`` whose headline says the figure in a sentence,
whose chart shows its course, and whose table holds the exact numbers. Charts in money show one
currency (CNY first); the other currencies are in the headline and the table, never summed in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from markupsafe import Markup

from rules.loan_portfolio import OVERDUE_BUCKETS, days_overdue, overdue_bucket
from workbench.charts import (
    Chart,
    Series,
    bar_chart,
    gauge,
)
from workbench.i18n import money
from workbench.metrics import (
    Panel,
    WeekAmount,
    change,
    currencies,
    percent,
    rate,
    recent_and_before,
    signed_percent,
    week_label,
    weekly,
)
from workbench.metrics_orders import Deliveries, Receivable, Savings, SupplierRecord

T = Callable[[str], str]


def amounts(key: str, t: T, rows: Sequence[WeekAmount], weeks: Sequence[date]) -> Panel:
    """Orders' value by week (GMV, spend or sales): the last four weeks against the four before,
    per currency; the chart in the main currency."""
    found = currencies(r.currency for r in rows)
    said = []
    for code in found:
        now, before = recent_and_before(weekly(rows, weeks, code))
        moved = change(now, before)
        said.append(money(now, code) + ("" if moved is None else f" ({signed_percent(moved)})"))
    headline = t("dash_last_4_weeks").format(what=t(key), figure="; ".join(said) or "—")
    main = found[0] if found else "CNY"
    series = Series(t(key), [(week_label(w), amount) for w, _, amount in weekly(rows, weeks, main)])
    table = [
        (row.week.isoformat(), row.currency, str(row.orders), money(row.amount, row.currency))
        for row in sorted(rows, key=lambda r: (r.week, r.currency), reverse=True)
    ]
    return Panel(
        key=key.removeprefix("dash_"),
        title=t(key),
        headline=headline,
        chart=bar_chart(Chart(f"{t(key)} · {main}", [series], unit=main))
        if found
        else none(t, key),
        columns=(t("dash_week"), t("dash_currency"), t("dash_orders"), t("amount")),
        rows=table,
    )


def on_time(t: T, rows: Sequence[Deliveries]) -> Panel:
    """Shipments delivered by the contract's delivery date, week by week and overall."""
    on, whole = sum(r.on_time for r in rows), sum(r.delivered for r in rows)
    overall = rate(on, whole)
    points = [(r.label[5:], (rate(r.on_time, r.delivered) or Decimal(0)) * 100) for r in rows]
    return Panel(
        key="on_time",
        title=t("dash_on_time"),
        headline=t("dash_on_time_headline").format(rate=percent(overall), on=on, whole=whole),
        chart=bar_chart(Chart(t("dash_on_time"), [Series(t("dash_on_time"), points)], unit="%"))
        if rows
        else none(t, "dash_on_time"),
        columns=(t("dash_week"), t("dash_delivered"), t("dash_on_time_count"), t("dash_rate")),
        rows=[
            (r.label, str(r.delivered), str(r.on_time), percent(rate(r.on_time, r.delivered)))
            for r in reversed(rows)
        ],
        extra=(gauge(t("dash_on_time"), overall),) if overall is not None else (),
    )


def pct(part: int | Decimal, whole: int | Decimal) -> Decimal:
    return (rate(part, whole) or Decimal(0)) * 100


def savings(t: T, rows: Sequence[Savings]) -> Panel:
    """What the awarded lines cost against the RFQ's target prices, by week."""
    found = currencies(r.currency for r in rows)
    said = []
    for code in found:
        target = sum((r.target for r in rows if r.currency == code), Decimal(0))
        saved = target - sum((r.awarded for r in rows if r.currency == code), Decimal(0))
        said.append(f"{money(saved, code)} ({percent(rate(saved, target))})")
    main = found[0] if found else "CNY"
    chart = Chart(
        f"{t('dash_savings')} · {main}",
        [
            Series(
                t("dash_target"),
                [(week_label(r.week), r.target) for r in rows if r.currency == main],
            ),
            Series(
                t("dash_awarded"),
                [(week_label(r.week), r.awarded) for r in rows if r.currency == main],
            ),
        ],
        unit=main,
    )
    return Panel(
        key="savings",
        title=t("dash_savings"),
        headline=t("dash_savings_headline").format(figure="; ".join(said) or "—"),
        chart=bar_chart(chart) if rows else none(t, "dash_savings"),
        columns=(t("dash_week"), t("dash_target"), t("dash_awarded"), t("dash_saved")),
        rows=[
            (
                r.week.isoformat(),
                money(r.target, r.currency),
                money(r.awarded, r.currency),
                _saved(r.target, r.awarded, r.currency),
            )
            for r in reversed(rows)
        ],
    )


def _saved(target: Decimal, awarded: Decimal, currency: str) -> str:
    return f"{money(target - awarded, currency)} ({percent(rate(target - awarded, target))})"


def suppliers(t: T, rows: Sequence[SupplierRecord]) -> Panel:
    """Each supplier's on-time rate, disputes and excursions on the caller's orders."""
    on, whole = sum(r.on_time for r in rows), sum(r.delivered for r in rows)
    chart = Chart(
        t("dash_on_time"),
        [
            Series(
                t("dash_on_time"), [(r.name[:14], pct(r.on_time, r.delivered)) for r in rows[:10]]
            )
        ],
        unit="%",
    )
    return Panel(
        key="suppliers",
        title=t("dash_suppliers"),
        headline=t("dash_suppliers_headline").format(
            suppliers=len(rows),
            rate=percent(rate(on, whole)),
            disputes=sum(r.disputes for r in rows),
            excursions=sum(r.excursions for r in rows),
        ),
        chart=bar_chart(chart) if rows else none(t, "dash_suppliers"),
        columns=(
            t("dash_supplier"),
            t("dash_delivered"),
            t("dash_rate"),
            t("dash_disputes"),
            t("dash_excursions"),
        ),
        rows=[
            (
                r.name,
                str(r.delivered),
                percent(rate(r.on_time, r.delivered)),
                str(r.disputes),
                str(r.excursions),
            )
            for r in rows
        ],
    )


def receivables(t: T, rows: Sequence[Receivable], today: date) -> Panel:
    """What buyers still owe on invoices, by currency and by days past due (the ageing bands
    of ``rules.loan_portfolio``)."""
    aged: dict[tuple[str, str], Decimal] = {}
    for r in rows:
        bucket = overdue_bucket(days_overdue(r.due_on, today))
        aged[(r.currency, bucket)] = aged.get((r.currency, bucket), Decimal(0)) + r.outstanding
    found = currencies(code for code, _ in aged)
    owed = [
        money(sum((v for (c, _), v in aged.items() if c == code), Decimal(0)), code)
        for code in found
    ]
    overdue = [
        money(
            sum((v for (c, b), v in aged.items() if c == code and b != "current"), Decimal(0)), code
        )
        for code in found
    ]
    main = found[0] if found else "CNY"
    series = Series(t("dash_owed"), [(b, aged.get((main, b), Decimal(0))) for b in OVERDUE_BUCKETS])
    return Panel(
        key="receivables",
        title=t("dash_receivables"),
        headline=t("dash_receivables_headline").format(
            owed="; ".join(owed) or "—", overdue="; ".join(overdue) or "—"
        ),
        chart=bar_chart(Chart(f"{t('dash_receivables')} · {main}", [series], unit=main))
        if rows
        else none(t, "dash_receivables"),
        columns=(t("dash_currency"), t("dash_days_overdue"), t("dash_owed")),
        rows=[(c, b, money(v, c)) for (c, b), v in sorted(aged.items())],
    )


def none(t: T, key: str) -> Markup:
    """A panel with nothing to chart yet: one line saying so, not an empty frame's height."""
    return Markup('<p class="nothing muted" data-testid="nothing-{}">{}</p>').format(
        key.removeprefix("dash_"), t("dash_nothing_yet")
    )
