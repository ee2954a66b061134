"""The dashboard's order figures, in SQL: value by week, on-time delivery, savings against the
RFQ's target prices, each supplier's record, and what the buyers still owe a supplier.

Every query takes the order conditions the caller may see (``api.routes.order_access
.visible_sides``; None for platform staff), narrowed further by the page (a buyer's dashboard
reads only the orders it bought), never widened. Money is summed in SQL as numeric, per currency:
amounts in different currencies are never added together. Weeks and days are China's
(``AT TIME ZONE 'Asia/Shanghai'``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Date,
    Numeric,
    Select,
    SQLColumnExpression,
    and_,
    cast,
    column,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TableValuedAlias

from contracts.fulfilment import CarrierEventKind, OrderStatus
from db.cold_chain import ColdTrip, CreditNote
from db.models import CarrierEvent, Contract, HumanTask, Invoice, Order, Organisation, Rfq
from workbench.metrics import WeekAmount

ZONE = "Asia/Shanghai"
# Orders that never stood: the supplier refused, or they were cancelled.
NOT_STANDING = (OrderStatus.REFUSED.value, OrderStatus.CANCELLED.value)
Conditions = Sequence[ColumnElement[bool]] | None
Q = TypeVar("Q", bound=Select[Any])


def china_week(moment: SQLColumnExpression[datetime]) -> ColumnElement[date]:
    """The Monday (China time) of the week a timestamptz falls in."""
    return cast(func.date_trunc("week", func.timezone(ZONE, moment)), Date)


def china_day(moment: SQLColumnExpression[datetime]) -> ColumnElement[date]:
    return cast(func.timezone(ZONE, moment), Date)


def had_excursion() -> ColumnElement[bool]:
    """Whether a cold trip's latest assessment has a run outside the range (an excursion)."""
    runs: ColumnElement[str] = literal_column("'$.runs[*] ? (@.is_excursion == true)'")
    return func.jsonb_path_exists(type_coerce(ColdTrip.figures, JSONB), runs)


def seen(query: Q, sides: Conditions) -> Q:
    """``query`` narrowed to the rows the caller may see (any of ``sides``; None: all)."""
    return query if sides is None else query.where(or_(*sides))


def orders_by_week(session: Session, sides: Conditions, start: datetime) -> list[WeekAmount]:
    """Orders placed since ``start`` that stood, by China week and currency: count and value."""
    week = china_week(Order.created_at)
    query = (
        select(week, Order.currency, func.count(), func.sum(Order.total_amount))
        .where(Order.created_at >= start, Order.status.not_in(NOT_STANDING))
        .group_by(week, Order.currency)
        .order_by(week, Order.currency)
    )
    rows = session.execute(seen(query, sides))
    return [WeekAmount(w, code, n, Decimal(total)) for w, code, n, total in rows]


@dataclass(frozen=True)
class Deliveries:
    """Shipments delivered in a group (a week, a supplier): how many, how many on time."""

    label: str
    on_time: int
    delivered: int


def _delivery_date() -> ColumnElement[date]:
    return cast(type_coerce(Contract.terms, JSONB)["delivery_date"].astext, Date)


def deliveries_by_week(session: Session, sides: Conditions, start: datetime) -> list[Deliveries]:
    """Shipments delivered since ``start`` by China week: on time means on or before the
    contract's delivery date (a China day)."""
    week = china_week(CarrierEvent.at)
    on_time = func.count().filter(china_day(CarrierEvent.at) <= _delivery_date())
    query = (
        select(week, on_time, func.count())
        .select_from(CarrierEvent)
        .join(Order, Order.id == CarrierEvent.order_id)
        .join(Contract, Contract.id == Order.contract_id)
        .where(CarrierEvent.kind == CarrierEventKind.DELIVERED.value, CarrierEvent.at >= start)
        .group_by(week)
        .order_by(week)
    )
    rows = session.execute(seen(query, sides))
    return [Deliveries(w.isoformat(), on, n) for w, on, n in rows]


@dataclass(frozen=True)
class SupplierRecord:
    """A supplier's record with the caller: deliveries, disputes and cold-chain excursions."""

    name: str
    on_time: int
    delivered: int
    disputes: int
    excursions: int


