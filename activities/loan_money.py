"""A loan's money at the bank: the payout and the remittance of the rest of a buyer's payment to
the supplier, each booked in the ledger (``activities.loan_ledger``) once the bank settled it.

Exactly once, whatever is retried or restarted: every bank payment carries an idempotency key
made from the loan (the loan id for the first payout), so a payment the bank booked but whose
answer was lost is found, not made again; its journal's id is the step's key, so booking it
again books nothing. A payment the bank refuses is an answer (``Disbursement.settled`` False,
with the bank's reason), not an error.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from activities.loan_ledger import LoanLedger, invalid, locked_loan
from contracts.banking import (
    ACCOUNT_CLOSED,
    INSUFFICIENT_FUNDS,
    PAYER_ACCOUNT_CLOSED,
    BankPayment,
    PaymentOrder,
)
from contracts.common import SYSTEM_ACTOR, money_text
from contracts.finance import DisburseInput, Disbursement, LoanStatus, RepaymentInput
from db.audit_log import audit_once
from db.finance import Account, Journal, JournalKind, Loan, LoanRepayment, post_journal
from db.models import Organisation
from db.session import transaction
from gateways.bank import BankClient
from rules.loan_terms import DEFAULT_PRODUCT, LoanProduct

MAX_KEY = 128  # the bank's longest idempotency key
MAX_REMITTANCE_TRIES = 100
_BANK_REASONS = {
    ACCOUNT_CLOSED: "the supplier's account is closed at its bank",
    PAYER_ACCOUNT_CLOSED: "the platform's settlement account is closed",
    INSUFFICIENT_FUNDS: "the platform's settlement account has not enough funds",
}


def bank_key(*parts: str) -> str:
    """An idempotency key from its parts; one too long for the bank keeps the loan id and a
    digest of the whole, still one key per parts."""
    key = ":".join(parts)
    if len(key) <= MAX_KEY:
        return key
    return f"{parts[0]}:{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def payout_key(loan_id: str, attempt: int) -> str:
    """The loan id for the first payout; a new key only for finance's retry after a refusal."""
    return loan_id if attempt == 1 else bank_key(loan_id, f"attempt-{attempt}")


def refusal_text(payment: BankPayment) -> str:
    reason = payment.reason or "no reason given"
    return f"{_BANK_REASONS.get(reason, 'the bank refused the payment')} (bank: {reason})"


