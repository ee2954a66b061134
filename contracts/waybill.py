"""The dangerous-goods road transport e-waybill (危险货物道路运输电子运单) and its rule check.

Field names are the wire contract: the regulator sandbox and gateway read the JSON by them.

Drafts are checkable: the text fields a person fills in are plain ``str`` with a maximum
length but no minimum, so a draft with empty fields still parses and ``rules.waybill`` reports a
``MISSING_FIELD`` violation naming each empty mandatory one (``driver.phone``). Patterns allow
the empty string for the same reason. What the model itself refuses is what no draft should
hold: overlong text, malformed plates, phones or classes, non-positive quantities, naive times.
UN numbers and packing groups are left free so the rules can say why one is wrong.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from contracts.common import Frozen, Line, Text

Severity = Literal["blocking", "warning"]

Text64 = Annotated[Line, Field(max_length=64)]
Text200 = Annotated[Line, Field(max_length=200)]
# Digits with an optional leading +, spaces, hyphens and brackets: "+86 25 8888 1234",
# "(021) 6123-4567", "400-800-1234"; empty while a draft.
Phone = Annotated[Text, Field(max_length=32, pattern=r"^$|^\+?[0-9(][0-9 ()\-]{3,30}[0-9]$")]
# Province character, issuing-authority letter, an optional separator ("沪B·D1234"), then 4-6
# letters and digits (5 on the yellow plates of goods vehicles, 6 on new-energy plates); "挂"
# ends a trailer plate ("苏A1234挂").
Plate = Annotated[
    Line, Field(max_length=16, pattern=r"^$|^[\u4e00-\u9fff][A-Z][·• -]?[A-Z0-9]{4,6}挂?$")
]
# A class or division as an item declares it: divisions of 2, 4, 5 and 6 are always stated
# (the list never names the bare class); Class 1 may add its compatibility group ("1.4S").
ItemClass = Annotated[
    Text,
    Field(
        max_length=4,
        pattern=r"^$|^(1(\.[1-6][A-HJKLNS]?)?|2\.[1-3]|3|4\.[1-3]|5\.[12]|6\.[12]|7|8|9)$",
    ),
]
SubsidiaryClass = Annotated[
    Line, Field(pattern=r"^(1(\.[1-6][A-HJKLNS]?)?|2\.[1-3]|3|4\.[1-3]|5\.[12]|6\.[12]|7|8|9)$")
]
# What a permit or vehicle may carry: a whole class ("2" covers 2.1-2.3) or a division.
PermitClass = Annotated[
    Text,
    Field(
        pattern=r"^(1(\.[1-6][A-HJKLNS]?)?|2(\.[1-3])?|3|4(\.[1-3])?|5(\.[12])?|6(\.[12])?|7|8|9)$"
    ),
]
PermitClasses = Annotated[tuple[PermitClass, ...], Field(max_length=30)]
Kilograms = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2)]
Litres = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2)]
# Densest shipped liquids stay well under 25 kg/L (mercury is 13.5).
KilogramsPerLitre = Annotated[Decimal, Field(gt=0, le=25, max_digits=6, decimal_places=3)]


class WaybillParty(Frozen):
    """Consignor, consignee or loader; a person without a credit code gives None."""

    name: Text200
    credit_code: Annotated[Text, Field(max_length=32)] | None
    contact_phone: Phone
    # The person to ask (联系人); empty in drafts made before it was asked for.
    contact_name: Text200 = ""


class Carrier(Frozen):
    """The carrier and its dangerous-goods road transport operating permit (道路运输经营许可证)."""

    name: Text200
    credit_code: Annotated[Text, Field(max_length=32)]
    phone: Phone
    road_transport_permit_number: Text64
    permit_expiry: date
    permitted_classes: PermitClasses


# The plate's background (号牌颜色, GA 36): goods vehicles over 4.5 t carry yellow plates, new
# energy ones yellow-green; the regulator's record keys a vehicle by plate and colour.
PlateColour = Literal["", "yellow", "yellow_green", "blue", "green", "white", "black"]
# 从业资格证 categories for dangerous goods road transport (道路危险货物运输从业人员): driver,
# escort, and the loading manager kept for completeness.
QualificationCategory = Literal["dg_driver", "dg_escort", "dg_loading_manager"]


class Vehicle(Frozen):
    """The tractor or truck with its road transport certificate (道路运输证), trailer and tank."""

    plate: Plate
    plate_colour: PlateColour = ""
    transport_certificate_number: Text64
    permitted_classes: PermitClasses
    inspection_valid_until: date
    trailer_plate: Plate | None = None
    trailer_certificate_number: Text64 | None = None
    tank_number: Text64 | None = None
    tank_volume_litres: Litres | None = None
    max_load_kg: Kilograms


class CrewMember(Frozen):
    """Driver or escort (押运员) with their qualification certificate (从业资格证)."""

    name: Text200
    qualification_certificate_number: Text64
    certificate_expiry: date
    phone: Phone
    qualification_categories: Annotated[tuple[QualificationCategory, ...], Field(max_length=3)] = ()


class WaybillItem(Frozen):
    """One line of goods, described as the dangerous goods list names it."""

    un_number: Annotated[Text, Field(max_length=16)]
    proper_shipping_name: Annotated[Text, Field(max_length=500)]
    hazard_class: ItemClass
    subsidiary_classes: Annotated[tuple[SubsidiaryClass, ...], Field(max_length=4)] = ()
    packing_group: Annotated[Text, Field(max_length=8)] | None
    packaging: Text200
    packages: Annotated[int, Field(gt=0, le=100_000)]
    quantity: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3)]
    unit: Literal["kg", "L"]
    # Declared density of goods counted in litres; None: rules.waybill counts them conservatively.
    density_kg_per_l: KilogramsPerLitre | None = None


class EmergencyContact(Frozen):
    name: Text200
    phone_24h: Phone


# Where the trip runs decides the rulebook its mixed loading is checked by: JT/T 617 (the
# ADR-based Chinese standard) in China, 49 CFR in the United States.
Jurisdiction = Literal["CN", "US"]


class EWaybill(Frozen):
    """One vehicle, one trip, one dispatch (一车一趟一派); ``revision`` counts resubmissions.

    The fields after ``revision`` came with carriers making the waybill (issue 9); their
    defaults let the drafts stored before them parse, and the rules say which are missing.
    """

    waybill_number: Text64
    order_id: Text64
    shipment_id: Text64
    dispatch_date: date
    consignor: WaybillParty
    consignee: WaybillParty
    loader: WaybillParty | None = None
    carrier: Carrier
    vehicle: Vehicle
    driver: CrewMember
    escort: CrewMember
    items: Annotated[tuple[WaybillItem, ...], Field(max_length=50)]
    loading_place: Text200
    unloading_place: Text200
    planned_loading_at: AwareDatetime
    planned_unloading_at: AwareDatetime
    route: Annotated[Text, Field(max_length=2000)]
    emergency_contact: EmergencyContact
    revision: Annotated[int, Field(ge=1, le=1000)] = 1
    jurisdiction: Jurisdiction = "CN"
    # Goods and their packaging, as weighed or declared (毛重); at least the net mass.
    gross_mass_kg: Kilograms | None = None
    dispatcher: Text200 = ""  # the carrier's dispatcher (调度员) who made the waybill
    remarks: Annotated[Text, Field(max_length=2000)] = ""


class Violation(Frozen):
    """One broken rule: ``code`` names the rule, ``field`` the path it concerns."""

    code: Text
    field: Text
    message: Text
    severity: Severity


class SmallLoad(Frozen):
    """The ADR 1.1.3.6 small-load exemption as assessed for a load (information, not a verdict:
    the platform relaxes no rule for it; mixed loading still applies)."""

    status: Literal["exempt", "over_limit", "ruled_out", "not_assessable", "not_applicable"]
    points: Decimal | None = None
    reason: Text


class WaybillCheck(Frozen):
    """The rule check of one waybill.

    Blocking violations send it back to the supplier or carrier to fix; warnings alone need a
    logistics-safety approval before filing. ``ok`` means neither: file it as it is.
    """

    violations: tuple[Violation, ...]
    # The mixed-loading rulebook the check applied ("JT/T 617.7-2018" or "49 CFR 177.848").
    rulebook: Line = ""
    small_load: SmallLoad | None = None  # None: not assessed (49 CFR has no such exemption)

    @property
    def blocking(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity == "blocking")

    @property
    def warnings(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.violations
