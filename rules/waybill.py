"""The e-waybill's rule check: each rule a small function returning named violations.

Blocking violations send the waybill back to the supplier or carrier; warnings need a
logistics-safety approval. ``check_waybill`` runs them all and names the mixed-loading rulebook
it applied (rules.rulebooks: JT/T 617.7-2018 for jurisdiction "CN", 49 CFR § 177.848 for "US").
The rules, by code (blocking unless marked warning), and the module that holds each:

- rules.waybill_parties: MISSING_FIELD (mandatory fields, among them the consignor's credit
  code, both contact names, dispatcher, gross mass and plate colour; paired fields), CREDIT_CODE
  (GB 32100), EXPIRED and EXPIRING_SOON (warning) on the dispatch date, SAME_PERSON,
  QUALIFICATION (driver ``dg_driver``, escort ``dg_escort``), PLATE_COLOUR (warning, "CN" only).
- rules.waybill_items: UNKNOWN_UN, BAD_PACKING_GROUP, FORBIDDEN_GOODS, ITEM_MISMATCH (blocking,
  or a warning for the name).
- rules.rulebooks: SEGREGATION by the waybill's rulebook (blocking, or a warning where a
  condition or separation needs approval; under "CN" also the platform's cyanide-with-acid
  warning), FOOD_SEPARATION (warning, "CN" only: CV28 goods, ADR 7.5.4).
- here: VEHICLE_CLASS, CARRIER_CLASS: an item's primary class is outside what the vehicle or the
  carrier's permit may carry, a permitted class read by ``rules.waybill_load.covers``. TIMES:
  unloading not after loading; dispatch date not the loading day in China (UTC+8).
- rules.waybill_load: OVERLOAD (the gross mass when declared, else the net), GROSS_MASS,
  QUANTITY_LIMIT, DENSITY_ASSUMED (warning).

The small-load exemption of ADR 1.1.3.6 is not a rule of the check: it relaxes nothing the
platform checks, so it is assessed beside it (rules.adr_exemption.small_load_exemption).
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.waybill import EWaybill, SmallLoad, Violation, WaybillCheck, WaybillItem
from rules.adr_exemption import small_load_exemption
from rules.dangerous_goods import class_name
from rules.rulebooks import (
    FOOD_SEPARATION,
    SEGREGATION,
    LoadingPolicy,
    food_separation,
    rulebook,
    segregation_violations,
)
from rules.waybill_items import (
    BAD_PACKING_GROUP,
    FORBIDDEN_GOODS,
    ITEM_MISMATCH,
    UNKNOWN_UN,
    description_line,
    item_identities,
    item_mismatches,
    listed_entries,
)
from rules.waybill_load import (
    GROSS_MASS,
    LoadPolicy,
    covers,
    gross_mass,
    overload,
    quantity_limits,
    violation,
)
from rules.waybill_parties import (
    CHINA_STANDARD_TIME,
    CREDIT_CODE,
    EXPIRED,
    EXPIRING_SOON,
    MISSING_FIELD,
    PLATE_COLOUR,
    QUALIFICATION,
    SAME_PERSON,
    PartyPolicy,
    credit_codes,
    expiries,
    missing_fields,
    plate_colour,
    qualifications,
    same_person,
)

__all__ = [
    "BAD_PACKING_GROUP",
    "CARRIER_CLASS",
    "CREDIT_CODE",
    "EXPIRED",
    "EXPIRING_SOON",
    "FOOD_SEPARATION",
    "FORBIDDEN_GOODS",
    "GROSS_MASS",
    "ITEM_MISMATCH",
    "MISSING_FIELD",
    "PLATE_COLOUR",
    "QUALIFICATION",
    "SAME_PERSON",
    "SEGREGATION",
    "TIMES",
    "UNKNOWN_UN",
    "VEHICLE_CLASS",
    "WaybillPolicy",
    "check_waybill",
    "description_line",
    "listed_entries",
]

VEHICLE_CLASS = "VEHICLE_CLASS"
CARRIER_CLASS = "CARRIER_CLASS"
TIMES = "TIMES"


@dataclass(frozen=True)
class WaybillPolicy(LoadPolicy, PartyPolicy, LoadingPolicy):
    """Every convention of the check in one place: the load policy (densities, quantity
    limits), the party policy (expiry warning, plate colours) and the loading policy (the
    platform's warnings beyond the rulebook)."""


DEFAULT_POLICY = WaybillPolicy()


def _class_scope(
    items: tuple[WaybillItem, ...], code: str, holder: str, who: str, permitted: tuple[str, ...]
) -> tuple[Violation, ...]:
    outside: dict[str, list[str]] = {}
    for i, item in enumerate(items):
        if item.hazard_class and not any(covers(p, item.hazard_class) for p in permitted):
            outside.setdefault(item.hazard_class, []).append(f"items[{i}] {item.un_number}")
    return tuple(
        violation(
            code,
            f"{holder}.permitted_classes",
            f"{who} is not permitted for class {cls} ({class_name(cls)[1]}: {', '.join(found)});"
            f" it may carry {', '.join(permitted)}",
        )
        for cls, found in outside.items()
        if permitted  # none at all is a MISSING_FIELD
    )


def class_permits(waybill: EWaybill) -> tuple[Violation, ...]:
    v, c, items = waybill.vehicle, waybill.carrier, waybill.items
    permit = f"carrier {c.name}'s permit {c.road_transport_permit_number}"
    return _class_scope(
        items, VEHICLE_CLASS, "vehicle", f"vehicle {v.plate}", v.permitted_classes
    ) + _class_scope(items, CARRIER_CLASS, "carrier", permit, c.permitted_classes)


def times(waybill: EWaybill) -> tuple[Violation, ...]:
    found: list[Violation] = []
    loading, unloading = waybill.planned_loading_at, waybill.planned_unloading_at
    if unloading <= loading:
        message = (
            f"planned unloading {unloading.isoformat()} is not after loading {loading.isoformat()}"
        )
        found.append(violation(TIMES, "planned_unloading_at", message))
    loading_day = loading.astimezone(CHINA_STANDARD_TIME).date()
    if waybill.dispatch_date != loading_day:
        message = (
            f"dispatch date {waybill.dispatch_date} is not the loading day {loading_day}"
            " (China Standard Time)"
        )
        found.append(violation(TIMES, "dispatch_date", message))
    return tuple(found)


def check_waybill(waybill: EWaybill, *, policy: WaybillPolicy = DEFAULT_POLICY) -> WaybillCheck:
    """Every rule's violations, in the module docstring's order, and the rulebook applied."""
    return WaybillCheck(
        violations=(
            *missing_fields(waybill),
            *credit_codes(waybill),
            *item_identities(waybill),
            *item_mismatches(waybill),
            *segregation_violations(waybill, policy),
            *food_separation(waybill, policy),
            *class_permits(waybill),
            *expiries(waybill, policy),
            *same_person(waybill),
            *qualifications(waybill),
            *plate_colour(waybill, policy),
            *overload(waybill, policy),
            *gross_mass(waybill),
            *quantity_limits(waybill, policy),
            *times(waybill),
        ),
        rulebook=rulebook(waybill).label,
        small_load=_small_load(waybill),
    )


def _small_load(waybill: EWaybill) -> SmallLoad | None:
    assessed = small_load_exemption(waybill)
    if assessed is None:
        return None
    return SmallLoad(status=assessed.status, points=assessed.points, reason=assessed.reason)
