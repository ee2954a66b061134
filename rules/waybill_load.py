"""The e-waybill's load arithmetic: what the goods weigh and hold against the vehicle and policy.

Pure, like the rest of rules.waybill (which composes these with the other rules); split out as the
one part that is arithmetic rather than reading fields against lists. The rules, by code:

- OVERLOAD: the goods over ``max_load_kg``, or litres over the tank volume. The vehicle's
  rated load (核定载质量) is what the goods may weigh with their packaging, so the declared gross
  mass (``gross_mass_kg``) is compared when given. Without it, the net mass is: litres count at
  the item's declared density; undeclared, at the policy's ``density_kg_per_l`` (water, 1.0),
  the least they are read at. The net mass leaves out packaging, so it can only under-count.
- GROSS_MASS: the declared gross mass is less than the goods' net mass, which it includes. Only
  what is known counts: kg lines and litres at their declared density (undeclared litres are
  left out, so a correct gross mass is never refused for a light liquid).
- QUANTITY_LIMIT: over a ``QuantityLimit`` of the policy: platform policy, not regulation.
- DENSITY_ASSUMED (warning): no declared density, and the load is within the limit at 1.0 kg/L
  but over it at the policy's conservative ``assumed_density_kg_per_l`` (2.0: sulfuric acid is
  1.84); for the vehicle only when no gross mass is declared. The platform ships no density
  table (no sourced one to ship), so it does not guess a density per entry: declare the density,
  or a logistics-safety approval accepts the load.

A class matches like a permit (``covers``): a permitted "2" covers 2.1-2.3, "1" every Class 1
division, "1.4" every 1.4 group; "1.4S" covers only 1.4S; a division never covers its whole class.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from contracts.waybill import EWaybill, Severity, Violation, WaybillItem

OVERLOAD = "OVERLOAD"
GROSS_MASS = "GROSS_MASS"
QUANTITY_LIMIT = "QUANTITY_LIMIT"
DENSITY_ASSUMED = "DENSITY_ASSUMED"

# Litres without a declared density: water's density is the least they are read at (a load over a
# limit at it is blocked), and 2.0 kg/L the conservative reading (over a limit only at it, a
# warning): above sulfuric acid (1.84) and most liquid dangerous goods, not bromine (3.1) or
# mercury (13.5), which a declared density or a stricter policy covers.
DEFAULT_DENSITY_KG_PER_L = Decimal("1.0")
ASSUMED_DENSITY_KG_PER_L = Decimal("2.0")


@dataclass(frozen=True)
class QuantityLimit:
    """Platform policy: the most net mass of a class on one vehicle; 0 means not carried.

    ``hazard_class`` matches like a permit (see the module docstring), against an item's primary
    and subsidiary classes; ``packing_group`` narrows it when given.
    """

    label: str
    hazard_class: str
    max_kg: Decimal
    packing_group: str | None = None


# Platform policy defaults, not regulation: explosives and radioactive material need licences
# and escorts the platform does not model (民用爆炸物品运输许可证; 放射性物品道路运输 rules);
# toxic gases and PG I toxics (mostly 剧毒化学品, which also need a police transit permit) are
# capped at one tonne a vehicle.
DEFAULT_QUANTITY_LIMITS = (
    QuantityLimit("Class 1 explosives", "1", Decimal(0)),
    QuantityLimit("Class 7 radioactive material", "7", Decimal(0)),
    QuantityLimit("Division 2.3 toxic gases", "2.3", Decimal(1000)),
    QuantityLimit("Division 6.1 packing group I toxics", "6.1", Decimal(1000), "I"),
)


@dataclass(frozen=True)
class LoadPolicy:
    """The densities litres are read at and the platform's quantity limits."""

    density_kg_per_l: Decimal = DEFAULT_DENSITY_KG_PER_L
    assumed_density_kg_per_l: Decimal = ASSUMED_DENSITY_KG_PER_L
    quantity_limits: tuple[QuantityLimit, ...] = DEFAULT_QUANTITY_LIMITS


DEFAULT_LOAD_POLICY = LoadPolicy()


def violation(code: str, path: str, message: str, severity: Severity = "blocking") -> Violation:
    return Violation(code=code, field=path, message=message, severity=severity)


def quantity_text(value: Decimal) -> str:
    """A quantity without exponent or trailing zeros: Decimal('1E+3') reads '1000'."""
    return f"{value.normalize():f}"


def covers(permitted: str, hazard_class: str) -> bool:
    """Whether a permitted class or division covers the class: '2' covers '2.3', '1.4' '1.4S'."""
    if hazard_class == permitted:
        return True
    rest = hazard_class.removeprefix(permitted)
    return rest != hazard_class and (rest.startswith(".") or rest[:1].isalpha())


@dataclass(frozen=True)
class _Mass:
    """Net mass of some items: undeclared litres at the least and at the assumed density."""

    least: Decimal
    assumed: Decimal
    undeclared: tuple[str, ...]  # 'items[1] UN1830': litres without a declared density
    declared: bool  # some litres at a declared density

    def litres_text(self, policy: LoadPolicy) -> str:
        declared = "litres at their declared density" if self.declared else ""
        undeclared = f"litres at {policy.density_kg_per_l} kg/L" if self.undeclared else ""
        if declared and undeclared:
            return f", {declared}, other {undeclared}"
        return f", {declared or undeclared}" if declared or undeclared else ""


