"""A supplier's listing checked against its category: specifications typed, units converted,
the dangerous-goods identity checked against the list.

Pure: the API's single listing and every row of a bulk import go through ``check_listing``, so
both refuse the same things with the same words. A problem names the listing's field
(``attributes.length``, ``un_number``) and the rule; an import maps fields to its columns.

Numbers are kept in the unit the category states: a supplier may write ``0.5 cm`` or ``5毫米``
for a length in mm, and the product stores ``5``. Conversions are exact decimal factors between
units of one dimension (SI prefixes; the inch is 25.4 mm exactly, by the 1959 international
yard and pound agreement); a unit of another dimension is refused rather than guessed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from contracts.catalogue import AttributeKind, AttributeSpec, OfferTerms, ProductListing
from rules.dangerous_goods import entries, un_number_problem
from rules.provinces import PROVINCES, WHOLE_MAINLAND

# unit -> (dimension, factor to the dimension's base unit); Chinese names are aliases.
UNITS: dict[str, tuple[str, Decimal]] = {
    "um": ("length", Decimal("0.001")),
    "mm": ("length", Decimal(1)),
    "cm": ("length", Decimal(10)),
    "m": ("length", Decimal(1000)),
    "km": ("length", Decimal(1_000_000)),
    "in": ("length", Decimal("25.4")),
    "mg": ("mass", Decimal("0.001")),
    "g": ("mass", Decimal(1)),
    "kg": ("mass", Decimal(1000)),
    "t": ("mass", Decimal(1_000_000)),
    "ml": ("volume", Decimal(1)),
    "l": ("volume", Decimal(1000)),
    "v": ("voltage", Decimal(1)),
    "kv": ("voltage", Decimal(1000)),
    "w": ("power", Decimal(1)),
    "kw": ("power", Decimal(1000)),
    "a": ("current", Decimal(1)),
    "ma": ("current", Decimal("0.001")),
    "pa": ("pressure", Decimal(1)),
    "kpa": ("pressure", Decimal(1000)),
    "mpa": ("pressure", Decimal(1_000_000)),
    "bar": ("pressure", Decimal(100_000)),
    "n": ("force", Decimal(1)),
    "kn": ("force", Decimal(1000)),
    "nm": ("torque", Decimal(1)),
    "c": ("temperature", Decimal(1)),
    "%": ("ratio", Decimal(1)),
}
UNIT_ALIASES = {
    "μm": "um",
    "µm": "um",
    "微米": "um",
    "毫米": "mm",
    "公厘": "mm",
    "厘米": "cm",
    "公分": "cm",
    "米": "m",
    "公里": "km",
    "千米": "km",
    "英寸": "in",
    "寸": "in",
    "毫克": "mg",
    "克": "g",
    "千克": "kg",
    "公斤": "kg",
    "吨": "t",
    "毫升": "ml",
    "升": "l",
    "伏": "v",
    "伏特": "v",
    "千伏": "kv",
    "瓦": "w",
    "瓦特": "w",
    "千瓦": "kw",
    "安": "a",
    "安培": "a",
    "毫安": "ma",
    "帕": "pa",
    "千帕": "kpa",
    "兆帕": "mpa",
    "巴": "bar",
    "牛": "n",
    "千牛": "kn",
    "牛米": "nm",
    "n·m": "nm",
    "n.m": "nm",
    "°c": "c",
    "℃": "c",
    "摄氏度": "c",
}
_QUANTITY = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(\S*)$")
_NOT_ALNUM = re.compile(r"[\W_]+")
_TRUE = frozenset({"true", "yes", "y", "1", "是", "有"})
_FALSE = frozenset({"false", "no", "n", "0", "否", "无"})
_MAX_NUMBER = Decimal(10) ** 12


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a listing: the field (dotted, as the API names it) and the rule."""

    field: str
    rule: str


@dataclass(frozen=True, slots=True)
class CheckedListing:
    """A listing that passed: its specifications canonical, its hazard class from the list."""

    listing: ProductListing
    attributes: dict[str, str]
    hazard_class: str | None
    units: dict[str, str]  # each number attribute's unit, so search reads ``5`` as ``5mm``


def unit_of(text: str) -> str | None:
    """The canonical unit a written unit means (``毫米`` → ``mm``), or None if unknown."""
    folded = unicodedata.normalize("NFKC", text).strip().casefold()
    unit = UNIT_ALIASES.get(folded, folded)
    return unit if unit in UNITS else None


def unit_problem(spec: AttributeSpec) -> str | None:
    """Why a category may not declare this attribute's unit, or None."""
    if spec.unit is not None and unit_of(spec.unit) != spec.unit:
        known = ", ".join(sorted(UNITS))
        return f"unit {spec.unit!r} is not one the catalogue converts; use one of {known}"
    return None


@lru_cache(maxsize=1 << 16)
def identity_key(text: str) -> str:
    """Brand or model as a product's identity compares it: width, case, spaces and separators
    ignored, so ``ABC-123``, ``abc 123`` and the
    full-width ``ABC123`` name one product. (``[\\W_]`` is exactly what ``str.isalnum`` refuses.)
    Remembered: brands and choices repeat on every row of an import."""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text).casefold())


def product_identity(
    brand: str, model: str, un_number: str | None, packing_group: str | None, profile: str | None
) -> str:
    """What makes listings one product: brand and model as ``identity_key`` compares them, and
    what a product carries to the orders made of it: its dangerous-goods identity and its
    temperature profile. Listings of one brand and model that declare these differently are
    different products. Shared, the first lister's declaration was every supplier's: a rival
    listing it without its UN number took a supplier's dangerous goods out of the waybill's
    rules (《危险货物道路运输安全管理办法》) for every order made of its offer.
    ``migrations/versions/0040_product_identity_declared.py`` builds the same key in SQL."""
    key = f"{identity_key(brand)}|{identity_key(model)}"
    if un_number is not None:
        key += f"|dg:{un_number}:{packing_group or ''}"
    if profile is not None:
        key += f"|temp:{profile}"
    return key


