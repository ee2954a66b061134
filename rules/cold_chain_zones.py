"""A cold shipment's zones: the temperature profile each of its lines travels in.

``zone_for`` reads a contract line's range as a zone (``contracts.cold_chain.ZoneProfile``): a
range that is a built-in profile's (rules.cold_chain_profiles: frozen, chilled, refrigerated,
controlled room) takes that profile's settings and name; any other range is a custom zone named
by its bounds (``custom_m2_6`` for -2 to 6 °C) with the platform's default tolerances and its
maximum as the MKT label maximum, as the built-ins have. Either way the options the line states
(warning margin, tolerances, silence, ΔH, MKT maximum) override the defaults.

``cold_lines`` gives a shipment's temperature-controlled lines and their zones. A zone is a
compartment held at one range, so lines sharing a range share a zone even when their products'
tolerances differ; the zone is then judged by the strictest of them (the shortest tolerances
and silence, the widest warning margin, the highest ΔH, which weighs warm spells most, and the
lowest MKT maximum), so no line's own limits are relaxed by travelling beside another.

``profile_of`` turns a zone as the contracts carry it (whole seconds and Decimal °C) into the
rules' ``Profile``; durations and limits keep their meaning (rules.cold_chain_profiles states
each one's source).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from contracts.cold_chain import ColdLine, ZoneProfile
from contracts.fulfilment import Shipment
from contracts.sourcing import ContractLine, TemperatureRange
from rules.cold_chain_profiles import (
    CHILLED,
    CONTROLLED_ROOM,
    FROZEN,
    FROZEN_MAX,
    REFRIGERATED,
    Profile,
)

# The built-in profiles a contract's range can name, with the Chinese term printed beside them.
_BUILT_IN: tuple[tuple[Profile, str], ...] = (
    (FROZEN, "冷冻 frozen"),
    (CHILLED, "冷鲜 chilled"),
    (REFRIGERATED, "冷藏 refrigerated"),
    (CONTROLLED_ROOM, "室温 controlled room"),
)
_CUSTOM = "温控 custom"
_TO = "–"  # an en dash between a range's bounds


def zone_for(line_range: TemperatureRange) -> ZoneProfile:
    """The zone a line with this range travels in: a built-in profile's or a custom one."""
    base, label = _built_in(line_range)
    if base is None:
        low, high = line_range.min_celsius, line_range.max_celsius
        base = Profile(
            f"custom_{_token(low)}_{_token(high)}", low, high, mkt_label_max_celsius=high
        )
        label = f"{_CUSTOM} {_number(low)}{_TO}{_number(high)} °C"
    kj = line_range.activation_energy_kj_per_mol
    return ZoneProfile(
        zone=base.name,
        label=label,
        min_celsius=base.min_celsius,
        max_celsius=base.max_celsius,
        warning_margin=_given(line_range.warning_margin, base.warning_margin),
        critical_min_celsius=base.critical_min_celsius,
        critical_max_celsius=base.critical_max_celsius,
        single_tolerance_s=_seconds(line_range.single_tolerance_minutes, base.single_tolerance),
        cumulative_tolerance_s=_seconds(
            line_range.stability_budget_minutes, base.cumulative_tolerance
        ),
        max_silence_s=_seconds(line_range.max_silence_minutes, base.max_silence),
        # kJ/mol to J/mol; three decimals of kJ make whole joules.
        delta_h_j_per_mol=base.delta_h_j_per_mol if kj is None else Decimal(int(kj * 1000)),
        mkt_label_max_celsius=_given(line_range.mkt_max_celsius, base.mkt_label_max_celsius),
    )


def cold_lines(
    lines: Sequence[ContractLine], shipment: Shipment
) -> tuple[tuple[ZoneProfile, ...], tuple[ColdLine, ...]]:
    """The shipment's temperature-controlled lines (as shipped in it) and their distinct zones,
    in the order the lines first name them; both empty when nothing in it is cold."""
    by_id = {line.line_id: line for line in lines}
    zones: dict[str, ZoneProfile] = {}
    cold: list[ColdLine] = []
    for shipped in shipment.lines:
        line = by_id[shipped.line_id]
        if line.temperature is None:
            continue
        zone = zone_for(line.temperature)
        held = zones.get(zone.zone)
        zones[zone.zone] = zone if held is None else _strictest(held, zone)
        cold.append(
            ColdLine(
                line_id=line.line_id,
                description=line.description,
                quantity=shipped.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                zone=zone.zone,
            )
        )
    return tuple(zones.values()), tuple(cold)


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


def _built_in(line_range: TemperatureRange) -> tuple[Profile | None, str]:
    """The built-in profile whose bounds the range states, and its label; (None, "") if none.
    Frozen has no minimum: any range ending at -18 °C from at or below it is frozen."""
    low, high = line_range.min_celsius, line_range.max_celsius
    for profile, name in _BUILT_IN:
        if profile.min_celsius is None:
            matches = high == profile.max_celsius and low <= FROZEN_MAX
        else:
            matches = (low, high) == (profile.min_celsius, profile.max_celsius)
        if matches:
            return profile, f"{name} {_range_text(profile)}"
    return None, ""


def _range_text(profile: Profile) -> str:
    low, high = profile.min_celsius, profile.max_celsius
    if low is None:
        return f"≤ {_number(high)} °C" if high is not None else ""
    if high is None:
        return f"≥ {_number(low)} °C"
    return f"{_number(low)}{_TO}{_number(high)} °C"


def _strictest(a: ZoneProfile, b: ZoneProfile) -> ZoneProfile:
    """One zone for two lines sharing its range: each setting at the stricter of the two."""
    labels = [x for x in (a.mkt_label_max_celsius, b.mkt_label_max_celsius) if x is not None]
    return a.model_copy(
        update={
            "warning_margin": max(a.warning_margin, b.warning_margin),
            "single_tolerance_s": min(a.single_tolerance_s, b.single_tolerance_s),
            "cumulative_tolerance_s": min(a.cumulative_tolerance_s, b.cumulative_tolerance_s),
            "max_silence_s": min(a.max_silence_s, b.max_silence_s),
            "delta_h_j_per_mol": max(a.delta_h_j_per_mol, b.delta_h_j_per_mol),
            "mkt_label_max_celsius": min(labels, default=None),
        }
    )


def _given(value: Decimal | None, default: Decimal | None) -> Decimal | None:
    return default if value is None else value


def _seconds(minutes: int | None, default: timedelta) -> int:
    return int(default.total_seconds()) if minutes is None else minutes * 60


def _number(value: Decimal) -> str:
    """'-2', '2.5', '20': a temperature without trailing zeros (and never '-0')."""
    return "0" if value == 0 else f"{value.normalize():f}"


def _token(value: Decimal) -> str:
    """A bound as a zone name's part: '-2.5' is 'm2p5'."""
    return _number(value).replace("-", "m").replace(".", "p")
