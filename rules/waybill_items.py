"""The e-waybill's lines of goods read against the dangerous goods list (rules.dangerous_goods).

Split out of rules.waybill, which composes these with the other rules. The rules, by code
(blocking unless marked warning):

- UNKNOWN_UN, BAD_PACKING_GROUP: ``un_number_problem``; a list entry with packing groups needs
  one stated. FORBIDDEN_GOODS: the name is a Forbidden entry of the list.
- ITEM_MISMATCH: no list entry at the item's packing group has its class and subsidiary classes
  (blocking). Warnings: the name differs from the list's other than in case, spacing or Chinese
  text beside it ('丙酮 Acetone'); a generic (G) entry without the technical name in
  parentheses (49 CFR § 172.203(k)). A name in Chinese alone gets the warning: the list is
  English only.

``listed_entries`` is how the other rules read an item: the entries that match it exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from contracts.waybill import EWaybill, Violation, WaybillItem
from rules.dangerous_goods import (
    DangerousGood,
    entries,
    forbidden_problem,
    packing_groups,
    un_number_problem,
)
from rules.waybill_load import quantity_text, violation

UNKNOWN_UN = "UNKNOWN_UN"
BAD_PACKING_GROUP = "BAD_PACKING_GROUP"
FORBIDDEN_GOODS = "FORBIDDEN_GOODS"
ITEM_MISMATCH = "ITEM_MISMATCH"

# CJK ideographs and full-width punctuation: the list's names are English only.
CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def squashed(text: str) -> str:
    """Case and spacing ignored: 'Hydrochloric  Acid' and 'hydrochloric acid' agree."""
    return "".join(text.split()).casefold()


def _name_key(name: str) -> str:
    """A name compared without Chinese text, so '丙酮 Acetone' agrees with 'Acetone'."""
    return squashed(CHINESE.sub("", name))


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