def _mass(items: Iterable[tuple[int, WaybillItem]], policy: LoadPolicy) -> _Mass:
    least = assumed = Decimal(0)
    undeclared: list[str] = []
    declared = False
    for i, item in items:
        if item.unit == "kg":
            least, assumed = least + item.quantity, assumed + item.quantity
        elif item.density_kg_per_l is not None:
            declared = True
            least += item.quantity * item.density_kg_per_l
            assumed += item.quantity * item.density_kg_per_l
        else:
            undeclared.append(f"items[{i}] {item.un_number}")
            least += item.quantity * policy.density_kg_per_l
            assumed += item.quantity * policy.assumed_density_kg_per_l
    return _Mass(least, assumed, tuple(undeclared), declared)


def _density_assumed(
    mass: _Mass, limit: Decimal, what: str, policy: LoadPolicy
) -> tuple[Violation, ...]:
    """DENSITY_ASSUMED when only the conservative density puts the goods over the limit."""
    if mass.least > limit or mass.assumed <= limit:
        return ()
    message = (
        f"{', '.join(mass.undeclared)} in litres declare no density: at"
        f" {policy.assumed_density_kg_per_l} kg/L {what} weigh {quantity_text(mass.assumed)} kg,"
        f" over {quantity_text(limit)} kg (at {policy.density_kg_per_l} kg/L:"
        f" {quantity_text(mass.least)} kg); declare the density or have the load approved"
    )
    return (violation(DENSITY_ASSUMED, "items", message, "warning"),)


def overload(waybill: EWaybill, policy: LoadPolicy = DEFAULT_LOAD_POLICY) -> tuple[Violation, ...]:
    vehicle, gross, found = waybill.vehicle, waybill.gross_mass_kg, []
    limit = quantity_text(vehicle.max_load_kg)
    if gross is not None:
        if gross > vehicle.max_load_kg:
            message = (
                f"the goods weigh {quantity_text(gross)} kg gross, over the vehicle's {limit} kg"
            )
            found.append(violation(OVERLOAD, "vehicle.max_load_kg", message))
    else:
        mass = _mass(enumerate(waybill.items), policy)
        if mass.least > vehicle.max_load_kg:
            message = (
                f"the goods weigh {quantity_text(mass.least)} kg net{mass.litres_text(policy)},"
                f" over the vehicle's {limit} kg (no gross mass declared)"
            )
            found.append(violation(OVERLOAD, "vehicle.max_load_kg", message))
        found += _density_assumed(mass, vehicle.max_load_kg, "the goods", policy)
    litres_total = sum((i.quantity for i in waybill.items if i.unit == "L"), Decimal(0))
    tank = vehicle.tank_volume_litres
    if tank is not None and litres_total > tank:
        message = (
            f"{quantity_text(litres_total)} L of liquids exceed tank {vehicle.tank_number}'s"
            f" {quantity_text(tank)} L"
        )
        found.append(violation(OVERLOAD, "vehicle.tank_volume_litres", message))
    return tuple(found)


def _under(limit: QuantityLimit, item: WaybillItem) -> bool:
    classes = (item.hazard_class, *item.subsidiary_classes)
    in_class = any(c and covers(limit.hazard_class, c) for c in classes)
    return in_class and limit.packing_group in (None, item.packing_group)


def quantity_limits(
    waybill: EWaybill, policy: LoadPolicy = DEFAULT_LOAD_POLICY
) -> tuple[Violation, ...]:
    found: list[Violation] = []
    for limit in policy.quantity_limits:
        items = [(i, item) for i, item in enumerate(waybill.items) if _under(limit, item)]
        mass = _mass(items, policy)
        names = ", ".join(dict.fromkeys(item.un_number for _, item in items))
        found += _density_assumed(mass, limit.max_kg, f"{limit.label} ({names})", policy)
        if not items or mass.least <= limit.max_kg:
            continue
        if limit.max_kg == 0:
            message = f"{limit.label} ({names}) are not carried on this platform (platform policy)"
        else:
            message = (
                f"{limit.label} ({names}) weigh {quantity_text(mass.least)} kg, over the platform"
                f" policy limit of {quantity_text(limit.max_kg)} kg a vehicle"
            )
        found.append(violation(QUANTITY_LIMIT, "items", message))
    return tuple(found)


# Undeclared litres at 0 kg/L: the net mass known for certain.
KNOWN_MASS_ONLY = LoadPolicy(density_kg_per_l=Decimal(0), assumed_density_kg_per_l=Decimal(0))


def gross_mass(waybill: EWaybill) -> tuple[Violation, ...]:
    """GROSS_MASS: the declared gross mass below the net mass known for certain."""
    gross = waybill.gross_mass_kg
    known = _mass(enumerate(waybill.items), KNOWN_MASS_ONLY)
    if gross is None or gross >= known.least:
        return ()
    left_out = "; litres without a density left out" if known.undeclared else ""
    message = (
        f"the gross mass {quantity_text(gross)} kg is less than the goods' net mass"
        f" {quantity_text(known.least)} kg (kg lines and litres at their declared density"
        f"{left_out}): the gross mass includes the goods"
    )
    return (violation(GROSS_MASS, "gross_mass_kg", message),)
