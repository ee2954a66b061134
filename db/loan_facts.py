"""The platform's facts about an order loan, read from PostgreSQL for the pure rules: whether an
application is eligible (rules.loan_terms), the credit facts (rules.loan_credit) and each
party's identity (rules.related_parties).

One reading for the API's edge validation and the loan process's activities, so an application
the API accepts is judged on the same facts when the process records it.

Choices the data forces (each said where it is made):
- The receivable falls due on the invoice's due date once invoiced; before that, on the
  contract's delivery date plus ``RECEIVABLE_DAYS_AFTER_DELIVERY`` (an assumption: payment terms
  are free text on the contract).
- An order's disputes are read from the audit log's ``order.disputed`` entries (the order's
  status history: a dispute settled since still counts) or its current status.
- Days are China days (UTC+8), as the bank's value dates are.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from contracts.accreditation import AccreditationStatus, RiskBand
from contracts.common import Money
from contracts.finance import ACTIVE_STATUSES, REPAYING_STATUSES, EligibilityCheck, LoanApplication
from contracts.finance import LoanStatus as S
from contracts.fulfilment import CarrierEventKind
from contracts.fulfilment import OrderStatus as O
from db.cold_chain import CreditNote
from db.finance import Loan
from db.models import (
    AuditEntry,
    CarrierEvent,
    Contract,
    Invoice,
    Order,
    Organisation,
    Payment,
    SupplierAccreditation,
    User,
)
from rules.loan_credit import CreditFacts
from rules.loan_terms import (
    DEFAULT_PRODUCT,
    LoanProduct,
    LoanRequestFacts,
    Problem,
    eligibility_problems,
)
from rules.related_parties import PartyFacts, related_party_reasons
from rules.waybill_parties import CHINA_STANDARD_TIME

RECEIVABLE_DAYS_AFTER_DELIVERY = 30
HISTORY_DAYS = 365  # the supplier's record: twelve months
RECENT_DAYS = 30  # the buyer's recent orders ...
BASELINE_MONTHS = 6  # ... against its monthly average over the six months before
_MONTH_DAYS = 30
_SHARE = Decimal("0.0001")
_AVERAGE = Decimal("0.01")
# An order that reached delivery: delivered, accepted or disputed, invoiced or paid.
_DELIVERED = tuple(s.value for s in (O.DELIVERED, O.DISPUTED, O.INVOICED, O.COMPLETED))
_NOT_TRADED = (O.CANCELLED.value, O.REFUSED.value)
_ACTIVE = tuple(s.value for s in ACTIVE_STATUSES)
_REPAYING = tuple(s.value for s in REPAYING_STATUSES)


def china_day(at: datetime) -> date:
    return at.astimezone(CHINA_STANDARD_TIME).date()


def _china_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), CHINA_STANDARD_TIME)


def party_facts(session: Session, org_id: str) -> PartyFacts:
    """An organisation's identity for the related-party rule: its credit code, registered
    address and its users' mailboxes (inactive users too: a former user still links)."""
    org = session.get(Organisation, org_id)
    if org is None:
        raise LookupError(f"no organisation {org_id}")
    emails = session.scalars(select(User.email).where(User.org_id == org_id))
    return PartyFacts(
        org_id=org.id,
        credit_code=org.credit_code,
        registered_address=org.registered_address,
        user_emails=frozenset(emails),
    )


def unpaid_value(session: Session, order: Order) -> Decimal:
    """What the buyer still owes on the order: its total less payments and credit notes."""
    credited = session.scalar(
        select(func.coalesce(func.sum(CreditNote.amount), 0)).where(
            CreditNote.order_id == order.id, CreditNote.currency == order.currency
        )
    )
    return max(order.total_amount - order.paid_amount - Decimal(credited or 0), Decimal(0))


def receivable_due_on(session: Session, order: Order) -> date:
    """The invoice's due date once invoiced, else the contract's delivery date plus
    ``RECEIVABLE_DAYS_AFTER_DELIVERY`` (module docstring)."""
    due = session.scalar(select(Invoice.due_on).where(Invoice.order_id == order.id))
    if due is not None:
        return due
    terms = session.scalar(select(Contract.terms).where(Contract.id == order.contract_id))
    delivery = date.fromisoformat(str((terms or {})["delivery_date"]))
    return delivery + timedelta(days=RECEIVABLE_DAYS_AFTER_DELIVERY)


def outstanding_loans(session: Session, supplier_org_id: str, *, besides: str) -> Decimal:
    """The supplier's exposure on its other live loans: the principal still owed on those
    being repaid, and the amount applied for on those not paid out yet (so two applications at
    once cannot together pass the credit limit)."""
    rows = session.execute(
        select(Loan.status, Loan.amount, Loan.principal_owed).where(
            Loan.supplier_org_id == supplier_org_id,
            Loan.status.in_(_ACTIVE),
            Loan.id != besides,
        )
    )
    return sum(
        (owed if status in _REPAYING else amount for status, amount, owed in rows), Decimal(0)
    )


