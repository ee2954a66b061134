"""The e-waybill's rule check: each rule a small function returning named violations.

Blocking violations send the waybill back to the supplier or carrier; warnings need a
logistics-safety approval. The rules, by code (blocking unless marked warning):

- MISSING_FIELD: a mandatory field is empty; drafts parse with empty text so this can say which.
  A trailer plate needs its certificate and the reverse; a tank number needs its volume and the
  reverse.
- CREDIT_CODE: a unified social credit code that is given fails GB 32100 (rules.credit_code).
- UNKNOWN_UN, BAD_PACKING_GROUP: ``un_number_problem``; a list entry with packing groups needs
  one stated. FORBIDDEN_GOODS: the name is a Forbidden entry of the list.
- ITEM_MISMATCH: no list entry at the item's packing group has its class and subsidiary classes
  (blocking). Warnings: the name differs from the list's other than in case, spacing or Chinese
  text beside it ('丙酮 Acetone'); a generic (G) entry without the technical name in
  parentheses (49 CFR § 172.203(k)). A name in Chinese alone gets the warning: the list is
  English only.
- SEGREGATION: § 177.848 by rules.segregation, on the matching list entries (so their zone,
  state, name and subsidiaries count), or the declared class when none matches: X and cyanides
  with acids (§ 177.848(c)) blocking; O a warning (needs separation); a pair allowed only on a
  condition the entry cannot show (§ 177.848(e)(5), (e)(6), (c)) a warning (needs a person to
  confirm it). Two lines of the same goods (same UN number and entries) are not compared.
- VEHICLE_CLASS, CARRIER_CLASS: an item's primary class is outside what the vehicle or the
  carrier's permit may carry, a permitted class read by ``rules.waybill_load.covers``.
- EXPIRED: carrier permit, vehicle inspection, driver's or escort's certificate is not valid
  on the dispatch date (valid through its expiry day). EXPIRING_SOON (warning): it expires
  within ``expiry_warning`` days of dispatch; the message says when that is mid-trip.
- SAME_PERSON: driver and escort hold the same qualification certificate number.
- OVERLOAD, QUANTITY_LIMIT, DENSITY_ASSUMED (warning): the load against the vehicle and the
  platform's quantity limits, in rules.waybill_load.
- TIMES: unloading not after loading; dispatch date not the loading day in China (UTC+8).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from itertools import combinations, product
from typing import cast

from contracts.waybill import EWaybill, Violation, WaybillCheck, WaybillItem
from rules.credit_code import credit_code_problem
from rules.dangerous_goods import (
    DangerousGood,
    class_name,
    entries,
    forbidden_problem,
    packing_groups,
    un_number_problem,
)
from rules.segregation import STRICTNESS, Segregation, mixed_loading_violations, segregation
from rules.waybill_load import (
    LoadPolicy,
    covers,
    overload,
    quantity_limits,
    quantity_text,
    violation,
)

MISSING_FIELD = "MISSING_FIELD"
CREDIT_CODE = "CREDIT_CODE"
UNKNOWN_UN = "UNKNOWN_UN"
BAD_PACKING_GROUP = "BAD_PACKING_GROUP"
FORBIDDEN_GOODS = "FORBIDDEN_GOODS"
ITEM_MISMATCH = "ITEM_MISMATCH"
SEGREGATION = "SEGREGATION"
VEHICLE_CLASS = "VEHICLE_CLASS"
CARRIER_CLASS = "CARRIER_CLASS"
EXPIRED = "EXPIRED"
EXPIRING_SOON = "EXPIRING_SOON"
SAME_PERSON = "SAME_PERSON"
TIMES = "TIMES"

# China keeps one offset all year, so the loading day needs no tz database.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")
EXPIRY_WARNING = timedelta(days=30)
# CJK ideographs and full-width punctuation: the list's names are English only.
CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")

MANDATORY = (
    "waybill_number", "order_id", "shipment_id",
    "consignor.name", "consignor.contact_phone", "consignee.name", "consignee.contact_phone",
    "carrier.name", "carrier.credit_code", "carrier.phone",
    "carrier.road_transport_permit_number", "carrier.permitted_classes",
    "vehicle.plate", "vehicle.transport_certificate_number", "vehicle.permitted_classes",
    "driver.name", "driver.qualification_certificate_number", "driver.phone",
    "escort.name", "escort.qualification_certificate_number", "escort.phone",
    "items", "loading_place", "unloading_place", "route",
    "emergency_contact.name", "emergency_contact.phone_24h",
)  # fmt: skip
ITEM_MANDATORY = ("un_number", "proper_shipping_name", "hazard_class", "packaging")
# One half given needs the other: a trailer and its certificate, a tank and its volume.
PAIRED = (
    ("vehicle.trailer_plate", "vehicle.trailer_certificate_number"),
    ("vehicle.tank_number", "vehicle.tank_volume_litres"),
)
EXPIRING_DOCUMENTS = (
    ("carrier.permit_expiry", "the carrier's road transport permit"),
    ("vehicle.inspection_valid_until", "the vehicle inspection"),
    ("driver.certificate_expiry", "the driver's qualification certificate"),
    ("escort.certificate_expiry", "the escort's qualification certificate"),
)


@dataclass(frozen=True)
class WaybillPolicy(LoadPolicy):
    """The load policy (densities, quantity limits) and how early an expiry warns."""

    expiry_warning: timedelta = EXPIRY_WARNING


DEFAULT_POLICY = WaybillPolicy()


def _squashed(text: str) -> str:
    """Case and spacing ignored: 'Hydrochloric  Acid' and 'hydrochloric acid' agree."""
    return "".join(text.split()).casefold()


def _name_key(name: str) -> str:
    """A name compared without Chinese text, so '丙酮 Acetone' agrees with 'Acetone'."""
    return _squashed(CHINESE.sub("", name))


def _class_text(hazard_class: str, subsidiaries: Iterable[str]) -> str:
    subs = tuple(subsidiaries)
    return f"{hazard_class} ({', '.join(subs)})" if subs else hazard_class


def description_line(item: WaybillItem) -> str:
    """49 CFR § 172.202 / ADR 5.4.1.1.1 order: 'UN1090, Acetone, 3, II, 1000 L in 5 drums'."""
    parts = [item.un_number, item.proper_shipping_name, item.hazard_class]
    if item.subsidiary_classes:
        parts.append(f"({', '.join(item.subsidiary_classes)})")
    if item.packing_group:
        parts.append(item.packing_group)
    parts.append(f"{quantity_text(item.quantity)} {item.unit} in {item.packages} {item.packaging}")
    return ", ".join(part for part in parts if part)


# -- reading an item against the list ---------------------------------------------------------


def _at_packing_group(item: WaybillItem) -> tuple[DangerousGood, ...]:
    goods = entries(item.un_number) if item.un_number else ()
    if not item.packing_group:
        return goods
    return tuple(good for good in goods if good.packing_group == item.packing_group)


def listed_entries(item: WaybillItem) -> tuple[DangerousGood, ...]:
    """The list's entries for the item's UN number and packing group with its exact classes."""
    declared = (item.hazard_class, frozenset(item.subsidiary_classes))
    return tuple(
        good
        for good in _at_packing_group(item)
        if (good.hazard_class, frozenset(good.subsidiary_classes)) == declared
    )


def _known(item: WaybillItem) -> bool:
    return bool(item.un_number) and un_number_problem(item.un_number) is None


# -- the rules ----------------------------------------------------------------------------------


def _at(waybill: EWaybill, path: str) -> object:
    """The value at a dotted path such as 'items[0].un_number'."""
    value: object = waybill
    for name in path.split("."):
        base, _, index = name.partition("[")
        value = getattr(value, base)
        if index:
            value = cast(tuple[object, ...], value)[int(index[:-1])]
    return value


def _filled(value: object) -> bool:
    return bool(value.strip() if isinstance(value, str) else value)


def missing_fields(waybill: EWaybill) -> tuple[Violation, ...]:
    paths = list(MANDATORY)
    if waybill.loader is not None:
        paths += ["loader.name", "loader.contact_phone"]
    paths += [f"items[{i}].{name}" for i in range(len(waybill.items)) for name in ITEM_MANDATORY]
    for pair in PAIRED:
        if any(_filled(_at(waybill, path)) for path in pair):
            paths += pair
    return tuple(
        violation(MISSING_FIELD, path, f"{path} is required")
        for path in paths
        if not _filled(_at(waybill, path))
    )


def credit_codes(waybill: EWaybill) -> tuple[Violation, ...]:
    codes = [("carrier.credit_code", waybill.carrier.credit_code)]
    for role in ("consignor", "consignee", "loader"):
        party = getattr(waybill, role)
        if party is not None and party.credit_code is not None:
            codes.append((f"{role}.credit_code", party.credit_code))
    return tuple(
        violation(CREDIT_CODE, path, f"{path}: {problem}")
        for path, code in codes
        if code and (problem := credit_code_problem(code)) is not None
    )


def item_identities(waybill: EWaybill) -> tuple[Violation, ...]:
    """UNKNOWN_UN, BAD_PACKING_GROUP and FORBIDDEN_GOODS, item by item."""
    found: list[Violation] = []
    for i, item in enumerate(waybill.items):
        if item.proper_shipping_name and (no := forbidden_problem(item.proper_shipping_name)):
            found.append(violation(FORBIDDEN_GOODS, f"items[{i}].proper_shipping_name", no))
        if not item.un_number:
            continue
        if (problem := un_number_problem(item.un_number)) is not None:
            found.append(violation(UNKNOWN_UN, f"items[{i}].un_number", problem))
            continue
        path = f"items[{i}].packing_group"
        if (problem := un_number_problem(item.un_number, item.packing_group or None)) is not None:
            found.append(violation(BAD_PACKING_GROUP, path, problem))
        elif not item.packing_group and all(g.packing_group for g in entries(item.un_number)):
            groups = ", ".join(packing_groups(item.un_number))
            message = f"{item.un_number} needs a packing group: one of {groups}"
            found.append(violation(BAD_PACKING_GROUP, path, message))
    return tuple(found)


def _name_verdict(declared: str, good: DangerousGood) -> str | None:
    """None when the name agrees with the entry, else why not."""
    listed, given = _name_key(good.proper_shipping_name), _name_key(declared)
    with_technical = given.startswith(listed + "(") and given.endswith(")")
    if given == listed and good.needs_technical_name:
        return (
            f"{good.un_number} {good.proper_shipping_name!r} is a generic entry: add the technical"
            " name in parentheses (49 CFR § 172.203(k))"
        )
    if given == listed or (with_technical and good.needs_technical_name):
        return None
    return (
        f"{declared!r} is not the list's name for {good.un_number}: {good.proper_shipping_name!r}"
    )


def item_mismatches(waybill: EWaybill) -> tuple[Violation, ...]:
    found: list[Violation] = []
    for i, item in enumerate(waybill.items):
        at_group = _at_packing_group(item)
        if not item.hazard_class or not _known(item) or not at_group:
            continue  # missing, unknown or a bad packing group: reported by their own rules
        matching = listed_entries(item)
        if not matching:
            listed = sorted({_class_text(g.hazard_class, g.subsidiary_classes) for g in at_group})
            declared = _class_text(item.hazard_class, item.subsidiary_classes)
            message = f"{item.un_number} is class {' or '.join(listed)} on the list, not {declared}"
            found.append(violation(ITEM_MISMATCH, f"items[{i}].hazard_class", message))
            continue
        if not item.proper_shipping_name:
            continue
        verdicts = [_name_verdict(item.proper_shipping_name, good) for good in matching]
        if None not in verdicts:
            path = f"items[{i}].proper_shipping_name"
            found.append(violation(ITEM_MISMATCH, path, str(verdicts[0]), "warning"))
    return tuple(found)


def _hazards(item: WaybillItem) -> tuple[str | DangerousGood, ...]:
    # The declared class when no entry matches: that item is blocked anyway, but a forbidden
    # pair is still worth telling in the same round of fixes.
    return listed_entries(item) or ((item.hazard_class,) if item.hazard_class else ())


def segregation_violations(waybill: EWaybill) -> tuple[Violation, ...]:
    found: list[Violation] = []
    hazards = [(i, item, _hazards(item)) for i, item in enumerate(waybill.items)]
    for (i, a, ha), (j, b, hb) in combinations(hazards, 2):
        if a.un_number == b.un_number and ha == hb:
            continue  # the same goods on two lines
        pairs = list(product(ha, hb))
        if not pairs:
            continue
        worst = max(pairs, key=lambda pair: STRICTNESS[segregation(*pair)])
        verdict = segregation(*worst)
        if verdict is Segregation.NONE:
            continue
        reason = mixed_loading_violations(worst)[0]
        path = f"items[{i}],items[{j}]"
        if verdict is Segregation.FORBIDDEN:
            found.append(violation(SEGREGATION, path, f"{path} may not share a vehicle: {reason}"))
        else:
            need = "separation" if verdict is Segregation.SEPARATED else "a confirmed condition"
            message = f"{path} need {need} (logistics-safety approval): {reason}"
            found.append(violation(SEGREGATION, path, message, "warning"))
    return tuple(found)


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


def _unloading_day(waybill: EWaybill) -> date:
    return waybill.planned_unloading_at.astimezone(CHINA_STANDARD_TIME).date()


def expiries(waybill: EWaybill, policy: WaybillPolicy = DEFAULT_POLICY) -> tuple[Violation, ...]:
    w, dispatch = waybill, waybill.dispatch_date
    dates = (
        w.carrier.permit_expiry,
        w.vehicle.inspection_valid_until,
        w.driver.certificate_expiry,
        w.escort.certificate_expiry,
    )
    found: list[Violation] = []
    for (path, what), expiry in zip(EXPIRING_DOCUMENTS, dates, strict=True):
        if expiry < dispatch:
            message = f"{what} expired on {expiry}, before the dispatch date {dispatch}"
            found.append(violation(EXPIRED, path, message))
        elif expiry <= dispatch + policy.expiry_warning:
            during = " (during the trip)" if expiry < _unloading_day(w) else ""
            days = (expiry - dispatch).days
            message = f"{what} expires on {expiry}{during}, {days} days after dispatch"
            found.append(violation(EXPIRING_SOON, path, message, "warning"))
    return tuple(found)


def same_person(waybill: EWaybill) -> tuple[Violation, ...]:
    driver = _squashed(waybill.driver.qualification_certificate_number)
    if not driver or driver != _squashed(waybill.escort.qualification_certificate_number):
        return ()
    number = waybill.driver.qualification_certificate_number
    message = f"driver and escort hold the same certificate {number}: two people are needed"
    return (violation(SAME_PERSON, "escort.qualification_certificate_number", message),)


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
    """Every rule's violations, in the module docstring's order."""
    return WaybillCheck(
        violations=(
            *missing_fields(waybill),
            *credit_codes(waybill),
            *item_identities(waybill),
            *item_mismatches(waybill),
            *segregation_violations(waybill),
            *class_permits(waybill),
            *expiries(waybill, policy),
            *same_person(waybill),
            *overload(waybill, policy),
            *quantity_limits(waybill, policy),
            *times(waybill),
        )
    )
