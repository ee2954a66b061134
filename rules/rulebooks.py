"""The rulebook of the road a shipment's mixed loading is checked by, chosen by its jurisdiction.

``EWaybill.jurisdiction`` says where the trip runs: "CN" is checked by JT/T 617.7-2018, China's
standard for loading dangerous goods by road, which follows ADR 7.5.2 (rules.adr_loading); "US"
by 49 CFR § 177.848 (rules.segregation), exactly as before jurisdictions existed. The check
names the rulebook it applied (``RULEBOOKS``), and so does every SEGREGATION message, beside
the paragraph it cites. The rules, by code:

- SEGREGATION: two items may not share a vehicle (blocking) or may only on a condition a person
  confirms, or separated (warning, needs a logistics-safety approval). Two lines of the same
  goods are not compared. Under "US" the items are read as their matching list entries (so their
  zone, state, name and subsidiaries count), or by the declared class when none matches; under
  "CN" by the labels their declared classes give. Under "CN" the platform also warns of a
  cyanide with a named acid (``LoadingPolicy.cyanide_acid_warning``): ADR 7.5.2 does not
  restrict the pair, but they can generate hydrogen cyanide, the hazard 49 CFR § 177.848(c)
  names; the message says it is platform policy, not the rulebook.
- FOOD_SEPARATION (warning, "CN" only): goods that carry CV28 (ADR 7.5.4) must be kept away
  from foodstuffs, other articles of consumption and animal feed. The waybill has no food flag,
  so no rule can see food aboard from the UN entries: the platform warns whenever a CV28 item
  is loaded, asking a person to confirm that no food is aboard or that it is separated as
  7.5.4 requires (``LoadingPolicy.keep_from_food_warning``). The US counterpart (49 CFR
  § 177.841(e)) is not applied: "US" keeps the 49 CFR behaviour as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, product

from contracts.waybill import EWaybill, Jurisdiction, Violation, WaybillItem
from rules.adr_loading import keeps_from_food, mixed_loading
from rules.dangerous_goods import DangerousGood
from rules.segregation import STRICTNESS, Segregation, mixed_loading_violations, segregation
from rules.waybill_items import listed_entries
from rules.waybill_load import violation

SEGREGATION = "SEGREGATION"
FOOD_SEPARATION = "FOOD_SEPARATION"


@dataclass(frozen=True)
class Rulebook:
    jurisdiction: Jurisdiction
    label: str  # shown on the waybill and in its check


RULEBOOKS: dict[Jurisdiction, Rulebook] = {
    "CN": Rulebook("CN", "JT/T 617.7-2018 (ADR 7.5.2)"),
    "US": Rulebook("US", "49 CFR 177.848"),
}


@dataclass(frozen=True)
class LoadingPolicy:
    """Platform conventions beyond the rulebook, each a warning a person clears."""

    keep_from_food_warning: bool = True
    cyanide_acid_warning: bool = True


DEFAULT_LOADING_POLICY = LoadingPolicy()


def rulebook(waybill: EWaybill) -> Rulebook:
    return RULEBOOKS[waybill.jurisdiction]


def _pair_violation(path: str, verdict: Segregation, book: str, reason: str) -> Violation:
    if verdict is Segregation.FORBIDDEN:
        return violation(
            SEGREGATION, path, f"{path} may not share a vehicle under {book}: {reason}"
        )
    need = "separation" if verdict is Segregation.SEPARATED else "a confirmed condition"
    message = f"{path} need {need} (logistics-safety approval) under {book}: {reason}"
    return violation(SEGREGATION, path, message, "warning")


def _us_hazards(item: WaybillItem) -> tuple[str | DangerousGood, ...]:
    # The declared class when no entry matches: that item is blocked anyway, but a forbidden
    # pair is still worth telling in the same round of fixes.
    return listed_entries(item) or ((item.hazard_class,) if item.hazard_class else ())


def _us_segregation(waybill: EWaybill) -> tuple[Violation, ...]:
    book = RULEBOOKS["US"].label
    found: list[Violation] = []
    hazards = [(i, item, _us_hazards(item)) for i, item in enumerate(waybill.items)]
    for (i, a, ha), (j, b, hb) in combinations(hazards, 2):
        if a.un_number == b.un_number and ha == hb:
            continue  # the same goods on two lines
        pairs = list(product(ha, hb))
        if not pairs:
            continue
        worst = max(pairs, key=lambda pair: STRICTNESS[segregation(*pair)])
        verdict = segregation(*worst)
        if verdict is not Segregation.NONE:
            reason = mixed_loading_violations(worst)[0]
            found.append(_pair_violation(f"items[{i}],items[{j}]", verdict, book, reason))
    return tuple(found)


def _cyanide_with_acid(a: WaybillItem, b: WaybillItem) -> str | None:
    for cyanide, acid in ((a, b), (b, a)):
        if any(g.is_cyanide for g in listed_entries(cyanide)) and any(
            g.is_acid for g in listed_entries(acid)
        ):
            return (
                f"{cyanide.un_number} is a cyanide and {acid.un_number} an acid: they can"
                " generate hydrogen cyanide (the hazard 49 CFR § 177.848(c) names); keep them"
                " apart"
            )
    return None


def _cn_segregation(waybill: EWaybill, policy: LoadingPolicy) -> tuple[Violation, ...]:
    book = RULEBOOKS["CN"].label
    found: list[Violation] = []
    items = [(i, item) for i, item in enumerate(waybill.items) if item.hazard_class]
    for (i, a), (j, b) in combinations(items, 2):
        same_classes = (a.hazard_class, a.subsidiary_classes) == (
            b.hazard_class,
            b.subsidiary_classes,
        )
        if a.un_number == b.un_number and same_classes:
            continue  # the same goods on two lines
        path = f"items[{i}],items[{j}]"
        verdict, reason = mixed_loading(a, b)
        if verdict is not Segregation.NONE:
            found.append(_pair_violation(path, verdict, book, reason))
        elif policy.cyanide_acid_warning and (why := _cyanide_with_acid(a, b)):
            policy_book = f"platform policy beyond {book}, whose 7.5.2.1 permits the pair"
            found.append(_pair_violation(path, Segregation.CONDITIONAL, policy_book, why))
    return tuple(found)


def segregation_violations(
    waybill: EWaybill, policy: LoadingPolicy = DEFAULT_LOADING_POLICY
) -> tuple[Violation, ...]:
    """SEGREGATION by the waybill's rulebook."""
    if waybill.jurisdiction == "US":
        return _us_segregation(waybill)
    return _cn_segregation(waybill, policy)


def food_separation(
    waybill: EWaybill, policy: LoadingPolicy = DEFAULT_LOADING_POLICY
) -> tuple[Violation, ...]:
    """FOOD_SEPARATION: one warning naming every CV28 item (ADR 7.5.4), under "CN"."""
    if waybill.jurisdiction != "CN" or not policy.keep_from_food_warning:
        return ()
    named = [
        f"items[{i}] {item.un_number} ({why})"
        for i, item in enumerate(waybill.items)
        if item.hazard_class and (why := keeps_from_food(item, item.packing_group))
    ]
    if not named:
        return ()
    message = (
        f"{'; '.join(named)}: CV28 under {RULEBOOKS['CN'].label.split(' (')[0]} (ADR 7.5.4):"
        " keep away from foodstuffs, other articles of consumption and animal feed. The waybill"
        " cannot show what else is aboard: confirm none is, or that it is kept apart by a"
        " full-height partition, by other packages, or by at least 0.8 m"
    )
    return (violation(FOOD_SEPARATION, "items", message, "warning"),)
