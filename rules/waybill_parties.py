"""The e-waybill's parties, crew and vehicle: what must be filled in, and whether they may carry.

Split out of rules.waybill, which composes these with the other rules. The rules, by code
(blocking unless marked warning):

- MISSING_FIELD: a mandatory field is empty; drafts parse with empty text so this can say which.
  The consignor's credit code is mandatory (the consignee's and loader's only checked when
  given), and so are both contact names, the dispatcher, the gross mass and the plate colour.
  A trailer plate needs its certificate and the reverse; a tank number needs its volume and the
  reverse.
- CREDIT_CODE: a unified social credit code that is given fails GB 32100 (rules.credit_code).
- EXPIRED: carrier permit, vehicle inspection, driver's or escort's certificate is not valid
  on the dispatch date (valid through its expiry day). EXPIRING_SOON (warning): it expires
  within ``expiry_warning`` days of dispatch; the message says when that is mid-trip.
- SAME_PERSON: driver and escort hold the same qualification certificate number.
- QUALIFICATION: the driver's qualification certificate (从业资格证) lacks the dangerous-goods
  driver category (``dg_driver``, 道路危险货物运输驾驶员), the escort's the escort category
  (``dg_escort``, 道路危险货物运输押运人员). 《危险货物道路运输安全管理办法》 (Ministry of Transport
  Order 2019 No. 29) and 《道路运输从业人员管理规定》 require both to hold the dangerous-goods
  qualification for their role; the article numbers are not verified here.
- PLATE_COLOUR (warning, jurisdiction CN only): the plate's colour is not one of
  ``plate_colours``: by GA 36-2018 medium and heavy goods vehicles carry yellow plates and
  new-energy ones yellow-green. A convention, not a prohibition the platform can cite (a light
  goods vehicle on a blue plate is not by itself unlawful), so it warns and is configurable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import cast

from contracts.waybill import CrewMember, EWaybill, Violation
from rules.credit_code import credit_code_problem
from rules.waybill_items import squashed
from rules.waybill_load import violation

MISSING_FIELD = "MISSING_FIELD"
CREDIT_CODE = "CREDIT_CODE"
EXPIRED = "EXPIRED"
EXPIRING_SOON = "EXPIRING_SOON"
SAME_PERSON = "SAME_PERSON"
QUALIFICATION = "QUALIFICATION"
PLATE_COLOUR = "PLATE_COLOUR"

# China keeps one offset all year, so the loading day needs no tz database.
CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")


def china_today() -> date:
    """Today in China: the day offers, accreditations and loans are counted in."""
    return datetime.now(CHINA_STANDARD_TIME).date()


EXPIRY_WARNING = timedelta(days=30)
PLATE_COLOURS = ("yellow", "yellow_green")

MANDATORY = (
    "waybill_number", "order_id", "shipment_id", "dispatcher",
    "consignor.name", "consignor.credit_code", "consignor.contact_name",
    "consignor.contact_phone",
    "consignee.name", "consignee.contact_name", "consignee.contact_phone",
    "carrier.name", "carrier.credit_code", "carrier.phone",
    "carrier.road_transport_permit_number", "carrier.permitted_classes",
    "vehicle.plate", "vehicle.plate_colour", "vehicle.transport_certificate_number",
    "vehicle.permitted_classes",
    "driver.name", "driver.qualification_certificate_number", "driver.phone",
    "escort.name", "escort.qualification_certificate_number", "escort.phone",
    "items", "gross_mass_kg", "loading_place", "unloading_place", "route",
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
# The 从业资格 category each crew role needs, and how the message names it.
CREW_CATEGORIES = (
    ("driver", "dg_driver", "the dangerous-goods driver category (道路危险货物运输驾驶员)"),
    ("escort", "dg_escort", "the dangerous-goods escort category (道路危险货物运输押运人员)"),
)


@dataclass(frozen=True)
class PartyPolicy:
    """How early an expiry warns, and the plate colours a dangerous-goods vehicle is expected
    to carry in China (conventions, see the module docstring)."""

    expiry_warning: timedelta = EXPIRY_WARNING
    plate_colours: tuple[str, ...] = PLATE_COLOURS


DEFAULT_PARTY_POLICY = PartyPolicy()


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


def _unloading_day(waybill: EWaybill) -> date:
    return waybill.planned_unloading_at.astimezone(CHINA_STANDARD_TIME).date()


def expiries(
    waybill: EWaybill, policy: PartyPolicy = DEFAULT_PARTY_POLICY
) -> tuple[Violation, ...]:
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
    driver = squashed(waybill.driver.qualification_certificate_number)
    if not driver or driver != squashed(waybill.escort.qualification_certificate_number):
        return ()
    number = waybill.driver.qualification_certificate_number
    message = f"driver and escort hold the same certificate {number}: two people are needed"
    return (violation(SAME_PERSON, "escort.qualification_certificate_number", message),)


def qualifications(waybill: EWaybill) -> tuple[Violation, ...]:
    """QUALIFICATION: each crew member's certificate covers the category of their role."""
    found: list[Violation] = []
    for role, category, named in CREW_CATEGORIES:
        member = cast(CrewMember, getattr(waybill, role))
        if category in member.qualification_categories:
            continue
        held = ", ".join(member.qualification_categories) or "no category"
        message = (
            f"the {role}'s qualification certificate {member.qualification_certificate_number}"
            f" lists {held}, not {category}: {named} is required (《危险货物道路运输安全管理办法》,"
            " 《道路运输从业人员管理规定》; articles unverified)"
        )
        found.append(violation(QUALIFICATION, f"{role}.qualification_categories", message))
    return tuple(found)


def plate_colour(
    waybill: EWaybill, policy: PartyPolicy = DEFAULT_PARTY_POLICY
) -> tuple[Violation, ...]:
    """PLATE_COLOUR: a Chinese goods vehicle's plate colour, where the trip runs in China."""
    colour = waybill.vehicle.plate_colour
    if waybill.jurisdiction != "CN" or not colour or colour in policy.plate_colours:
        return ()
    message = (
        f"vehicle {waybill.vehicle.plate} has a {colour} plate: a dangerous-goods vehicle is"
        f" expected to carry {' or '.join(policy.plate_colours)} (GA 36-2018, medium and heavy"
        " goods vehicles; platform convention): confirm the vehicle"
    )
    return (violation(PLATE_COLOUR, "vehicle.plate_colour", message, "warning"),)