def eligibility(
    session: Session,
    application: LoanApplication,
    *,
    product: LoanProduct = DEFAULT_PRODUCT,
    lock: bool = False,
) -> EligibilityCheck:
    """Every rule the application breaks, as (field, rule), with the order's unpaid value and
    the receivable's due date. ``lock`` holds the order row (``FOR UPDATE``) to the end of the
    caller's transaction, so two applications on one order are judged one after the other."""
    order = session.get(Order, application.order_id, with_for_update=lock)
    currency = application.amount.currency
    if order is None:
        return EligibilityCheck(
            problems=(("order_id", f"there is no order {application.order_id}"),),
            unpaid_value=Money(amount=Decimal(0), currency=currency),
            receivable_due_on=china_day(application.applied_at),
        )
    problems = [(p.field, p.rule) for p in _party_problems(order, application, product)]
    unpaid = unpaid_value(session, order)
    standing = session.get(SupplierAccreditation, order.supplier_org_id)
    # An accreditation past its expiry is none at all.
    in_force = (
        standing if standing and standing.expires_on >= china_day(application.applied_at) else None
    )
    status = in_force.status if in_force is not None else None
    other_loan = session.scalar(
        select(
            exists().where(
                Loan.order_id == order.id, Loan.status.in_(_ACTIVE), Loan.id != application.loan_id
            )
        )
    )
    facts = LoanRequestFacts(
        amount=application.amount.amount,
        term_days=application.term_days,
        order_status=order.status,
        supplier_accredited=status
        in (AccreditationStatus.ACCREDITED, AccreditationStatus.SUSPENDED),
        supplier_suspended=status == AccreditationStatus.SUSPENDED,
        risk_band=in_force.risk_band if in_force is not None else None,
        unpaid_value=unpaid,
        outstanding_loans=outstanding_loans(
            session, order.supplier_org_id, besides=application.loan_id
        ),
        other_loan_on_order=bool(other_loan),
        related_party_reasons=related_party_reasons(
            party_facts(session, order.supplier_org_id), party_facts(session, order.buyer_org_id)
        ),
    )
    problems += [(p.field, p.rule) for p in eligibility_problems(facts, product)]
    return EligibilityCheck(
        problems=tuple(problems),
        unpaid_value=Money(amount=unpaid, currency=order.currency),
        receivable_due_on=receivable_due_on(session, order),
    )


def _party_problems(
    order: Order, application: LoanApplication, product: LoanProduct
) -> list[Problem]:
    """Where the application does not describe the order: another supplier's or buyer's, or
    in a currency the product does not lend in."""
    wrong = []
    if order.supplier_org_id != application.supplier_org_id:
        wrong.append(Problem("order_id", "the order is not one of the applicant's"))
    if order.buyer_org_id != application.buyer_org_id:
        wrong.append(Problem("buyer_org_id", "the order's buyer is another organisation"))
    if application.amount.currency != order.currency:
        wrong.append(Problem("amount", f"the loan is in the order's currency, {order.currency}"))
    elif order.currency != product.currency:
        wrong.append(Problem("order_id", f"loans are made in {product.currency} only"))
    return wrong


def credit_facts(
    session: Session,
    supplier_org_id: str,
    buyer_org_id: str,
    *,
    today: date,
    product: LoanProduct = DEFAULT_PRODUCT,
) -> CreditFacts:
    """The credit assessment's facts over platform data, in the product's currency: the
    supplier's accreditation and twelve months of its orders, the buyer's record, and the
    supplier's loans (module docstring for what counts as what)."""
    since = _china_midnight(today - timedelta(days=HISTORY_DAYS))
    standing = session.get(SupplierAccreditation, supplier_org_id)
    supplier_orders = select(Order).where(
        Order.supplier_org_id == supplier_org_id,
        Order.created_at >= since,
        Order.currency == product.currency,
    )
    delivered = _delivered(session, supplier_orders)
    traded = supplier_orders.where(Order.status.not_in(_NOT_TRADED)).subquery()
    value, from_buyer = session.execute(
        select(
            func.coalesce(func.sum(traded.c.total_amount), 0),
            func.coalesce(
                func.sum(traded.c.total_amount).filter(traded.c.buyer_org_id == buyer_org_id), 0
            ),
        )
    ).one()
    paid, paid_late = _buyer_invoices(session, buyer_org_id)
    recent, before = _buyer_orders(session, supplier_org_id, buyer_org_id, today=today)
    loans: dict[str, int] = {
        status: count
        for status, count in session.execute(
            select(Loan.status, func.count())
            .where(Loan.supplier_org_id == supplier_org_id)
            .group_by(Loan.status)
        )
    }
    return CreditFacts(
        # No accreditation on file reads as the highest risk: the assessment declines it.
        risk_band=standing.risk_band if standing is not None else RiskBand.HIGH.value,
        accreditation_score=standing.score if standing is not None else Decimal(0),
        orders_delivered=len(delivered),
        orders_delivered_late=sum(late for _, late in delivered),
        disputes=_disputes(session, supplier_orders),
        order_value=sum((total for total, _ in delivered), Decimal(0)),
        losses=_losses(session, supplier_org_id, since=since, currency=product.currency),
        buyer_invoices_paid=paid,
        buyer_invoices_paid_late=paid_late,
        buyer_orders_last_30d=recent,
        buyer_orders_monthly_before=before,
        concentration=(Decimal(from_buyer) / Decimal(value)).quantize(_SHARE)
        if value
        else Decimal(0),
        loans_overdue=loans.get(S.OVERDUE.value, 0),
        loans_written_off=loans.get(S.WRITTEN_OFF.value, 0),
    )


