"""The day's reconciliation of the ledger's bank account with the statement, in words."""

from __future__ import annotations

from decimal import Decimal

from rules.bank_reconciliation import BankMovement, LedgerMovement, reconcile

D = Decimal


def test_movements_match_by_payment_id_or_reference_and_amount() -> None:
    ledger = [
        LedgerMovement("L1:disbursement", "BK1", D("-500000.00"), "CNY"),
        LedgerMovement("L1:repayment:P1", "PAY-1", D("100000.00"), "CNY"),
    ]
    bank = [
        BankMovement("BK2", "PAY-1", D("100000.00"), "CNY"),
        BankMovement("BK1", "L1", D("-500000.00"), "CNY"),
    ]
    assert reconcile(ledger, bank).matched == 2
    assert reconcile(ledger, bank).differences == ()


def test_each_difference_is_said_in_words() -> None:
    ledger = [
        LedgerMovement("L1:disbursement", "BK1", D("-500000.00"), "CNY"),
        LedgerMovement("L2:repayment:P9", "PAY-9", D("10.00"), "CNY"),
    ]
    bank = [
        BankMovement("BK1", "L1", D("-500000.01"), "CNY"),
        BankMovement("BK7", "STRANGER", D("1234.56"), "CNY"),
    ]
    result = reconcile(ledger, bank)
    assert result.matched == 0
    assert result.differences == (
        "amounts differ for BK1: the ledger's journal L1:disbursement books CNY -500,000.00, "
        "the bank's payment BK1 CNY -500,000.01",
        "missing at the bank: the ledger's journal L2:repayment:P9 books CNY 10.00 under "
        "PAY-9, the statement has no such entry",
        "missing in the ledger: the bank's payment BK7 (reference STRANGER) of CNY 1,234.56 "
        "is booked in no journal",
    )


def test_two_payments_under_one_reference_each_match_once() -> None:
    ledger = [
        LedgerMovement("J1", "PAY-1", D("50.00"), "CNY"),
        LedgerMovement("J2", "PAY-1", D("70.00"), "CNY"),
    ]
    bank = [
        BankMovement("BK2", "PAY-1", D("70.00"), "CNY"),
        BankMovement("BK1", "PAY-1", D("50.00"), "CNY"),
    ]
    assert reconcile(ledger, bank).matched == 2
