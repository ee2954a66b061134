"""The bank's host-to-host channel (银企直连) on the wire: payment orders, payments, statements.

A payment the bank refuses (closed account, insufficient funds) is an answer, not an error: it
comes back as a ``BankPayment`` with status ``rejected`` and the bank's reason, so a workflow
can hand it to a finance task. Money is ``Decimal`` with at most two decimals, never a float.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field, PlainSerializer

from contracts.common import Frozen, Line, Money

# Chinese bank account numbers: 8 to 32 digits (personal cards 16-19, corporate accounts longer).
AccountNumber = Annotated[Line, Field(pattern=r"^\d{8,32}$")]
# Amounts travel as plain decimal strings ("1200.50", never "1.2E+3"), as the bank reads them.
_PLAIN = PlainSerializer(lambda amount: f"{amount:f}", return_type=str, when_used="json")
# What the bank books: positive, whole cents, below the database's numeric(20, 2).
Amount = Annotated[Decimal, Field(gt=0, lt=10**18, decimal_places=2, allow_inf_nan=False), _PLAIN]
# A statement entry: signed, debits negative.
SignedAmount = Annotated[
    Decimal, Field(gt=-(10**18), lt=10**18, decimal_places=2, allow_inf_nan=False), _PLAIN
]
Currency = Annotated[Line, Field(pattern=r"^[A-Z]{3}$")]
# Keys are ids the platform makes (a loan id, say): visible ASCII, no spaces.
IdempotencyKey = Annotated[Line, Field(pattern=r"^[\x21-\x7e]{1,128}$")]

# The reasons the bank sandbox gives; a real bank has more, so reasons stay text.
ACCOUNT_CLOSED = "account_closed"
PAYER_ACCOUNT_CLOSED = "payer_account_closed"
INSUFFICIENT_FUNDS = "insufficient_funds"


class PaymentStatus(StrEnum):
    SETTLED = "settled"
    REJECTED = "rejected"


class PaymentOrder(Frozen):
    """An order to pay out of one of our accounts (a loan's disbursement, say)."""

    payer_account: AccountNumber
    payee_account: AccountNumber
    payee_name: Line = Field(min_length=1, max_length=200)
    amount: Amount
    currency: Currency
    reference: Line = Field(min_length=1, max_length=64)
    memo: Line = Field(default="", max_length=140)

    @property
    def money(self) -> Money:
        return Money(amount=self.amount, currency=self.currency)


class IncomingTransfer(Frozen):
    """Money another bank sends into one of our accounts (a buyer paying an order, say)."""

    payer_account: AccountNumber
    payer_name: Line = Field(min_length=1, max_length=200)
    amount: Amount
    currency: Currency
    reference: Line = Field(min_length=1, max_length=64)


class BankPayment(Frozen):
    """The bank's record of one transfer under one idempotency key, out (a payment) or in (a
    credit). Settled transfers have a value date and moved the balances; rejected ones did not."""

    payment_id: Line = Field(min_length=1, max_length=40)
    idempotency_key: IdempotencyKey
    status: PaymentStatus
    reason: Line | None = Field(default=None, max_length=64)
    payer_account: AccountNumber
    payer_name: Line = Field(max_length=200)
    payee_account: AccountNumber
    payee_name: Line = Field(max_length=200)
    amount: Amount
    currency: Currency
    reference: Line = Field(min_length=1, max_length=64)
    memo: Line = Field(max_length=140)
    received_at: AwareDatetime
    value_date: date | None = None  # the China day it was booked on; None when rejected
    booked_at: AwareDatetime | None = None

    @property
    def settled(self) -> bool:
        return self.status is PaymentStatus.SETTLED

    @property
    def money(self) -> Money:
        return Money(amount=self.amount, currency=self.currency)


class StatementEntry(Frozen):
    """One settled transfer on an account's statement: debits negative, credits positive."""

    payment_id: Line = Field(min_length=1, max_length=40)
    idempotency_key: IdempotencyKey
    reference: Line = Field(min_length=1, max_length=64)
    counterparty_account: AccountNumber
    counterparty_name: Line = Field(max_length=200)
    amount: SignedAmount
    currency: Currency
    booked_at: AwareDatetime


class BankStatement(Frozen):
    """An account's settled transfers on one China day, between its opening and closing
    balances (closing = opening + the entries)."""

    account: AccountNumber
    date: date
    currency: Currency
    opening_balance: SignedAmount
    closing_balance: SignedAmount
    entries: tuple[StatementEntry, ...]

    def under_key(self, idempotency_key: str) -> tuple[StatementEntry, ...]:
        """The entries booked under this idempotency key (one, for a settled payment)."""
        return tuple(e for e in self.entries if e.idempotency_key == idempotency_key)