def supplier_records(session: Session, sides: Conditions, start: datetime) -> list[SupplierRecord]:
    """Each supplier of the visible orders placed since ``start``: shipments delivered and on
    time, deliveries the buyer disputed, cold trips with an excursion outside the range."""
    orders = seen(
        select(Order.id, Order.supplier_org_id).where(Order.created_at >= start), sides
    ).subquery("seen")
    delivered = (
        select(
            orders.c.supplier_org_id.label("org"),
            func.count().filter(china_day(CarrierEvent.at) <= _delivery_date()).label("on_time"),
            func.count().label("delivered"),
        )
        .join(CarrierEvent, CarrierEvent.order_id == orders.c.id)
        .join(Order, Order.id == orders.c.id)
        .join(Contract, Contract.id == Order.contract_id)
        .where(CarrierEvent.kind == CarrierEventKind.DELIVERED.value)
        .group_by(orders.c.supplier_org_id)
        .subquery("delivered")
    )
    disputes = (
        select(orders.c.supplier_org_id.label("org"), func.count().label("n"))
        .join(HumanTask, HumanTask.subject_id == orders.c.id)
        .where(HumanTask.kind == "order_acceptance", HumanTask.outcome == "dispute")
        .group_by(orders.c.supplier_org_id)
        .subquery("disputes")
    )
    excursions = (
        select(orders.c.supplier_org_id.label("org"), func.count().label("n"))
        .join(ColdTrip, ColdTrip.order_id == orders.c.id)
        .where(ColdTrip.figures.is_not(None), had_excursion())
        .group_by(orders.c.supplier_org_id)
        .subquery("excursions")
    )
    suppliers = select(orders.c.supplier_org_id.label("org")).distinct().subquery("suppliers")
    query = (
        select(
            Organisation.legal_name,
            func.coalesce(delivered.c.on_time, 0),
            func.coalesce(delivered.c.delivered, 0),
            func.coalesce(disputes.c.n, 0),
            func.coalesce(excursions.c.n, 0),
        )
        .select_from(suppliers)
        .join(Organisation, Organisation.id == suppliers.c.org)
        .outerjoin(delivered, delivered.c.org == suppliers.c.org)
        .outerjoin(disputes, disputes.c.org == suppliers.c.org)
        .outerjoin(excursions, excursions.c.org == suppliers.c.org)
        .order_by(Organisation.legal_name)
        .limit(50)
    )
    return [SupplierRecord(*row) for row in session.execute(query)]


@dataclass(frozen=True)
class Savings:
    """Awarded lines that had a target price, by week and currency: the target and the award."""

    week: date
    currency: str
    target: Decimal
    awarded: Decimal


def _lines(document: SQLColumnExpression[Any]) -> TableValuedAlias:
    """A JSON document's ``lines`` array, one row a line (its ``value`` column, JSONB)."""
    each = func.jsonb_array_elements(type_coerce(document, JSONB)["lines"])
    return each.table_valued(column("value", JSONB))


def savings_by_week(session: Session, sides: Conditions, start: datetime) -> list[Savings]:
    """For orders placed since ``start``: each contract line with a target unit price on its
    RFQ line: the target unit price times the quantity against the awarded unit price times
    the quantity, summed in numeric."""
    awarded = _lines(Contract.terms)
    asked = _lines(Rfq.body)
    quantity = cast(awarded.c.value["quantity"].astext, Numeric)
    target = func.sum(cast(asked.c.value["target_unit_price"].astext, Numeric) * quantity)
    paid = func.sum(cast(awarded.c.value["unit_price"].astext, Numeric) * quantity)
    week = china_week(Order.created_at)
    query = (
        select(week, Order.currency, target, paid)
        .select_from(Order)
        .join(Contract, Contract.id == Order.contract_id)
        .join(Rfq, Rfq.id == Contract.rfq_id)
        .join(awarded, literal_column("true"))
        .join(
            asked,
            and_(
                asked.c.value["line_id"].astext == awarded.c.value["line_id"].astext,
                asked.c.value["target_unit_price"].astext.is_not(None),
            ),
        )
        .where(Order.created_at >= start, Order.status.not_in(NOT_STANDING))
        .group_by(week, Order.currency)
        .order_by(week, Order.currency)
    )
    rows = session.execute(seen(query, sides))
    return [Savings(w, code, Decimal(t), Decimal(p)) for w, code, t, p in rows]


@dataclass(frozen=True)
class Receivable:
    """What invoices due on one day still owe, in one currency."""

    currency: str
    outstanding: Decimal
    due_on: date


def receivables(session: Session, sides: Conditions) -> list[Receivable]:
    """Invoices still owed (the invoice less the payments and the cold-chain credit notes),
    summed by currency and due date."""
    credited = (
        select(func.coalesce(func.sum(CreditNote.amount), 0))
        .where(CreditNote.order_id == Order.id)
        .scalar_subquery()
    )
    owed = Invoice.amount - Order.paid_amount - credited
    query = (
        select(Invoice.currency, func.sum(owed), Invoice.due_on)
        .join(Order, Order.id == Invoice.order_id)
        .where(Order.status.not_in((*NOT_STANDING, OrderStatus.COMPLETED.value)), owed > 0)
        .group_by(Invoice.currency, Invoice.due_on)
        .order_by(Invoice.due_on, Invoice.currency)
    )
    rows = session.execute(seen(query, sides))
    return [Receivable(code, Decimal(amount), due) for code, amount, due in rows]
