"""The receivables registry (动产融资统一登记公示系统 style) on the wire: pledge registrations.

A financed receivable is registered once, under the loan's id as the idempotency key, and
released when the loan is repaid. Searching by the debtor and the receivable's reference before
funding is how the same receivable is never financed twice.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, Field

from contracts.banking import Amount, Currency, IdempotencyKey
from contracts.common import Frozen, Line

# GB 32100-2015: 18 characters of digits and capitals without I, O, Z, S, V.
CREDIT_CODE_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{18}$"


class RegistrationStatus(StrEnum):
    REGISTERED = "registered"
    RELEASED = "released"


class Party(Frozen):
    """An organisation as the registry names it: its name and unified social credit code."""

    name: Line = Field(min_length=1, max_length=200)
    credit_code: Line = Field(pattern=CREDIT_CODE_PATTERN)


class Receivable(Frozen):
    """The pledged receivable: what the debtor owes under ``reference`` (the order's id)."""

    reference: Line = Field(min_length=1, max_length=64)
    amount: Amount
    currency: Currency
    due_on: date


class RegistrationRequest(Frozen):
    """A pledge of ``receivable`` by ``pledgor`` (the supplier) to ``registrant`` (the lender),
    owed by ``debtor`` (the buyer), for ``financed_amount`` until ``expires_on``."""

    registrant: Party
    pledgor: Party
    debtor: Party
    receivable: Receivable
    financed_amount: Amount
    expires_on: date


class Registration(RegistrationRequest):
    """The registry's record of one registration: the request as registered, and its state."""

    registration_number: Line = Field(pattern=r"^\d{24}$")
    idempotency_key: IdempotencyKey
    status: RegistrationStatus
    registered_at: AwareDatetime
    released_at: AwareDatetime | None = None

    @property
    def in_force(self) -> bool:
        return self.status is RegistrationStatus.REGISTERED
