"""Financial ratios, Altman Z'' (non-manufacturing variant), red/amber flags and the risk band.

Point-in-time flags (liquidity, leverage, interest cover, Z'' zone) are judged on the latest
year only; the trend flags (revenue declining, repeated losses) look across the years.

Risk band:
- HIGH when any red flag is one of ``FinancialThresholds.severe_flags``, or there are at least
  ``high_red_count`` red flags, or the latest year's Z'' is in the distress zone;
- otherwise MEDIUM when there is any red flag or at least ``medium_amber_count`` amber flags;
- otherwise LOW.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from contracts.accreditation import FinancialAnalysis, FinancialYear, Flag, RiskBand, YearAnalysis

RATIO_PLACES = Decimal("0.0001")
RED = "red"
AMBER = "amber"

# Altman (2000/2005) Z'' for non-manufacturers and private firms, without the emerging-market
# constant: its cut-offs are the 1.1 / 2.6 ones below.
Z_X1 = Decimal("6.56")
Z_X2 = Decimal("3.26")
Z_X3 = Decimal("6.72")
Z_X4 = Decimal("1.05")
# Book equity / total liabilities grows without bound as debt vanishes (and is undefined with
# none). Equity at ten times liabilities is already debt-free in all but name; capping there
# keeps Z'' finite and stops one term from drowning out losses and illiquidity.
Z_X4_CAP = Decimal("10")

SAFE = "safe"
GREY = "grey"
DISTRESS = "distress"


@dataclass(frozen=True, slots=True)
class FinancialThresholds:
    """Conventions, not regulations: each value is configurable (domain-rules.md §3 defaults)."""

    current_ratio_red: Decimal = Decimal("1.0")  # below: red
    current_ratio_amber: Decimal = Decimal("1.5")  # below: amber
    quick_ratio_red: Decimal = Decimal("0.8")
    quick_ratio_amber: Decimal = Decimal("1.0")
    debt_to_assets_red: Decimal = Decimal("0.70")  # above: red
    debt_to_assets_amber: Decimal = Decimal("0.65")  # at or above: amber
    insolvent_debt_to_assets: Decimal = Decimal("1.0")  # above: liabilities exceed assets
    interest_coverage_red: Decimal = Decimal("1.5")
    interest_coverage_amber: Decimal = Decimal("3")
    z_safe_above: Decimal = Decimal("2.6")
    z_distress_below: Decimal = Decimal("1.1")
    revenue_declines_red: int = 2  # consecutive yearly declines, latest first
    loss_years_red: int = 2  # loss-making years ...
    loss_window: int = 3  # ... among this many latest years
    high_red_count: int = 2
    medium_amber_count: int = 2
    severe_flags: frozenset[str] = field(
        default=frozenset({"insolvent_on_paper", "losses_two_of_three_years", "z_distress"})
    )


DEFAULT_THRESHOLDS = FinancialThresholds()


def _q(value: Decimal) -> Decimal:
    return value.quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    return None if denominator == 0 else _q(numerator / denominator)


def _ebit(year: FinancialYear) -> Decimal:
    # Chinese statements: EBIT = 利润总额 + 利息费用.
    return year.profit_before_tax + year.interest_expense


def z_double_prime(year: FinancialYear) -> Decimal:
    """Altman Z'' = 6.56 X1 + 3.26 X2 + 6.72 X3 + 1.05 X4, to four places."""
    assets = year.total_assets
    x1 = (year.current_assets - year.current_liabilities) / assets
    x2 = year.retained_earnings / assets
    x3 = _ebit(year) / assets
    equity = assets - year.total_liabilities
    x4 = Z_X4_CAP if year.total_liabilities == 0 else min(equity / year.total_liabilities, Z_X4_CAP)
    return _q(Z_X1 * x1 + Z_X2 * x2 + Z_X3 * x3 + Z_X4 * x4)


def z_zone(z: Decimal, *, thresholds: FinancialThresholds = DEFAULT_THRESHOLDS) -> str:
    """``safe`` above 2.6, ``distress`` below 1.1, ``grey`` in between (both ends included)."""
    if z > thresholds.z_safe_above:
        return SAFE
    if z < thresholds.z_distress_below:
        return DISTRESS
    return GREY


def _growth(year: FinancialYear, previous: FinancialYear | None) -> Decimal | None:
    if previous is None or previous.year != year.year - 1 or previous.revenue == 0:
        return None
    return _q((year.revenue - previous.revenue) / previous.revenue)


def _year_analysis(
    year: FinancialYear, previous: FinancialYear | None, thresholds: FinancialThresholds
) -> YearAnalysis:
    z = z_double_prime(year)
    return YearAnalysis(
        year=year.year,
        current_ratio=_ratio(year.current_assets, year.current_liabilities),
        quick_ratio=_ratio(
            year.current_assets - year.inventory - year.prepaid_expenses,
            year.current_liabilities,
        ),
        debt_to_assets=_q(year.total_liabilities / year.total_assets),
        interest_coverage=_ratio(_ebit(year), year.interest_expense),
        net_margin=_ratio(year.net_profit, year.revenue),
        revenue_growth=_growth(year, previous),
        z_double_prime=z,
        z_zone=z_zone(z, thresholds=thresholds),
    )


def revenue_cagr(years: Sequence[FinancialYear]) -> Decimal | None:
    """(last / first) ** (1 / span in years) - 1; None without two years or a first revenue."""
    ordered = sorted(years, key=lambda y: y.year)
    if len(ordered) < 2 or ordered[0].revenue == 0:
        return None
    first, last = ordered[0], ordered[-1]
    span = Decimal(last.year - first.year)
    return _q((last.revenue / first.revenue) ** (Decimal(1) / span) - 1)


def _below(
    value: Decimal | None, *, red: Decimal, amber: Decimal, code: str, label: str, year: int
) -> Flag | None:
    if value is None or value >= amber:
        return None
    severity, limit = (RED, red) if value < red else (AMBER, amber)
    return Flag(
        code=code,
        severity=severity,
        message=f"{label} {value} in {year} is below {limit}",
        year=year,
    )


def _point_in_time_flags(latest: YearAnalysis, t: FinancialThresholds) -> list[Flag]:
    year = latest.year
    found = [
        _below(
            latest.current_ratio,
            red=t.current_ratio_red,
            amber=t.current_ratio_amber,
            code="current_ratio_low",
            label="current ratio",
            year=year,
        ),
        _below(
            latest.quick_ratio,
            red=t.quick_ratio_red,
            amber=t.quick_ratio_amber,
            code="quick_ratio_low",
            label="quick ratio",
            year=year,
        ),
        _below(
            latest.interest_coverage,
            red=t.interest_coverage_red,
            amber=t.interest_coverage_amber,
            code="interest_coverage_low",
            label="interest coverage",
            year=year,
        ),
    ]
    flags = [f for f in found if f is not None]
    debt = latest.debt_to_assets
    if debt > t.debt_to_assets_red:
        flags.append(
            Flag(
                code="debt_to_assets_high",
                severity=RED,
                message=f"debt-to-assets {debt} in {year} is above {t.debt_to_assets_red}",
                year=year,
            )
        )
    elif debt >= t.debt_to_assets_amber:
        flags.append(
            Flag(
                code="debt_to_assets_high",
                severity=AMBER,
                message=f"debt-to-assets {debt} in {year} is at or above {t.debt_to_assets_amber}",
                year=year,
            )
        )
    if debt > t.insolvent_debt_to_assets:
        flags.append(
            Flag(
                code="insolvent_on_paper",
                severity=RED,
                message=f"liabilities exceed assets in {year} (debt-to-assets {debt})",
                year=year,
            )
        )
    if latest.z_zone != SAFE:
        severity = RED if latest.z_zone == DISTRESS else AMBER
        flags.append(
            Flag(
                code=f"z_{latest.z_zone}",
                severity=severity,
                message=f"Altman Z'' {latest.z_double_prime} in {year} is in the "
                f"{latest.z_zone} zone",
                year=year,
            )
        )
    return flags


def _trend_flags(
    ordered: Sequence[FinancialYear], analysed: Sequence[YearAnalysis], t: FinancialThresholds
) -> list[Flag]:
    flags: list[Flag] = []
    latest = ordered[-1].year
    declines = 0
    for entry in reversed(analysed):
        if entry.revenue_growth is None or entry.revenue_growth >= 0:
            break
        declines += 1
    if declines >= t.revenue_declines_red:
        flags.append(
            Flag(
                code="revenue_declined_two_years",
                severity=RED,
                message=f"revenue declined {declines} years in a row up to {latest}",
                year=latest,
            )
        )
    window = [y for y in ordered if y.year > latest - t.loss_window]
    losses = [y.year for y in window if y.net_profit < 0]
    if len(losses) >= t.loss_years_red:
        flags.append(
            Flag(
                code="losses_two_of_three_years",
                severity=RED,
                message=f"net losses in {', '.join(map(str, losses))} "
                f"({len(losses)} of the {t.loss_window} years to {latest})",
                year=latest,
            )
        )
    return flags


def risk_band(
    flags: Sequence[Flag], *, latest_zone: str, thresholds: FinancialThresholds = DEFAULT_THRESHOLDS
) -> RiskBand:
    """The band the module docstring describes."""
    reds = [f for f in flags if f.severity == RED]
    ambers = [f for f in flags if f.severity == AMBER]
    if (
        any(f.code in thresholds.severe_flags for f in reds)
        or len(reds) >= thresholds.high_red_count
        or latest_zone == DISTRESS
    ):
        return RiskBand.HIGH
    if reds or len(ambers) >= thresholds.medium_amber_count:
        return RiskBand.MEDIUM
    return RiskBand.LOW


def analyse(
    years: Sequence[FinancialYear], *, thresholds: FinancialThresholds = DEFAULT_THRESHOLDS
) -> FinancialAnalysis:
    """Ratios per year, CAGR, flags and risk band of statements in one currency."""
    if not years:
        raise ValueError("no financial years to analyse")
    if (problem := currency_problem(years)) is not None:
        raise ValueError(problem)
    ordered = sorted(years, key=lambda y: y.year)
    if len({y.year for y in ordered}) != len(ordered):
        raise ValueError("a year appears more than once")
    analysed = [
        _year_analysis(year, ordered[i - 1] if i else None, thresholds)
        for i, year in enumerate(ordered)
    ]
    latest = analysed[-1]
    flags = _point_in_time_flags(latest, thresholds) + _trend_flags(ordered, analysed, thresholds)
    return FinancialAnalysis(
        years=tuple(analysed),
        revenue_cagr=revenue_cagr(ordered),
        flags=tuple(flags),
        risk_band=risk_band(flags, latest_zone=latest.z_zone, thresholds=thresholds),
    )


def missing_years(
    years: Sequence[FinancialYear], *, required: int = 3, latest_expected: int
) -> tuple[int, ...]:
    """The years absent among the ``required`` consecutive years ending at ``latest_expected``."""
    present = {y.year for y in years}
    wanted = range(latest_expected - required + 1, latest_expected + 1)
    return tuple(year for year in wanted if year not in present)


def currency_problem(years: Sequence[FinancialYear]) -> str | None:
    """Why the statements cannot be compared (more than one currency), or None."""
    by_currency: dict[str, list[int]] = {}
    for y in sorted(years, key=lambda y: y.year):
        by_currency.setdefault(y.currency, []).append(y.year)
    if len(by_currency) <= 1:
        return None
    parts = "; ".join(
        f"{currency} ({', '.join(map(str, found))})"
        for currency, found in sorted(by_currency.items())
    )
    return f"financial statements must all be in one currency, found {parts}"
