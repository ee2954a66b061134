"""The dangerous-goods list and the checks on a UN number and packing group.

The list is the US 49 CFR § 172.101 Hazardous Materials Table (Columns 1-7), shipped in
``data/dangerous_goods/`` with its source and licence (federal regulation: public domain; see
SOURCE.md there). It is static data read once, on first use, then kept in memory: the only I/O
in this package, and the same for every caller.

One entry (``DangerousGood``) is one row of the table: a description at one packing group. A
number can have several entries, so ``entries(un_number)`` returns all of them in table order:

- one per packing group (UN1789 Hydrochloric acid: II and III), because the special provisions
  differ by packing group (IB2 against IB3, and so on);
- several names (UN1950 Aerosols), or one name in two inhalation hazard zones (UN1744 Bromine
  solutions, special provision 1 and 2);
- a US-domestic description beside the international one (UN1005 Ammonia, anhydrous: 2.2 marked
  D, 2.3 with subsidiary 8 marked I).

``packing_groups(un_number)`` is the union over the entries.

How the table's marks are read:

- Forbidden (Column 3 "Forbidden"): the table gives these no identification number, so no
  number can name one and they are not entries; ``forbidden_problem(name)`` finds them by name.
- Column 1 symbols are kept in ``symbols``. G: the description must add the technical name in
  parentheses (§ 172.203(k)): ``needs_technical_name``. D: a US-domestic name; I: the name for
  international transport; A / W: the US rules apply only by air / by water; +: name, class and
  packing group are fixed.
- NA numbers and ID8000 are US-only numbers: ``entries`` finds them, ``un_number_problem``
  refuses them because an RFQ line carries a UN number.
- No packing group (gases, 6.2, 7, explosives and some others): ``packing_group`` is None, and
  stating one is refused.
- Quirks kept as printed: UN0190 (explosive samples) has no class, because it is assigned case
  by case; NA1993 Combustible liquid has class "Comb liq".

What an entry says beyond its class, for the segregation rules (read from the entry, never
from the class alone):

- ``physical_state``: Class 2 is a gas; otherwise the name ("..., solid", "... solution",
  "liquid") and then the special provisions decide: IB1-IB3 are IBC codes for liquids, IB4-IB8
  for solids (49 CFR § 172.102(c)(4)), TP33 applies to solids (§ 172.102(c)(7)). None when
  neither tells, or they disagree: the caller reads that at its strictest.
- ``is_cyanide`` / ``is_acid`` / ``is_alkaline``: by the proper shipping name (§ 177.848(c)).
  Cyanides: names with "cyanide" (including hydrogen cyanide, cuprocyanides, oxycyanide) or
  "hydrocyanic acid", except the organic bromobenzyl cyanides (nitriles, which acids do not
  turn into hydrogen cyanide). Cyanohydrins, cyanogen and its halides are not read as
  cyanides. Acids: names saying "acid", "acids" or "acidic" (a cyanide excepted) and the
  hydrogen halides (hydrogen chloride, bromide, fluoride, iodide). Acids by other names (acid
  chlorides, sulfur trioxide) are not recognised: ``is_alkaline`` (names saying "alkaline",
  "basic", "hydroxide" or "ammonia") lets a caller tell a known base from an unknown.
- ``is_ammonium_nitrate``: UN1942 and the ammonium nitrate fertilizers, the goods of Note A to
  the § 177.848(d) table.
- ``is_fireworks``: the "Fireworks" entries (note 5 to the § 177.848(f) table).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "dangerous_goods"
TABLE_FILE = DATA_DIR / "hazmat_table.csv"
TABLE = "49 CFR § 172.101 hazardous materials table"

UN_NUMBER = re.compile(r"UN\d{4}")
PACKING_GROUPS = ("I", "II", "III")
FORBIDDEN = "Forbidden"
# § 172.102 special provisions 1-4: poisonous by inhalation, hazard zone A-D.
ZONE_PROVISIONS = {"1": "A", "2": "B", "3": "C", "4": "D"}
NAMES_SHOWN = 3

State = Literal["gas", "liquid", "solid"]
SAYS_SOLID = re.compile(r"\bsolids?\b")
SAYS_LIQUID = re.compile(r"\b(?:liquids?|liquefied|solutions?)\b")
LIQUID_PROVISIONS = frozenset({"IB1", "IB2", "IB3"})  # § 172.102(c)(4)
SOLID_PROVISIONS = frozenset({"IB4", "IB5", "IB6", "IB7", "IB8", "TP33"})  # § 172.102(c)(4), (7)
CYANIDE = re.compile(r"cyanide|hydrocyanic acid")
NOT_CYANIDE = re.compile(r"bromobenzyl cyanide")  # organic nitriles: no HCN with acids
ACID = re.compile(r"\bacid(?:s|ic)?\b|\bhydrogen (?:chloride|bromide|fluoride|iodide)\b")
ALKALINE = re.compile(r"\balkaline\b|\bbasic\b|hydroxide|\bammonia\b")
AMMONIUM_NITRATE = "UN1942"

# GB 6944-2012 names (zh) beside the UN Model Regulations names (en).
CLASS_NAMES: dict[str, tuple[str, str]] = {
    "1": ("第1类 爆炸品", "Explosives"),
    "1.1": (
        "第1.1项 有整体爆炸危险的物质和物品",
        "Substances and articles which have a mass explosion hazard",
    ),
    "1.2": (
        "第1.2项 有迸射危险，但无整体爆炸危险的物质和物品",
        "Substances and articles which have a projection hazard but not a mass explosion hazard",
    ),
    "1.3": (
        "第1.3项 有燃烧危险并有局部爆炸危险或局部迸射危险或这两种危险都有，"
        "但无整体爆炸危险的物质和物品",
        "Substances and articles which have a fire hazard and either a minor blast hazard or a"
        " minor projection hazard or both, but not a mass explosion hazard",
    ),
    "1.4": (
        "第1.4项 不呈现重大危险的物质和物品",
        "Substances and articles which present no significant hazard",
    ),
    "1.5": (
        "第1.5项 有整体爆炸危险的非常不敏感物质",
        "Very insensitive substances which have a mass explosion hazard",
    ),
    "1.6": (
        "第1.6项 无整体爆炸危险的极端不敏感物品",
        "Extremely insensitive articles which do not have a mass explosion hazard",
    ),
    "2": ("第2类 气体", "Gases"),
    "2.1": ("第2.1项 易燃气体", "Flammable gases"),
    "2.2": ("第2.2项 非易燃无毒气体", "Non-flammable, non-toxic gases"),
    "2.3": ("第2.3项 毒性气体", "Toxic gases"),
    "3": ("第3类 易燃液体", "Flammable liquids"),
    "4": (
        "第4类 易燃固体、易于自燃的物质、遇水放出易燃气体的物质",
        "Flammable solids; substances liable to spontaneous combustion; substances which, in"
        " contact with water, emit flammable gases",
    ),
    "4.1": (
        "第4.1项 易燃固体、自反应物质和固态退敏爆炸品",
        "Flammable solids, self-reactive substances and solid desensitized explosives",
    ),
    "4.2": ("第4.2项 易于自燃的物质", "Substances liable to spontaneous combustion"),
    "4.3": (
        "第4.3项 遇水放出易燃气体的物质",
        "Substances which, in contact with water, emit flammable gases",
    ),
    "5": ("第5类 氧化性物质和有机过氧化物", "Oxidizing substances and organic peroxides"),
    "5.1": ("第5.1项 氧化性物质", "Oxidizing substances"),
    "5.2": ("第5.2项 有机过氧化物", "Organic peroxides"),
    "6": ("第6类 毒性物质和感染性物质", "Toxic and infectious substances"),
    "6.1": ("第6.1项 毒性物质", "Toxic substances"),
    "6.2": ("第6.2项 感染性物质", "Infectious substances"),
    "7": ("第7类 放射性物质", "Radioactive material"),
    "8": ("第8类 腐蚀性物质", "Corrosive substances"),
    "9": (
        "第9类 杂项危险物质和物品，包括危害环境物质",
        "Miscellaneous dangerous substances and articles, including environmentally hazardous"
        " substances",
    ),
}
# Class 1 as printed in Column 3: division plus compatibility group (1.1D, 1.4S).
EXPLOSIVE_WITH_GROUP = re.compile(r"(1\.[1-6])[A-HJKLNS]")


@dataclass(frozen=True)
class DangerousGood:
    """One row of the table: a description at one packing group (None when it has none)."""

    un_number: str
    proper_shipping_name: str
    hazard_class: str
    subsidiary_classes: tuple[str, ...]
    packing_group: str | None
    special_provisions: tuple[str, ...]
    symbols: tuple[str, ...]

    @property
    def needs_technical_name(self) -> bool:
        """Symbol G: the description must add the technical name in parentheses."""
        return "G" in self.symbols

    @property
    def inhalation_hazard_zone(self) -> str | None:
        """A-D from special provisions 1-4 (poisonous by inhalation); None when not one."""
        zones = [ZONE_PROVISIONS[sp] for sp in self.special_provisions if sp in ZONE_PROVISIONS]
        return zones[0] if zones else None

    @property
    def physical_state(self) -> State | None:
        """Gas, liquid or solid as the entry shows it; None when it does not (module docstring)."""
        if self.hazard_class.startswith("2"):
            return "gas"
        name = self.proper_shipping_name.casefold()
        solid, liquid = bool(SAYS_SOLID.search(name)), bool(SAYS_LIQUID.search(name))
        if solid != liquid:
            return "solid" if solid else "liquid"
        provisions = frozenset(self.special_provisions)
        solid, liquid = bool(provisions & SOLID_PROVISIONS), bool(provisions & LIQUID_PROVISIONS)
        if solid != liquid:
            return "solid" if solid else "liquid"
        return None

    @property
    def is_cyanide(self) -> bool:
        """A cyanide, cyanide mixture or solution (49 CFR § 177.848(c)), by its name."""
        name = self.proper_shipping_name.casefold()
        return bool(CYANIDE.search(name)) and not NOT_CYANIDE.search(name)

    @property
    def is_acid(self) -> bool:
        """Named an acid (§ 177.848(c)); a cyanide named "hydrocyanic acid" is not one here."""
        return bool(ACID.search(self.proper_shipping_name.casefold())) and not self.is_cyanide

    @property
    def is_alkaline(self) -> bool:
        """Named a base: alkaline, basic, a hydroxide or ammonia."""
        return bool(ALKALINE.search(self.proper_shipping_name.casefold()))

    @property
    def is_ammonium_nitrate(self) -> bool:
        """UN1942 or an ammonium nitrate fertilizer: Note A to the § 177.848(d) table."""
        name = self.proper_shipping_name.casefold()
        fertilizer = "ammonium nitrate" in name and "fertilizer" in name
        return self.hazard_class == "5.1" and (self.un_number == AMMONIUM_NITRATE or fertilizer)

    @property
    def is_fireworks(self) -> bool:
        """A "Fireworks" entry (note 5 to the § 177.848(f) table)."""
        return self.proper_shipping_name.casefold().startswith("fireworks")


@dataclass(frozen=True)
class _Table:
    by_number: dict[str, tuple[DangerousGood, ...]]
    forbidden: dict[str, str]  # normalised name -> name as printed


def _split(field: str) -> tuple[str, ...]:
    return tuple(part for part in field.split(";") if part)


def _normalised(name: str) -> str:
    return " ".join(name.split()).casefold()


def _read(rows: Iterable[dict[str, str]]) -> _Table:
    by_number: dict[str, list[DangerousGood]] = {}
    forbidden: dict[str, str] = {}
    for row in rows:
        if row["hazard_class"] == FORBIDDEN:
            forbidden[_normalised(row["proper_shipping_name"])] = row["proper_shipping_name"]
            continue
        good = DangerousGood(
            un_number=row["id_number"],
            proper_shipping_name=row["proper_shipping_name"],
            hazard_class=row["hazard_class"],
            subsidiary_classes=_split(row["subsidiary_classes"]),
            packing_group=row["packing_group"] or None,
            special_provisions=_split(row["special_provisions"]),
            symbols=_split(row["symbols"]),
        )
        by_number.setdefault(good.un_number, []).append(good)
    return _Table({k: tuple(v) for k, v in by_number.items()}, forbidden)


@cache
def _table() -> _Table:
    with TABLE_FILE.open(newline="", encoding="utf-8") as f:
        return _read(csv.DictReader(f))


def entries(un_number: str) -> tuple[DangerousGood, ...]:
    """Every row for this UN, NA or ID number, in table order; empty when there is none."""
    return _table().by_number.get(un_number, ())


def hazard_classes(un_numbers: Iterable[str]) -> set[str]:
    """The primary classes the numbers' entries name: what a carrier's licence must cover."""
    return {good.hazard_class for un in un_numbers for good in entries(un) if good.hazard_class}


def packing_groups(un_number: str) -> tuple[str, ...]:
    """The packing groups the number's entries allow, in I, II, III order."""
    stated = {good.packing_group for good in entries(un_number)}
    return tuple(pg for pg in PACKING_GROUPS if pg in stated)


