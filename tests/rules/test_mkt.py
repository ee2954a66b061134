"""Mean kinetic temperature and the time-weighted mean against hand-computed series.

Source of the formula and the checks: domain-rules.md §2 (cold chain), rules/mkt.py docstring.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from rules.cold_chain_profiles import Reading
from rules.mkt import (
    mean_kinetic_temperature,
    mkt_of_weighted,
    time_weighted_mean,
    trapezoid_weights,
)

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def at(minutes: float, celsius: str) -> Reading:
    return Reading(T0 + timedelta(minutes=minutes), Decimal(celsius))


def test_domain_check_20_hours_at_5_and_4_hours_at_25() -> None:
    # domain-rules.md §2: 20 h at 5 °C + 4 h at 25 °C -> 12.88 °C
    assert mkt_of_weighted([(Decimal(5), 20), (Decimal(25), 4)]) == Decimal("12.88")


def test_domain_check_equal_weights_at_20_25_30_is_not_25() -> None:
    # domain-rules.md §2: equal weights at 20/25/30 °C -> 25.86 °C (not 25)
    pairs = [(Decimal(20), 1), (Decimal(25), 1), (Decimal(30), 1)]
    assert mkt_of_weighted(pairs) == Decimal("25.86")


def test_uneven_spacing_uses_trapezoid_weights() -> None:
    # rules/mkt.py: t_i = (t_{i+1} - t_{i-1}) / 2. Readings at 0, 60 and 180 min weigh 30, 90 and
    # 60 min. By hand, dH/R = 83144 / 8.3144621 = 9999.9253 K; exp(-dH/RT) at 20, 25, 30 °C
    # = 1.53235e-15, 2.71519e-15, 4.72115e-15; weighted mean (0.5, 1.5, 1 h over 3 h)
    # = 3.18670e-15; -ln = 33.379789; 9999.9253 / 33.379789 = 299.5802 K = 26.43 °C.
    series = [at(0, "20"), at(60, "25"), at(180, "30")]
    assert trapezoid_weights(series) == [1800.0, 5400.0, 3600.0]
    assert mean_kinetic_temperature(series) == Decimal("26.43")


def test_evenly_spaced_series_halves_the_end_readings() -> None:
    # Three readings an hour apart weigh 0.5, 1 and 0.5 h: the 25 °C reading counts double, so
    # the MKT is below the equal-weights 25.86 °C.
    series = [at(0, "20"), at(60, "25"), at(120, "30")]
    assert mean_kinetic_temperature(series) == Decimal("25.65")


def test_activation_energy_is_configurable_per_product() -> None:
    # A higher dH weighs warm hours more: MKT rises with it (USP <1079.2> allows a product's own).
    series = [at(0, "20"), at(60, "25"), at(120, "30")]
    default = mean_kinetic_temperature(series)
    steeper = mean_kinetic_temperature(series, delta_h_j_per_mol=Decimal(150000))
    assert default is not None and steeper is not None and steeper > default


def test_order_and_duplicates_do_not_change_the_mkt() -> None:
    series = [at(0, "20"), at(60, "25"), at(180, "30")]
    shuffled = [series[2], series[0], series[1], series[0], series[2]]
    assert mean_kinetic_temperature(shuffled) == mean_kinetic_temperature(series)


def test_single_reading_and_empty_series() -> None:
    assert mean_kinetic_temperature([at(0, "5.5")]) == Decimal("5.50")
    assert mean_kinetic_temperature([]) is None
    assert time_weighted_mean([]) is None


def test_negative_weight_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        mkt_of_weighted([(Decimal(5), -1)])


def test_time_weighted_mean_is_not_tilted_by_denser_readings_out_of_range() -> None:
    # China GSP logs every <= 2 min while out of range: 2 °C at 0 and 60 min, then 8 °C at 62.
    # Weights 30, 31, 1 min: (2 x 30 + 2 x 31 + 8 x 1) / 62 = 130 / 62 = 2.0968 -> 2.10 °C
    # (the unweighted average would say 4.00 °C).
    assert time_weighted_mean([at(0, "2"), at(60, "2"), at(62, "8")]) == Decimal("2.10")
