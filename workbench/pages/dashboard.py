"""The dashboard: how we are doing, as charts with a headline each and the exact numbers beneath.

What a caller sees depends on their organisation: platform ops get the platform's figures
(orders and GMV, decision lead times, on-time delivery, e-waybill filing, the cold chain, the
loan book), a buyer its procurement (spend, savings against target prices, its suppliers'
record), a supplier its sales (orders, on-time rate, receivables and loans), a regulator the
filings per day. Every figure is read through the API's own access rules (``visible_sides`` for
orders, ``visible_loans`` for loans, ``timed_tasks_of`` for tasks' timings): a panel whose rule
refuses the caller (403) is simply left out, and a buyer's or supplier's panels narrow the
orders to the side it is on, so a buyer's spend is its own orders and nobody else's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import Session

from api.deps import SessionDep
from api.routes.loan_access import visible_loans
from api.routes.order_access import visible_sides
from api.routes.regulator import is_regulator
from api.routes.tasks import timed_tasks_of
from contracts.common import OPERATOR_ORG_ID, Actor, OrgKind
from db.finance import Loan, bad_debt_figures
from db.models import Order, Organisation
from rules.loan_portfolio import bad_debt_rate
from workbench import metrics_ops as ops
from workbench import metrics_orders as trade
from workbench import metrics_panels as panels
from workbench import metrics_panels_ops as ops_panels
from workbench.i18n import Lang, translator
from workbench.metrics import Panel, china_today, since, weeks_back
from workbench.pages.common import PREFIX, PageActor, lang_of, render

router = APIRouter(prefix=PREFIX, include_in_schema=False)
T = Callable[[str], str]
Sides = list[ColumnElement[bool]] | None


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, actor: PageActor, session: SessionDep) -> HTMLResponse:
    """The caller's figures: the platform's for ops, its own for a buyer or a supplier."""
    lang = lang_of(request)
    t = translator(lang)
    org = session.get(Organisation, actor.org_id)
    kind = org.kind if org is not None else ""
    now = datetime.now(UTC)
    if actor.org_id == OPERATOR_ORG_ID:
        found = _ops(session, actor, t, lang, now)
    elif kind == OrgKind.BUYER:
        found = _buyer(session, actor, t, now)
    elif kind == OrgKind.SUPPLIER:
        found = _supplier(session, actor, t, lang, now)
    elif is_regulator(session, actor):
        start = since(china_today(now) - timedelta(days=29))
        found = [ops_panels.filings_per_day(t, ops.filings_by_day(session, start))]
    else:
        found = []
    return render(request, "dashboard.html", {"panels": found})


def _allowed(rule: Callable[[Actor], Sides], actor: Actor) -> tuple[bool, Sides]:
    """The API's rule's conditions for the caller, or (False, None) where it refuses them."""
    try:
        return True, rule(actor)
    except HTTPException as refused:
        if refused.status_code == status.HTTP_403_FORBIDDEN:
            return False, None
        raise


def _narrowed(sides: Sides, own: ColumnElement[bool]) -> Sides:
    """The caller's visible rows, narrowed to the side the page is about."""
    return [own] if sides is None else [and_(or_(*sides), own)]


def _ops(session: Session, actor: Actor, t: T, lang: Lang, now: datetime) -> list[Panel]:
    weeks = weeks_back(china_today(now))
    start = since(weeks[0])
    found = [
        ops_panels.lead_times(t, lang, *ops.decision_hours(session, timed_tasks_of(actor), start))
    ]
    sees_orders, sides = _allowed(visible_sides, actor)
    if sees_orders:
        found[:0] = [
            panels.amounts("dash_gmv", t, trade.orders_by_week(session, sides, start), weeks)
        ]
        found += [
            panels.on_time(t, trade.deliveries_by_week(session, sides, start)),
            ops_panels.filings(t, *ops.filings_by_week(session, sides, start)),
            ops_panels.cold_chain(
                t, "dash_cold_route", ops.cold_records(session, sides, start, by="route")
            ),
            ops_panels.cold_chain(
                t, "dash_cold_carrier", ops.cold_records(session, sides, start, by="carrier")
            ),
        ]
    sees_loans, loans = _allowed(visible_loans, actor)
    if sees_loans:
        # The bad-debt rate is the whole book's: only for those who oversee every loan.
        rates = (
            [
                (code, bad_debt_rate(*bad_debt_figures(session, code)))
                for code in ops.loan_currencies(session, None)
            ]
            if loans is None
            else []
        )
        found.append(ops_panels.loans(t, lang, ops.loan_exposure(session, loans), rates))
    return found


def _buyer(session: Session, actor: Actor, t: T, now: datetime) -> list[Panel]:
    sees_orders, sides = _allowed(visible_sides, actor)
    if not sees_orders:
        return []
    bought = _narrowed(sides, Order.buyer_org_id == actor.org_id)
    weeks = weeks_back(china_today(now))
    start = since(weeks[0])
    return [
        panels.amounts("dash_spend", t, trade.orders_by_week(session, bought, start), weeks),
        panels.savings(t, trade.savings_by_week(session, bought, start)),
        panels.suppliers(t, trade.supplier_records(session, bought, start)),
    ]


def _supplier(session: Session, actor: Actor, t: T, lang: Lang, now: datetime) -> list[Panel]:
    today = china_today(now)
    weeks = weeks_back(today)
    start = since(weeks[0])
    found: list[Panel] = []
    sees_orders, sides = _allowed(visible_sides, actor)
    if sees_orders:
        sold = _narrowed(sides, Order.supplier_org_id == actor.org_id)
        found += [
            panels.amounts("dash_sales", t, trade.orders_by_week(session, sold, start), weeks),
            panels.on_time(t, trade.deliveries_by_week(session, sold, start)),
            panels.receivables(t, trade.receivables(session, sold), today),
        ]
    sees_loans, loans = _allowed(visible_loans, actor)
    if sees_loans:
        borrowed = _narrowed(loans, Loan.supplier_org_id == actor.org_id)
        found.append(ops_panels.loans(t, lang, ops.loan_exposure(session, borrowed), []))
    return found
