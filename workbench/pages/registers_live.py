"""The registers of goods under way and money lent: filed e-waybills, cold-chain shipments live,
and loans with the overdue ones.

E-waybills and cold-chain trips belong to orders: the caller sees those of the orders it sees
(``api.routes.order_access.visible_sides``, as ``GET /orders`` and the trip's reads ask). The
regulator's own window on every filed e-waybill is ``workbench.pages.regulator``. Loans are
listed as ``GET /loans`` lists them (``api.routes.loan_access``), the buyer without what they
owe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import ColumnElement, DateTime, Select, func, literal, or_, select, true
from sqlalchemy.orm import Session, aliased

from api.deps import SessionDep
from api.pagination import Keyset, ascending, descending, on
from api.routes import loan_access, loans
from api.routes.order_access import is_staff, visible_sides
from api.routes.regulator import LATEST_FILED_FIRST
from contracts.cold_chain import Assessment
from contracts.finance import LoanStatus
from db.cold_chain import ColdTrip, LoggerAssignment, TemperatureReading
from db.finance import Loan
from db.models import NEVER_DUE, Order, Waybill
from rules.loan_portfolio import days_overdue
from rules.waybill_parties import china_today
from workbench.pages.common import PREFIX, PageActor
from workbench.pages.paging import Cursor, page_rows
from workbench.pages.registers import (
    SHOWN,
    Search,
    org_matches,
    org_names,
    register_page,
    within,
)
from workbench.pages.registers_trade import order_search
from workbench.search import contains_folded, matches

router = APIRouter(prefix=PREFIX, include_in_schema=False)

# A logger not yet released (its trip not decided) takes readings up to now.
UNENDED = literal("infinity", DateTime(timezone=True))

WAYBILLS_ORDER = Keyset("register-waybills", on("Waybill", *LATEST_FILED_FIRST.keys))
LOANS_ORDER = Keyset("register-loans", on("Loan", *loans.NEWEST_FIRST.keys))
# Latest pickup first, trips not picked up yet before them all (sorted as the far future).
COLD_TRIPS_ORDER = Keyset(
    "register-cold-chain",
    on(
        "ColdTrip",
        descending(ColdTrip.started_at, nulls_as=NEVER_DUE),
        ascending(ColdTrip.id),
    ),
)


def waybill_matches(q: str) -> ColumnElement[bool]:
    """A filed e-waybill's number, receipt, consignor, consignee, carrier, plate or UN number
    matches the search."""
    return or_(
        matches(Waybill.waybill_number, q),
        matches(Waybill.receipt_number, q),
        matches(Waybill.consignor_name, q),
        matches(Waybill.consignee_name, q),
        contains_folded(Waybill.carrier_folded, q),
        matches(Waybill.vehicle_plate, q),
        matches(func.array_to_string(Waybill.un_numbers, " "), q),
    )


@router.get("/registers/waybills", response_class=HTMLResponse)
def waybill_register(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    q: Search = "",
    cursor: Cursor = None,
) -> HTMLResponse:
    """The filed e-waybills of the orders the caller sees; latest filed first."""
    query = select(Waybill, Order.workflow_id).join(Order, Order.id == Waybill.order_id)
    query = within(query, visible_sides(actor), waybill_matches(q) if q else None)
    shown = page_rows(request, session, WAYBILLS_ORDER, query, cursor, size=SHOWN)
    return register_page(request, "waybills", shown, q, readable=is_staff(actor))


def last_readings_query(trip_ids: Sequence[str]) -> Select[tuple[TemperatureReading]]:
    """For each logger on one of the trips, its last reading of the trip: read backwards along
    the readings' key from the logger's release (its trip's decision, after every reading the
    trip took; a trip not decided yet, from the end). A logger is on one trip until released,
    so the trip's last reading is met at once; a logger that has sent nothing for the trip yet
    walks back through its earlier trips' readings (the statement before read every reading of
    every logger on the page, and sorted them: 480-600 ms for 100 trips of a million
    readings, ``bench.large``'s fifth)."""
    on_trip = (
        select(LoggerAssignment.trip_id, LoggerAssignment.logger_id)
        .add_columns(func.coalesce(LoggerAssignment.released_at, UNENDED).label("ends"))
        .join(ColdTrip, ColdTrip.id == LoggerAssignment.trip_id)
        .where(LoggerAssignment.trip_id.in_(trip_ids), ColdTrip.started_at.is_not(None))
        .subquery("on_trip")
    )
    # No lower bound at the assignment: bounded both ways, the planner took a trip's readings
    # for a few dozen and sorted them all (5,000 a trip: 2.1 s a page) rather than walk back.
    last = (
        select(TemperatureReading)
        .where(
            TemperatureReading.logger_id == on_trip.c.logger_id,
            TemperatureReading.at <= on_trip.c.ends,
            TemperatureReading.trip_id == on_trip.c.trip_id,
        )
        .order_by(TemperatureReading.at.desc())
        .limit(1)
        .lateral("last")
    )
    return select(aliased(TemperatureReading, last)).select_from(on_trip).join(last, true())


