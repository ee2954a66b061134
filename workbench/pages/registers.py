"""The registers: the index of those the caller may use, and the suppliers and carriers.

Each register lists exactly what the API's list lists for the caller: it calls the same
functions for its conditions (``api.routes.accreditation_reads.sees_every_standing``,
``api.routes.carriers.accredited_carriers``...), and a rule that refuses the caller (403) there
refuses the page too. The search box narrows that set by name, number and credit code, tolerant
of spacing, case and full-width characters (``workbench.search``); it never widens it. Each
register pages by keyset in its API list's order (``workbench.pages.paging``), a hundred rows a
page. The other registers are in ``registers_trade`` (RFQs, contracts, orders, shipments) and
``registers_live`` (e-waybills, cold chain, loans).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import ColumnElement, Select, func, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.deps import SessionDep, is_operator, require
from api.pagination import Keyset, ascending, on
from api.routes import carriers as carrier_routes
from api.routes.accreditation_reads import sees_every_standing
from api.routes.e_contracts import visible_contracts
from api.routes.loan_access import visible_loans
from api.routes.order_access import is_staff, visible_sides
from api.routes.regulator import is_regulator
from contracts.common import Actor, Line, OrgKind, Role
from db.fleet import CarrierLicence
from db.models import (
    AccreditationApplication,
    ApplicationCertificate,
    Organisation,
    SupplierAccreditation,
)
from workbench.pages.common import PREFIX, PageActor, render
from workbench.pages.paging import Cursor, Shown, page_rows
from workbench.search import matches

router = APIRouter(prefix=PREFIX, include_in_schema=False)

SHOWN = 100  # rows a register's page shows
Search = Annotated[Line, Query(max_length=100)]
GOOD = {
    "accredited",
    "executed",
    "completed",
    "delivered",
    "repaid",
    "filed",
    "decided",
    "settled",
    "accept",
}
BAD = {
    "overdue",
    "quarantine",
    "disbursement_rejected",
    "failed",
    "written_off",
    "rejected",
    "refused",
    "lapsed",
    "cancelled",
    "voided",
    "disputed",
    "suspended",
    "revoked",
    "expired",
}


def tone(status: str) -> str:
    """The badge colour a status reads in: done well green, ended badly red, else amber."""
    return "green" if status in GOOD else "red" if status in BAD else "amber"


def org_matches(
    q: str, *org_ids: InstrumentedAttribute[str] | InstrumentedAttribute[str | None]
) -> ColumnElement[bool]:
    """One of the columns names an organisation whose name, English name, credit code or id
    matches the search."""
    found = select(Organisation.id).where(
        or_(
            matches(Organisation.legal_name, q),
            matches(Organisation.name_en, q),
            matches(Organisation.credit_code, q),
            matches(Organisation.id, q),
        )
    )
    return or_(*(column.in_(found) for column in org_ids))


def org_names(session: Session, org_ids: Iterable[str | None]) -> dict[str, str]:
    """Legal names by organisation id, in one query."""
    wanted = {org_id for org_id in org_ids if org_id}
    if not wanted:
        return {}
    query = select(Organisation.id, Organisation.legal_name).where(Organisation.id.in_(wanted))
    return {org_id: name for org_id, name in session.execute(query).tuples()}


def within(
    query: Select[Any],
    sides: list[ColumnElement[bool]] | None,
    found: ColumnElement[bool] | None = None,
) -> Select[Any]:
    """The query narrowed to the rows the API's rule shows the caller (``sides``, any of them;
    None: every row) and to those the search found."""
    if sides is not None:
        query = query.where(or_(*sides))
    return query if found is None else query.where(found)


def register_page(request: Request, name: str, shown: Shown, q: str, **values: Any) -> HTMLResponse:
    """A register's page: its rows, the links to the next and first pages, the search as
    typed, and the badge tones."""
    context = {
        "rows": shown.rows,
        "next_url": shown.next_url,
        "first_url": shown.first_url,
        "q": q,
        "tone": tone,
    }
    heading = "reg_" + name.replace("-", "_")
    return render(request, f"registers/{name}.html", context | {"heading": heading} | values)


# -- the index --------------------------------------------------------------------------------


def _allowed(rule: Callable[[], object]) -> bool:
    """Whether the API's rule admits the caller (it raises 403 when it does not)."""
    try:
        rule()
    except HTTPException:
        return False
    return True