def _delivered(session: Session, orders: Select[tuple[Order]]) -> list[tuple[Decimal, bool]]:
    """(total, late) for each order that reached delivery: late when its last shipment was
    delivered after the contract's delivery date (no delivery event: not late)."""
    last_delivery = (
        select(func.max(CarrierEvent.at))
        .where(
            CarrierEvent.order_id == Order.id,
            CarrierEvent.kind == CarrierEventKind.DELIVERED.value,
        )
        .scalar_subquery()
    )
    rows = session.execute(
        orders.where(Order.status.in_(_DELIVERED))
        .join(Contract, Contract.id == Order.contract_id)
        .with_only_columns(Order.total_amount, Contract.terms, last_delivery)
    )
    result = []
    for total, terms, delivered_at in rows:
        promised = date.fromisoformat(str(terms["delivery_date"]))
        result.append((total, delivered_at is not None and china_day(delivered_at) > promised))
    return result


def _disputes(session: Session, orders: Select[tuple[Order]]) -> int:
    """The orders that went through a dispute: disputed now, or so in the audit log."""
    was_disputed = exists().where(
        AuditEntry.action == f"order.{O.DISPUTED.value}", AuditEntry.target_id == Order.id
    )
    query = orders.where(or_(Order.status == O.DISPUTED.value, was_disputed))
    return session.scalar(query.with_only_columns(func.count(Order.id))) or 0


def _losses(session: Session, supplier_org_id: str, *, since: datetime, currency: str) -> Decimal:
    """Credit notes on the supplier's orders that it bears: liable itself, or nobody named (a
    carrier's liability is not the supplier's credit risk)."""
    total = session.scalar(
        select(func.coalesce(func.sum(CreditNote.amount), 0))
        .join(Order, Order.id == CreditNote.order_id)
        .where(
            Order.supplier_org_id == supplier_org_id,
            CreditNote.issued_at >= since,
            CreditNote.currency == currency,
            or_(CreditNote.liable_org_id.is_(None), CreditNote.liable_org_id == supplier_org_id),
        )
    )
    return Decimal(total or 0)


def _buyer_invoices(session: Session, buyer_org_id: str) -> tuple[int, int]:
    """The buyer's invoices paid in full (its orders completed), over its whole record, and
    those whose last payment came after the due date."""
    last_paid = (
        select(func.max(Payment.paid_on)).where(Payment.order_id == Order.id).scalar_subquery()
    )
    rows = session.execute(
        select(Invoice.due_on, last_paid)
        .join(Order, Order.id == Invoice.order_id)
        .where(Order.buyer_org_id == buyer_org_id, Order.status == O.COMPLETED.value)
    ).all()
    return len(rows), sum(1 for due, paid_on in rows if paid_on is not None and paid_on > due)


def _buyer_orders(
    session: Session, supplier_org_id: str, buyer_org_id: str, *, today: date
) -> tuple[int, Decimal]:
    """The buyer's orders with this supplier in the last 30 days, and its monthly average over
    the six months before: orders made up to borrow against are between the two of them."""
    recent_from = _china_midnight(today - timedelta(days=RECENT_DAYS - 1))
    baseline_from = recent_from - timedelta(days=BASELINE_MONTHS * _MONTH_DAYS)
    pair = and_(Order.supplier_org_id == supplier_org_id, Order.buyer_org_id == buyer_org_id)
    recent, before = session.execute(
        select(
            func.count().filter(Order.created_at >= recent_from),
            func.count().filter(Order.created_at < recent_from),
        ).where(pair, Order.created_at >= baseline_from)
    ).one()
    average = (Decimal(before) / BASELINE_MONTHS).quantize(_AVERAGE, rounding=ROUND_HALF_UP)
    return recent, average