class LoanMoney(LoanLedger):
    """The bank's steps of ``activities.loans.LoanActivities`` (the class the worker wires)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        bank: BankClient,
        *,
        platform_account: str,
        product: LoanProduct = DEFAULT_PRODUCT,
    ) -> None:
        super().__init__(sessions, product=product)
        self._bank = bank
        self._platform_account = platform_account

    @activity.defn(name="disburse_loan")
    def disburse_loan(self, request: DisburseInput) -> Disbursement:
        """Pay the principal to the supplier under the attempt's key and book it with the fee.
        A retry pays under the same key (the bank answers the payment it booked) and finds the
        journal booked, so a loan is paid out and booked once."""
        with self._sessions() as session:
            row = session.get(Loan, request.loan_id)
            if row is None:
                raise invalid(f"no loan {request.loan_id}")
            if row.payment_id is not None and row.disbursed_on is not None:
                return Disbursement(
                    settled=True, payment_id=row.payment_id, value_date=row.disbursed_on
                )
            supplier = session.get(Organisation, row.supplier_org_id)
            account = supplier.bank_account if supplier is not None else None
            name = supplier.legal_name if supplier is not None else ""
            order_id = row.order_id
        if not account:
            return Disbursement(
                settled=False,
                reason="the supplier has no bank account on file: add it before the payout",
            )
        principal = request.terms.principal
        try:
            order = PaymentOrder(
                payer_account=self._platform_account,
                payee_account=account,
                payee_name=name[:200],
                amount=principal.amount,
                currency=principal.currency,
                reference=request.loan_id,
                memo=f"Order loan {request.loan_id} on order {order_id}"[:140],
            )
        except ValidationError:
            return Disbursement(
                settled=False,
                reason="the supplier's bank account on file is not an account number: correct it",
            )
        payment = self._bank.pay(
            order, idempotency_key=payout_key(request.loan_id, request.attempt)
        )
        if not payment.settled or payment.value_date is None:
            return Disbursement(
                settled=False, payment_id=payment.payment_id, reason=refusal_text(payment)
            )
        self._book_payout(request, payment, payment.value_date)
        return Disbursement(
            settled=True, payment_id=payment.payment_id, value_date=payment.value_date
        )

    def _book_payout(self, request: DisburseInput, payment: BankPayment, value_date: date) -> None:
        terms = request.terms
        loan_id, currency = request.loan_id, terms.principal.currency
        with transaction(self._sessions) as session:
            row = locked_loan(session, loan_id)
            journal = session.get(Journal, f"{loan_id}:disbursement")
            if journal is not None:
                if journal.bank_reference != payment.payment_id:
                    raise invalid(
                        f"loan {loan_id} was paid out as {journal.bank_reference} and again as "
                        f"{payment.payment_id}: recover the second payment from the supplier"
                    )
                return
            principal, fee = terms.principal.amount, terms.fee.amount
            post_journal(
                session,
                journal_id=f"{loan_id}:disbursement",
                loan_id=loan_id,
                kind=JournalKind.DISBURSEMENT,
                booked_on=value_date,
                memo=f"payout of loan {loan_id} to the supplier",
                currency=currency,
                lines=[(Account.PRINCIPAL, principal), (Account.BANK, -principal)],
                bank_reference=payment.payment_id,
            )
            if fee:
                post_journal(
                    session,
                    journal_id=f"{loan_id}:fee",
                    loan_id=loan_id,
                    kind=JournalKind.FEE,
                    booked_on=value_date,
                    memo=f"fee of loan {loan_id}, {terms.fee_rate} of the principal",
                    currency=currency,
                    lines=[(Account.FEE_RECEIVABLE, fee), (Account.FEE_INCOME, -fee)],
                )
            row.terms = terms.model_dump(mode="json")
            row.payment_id = payment.payment_id
            row.disbursed_on = value_date
            row.due_on = value_date + timedelta(days=terms.term_days)
            row.principal_owed, row.fee_owed = principal, fee
            row.accrued_to = value_date
            row.status, row.status_reason = LoanStatus.DISBURSED.value, ""
            audit_once(
                session,
                SYSTEM_ACTOR,
                "loan.disbursed",
                loan_id,
                {
                    "payment_id": payment.payment_id,
                    "idempotency_key": payment.idempotency_key,
                    "principal": str(principal),
                    "fee": str(fee),
                    "currency": currency,
                    "value_date": value_date.isoformat(),
                },
            )

    @activity.defn(name="remit_to_supplier")
    def remit_to_supplier(self, payment: RepaymentInput) -> None:
        """Pay the supplier what is left of a buyer's payment, once. Each try has its own key
        (``{loan}:remit:{payment}:{k}``), looked up before paying: settled there is done, a
        refusal moves to the next key, none pays under it. A refusal goes to ops (put the
        supplier's account right and retry: the retry pays under the next key)."""
        with self._sessions() as session:
            repaid = session.get(LoanRepayment, payment.payment_id)
            if repaid is None:
                raise invalid(f"payment {payment.payment_id} was not applied to a loan")
            if repaid.remitted <= 0 or repaid.remittance_payment_id is not None:
                return
            row = session.get(Loan, repaid.loan_id)
            supplier = session.get(Organisation, row.supplier_org_id) if row else None
            if row is None or supplier is None or not supplier.bank_account:
                raise invalid(
                    f"the supplier of loan {repaid.loan_id} has no bank account on file: add "
                    "it, then retry the remittance"
                )
            currency, amount = row.currency, repaid.remitted
            account, name = supplier.bank_account, supplier.legal_name
        for k in range(1, MAX_REMITTANCE_TRIES + 1):
            key = bank_key(repaid.loan_id, "remit", payment.payment_id, str(k))
            paid = self._bank.find_payment(key)
            if paid is not None and not paid.settled:
                continue
            if paid is None:
                paid = self._bank.pay(
                    PaymentOrder(
                        payer_account=self._platform_account,
                        payee_account=account,
                        payee_name=name[:200],
                        amount=amount,
                        currency=currency,
                        reference=f"remit {payment.payment_id}"[:64],
                        memo=f"Order {row.order_id}: the buyer's payment after loan "
                        f"{repaid.loan_id}"[:140],
                    ),
                    idempotency_key=key,
                )
            if not paid.settled or paid.value_date is None:
                raise invalid(
                    f"the bank refused to pay {money_text(amount, currency)} on to the supplier "
                    f"of loan {repaid.loan_id}: {refusal_text(paid)}. Put the supplier's bank "
                    "account right, then retry: the retry is a new payment"
                )
            self._book_remittance(repaid.loan_id, payment.payment_id, paid, paid.value_date)
            return
        raise invalid(f"{MAX_REMITTANCE_TRIES} remittances of {payment.payment_id} refused")

    def _book_remittance(
        self, loan_id: str, payment_id: str, paid: BankPayment, value_date: date
    ) -> None:
        with transaction(self._sessions) as session:
            row = locked_loan(session, loan_id)
            repaid = session.get(LoanRepayment, payment_id, with_for_update=True)
            if repaid is None or repaid.remittance_payment_id is not None:
                return
            post_journal(
                session,
                journal_id=f"{loan_id}:remittance:{payment_id}",
                loan_id=loan_id,
                kind=JournalKind.REMITTANCE,
                booked_on=value_date,
                memo=f"the rest of the buyer's payment {payment_id} paid on to the supplier",
                currency=row.currency,
                lines=[
                    (Account.SUPPLIER_PAYABLE, repaid.remitted),
                    (Account.BANK, -repaid.remitted),
                ],
                bank_reference=paid.payment_id,
            )
            repaid.remittance_payment_id = paid.payment_id
