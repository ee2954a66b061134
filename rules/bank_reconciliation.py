"""A day's reconciliation of the ledger's bank account with the bank's statement, in words.

Each ledger movement of the bank account names the bank's record it books (``bank_reference``):
the bank's payment id for money the platform paid out, the payer's reference for money a buyer
paid in. A statement entry matches a movement when its payment id or its reference is that name
and its amount (signed: money out negative) and currency are the movement's. What is left over
on either side is a difference, said as the finance reviewer needs it: missing at the bank,
missing in the ledger, or the amounts differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from contracts.common import money_text


@dataclass(frozen=True, slots=True)
class LedgerMovement:
    journal_id: str
    bank_reference: str | None
    amount: Decimal  # money in positive, out negative
    currency: str


@dataclass(frozen=True, slots=True)
class BankMovement:
    payment_id: str
    reference: str
    amount: Decimal  # credits positive, debits negative
    currency: str


@dataclass(frozen=True, slots=True)
class Reconciled:
    matched: int
    differences: tuple[str, ...]


def _names(entry: BankMovement, reference: str | None) -> bool:
    return reference is not None and reference in (entry.payment_id, entry.reference)


def reconcile(ledger: list[LedgerMovement], bank: list[BankMovement]) -> Reconciled:
    """Match each ledger movement with one statement entry (the same amount first, else the
    one it names with another amount); list what does not match."""
    unmatched = list(bank)
    matched = 0
    differences: list[str] = []
    for movement in ledger:
        named = [e for e in unmatched if _names(e, movement.bank_reference)]
        same = [e for e in named if (e.amount, e.currency) == (movement.amount, movement.currency)]
        if same:
            unmatched.remove(same[0])
            matched += 1
        elif named:
            entry = named[0]
            unmatched.remove(entry)
            differences.append(
                f"amounts differ for {movement.bank_reference}: the ledger's journal "
                f"{movement.journal_id} books {money_text(movement.amount, movement.currency)}, "
                f"the bank's payment {entry.payment_id} "
                f"{money_text(entry.amount, entry.currency)}"
            )
        else:
            differences.append(
                f"missing at the bank: the ledger's journal {movement.journal_id} books "
                f"{money_text(movement.amount, movement.currency)} under "
                f"{movement.bank_reference or 'no bank reference'}, the statement has no such "
                "entry"
            )
    differences += [
        f"missing in the ledger: the bank's payment {entry.payment_id} (reference "
        f"{entry.reference}) of {money_text(entry.amount, entry.currency)} is booked in no journal"
        for entry in unmatched
    ]
    return Reconciled(matched=matched, differences=tuple(differences))
