"""A spreadsheet cell read the way a supplier writes it: ``1,500``, ``13%``, ``2027/6/30`` or
``2027年6月30日``, ``江苏、上海`` or ``CN-JS``, ``100:11.80; 1000:10.90``, ``1090`` for UN1090.

Pure, and separate from the sheet's columns (``rules.catalogue_sheet``) so the reading of a cell
is one thing to change. Full-width characters are folded first (NFKC), as Chinese input methods
type them. A cell that cannot be read is not guessed: it becomes a problem naming its field.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from rules.catalogue_listing import Problem
from rules.figures import bounded
from rules.provinces import NAMES, WHOLE_MAINLAND

# A province's code by its short Chinese name (江苏 → CN-JS).
_PROVINCES = {zh: code for code, (zh, _) in NAMES.items()}
_PROVINCE_SUFFIX = re.compile(r"(壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区|省|市)$")
_SEPARATORS = re.compile(r"[;,；，、\s]+")
_PAIRS = re.compile(r"[;；、\n]+")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]00:00(?::00)?)?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


class CellReading:
    """A row's cells (by field key) read as a supplier writes them; a cell that cannot be read is
    a problem named by its field, and reads as None."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values
        self.problems: list[Problem] = []

    def refuse(self, key: str, rule: str) -> None:
        self.problems.append(Problem(key, rule))

    def number(self, key: str, text: str | None = None) -> Decimal | None:
        text = self.values.get(key) if text is None else text
        if text is None:
            return None
        value = _decimal(text)
        if value is None:
            self.refuse(key, "must be a number")
            return None
        if not _bounded(value):
            self.refuse(key, BOUNDS_RULE)
            return None
        return _plainly(value)

    def rate(self, key: str) -> Decimal:
        text = unicodedata.normalize("NFKC", self.values.get(key, "")).strip()
        if text.endswith("%"):
            percent = self.number(key, text[:-1])
            return percent / 100 if percent is not None else Decimal(0)
        return self.number(key) or Decimal(0)

    def volume_prices(self, first: Decimal) -> list[dict[str, Decimal | None]]:
        text = self.values.get("volume_prices", "")
        breaks: list[dict[str, Decimal | None]] = []
        quantities = [first]
        for pair in filter(None, (p.strip() for p in _PAIRS.split(text))):
            parts = re.split(r"[:：=]", unicodedata.normalize("NFKC", pair))
            read = [_decimal(part.replace(",", "")) for part in parts]
            quantity, price = read if len(read) == 2 else (None, None)
            if quantity is None or price is None or not (_bounded(quantity) and _bounded(price)):
                self.refuse("volume_prices", f"{pair!r} is not quantity:unit price (100:11.80)")
                continue
            if quantity <= quantities[-1]:
                self.refuse(
                    "volume_prices",
                    f"quantities must ascend, each above the minimum order ({_plain(first)})",
                )
                continue
            quantities.append(quantity)
            breaks.append({"min_quantity": _plainly(quantity), "unit_price": _plainly(price)})
        return breaks

    def regions(self) -> list[str]:
        found: list[str] = []
        for word in filter(None, _SEPARATORS.split(self.values.get("delivery_regions", ""))):
            code = unicodedata.normalize("NFKC", word).upper()
            if code in ("全国", "中国"):
                code = WHOLE_MAINLAND
            elif not re.fullmatch(r"CN(-[A-Z]{2})?", code):
                short = _PROVINCE_SUFFIX.sub("", word)
                if short not in _PROVINCES:
                    self.refuse(
                        "delivery_regions", f"{word!r} is not CN, a code like CN-JS or a province"
                    )
                    continue
                code = _PROVINCES[short]
            if code not in found:
                found.append(code)
        return found

    def date(self, key: str) -> date | None:
        text = unicodedata.normalize("NFKC", self.values.get(key, "")).strip()
        if not text:
            return None
        found = _DATE.match(text)
        try:
            if found is None:
                raise ValueError(text)
            return date(*(int(part) for part in found.groups()))
        except ValueError:
            self.refuse(key, "must be a date such as 2027-06-30")
            return None

    def un_number(self) -> str | None:
        text = "".join(unicodedata.normalize("NFKC", self.values.get("un_number", "")).split())
        if not text:
            return None
        return f"UN{text}" if text.isdigit() else text.upper()

    def packing_group(self) -> str | None:
        text = unicodedata.normalize("NFKC", self.values.get("packing_group", "")).strip()
        return {"1": "I", "2": "II", "3": "III"}.get(text, text.upper()) or None


# A figure's magnitude, bounded as it is read (``rules.figures``); every column's own range is
# far inside these bounds and is checked after.
MOST_DIGITS = 15  # before the point
MOST_PLACES = 12  # after it
BOUNDS_RULE = "must have at most 15 digits before the point and 12 after"


def _decimal(text: str) -> Decimal | None:
    """``text`` as a finite number (full-width folded, ``1,500`` read as 1500); None when it
    is not one."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if _GROUPED.match(folded):
        folded = folded.replace(",", "")
    try:
        value = Decimal(folded)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _bounded(value: Decimal) -> bool:
    return bounded(value, digits=MOST_DIGITS, places=MOST_PLACES)


def _plainly(value: Decimal) -> Decimal:
    """A bounded figure as a supplier means it: ``1E+2`` as 100, ``-0`` as 0."""
    if value.is_zero():
        return Decimal(0)
    return value.quantize(Decimal(1)) if int(value.as_tuple().exponent) > 0 else value


def _plain(amount: Decimal) -> str:
    text = format(amount.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
