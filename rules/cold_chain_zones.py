"""A cold shipment's zones: the temperature profile each of its lines travels in.

``profile_of`` turns a zone as the contracts carry it (``contracts.cold_chain.ZoneProfile``, whole
seconds and Decimal °C) into the rules' ``Profile``; durations and limits keep their meaning
(rules.cold_chain_profiles states each one's source).
"""

from __future__ import annotations

from datetime import timedelta

from contracts.cold_chain import ZoneProfile
from rules.cold_chain_profiles import Profile


def profile_of(zone: ZoneProfile) -> Profile:
    """The rules' profile for a zone."""
    return Profile(
        name=zone.zone,
        min_celsius=zone.min_celsius,
        max_celsius=zone.max_celsius,
        warning_margin=zone.warning_margin,
        critical_min_celsius=zone.critical_min_celsius,
        critical_max_celsius=zone.critical_max_celsius,
        single_tolerance=timedelta(seconds=zone.single_tolerance_s),
        cumulative_tolerance=timedelta(seconds=zone.cumulative_tolerance_s),
        max_silence=timedelta(seconds=zone.max_silence_s),
        max_start_gap=timedelta(seconds=zone.max_silence_s),
        max_end_gap=timedelta(seconds=zone.max_silence_s),
        delta_h_j_per_mol=zone.delta_h_j_per_mol,
        mkt_label_max_celsius=zone.mkt_label_max_celsius,
    )
