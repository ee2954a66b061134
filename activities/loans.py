"""The loan process's activities (``workflows.loan``): the loan row, its assessment, the
receivables registry, and (from ``activities.loan_money``) the payout, repayments, remittances
and write-off; and the daily reconciliation of the ledger's bank account with the bank.

Each is safe to retry: the loan row is inserted once under the loan id, a stored assessment is
returned as stored, the registry and the bank are called with idempotency keys made from the
loan id, and each journal's id is its step's key.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from activities.bank_reconciliation import reconcile_day
from activities.loan_ledger import invalid
from activities.loan_money import LoanMoney
from contracts.common import OPERATOR_ORG_ID, SYSTEM_ACTOR, Money
from contracts.finance import (
    ROUTED_STATUSES,
    CreditAssessment,
    EligibilityCheck,
    LoanInput,
    LoanStatus,
    LoanStatusInput,
    LoanTerms,
    OrderLoan,
    OrderLoanInput,
    ReconcileInput,
    ReconciliationResult,
    RegisterInput,
    Registration,
    ReleaseInput,
    loan_workflow_id,
)
from contracts.receivables_registry import Party, Receivable, RegistrationRequest
from db.audit_log import audit_once
from db.finance import Loan
from db.loan_facts import china_day, credit_facts, eligibility, receivable_due_on, unpaid_value
from db.models import Order, Organisation
from db.session import transaction
from gateways.bank import BankClient
from gateways.receivables_registry import ReceivableAlreadyRegistered, ReceivablesRegistryClient
from rules.day_count import DayCount, accrued_interest
from rules.loan_credit import DECLINED, assess
from rules.loan_terms import DEFAULT_PRODUCT, LoanProduct, effective_apr, fee, penalty_rate

# Statuses a loan leaves only for another final one: a late or repeated step never revives it.
FINAL = frozenset(
    {
        LoanStatus.REPAID,
        LoanStatus.WRITTEN_OFF,
        LoanStatus.REFUSED,
        LoanStatus.REJECTED,
        LoanStatus.WITHDRAWN,
        LoanStatus.LAPSED,
        LoanStatus.CANCELLED,
    }
)
# The pledge stays on the register this long after the loan falls due, for collections.
REGISTRATION_MARGIN = timedelta(days=365)


class LoanActivities(LoanMoney):
    def __init__(
        self,
        sessions: sessionmaker[Session],
        bank: BankClient,
        registry: ReceivablesRegistryClient,
        *,
        platform_account: str,
        product: LoanProduct = DEFAULT_PRODUCT,
    ) -> None:
        super().__init__(sessions, bank, platform_account=platform_account, product=product)
        self._registry = registry

    @activity.defn(name="record_loan")
    def record_loan(self, loan: LoanInput) -> EligibilityCheck:
        """Check the application with the order locked and record the loan: ``applied``, or
        ``refused`` with the problems. A retry finds the row and answers its check again."""
        app = loan.application
        with transaction(self._sessions) as session:
            check = eligibility(session, app, product=self._product, lock=True)
            existing = session.get(Loan, app.loan_id)
            if existing is not None:
                if existing.status != LoanStatus.REFUSED:
                    return check.model_copy(update={"problems": ()})
                return (
                    check
                    if check.problems
                    else check.model_copy(
                        update={"problems": (("loan_id", existing.status_reason),)}
                    )
                )
            if session.get(Order, app.order_id) is None:
                return check  # nothing to record a loan against
            refused = "; ".join(f"{field}: {rule}" for field, rule in check.problems)
            session.add(
                Loan(
                    id=app.loan_id,
                    order_id=app.order_id,
                    supplier_org_id=app.supplier_org_id,
                    buyer_org_id=app.buyer_org_id,
                    workflow_id=loan_workflow_id(app.loan_id),
                    status=(LoanStatus.REFUSED if refused else LoanStatus.APPLIED).value,
                    status_reason=refused,
                    currency=app.amount.currency,
                    amount=app.amount.amount,
                    term_days=app.term_days,
                    purpose=app.purpose,
                    approved_by=[],
                    applied_by=app.applied_by.user_id,
                    applied_at=app.applied_at,
                )
            )
            audit_once(
                session,
                app.applied_by,
                "loan.applied",
                app.loan_id,
                {
                    "order_id": app.order_id,
                    "amount": str(app.amount.amount),
                    "currency": app.amount.currency,
                    "term_days": app.term_days,
                    "refused": refused,
                },
            )
            return check

    @activity.defn(name="check_loan")
    def check_loan(self, loan: LoanInput) -> EligibilityCheck:
        """The application checked again, as of now, just before the payout: the buyer may
        have paid part of the order since, or the supplier lost its accreditation. The loan
        is already ``registering``, so a payment from now on is passed on to it."""
        now = activity.info().current_attempt_scheduled_time
        app = loan.application.model_copy(update={"applied_at": now})
        with transaction(self._sessions) as session:
            return eligibility(session, app, product=self._product, lock=True)

    @activity.defn(name="set_loan_status")
    def set_loan_status(self, change: LoanStatusInput) -> None:
        """The loan's status, reason, terms and approvers; a final status stays."""
        with transaction(self._sessions) as session:
            row = session.get(Loan, change.loan_id, with_for_update=True)
            if row is None:
                raise invalid(f"no loan {change.loan_id}")
            if LoanStatus(row.status) in FINAL and row.status != change.status:
                return
            if change.terms is not None:
                row.terms = change.terms.model_dump(mode="json")
            if change.approved_by:
                row.approved_by = list(change.approved_by)
            if row.status != change.status:
                row.status, row.status_reason = change.status.value, change.reason
                audit_once(
                    session,
                    SYSTEM_ACTOR,
                    f"loan.{change.status.value}",
                    row.id,
                    {"reason": change.reason},
                )

    @activity.defn(name="assess_loan")
    def assess_loan(self, loan: LoanInput) -> CreditAssessment:
        """Grade and price the loan on platform data (rules.loan_credit); stored on the loan,
        so a retry answers the assessment made first."""
        app = loan.application
        today = china_day(activity.info().current_attempt_scheduled_time)
        with transaction(self._sessions) as session:
            row = session.get(Loan, app.loan_id, with_for_update=True)
            if row is None:
                raise invalid(f"no loan {app.loan_id}")
            if row.assessment is not None:
                return CreditAssessment.model_validate(row.assessment)
            facts = credit_facts(
                session, app.supplier_org_id, app.buyer_org_id, today=today, product=self._product
            )
            grade = assess(facts, self._product)
            principal = app.amount
            convention = self._product.day_count
            terms = LoanTerms(
                principal=principal,
                term_days=app.term_days,
                fee_rate=grade.fee_rate,
                interest_rate=grade.interest_rate,
                penalty_rate=penalty_rate(grade.interest_rate, self._product),
                day_count=convention.value,
                fee=Money(
                    amount=fee(principal.amount, grade.fee_rate), currency=principal.currency
                ),
                grade=grade.grade,
            )
            interest = accrued_interest(
                principal.amount,
                grade.interest_rate,
                today,
                today + timedelta(days=app.term_days),
                DayCount(convention),
            )
            assessment = CreditAssessment(
                grade=grade.grade,
                score=grade.score,
                declined=grade.grade == DECLINED,
                terms=terms,
                reasons=grade.reasons,
                flags=grade.flags,
                effective_apr=effective_apr(
                    interest, terms.fee.amount, principal.amount, app.term_days
                ),
            )
            row.assessment = assessment.model_dump(mode="json")
            return assessment

    @activity.defn(name="register_receivable")
    def register_receivable(self, request: RegisterInput) -> Registration:
        """Register the financed receivable under the loan id, after searching the registry: a
        pledge of it in force under another key is a problem (financed already), not a second
        registration. The number is kept on the loan."""
        with self._sessions() as session:
            row = session.get(Loan, request.loan_id)
            if row is None:
                raise invalid(f"no loan {request.loan_id}")
            if row.registration_number is not None:
                return Registration(number=row.registration_number)
            order = session.get(Order, row.order_id)
            if order is None:
                raise invalid(f"loan {row.id}'s order {row.order_id} is not on file")
            parties = [
                self._party(session, org_id)
                for org_id in (OPERATOR_ORG_ID, row.supplier_org_id, row.buyer_org_id)
            ]
            owed = unpaid_value(session, order) or order.total_amount
            receivable = Receivable(
                reference=order.id,
                amount=owed,
                currency=order.currency,
                due_on=receivable_due_on(session, order),
            )
        registrant, pledgor, debtor = parties
        for found in self._registry.search(debtor.credit_code, order.id):
            if found.in_force and found.idempotency_key != request.loan_id:
                return Registration(problem=_financed_already(order.id, found.registration_number))
        try:
            registration = self._registry.register(
                RegistrationRequest(
                    registrant=registrant,
                    pledgor=pledgor,
                    debtor=debtor,
                    receivable=receivable,
                    financed_amount=request.terms.principal.amount,
                    expires_on=max(request.due_on, receivable.due_on) + REGISTRATION_MARGIN,
                ),
                idempotency_key=request.loan_id,
            )
        except ReceivableAlreadyRegistered as taken:
            return Registration(problem=_financed_already(order.id, taken.registration_number))
        with transaction(self._sessions) as session:
            locked = session.get(Loan, request.loan_id, with_for_update=True)
            if locked is not None:
                locked.registration_number = registration.registration_number
        return Registration(number=registration.registration_number)

    @staticmethod
    def _party(session: Session, org_id: str) -> Party:
        org = session.get(Organisation, org_id)
        if org is None:
            raise invalid(f"organisation {org_id} is not on file: the registry needs it")
        return Party(name=org.legal_name[:200], credit_code=org.credit_code)

    @activity.defn(name="release_registration")
    def release_registration(self, request: ReleaseInput) -> None:
        """Release the loan's pledge (repaid, or paid out never); releasing twice is harmless."""
        with self._sessions() as session:
            row = session.get(Loan, request.loan_id)
            if row is None:
                raise invalid(f"no loan {request.loan_id}")
            number, released = row.registration_number, row.registration_released
        if number is None or released:
            return
        self._registry.release(number, idempotency_key=f"{request.loan_id}:release")
        with transaction(self._sessions) as session:
            locked = session.get(Loan, request.loan_id, with_for_update=True)
            if locked is not None:
                locked.registration_released = True

    @activity.defn(name="loan_for_order")
    def loan_for_order(self, request: OrderLoanInput) -> OrderLoan:
        """The loan the order's payments go to: one being paid out, or paid out and not yet
        repaid (``contracts.finance.ROUTED_STATUSES``)."""
        with self._sessions() as session:
            loan_id = session.scalar(
                select(Loan.id).where(
                    Loan.order_id == request.order_id,
                    Loan.status.in_([s.value for s in ROUTED_STATUSES]),
                )
            )
            written_off = (
                None
                if loan_id is not None
                else session.scalar(
                    select(Loan.id).where(
                        Loan.order_id == request.order_id,
                        Loan.status == LoanStatus.WRITTEN_OFF.value,
                    )
                )
            )
        return OrderLoan(loan_id=loan_id, written_off_loan_id=written_off)

    @activity.defn(name="reconcile_bank")
    def reconcile_bank(self, request: ReconcileInput) -> ReconciliationResult:
        """The day's reconciliation (``activities.bank_reconciliation``)."""
        return reconcile_day(self._sessions, self._bank, self._platform_account, request.day)


def _financed_already(order_id: str, number: str) -> str:
    return (
        f"the receivable of order {order_id} is already pledged to another financing "
        f"(registration {number}): it cannot be financed twice"
    )
