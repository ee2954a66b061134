"""A cold-chain claim: what the buyer lost on arrival, what it is worth, and who answers for it.

The buyer decides the disposition with the quantities lost as the task's choices, one per line
in the line's unit: ``{"lost:L1": "20", "liable": "carrier"}``. Accepting with a claim needs a
loss; rejecting loses the whole shipment (its quantities need not be given); accepting as is
loses nothing. The claim is the lost goods at the contract's unit price plus the tax the buyer
paid on them (the contract's tax over its pre-tax total), to the cent, rounded half up: a credit
note reverses what the invoice charged for goods that never arrived usable.

Liability (domain-rules.md §2: the party in charge of the goods when the range was broken): the
carrier when the order has one (the goods were in its hands from pickup to delivery), else the
supplier, whose logistics carried them; the buyer may name the other party.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from contracts.cold_chain import ColdLine, Disposition, Liable
from contracts.common import CENT
from contracts.fulfilment import ShipmentLine

LOST = "lost:"
LIABLE = "liable"
_QUANTUM = Decimal("0.001")


class ClaimRefused(ValueError):
    """The decision's choices break a rule; the message names the choice and the rule."""


def lost_quantities(
    lines: Sequence[ColdLine], choices: Mapping[str, str], disposition: Disposition
) -> tuple[ShipmentLine, ...]:
    """The quantities lost per line the decision states (module docstring)."""
    if disposition is Disposition.REJECT:
        return tuple(ShipmentLine(line_id=x.line_id, quantity=x.quantity) for x in lines)
    by_id = {line.line_id: line for line in lines}
    lost: list[ShipmentLine] = []
    for key, text in choices.items():
        if key == LIABLE:
            continue
        line_id = key.removeprefix(LOST)
        if not key.startswith(LOST) or line_id not in by_id:
            known = ", ".join(f"{LOST}{x}" for x in by_id)
            raise ClaimRefused(f"choices.{key}: the keys are {known} and {LIABLE}")
        line = by_id[line_id]
        try:
            quantity = Decimal(text)
        except InvalidOperation:
            raise ClaimRefused(f"choices.{key}: {text!r} is not a quantity") from None
        if not quantity.is_finite() or quantity != quantity.quantize(_QUANTUM):
            raise ClaimRefused(f"choices.{key}: a quantity to at most 3 decimals")
        if not 0 <= quantity <= line.quantity:
            raise ClaimRefused(
                f"choices.{key}: between 0 and the {line.quantity} {line.unit} shipped"
            )
        if quantity > 0:
            lost.append(ShipmentLine(line_id=line_id, quantity=quantity))
    if disposition is Disposition.ACCEPT and lost:
        raise ClaimRefused("outcome: goods were lost, so accept_with_claim (or reject)")
    if disposition is Disposition.ACCEPT_WITH_CLAIM and not lost:
        raise ClaimRefused(f"choices: a claim states what was lost, e.g. {{'{LOST}L1': '20'}}")
    return tuple(lost)


def liable_party(choices: Mapping[str, str], *, has_carrier: bool) -> Liable:
    """Who answers for the loss: the buyer's choice, else the carrier if there is one."""
    named = choices.get(LIABLE)
    if named is None:
        return Liable.CARRIER if has_carrier else Liable.SUPPLIER
    if named not in {x.value for x in Liable}:
        raise ClaimRefused(f"choices.{LIABLE}: carrier or supplier")
    if named == Liable.CARRIER and not has_carrier:
        raise ClaimRefused(f"choices.{LIABLE}: the order has no carrier")
    return Liable(named)


def claim_value(
    lines: Sequence[ColdLine], lost: Sequence[ShipmentLine], tax_rate: Decimal
) -> Decimal:
    """The lost goods at their unit price, plus the tax paid on them, to the cent."""
    price = {line.line_id: line.unit_price for line in lines}
    goods = sum((x.quantity * price[x.line_id] for x in lost), Decimal(0))
    return (goods * (1 + tax_rate)).quantize(CENT, rounding=ROUND_HALF_UP)
