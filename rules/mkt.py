"""Mean kinetic temperature (MKT) and the time-weighted mean of a logger's series.

MKT is the single temperature that would age a product as much as the varying temperatures it
actually saw (Haynes 1971; USP <1079.2>; domain-rules.md §2):

    T_K = (ΔH/R) / -ln( Σ tᵢ·exp(-ΔH/(R·Tᵢ)) / Σ tᵢ )

with Tᵢ in kelvin (°C + 273.15), ΔH the activation energy (83.144 kJ/mol by default, configurable
per product), R = 8.3144621 J/(mol·K) (so ΔH/R ≈ 10,000 K), and tᵢ the time weight of reading i.
Checks (domain-rules.md §2): 20 h at 5 °C + 4 h at 25 °C → 12.88 °C; equal weights at 20, 25 and
30 °C → 25.86 °C (not 25: warm hours age a product more than cold hours spare it).

Time weights by the trapezoid rule, for uneven spacing: each reading weighs half the interval
before it plus half the interval after it, tᵢ = (t_{i+1} - t_{i-1}) / 2 (the first and the last
reading weigh half their one interval). Summing f over the series so is exactly the trapezoid
integral of f over the logged time. Loggers read more often while out of range (China GSP: every
≤ 2 min instead of ≤ 5 min), so an unweighted average would tilt toward the excursion; the same
weights give the time-weighted mean. A single reading weighs all: its value is the answer.

exp and ln run in binary floats (Decimal has no fast exp over 43,200 terms); the result is
returned as a Decimal rounded half-up to 0.01 °C, the precision the checks are stated in.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from rules.cold_chain_profiles import DELTA_H_J_PER_MOL, Reading, ordered

R_J_PER_MOL_K = 8.3144621
KELVIN_OFFSET = 273.15
CENTI = Decimal("0.01")


def _celsius(value: float) -> Decimal:
    return Decimal(value).quantize(CENTI, rounding=ROUND_HALF_UP)


def trapezoid_weights(series: Sequence[Reading]) -> list[float]:
    """Each reading's weight in seconds, (t_{i+1} - t_{i-1}) / 2 (module docstring)."""
    if len(series) < 2:
        return [1.0] * len(series)
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(series)]
    before, after = [0.0, *gaps], [*gaps, 0.0]
    return [(b + a) / 2 for b, a in zip(before, after, strict=True)]


def mkt_of_weighted(
    weighted: Iterable[tuple[Decimal, float]], *, delta_h_j_per_mol: Decimal = DELTA_H_J_PER_MOL
) -> Decimal | None:
    """MKT in °C of (°C, weight) pairs, None for none; weights are any consistent unit of time."""
    ratio = float(delta_h_j_per_mol) / R_J_PER_MOL_K  # ΔH/R in kelvin
    total_weight = total = 0.0
    for celsius, weight in weighted:
        if weight < 0:
            raise ValueError(f"a time weight must not be negative, got {weight}")
        total_weight += weight
        total += weight * math.exp(-ratio / (float(celsius) + KELVIN_OFFSET))
    if total_weight == 0:
        return None
    kelvin = ratio / -math.log(total / total_weight)
    return _celsius(kelvin - KELVIN_OFFSET)


def mean_kinetic_temperature(
    readings: Iterable[Reading], *, delta_h_j_per_mol: Decimal = DELTA_H_J_PER_MOL
) -> Decimal | None:
    """The series' MKT in °C to 0.01, trapezoid time weights; None without readings."""
    series = ordered(readings)
    weights = trapezoid_weights(series)
    pairs = zip((r.celsius for r in series), weights, strict=True)
    return mkt_of_weighted(pairs, delta_h_j_per_mol=delta_h_j_per_mol)


def time_weighted_mean(readings: Iterable[Reading]) -> Decimal | None:
    """The series' mean in °C to 0.01 with the same trapezoid weights; None without readings."""
    series = ordered(readings)
    weights = trapezoid_weights(series)
    total_weight = math.fsum(weights)
    if total_weight == 0:
        return None
    total = math.fsum(float(r.celsius) * w for r, w in zip(series, weights, strict=True))
    return _celsius(total / total_weight)