def available(session: Session, actor: Actor) -> list[str]:
    """The registers the caller may use, by the API's rules for the lists behind them."""
    rules: dict[str, Callable[[], object]] = {
        "suppliers": lambda: sees_every_standing(actor) or require(Role.SUPPLIER)(actor),
        "carriers": lambda: carrier_routes.accredited_carriers(actor),
        "rfqs": lambda: require(Role.BUYER, Role.SUPPLIER)(actor),
        "contracts": lambda: visible_contracts(actor),
        "orders": lambda: visible_sides(actor),
        "shipments": lambda: visible_sides(actor),
        "waybills": lambda: visible_sides(actor),
        "cold-chain": lambda: visible_sides(actor),
        "loans": lambda: visible_loans(actor),
    }
    names = [name for name, rule in rules.items() if _allowed(rule)]
    if is_regulator(session, actor) or is_staff(actor):
        names.append("regulator-waybills")
    return names


@router.get("/registers", response_class=HTMLResponse)
def index(request: Request, actor: PageActor, session: SessionDep) -> HTMLResponse:
    """The registers the caller may use."""
    return render(request, "registers/index.html", {"registers": available(session, actor)})


# -- suppliers and carriers -------------------------------------------------------------------


def _certificates() -> Any:
    """Per application: its certificates' count and the earliest expiry among them. LATERAL,
    so each row found counts its own certificates: a grouped subquery counted every
    application's first (110 ms a search at 100,000 suppliers, ``bench.large``)."""
    return (
        select(
            func.count().label("certificates"),
            func.min(ApplicationCertificate.expiry_date).label("first_expiry"),
        )
        .where(ApplicationCertificate.application_id == SupplierAccreditation.application_id)
        .lateral("certificates")
    )


def suppliers_query(actor: Actor, q: str) -> Select[Any]:
    """The suppliers register's rows: each supplier with its standing, application and
    certificates, those the caller may read and the search finds (``SUPPLIERS_ORDER`` pages
    them, next review first)."""
    certificates = _certificates()
    query = (
        select(
            Organisation,
            SupplierAccreditation,
            AccreditationApplication.workflow_id,
            certificates.c.certificates,
            certificates.c.first_expiry,
        )
        .join(SupplierAccreditation, SupplierAccreditation.supplier_org_id == Organisation.id)
        .join(
            AccreditationApplication,
            AccreditationApplication.id == SupplierAccreditation.application_id,
        )
        .outerjoin(certificates, true())
        .where(Organisation.kind == OrgKind.SUPPLIER.value)
    )
    # GET /accreditation/suppliers/{id}: staff and buyers read any standing, others their own.
    own = None if sees_every_standing(actor) else [Organisation.id == actor.org_id]
    return within(query, own, org_matches(q, Organisation.id) if q else None)


# The standing's supplier is the organisation, so the standings' index (migration 0036) holds
# this order: a page counts its own suppliers' certificates, not every supplier's before a sort
# (120 ms a page at 20,000 suppliers).
SUPPLIERS_ORDER = Keyset(
    "register-suppliers",
    on(
        "SupplierAccreditation",
        ascending(SupplierAccreditation.expires_on),
        ascending(SupplierAccreditation.supplier_org_id),
    ),
)


@router.get("/registers/suppliers", response_class=HTMLResponse)
def suppliers(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    q: Search = "",
    cursor: Cursor = None,
) -> HTMLResponse:
    """Suppliers with their standing, certificates and next review; soonest expiry first."""
    query = suppliers_query(actor, q)
    shown = page_rows(request, session, SUPPLIERS_ORDER, query, cursor, size=SHOWN)
    return register_page(
        request, "suppliers", shown, q, today=date.today(), staff=is_operator(actor)
    )


CARRIERS_ORDER = Keyset("register-carriers", on("CarrierLicence", *carrier_routes.BY_ORG.keys))


@router.get("/registers/carriers", response_class=HTMLResponse)
def carriers(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    q: Search = "",
    cursor: Cursor = None,
) -> HTMLResponse:
    """Accredited carriers with their licence's classes and expiry (``GET /carriers``)."""
    query = carrier_routes.accredited_carriers(actor).add_columns(
        Organisation, SupplierAccreditation
    )
    found = or_(org_matches(q, CarrierLicence.carrier_org_id), matches(CarrierLicence.number, q))
    query = within(query, None, found if q else None)
    shown = page_rows(request, session, CARRIERS_ORDER, query, cursor, size=SHOWN)
    return register_page(request, "carriers", shown, q, today=date.today())