def class_name(hazard_class: str) -> tuple[str, str]:
    """(zh, en) name of a class or division; a compatibility group (1.1D) names its division."""
    explosive = EXPLOSIVE_WITH_GROUP.fullmatch(hazard_class)
    key = explosive.group(1) if explosive else hazard_class
    if key not in CLASS_NAMES:
        raise ValueError(f"{hazard_class!r} is not a dangerous goods class or division")
    return CLASS_NAMES[key]


def _names(goods: tuple[DangerousGood, ...]) -> str:
    names = list(dict.fromkeys(good.proper_shipping_name for good in goods))
    shown = "; ".join(names[:NAMES_SHOWN])
    return shown if len(names) <= NAMES_SHOWN else f"{shown}; and {len(names) - NAMES_SHOWN} more"


def un_number_problem(un_number: str, packing_group: str | None = None) -> str | None:
    """None when the number is on the list and allows the packing group, else the reason.

    A packing group of None is not checked: the caller did not state one. No UN number can be
    forbidden by itself, because the table gives Forbidden rows no number; check the
    description with ``forbidden_problem``.
    """
    if not UN_NUMBER.fullmatch(un_number):
        us_only = un_number.startswith(("NA", "ID"))
        hint = " (NA and ID numbers are US-only, not UN numbers)" if us_only else ""
        return f"UN number {un_number!r} is malformed: it must be UN followed by 4 digits{hint}"
    goods = entries(un_number)
    if not goods:
        return f"{un_number} is not on the dangerous goods list ({TABLE})"
    if packing_group is None:
        return None
    if packing_group not in PACKING_GROUPS:
        return f"packing group {packing_group!r} is not one of I, II, III"
    allowed = packing_groups(un_number)
    if packing_group in allowed:
        return None
    if not allowed:
        return (
            f"packing group {packing_group} is not allowed for {un_number} ({_names(goods)}):"
            " it has no packing group"
        )
    return (
        f"packing group {packing_group} is not allowed for {un_number} ({_names(goods)}):"
        f" allowed {', '.join(allowed)}"
    )


def forbidden_problem(name: str) -> str | None:
    """The reason when the name is a Forbidden entry of the table, compared whole, ignoring case.

    Whole-name comparison because a Forbidden name often differs from a shippable one only in
    its qualifying text ("Acetylene, solvent free" against UN1001 "Acetylene, dissolved").
    """
    printed = _table().forbidden.get(_normalised(name))
    if printed is None:
        return None
    return f"{printed!r} is forbidden for transport ({TABLE}, Column 3 'Forbidden')"