def check_listing(
    listing: ProductListing, specs: tuple[AttributeSpec, ...], *, today: date | None = None
) -> CheckedListing | list[Problem]:
    """The listing made canonical against its category's specifications, or every problem
    (``today``: an offer valid only until before it is refused, as one no buyer would see)."""
    problems = _identity_problems(listing) + _offer_problems(listing.offer, today)
    attributes: dict[str, str] = {}
    by_key = {spec.key: spec for spec in specs}
    for key in listing.attributes:
        if key not in by_key:
            allowed = ", ".join(by_key) or "none"
            problems.append(
                Problem(f"attributes.{key}", f"not a specification of this category ({allowed})")
            )
    for spec in specs:
        written = listing.attributes.get(spec.key, "").strip()
        if not written:
            if spec.required:
                problems.append(Problem(f"attributes.{spec.key}", "is required in this category"))
            continue
        value = _canonical(spec, written)
        if isinstance(value, Problem):
            problems.append(value)
        else:
            attributes[spec.key] = value
    hazard_class = _hazard_class(listing, problems)
    if listing.offer.min_order_quantity > listing.offer.stock and listing.offer.stock > 0:
        # A stock below the MOQ can never be ordered from stock; zero stock is "made to order".
        problems.append(
            Problem("offer.min_order_quantity", "must not exceed the stock unless stock is 0")
        )
    if problems:
        return problems
    units = {spec.key: spec.unit for spec in specs if spec.unit is not None}
    return CheckedListing(listing, attributes, hazard_class, units)


# What a product's identity keeps of a brand or a model (``db.catalogue.Product.identity``:
# both, a separator and what the listing declares, in 260 characters).
MAX_IDENTITY_KEY = 100


def _identity_problems(listing: ProductListing) -> list[Problem]:
    """A brand and a model of punctuation or invisible characters alone compare equal to any
    other such (``identity_key``): "!!!" and "—" of two suppliers were one product. Folded,
    a text may grow ("ß" is "ss"): one past the identity's room was a 500 at the insert."""
    problems = []
    for name, text in (("brand", listing.brand), ("model", listing.model)):
        key = identity_key(text)
        if not key:
            problems.append(Problem(name, "must hold a letter or a digit"))
        elif len(key) > MAX_IDENTITY_KEY:
            problems.append(
                Problem(name, f"folds to more than {MAX_IDENTITY_KEY} letters and digits")
            )
    return problems


def _offer_problems(offer: OfferTerms, today: date | None) -> list[Problem]:
    problems = []
    regions = offer.delivery_regions
    for i, region in enumerate(regions):
        if region != WHOLE_MAINLAND and region not in PROVINCES:
            problems.append(Problem(f"offer.delivery_regions.{i}", f"{region} is not a province"))
        elif region in regions[:i]:
            problems.append(Problem(f"offer.delivery_regions.{i}", f"{region} is named twice"))
    if today is not None and offer.valid_until < today:
        problems.append(Problem("offer.valid_until", f"must not be before today ({today})"))
    return problems


def _hazard_class(listing: ProductListing, problems: list[Problem]) -> str | None:
    if listing.un_number is None:
        if listing.packing_group is not None:
            problems.append(Problem("packing_group", "needs a un_number"))
        return None
    problem = un_number_problem(listing.un_number, listing.packing_group)
    if problem is not None:
        problems.append(Problem("un_number", problem))
        return None
    return entries(listing.un_number)[0].hazard_class


def _canonical(spec: AttributeSpec, written: str) -> str | Problem:
    field = f"attributes.{spec.key}"
    match spec.kind:
        case AttributeKind.TEXT:
            return written
        case AttributeKind.CHOICE:
            folded = {identity_key(choice): choice for choice in spec.choices}
            choice = folded.get(identity_key(written))
            if choice is None:
                return Problem(field, f"must be one of {', '.join(spec.choices)}")
            return choice
        case AttributeKind.BOOLEAN:
            folded_value = unicodedata.normalize("NFKC", written).casefold()
            if folded_value in _TRUE:
                return "true"
            if folded_value in _FALSE:
                return "false"
            return Problem(field, "must be yes or no (是/否)")
        case AttributeKind.NUMBER:
            return _number(spec, field, written)


def _number(spec: AttributeSpec, field: str, written: str) -> str | Problem:
    found = _QUANTITY.match(unicodedata.normalize("NFKC", written).strip())
    if found is None:
        return Problem(field, f"must be a number{_in(spec)}")
    try:
        amount = Decimal(found.group(1))
    except InvalidOperation:
        return Problem(field, f"must be a number{_in(spec)}")
    if found.group(2):
        unit = unit_of(found.group(2))
        if spec.unit is None or unit is None:
            return Problem(field, f"unit {found.group(2)!r} is not understood{_in(spec)}")
        have, want = UNITS[unit], UNITS[spec.unit]
        if have[0] != want[0]:
            return Problem(field, f"{found.group(2)!r} is not a {want[0]}{_in(spec)}")
        amount = amount * have[1] / want[1]
    if abs(amount) >= _MAX_NUMBER:
        return Problem(field, f"must be below {_MAX_NUMBER:,}{_in(spec)}")
    return _plain(amount)


def _in(spec: AttributeSpec) -> str:
    return f" in {spec.unit}" if spec.unit else ""


def _plain(amount: Decimal) -> str:
    """``5.000`` → ``5``, ``0.50`` → ``0.5``, never an exponent."""
    text = format(amount.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