def last_readings(session: Session, trip_ids: Sequence[str]) -> dict[str, TemperatureReading]:
    """Each trip's latest reading from any of its loggers (of two at once, the greater logger
    id's)."""
    latest: dict[str, TemperatureReading] = {}
    if not trip_ids:
        return latest
    for found in session.scalars(last_readings_query(trip_ids)):
        kept = latest.get(found.trip_id)
        if kept is None or (found.at, found.logger_id) > (kept.at, kept.logger_id):
            latest[found.trip_id] = found
    return latest


@router.get("/registers/cold-chain", response_class=HTMLResponse)
def cold_chain_register(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    q: Search = "",
    cursor: Cursor = None,
) -> HTMLResponse:
    """Cold shipments: status, the latest reading, excursions and the verdict; latest first."""
    query = select(ColdTrip, Order).join(Order, Order.id == ColdTrip.order_id)
    found = or_(order_search(q), matches(ColdTrip.id, q), matches(ColdTrip.route, q))
    query = within(query, visible_sides(actor), found if q else None)
    shown = page_rows(request, session, COLD_TRIPS_ORDER, query, cursor, size=SHOWN)
    figures = {
        r.ColdTrip.id: Assessment.model_validate(r.ColdTrip.figures)
        for r in shown.rows
        if r.ColdTrip.figures
    }
    names = org_names(session, (r.Order.carrier_org_id for r in shown.rows))
    return register_page(
        request,
        "cold-chain",
        shown,
        q,
        figures=figures,
        last=last_readings(session, [r.ColdTrip.id for r in shown.rows]),
        names=names,
    )


@router.get("/registers/loans", response_class=HTMLResponse)
def loan_register(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    q: Search = "",
    overdue: Annotated[bool, Query()] = False,
    cursor: Cursor = None,
) -> HTMLResponse:
    """Loans as ``GET /loans`` lists them, the overdue ones marked (or alone); newest first."""
    found = or_(
        matches(Loan.id, q),
        matches(Loan.order_id, q),
        org_matches(q, Loan.supplier_org_id, Loan.buyer_org_id),
    )
    query = within(select(Loan), loan_access.visible_loans(actor), found if q else None)
    if overdue:
        query = query.where(Loan.status == LoanStatus.OVERDUE.value)
    shown = page_rows(request, session, LOANS_ORDER, query, cursor, size=SHOWN)
    today = china_today()
    views = [
        (
            row.Loan,
            loan_access.loan_summary(row.Loan, priced=loan_access.sees_pricing(actor, row.Loan)),
            days_overdue(row.Loan.due_on, today) if row.Loan.due_on is not None else 0,
        )
        for row in shown.rows
    ]
    names = org_names(
        session, (o for r in shown.rows for o in (r.Loan.supplier_org_id, r.Loan.buyer_org_id))
    )
    return register_page(
        request, "loans", replace(shown, rows=views), q, names=names, overdue_only=overdue
    )
