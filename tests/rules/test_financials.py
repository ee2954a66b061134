"""Ratios, Altman Z'', flags and risk bands against figures worked out by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from contracts.accreditation import FinancialYear, Flag, RiskBand
from rules.financials import (
    DEFAULT_THRESHOLDS,
    FinancialThresholds,
    analyse,
    currency_problem,
    missing_years,
    risk_band,
    z_double_prime,
    z_zone,
)

# The worked example (thousands of CNY):
#   revenue 12,000; net profit 450; profit before tax 600; interest 250
#   current assets 2,500 (inventory 700, prepaid 100); current liabilities 1,500
#   total assets 8,000; total liabilities 4,800; retained earnings 1,200
BASE = {
    "revenue": "12000",
    "net_profit": "450",
    "profit_before_tax": "600",
    "interest_expense": "250",
    "current_assets": "2500",
    "inventory": "700",
    "prepaid_expenses": "100",
    "current_liabilities": "1500",
    "total_assets": "8000",
    "total_liabilities": "4800",
    "retained_earnings": "1200",
}


def year(y: int, currency: str = "CNY", **changes: str) -> FinancialYear:
    figures = {**BASE, **changes}
    return FinancialYear(year=y, currency=currency, **{k: Decimal(v) for k, v in figures.items()})


def three_years(**latest: str) -> list[FinancialYear]:
    return [year(2021, revenue="9000"), year(2022, revenue="10000"), year(2023, **latest)]


def severities(flags: tuple[Flag, ...], code: str) -> list[str]:
    return [f.severity for f in flags if f.code == code]


def test_worked_example_ratios_and_z_double_prime() -> None:
    analysis = analyse(three_years())
    latest = analysis.years[-1]
    # current 2500 / 1500 = 1.66666... -> 1.6667
    assert latest.current_ratio == Decimal("1.6667")
    # quick (2500 - 700 - 100) / 1500 = 1700 / 1500 = 1.13333... -> 1.1333
    assert latest.quick_ratio == Decimal("1.1333")
    # debt 4800 / 8000 = 0.6
    assert latest.debt_to_assets == Decimal("0.6000")
    # EBIT 600 + 250 = 850; 850 / 250 = 3.4
    assert latest.interest_coverage == Decimal("3.4000")
    # 450 / 12000 = 0.0375
    assert latest.net_margin == Decimal("0.0375")
    # (12000 - 10000) / 10000 = 0.2; the year before (10000 - 9000) / 9000 = 0.1111...
    assert latest.revenue_growth == Decimal("0.2000")
    assert analysis.years[1].revenue_growth == Decimal("0.1111")
    assert analysis.years[0].revenue_growth is None
    # X1 = (2500 - 1500) / 8000 = 0.125     6.56 * 0.125   = 0.82
    # X2 = 1200 / 8000 = 0.15               3.26 * 0.15    = 0.489
    # X3 = 850 / 8000 = 0.10625             6.72 * 0.10625 = 0.714
    # X4 = (8000 - 4800) / 4800 = 2/3       1.05 * 2/3     = 0.7
    # Z'' = 0.82 + 0.489 + 0.714 + 0.7 = 2.723 > 2.6: safe
    assert latest.z_double_prime == Decimal("2.7230")
    assert latest.z_zone == "safe"
    # CAGR (12000 / 9000) ** (1/2) - 1 = 2 / sqrt(3) - 1 = 1.1547005... - 1 -> 0.1547
    assert analysis.revenue_cagr == Decimal("0.1547")
    assert analysis.flags == ()
    assert analysis.risk_band == RiskBand.LOW


def test_years_are_sorted_before_analysis() -> None:
    analysis = analyse(list(reversed(three_years())))
    assert [y.year for y in analysis.years] == [2021, 2022, 2023]
    assert analysis.years[-1].revenue_growth == Decimal("0.2000")


def test_undefined_ratios_are_none() -> None:
    first, latest = (
        year(2022, revenue="0"),
        year(2023, current_liabilities="0", interest_expense="0", revenue="0"),
    )
    analysis = analyse([first, latest])
    y = analysis.years[-1]
    assert y.current_ratio is None and y.quick_ratio is None
    assert y.interest_coverage is None and y.net_margin is None
    assert y.revenue_growth is None  # previous revenue 0
    assert analysis.revenue_cagr is None  # first revenue 0
    assert severities(analysis.flags, "current_ratio_low") == []
    assert severities(analysis.flags, "interest_coverage_low") == []


def test_growth_needs_the_previous_calendar_year() -> None:
    analysis = analyse([year(2021, revenue="10000"), year(2023, revenue="12100")])
    assert analysis.years[-1].revenue_growth is None
    # over two years: (12100 / 10000) ** (1/2) - 1 = 1.1 - 1 = 0.1
    assert analysis.revenue_cagr == Decimal("0.1000")


def test_x4_is_capped_without_liabilities() -> None:
    # X1 = 2500 / 8000 = 0.3125 -> 2.05; X2 -> 0.489; X3 = 850 / 8000 -> 0.714;
    # X4 capped at 10 -> 10.5. Z'' = 2.05 + 0.489 + 0.714 + 10.5 = 13.753
    debt_free = year(
        2023,
        current_liabilities="0",
        total_liabilities="0",
        interest_expense="0",
        profit_before_tax="850",
    )
    assert z_double_prime(debt_free) == Decimal("13.7530")
    # equity 7900 / 100 = 79 is capped to 10 as well
    assert z_double_prime(debt_free.model_copy(update={"total_liabilities": Decimal(100)})) == (
        Decimal("13.7530")
    )


@pytest.mark.parametrize(
    ("z", "zone"),
    [
        ("2.6001", "safe"),
        ("2.6000", "grey"),
        ("1.1000", "grey"),
        ("1.0999", "distress"),
        ("-3", "distress"),
    ],
)
def test_z_zone_boundaries(z: str, zone: str) -> None:
    assert z_zone(Decimal(z)) == zone


def test_distressed_z_is_a_red_flag_and_high_risk() -> None:
    # X1 = (1500 - 1500) / 8000 = 0; X2 = -400 / 8000 = -0.05 -> -0.163;
    # X3 = (100 + 250) / 8000 = 0.04375 -> 0.294; X4 = 3200 / 4800 -> 0.7.
    # Z'' = 0 - 0.163 + 0.294 + 0.7 = 0.831 < 1.1
    analysis = analyse(
        three_years(current_assets="1500", profit_before_tax="100", retained_earnings="-400")
    )
    assert analysis.years[-1].z_double_prime == Decimal("0.8310")
    assert severities(analysis.flags, "z_distress") == ["red"]
    assert analysis.risk_band == RiskBand.HIGH


def test_grey_z_is_an_amber_flag() -> None:
    # X1 = (2000 - 1500) / 8000 = 0.0625 -> 0.41; X2 -> 0.489; X3 -> 0.714; X4 -> 0.7
    # Z'' = 0.41 + 0.489 + 0.714 + 0.7 = 2.313: grey
    analysis = analyse(three_years(current_assets="2000", inventory="200"))
    assert analysis.years[-1].z_double_prime == Decimal("2.3130")
    assert severities(analysis.flags, "z_grey") == ["amber"]


@pytest.mark.parametrize(
    ("current_assets", "expected"),
    [("1499", ["red"]), ("1500", ["amber"]), ("2249", ["amber"]), ("2250", [])],
)
def test_current_ratio_flag(current_assets: str, expected: list[str]) -> None:
    # 1499/1500 = 0.9993 < 1.0; 1500/1500 = 1.0; 2249/1500 = 1.4993 < 1.5; 2250/1500 = 1.5
    analysis = analyse(three_years(current_assets=current_assets, inventory="0"))
    assert severities(analysis.flags, "current_ratio_low") == expected


@pytest.mark.parametrize(
    ("inventory", "expected"),
    [("1201", ["red"]), ("1200", ["amber"]), ("901", ["amber"]), ("900", [])],
)
def test_quick_ratio_flag(inventory: str, expected: list[str]) -> None:
    # (2400 - 1201) / 1500 = 0.7993; 1200/1500 = 0.8; 1499/1500 = 0.9993; 1500/1500 = 1.0
    analysis = analyse(three_years(inventory=inventory))
    assert severities(analysis.flags, "quick_ratio_low") == expected


@pytest.mark.parametrize(
    ("liabilities", "debt", "insolvent"),
    [
        ("5199", [], []),  # 0.6499
        ("5200", ["amber"], []),  # 0.65
        ("5600", ["amber"], []),  # 0.70
        ("5601", ["red"], []),  # 0.7001
        ("8000", ["red"], []),  # 1.0: equity exactly zero
        ("8001", ["red"], ["red"]),  # 1.0001
    ],
)
def test_debt_to_assets_flags(liabilities: str, debt: list[str], insolvent: list[str]) -> None:
    analysis = analyse(three_years(total_liabilities=liabilities))
    assert severities(analysis.flags, "debt_to_assets_high") == debt
    assert severities(analysis.flags, "insolvent_on_paper") == insolvent
    if insolvent:
        assert analysis.risk_band == RiskBand.HIGH


@pytest.mark.parametrize(
    ("profit_before_tax", "expected"),
    [("124", ["red"]), ("125", ["amber"]), ("499", ["amber"]), ("500", [])],
)
def test_interest_coverage_flag(profit_before_tax: str, expected: list[str]) -> None:
    # EBIT / 250: 374 -> 1.496; 375 -> 1.5; 749 -> 2.996; 750 -> 3.0
    analysis = analyse(three_years(profit_before_tax=profit_before_tax))
    assert severities(analysis.flags, "interest_coverage_low") == expected


@pytest.mark.parametrize(
    ("revenues", "fires"),
    [
        (("12000", "11000", "10000"), True),
        (("12000", "11000", "11500"), False),
        (("10000", "11000", "10500"), False),
        (("10000", "10000", "9000"), False),  # flat is not a decline
    ],
)
def test_revenue_declining_two_years_in_a_row(revenues: tuple[str, ...], fires: bool) -> None:
    years = [year(2021 + i, revenue=r) for i, r in enumerate(revenues)]
    analysis = analyse(years)
    assert severities(analysis.flags, "revenue_declined_two_years") == (["red"] if fires else [])


def test_gap_year_breaks_the_run_of_declines() -> None:
    analysis = analyse(
        [year(2020, revenue="13000"), year(2022, revenue="12000"), year(2023, revenue="11000")]
    )
    assert severities(analysis.flags, "revenue_declined_two_years") == []


@pytest.mark.parametrize(
    ("profits", "fires"),
    [
        (("-1", "450", "-1"), True),
        (("-1", "-1", "450"), True),
        (("-1", "450", "450"), False),
        (("-1", "-1", "450", "450"), False),  # the two losses are not both in the last three
    ],
)
def test_losses_two_of_three_years(profits: tuple[str, ...], fires: bool) -> None:
    years = [year(2023 - len(profits) + 1 + i, net_profit=p) for i, p in enumerate(profits)]
    analysis = analyse(years)
    assert severities(analysis.flags, "losses_two_of_three_years") == (["red"] if fires else [])
    assert (analysis.risk_band == RiskBand.HIGH) is fires


def test_only_the_latest_year_is_judged_for_point_in_time_ratios() -> None:
    years = three_years()
    years[0] = year(2021, revenue="9000", current_assets="100")
    assert severities(analyse(years).flags, "current_ratio_low") == []


def test_thresholds_are_configurable() -> None:
    strict = FinancialThresholds(current_ratio_amber=Decimal("2"))
    analysis = analyse(three_years(), thresholds=strict)
    assert severities(analysis.flags, "current_ratio_low") == ["amber"]
    assert DEFAULT_THRESHOLDS.current_ratio_amber == Decimal("1.5")


def _flag(code: str, severity: str) -> Flag:
    return Flag(code=code, severity=severity, message=code, year=2023)


@pytest.mark.parametrize(
    ("flags", "zone", "band"),
    [
        ((), "safe", RiskBand.LOW),
        ((_flag("current_ratio_low", "amber"),), "safe", RiskBand.LOW),
        ((_flag("current_ratio_low", "amber"), _flag("z_grey", "amber")), "grey", RiskBand.MEDIUM),
        ((_flag("quick_ratio_low", "red"),), "safe", RiskBand.MEDIUM),
        ((_flag("insolvent_on_paper", "red"),), "safe", RiskBand.HIGH),
        ((_flag("losses_two_of_three_years", "red"),), "safe", RiskBand.HIGH),
        (
            (_flag("quick_ratio_low", "red"), _flag("current_ratio_low", "red")),
            "safe",
            RiskBand.HIGH,
        ),
        ((), "distress", RiskBand.HIGH),
    ],
)
def test_risk_band(flags: tuple[Flag, ...], zone: str, band: RiskBand) -> None:
    assert risk_band(flags, latest_zone=zone) == band


def test_one_red_flag_is_medium_end_to_end() -> None:
    # EBIT 374 / 250 = 1.496: red. X3 = 374 / 8000 = 0.04675 -> 6.72 * 0.04675 = 0.31416, so
    # Z'' = 0.82 + 0.489 + 0.31416 + 0.7 = 2.32316 -> 2.3232: grey, one amber.
    analysis = analyse(three_years(profit_before_tax="124"))
    assert analysis.years[-1].z_double_prime == Decimal("2.3232")
    assert [(f.code, f.severity) for f in analysis.flags] == [
        ("interest_coverage_low", "red"),
        ("z_grey", "amber"),
    ]
    assert analysis.risk_band == RiskBand.MEDIUM


def test_analyse_refuses_what_it_cannot_compare() -> None:
    with pytest.raises(ValueError, match="no financial years"):
        analyse([])
    with pytest.raises(ValueError, match="more than once"):
        analyse([year(2023), year(2023)])
    with pytest.raises(ValueError, match="one currency"):
        analyse([year(2022), year(2023, currency="USD")])


def test_missing_years() -> None:
    assert missing_years([year(2021), year(2023)], latest_expected=2023) == (2022,)
    assert missing_years([], latest_expected=2023) == (2021, 2022, 2023)
    assert missing_years([year(2019), year(2020), year(2021)], latest_expected=2023) == (
        2022,
        2023,
    )
    assert missing_years(three_years(), latest_expected=2023) == ()
    assert missing_years(three_years(), required=5, latest_expected=2023) == (2019, 2020)


def test_currency_problem() -> None:
    assert currency_problem(three_years()) is None
    assert currency_problem([]) is None
    mixed = [year(2021), year(2022, currency="USD"), year(2023)]
    assert currency_problem(mixed) == (
        "financial statements must all be in one currency, found CNY (2021, 2023); USD (2022)"
    )
