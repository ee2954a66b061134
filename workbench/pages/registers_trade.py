"""The trade registers: RFQs, contracts, orders and their shipments.

Each lists what the API's list lists for the caller, on the same conditions and in the same
order (``GET /rfqs``, ``/contracts``, ``/orders``): a buyer its own, a supplier its own (the RFQs
it is invited to), a carrier the orders assigned to it (without their money), platform staff
all that the API shows them. The search narrows by number and by either party's name or credit
code (``registers.org_matches``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import ColumnElement, func, or_, select

from api.deps import SessionDep, require
from api.pagination import Keyset, ascending, on
from api.routes import e_contracts, orders, rfqs
from api.routes.order_access import carries, visible_sides
from contracts.common import Role
from db.models import Contract, Order, OrderShipment, Rfq
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
from workbench.search import matches

router = APIRouter(prefix=PREFIX, include_in_schema=False)

# Each register in its API list's order, read from its row's entity; a shipment by its order's,
# then its number within the order.
RFQS_ORDER = Keyset("register-rfqs", on("Rfq", *rfqs.NEWEST_FIRST.keys))
CONTRACTS_ORDER = Keyset("register-contracts", on("Contract", *e_contracts.NEWEST_FIRST.keys))
ORDERS_ORDER = Keyset("register-orders", on("Order", *orders.NEWEST_FIRST.keys))
SHIPMENTS_ORDER = Keyset(
    "register-shipments",
    (
        *on("Order", *orders.NEWEST_FIRST.keys),
        *on("OrderShipment", ascending(OrderShipment.number)),
    ),
)


@router.get("/registers/rfqs", response_class=HTMLResponse)
def rfq_register(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    q: Search = "",
    cursor: Cursor = None,
) -> HTMLResponse:
    """The buyer's RFQs, or those the supplier is invited to; newest first."""
    require(Role.BUYER, Role.SUPPLIER)(actor)  # GET /rfqs: sourcing is theirs alone
    found = or_(matches(Rfq.id, q), matches(Rfq.title, q), org_matches(q, Rfq.buyer_org_id))
    query = within(select(Rfq), rfqs.rfq_audience(actor), found if q else None)
    shown = page_rows(request, session, RFQS_ORDER, query, cursor, size=SHOWN)
    names = org_names(session, (row.Rfq.buyer_org_id for row in shown.rows))
    return register_page(request, "rfqs", shown, q, names=names)


@router.get("/registers/contracts", response_class=HTMLResponse)
def contract_register(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    q: Search = "",
    cursor: Cursor = None,
) -> HTMLResponse:
    """The organisation's contracts as buyer or supplier (staff: all); newest first."""
    found = or_(
        matches(Contract.id, q),
        matches(Contract.rfq_id, q),
        org_matches(q, Contract.buyer_org_id, Contract.supplier_org_id),
    )
    query = within(select(Contract), e_contracts.visible_contracts(actor), found if q else None)
    shown = page_rows(request, session, CONTRACTS_ORDER, query, cursor, size=SHOWN)
    names = org_names(
        session,
        (o for r in shown.rows for o in (r.Contract.buyer_org_id, r.Contract.supplier_org_id)),
    )
    return register_page(request, "contracts", shown, q, names=names)


def order_search(q: str) -> ColumnElement[bool]:
    """The order's number, its contract's, or one of its parties or its carrier matches."""
    return or_(
        matches(Order.id, q),
        matches(Order.contract_id, q),
        org_matches(q, Order.buyer_org_id, Order.supplier_org_id, Order.carrier_org_id),
    )


@router.get("/registers/orders", response_class=HTMLResponse)
def order_register(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    q: Search = "",
    cursor: Cursor = None,
) -> HTMLResponse:
    """Orders as buyer, supplier or carrier (staff: all), with status; newest first."""
    query = within(select(Order), visible_sides(actor), order_search(q) if q else None)
    shown = page_rows(request, session, ORDERS_ORDER, query, cursor, size=SHOWN)
    names = org_names(
        session, (o for r in shown.rows for o in (r.Order.buyer_org_id, r.Order.supplier_org_id))
    )
    # The contract's value is the parties' business, not the carrier's (GET /orders).
    priced = {r.Order.id: not carries(actor, r.Order) for r in shown.rows}
    return register_page(request, "orders", shown, q, names=names, priced=priced)


@router.get("/registers/shipments", response_class=HTMLResponse)
def shipment_register(
    request: Request,
    actor: PageActor,
    session: SessionDep,
    q: Search = "",
    cursor: Cursor = None,
) -> HTMLResponse:
    """Each visible order's shipments with their status and e-waybill; newest order first."""
    query = select(OrderShipment, Order).join(Order, Order.id == OrderShipment.order_id)
    found = or_(order_search(q), matches(func.coalesce(OrderShipment.waybill_number, ""), q))
    query = within(query, visible_sides(actor), found if q else None)
    shown = page_rows(request, session, SHIPMENTS_ORDER, query, cursor, size=SHOWN)
    names = org_names(
        session, (o for r in shown.rows for o in (r.Order.buyer_org_id, r.Order.supplier_org_id))
    )
    return register_page(request, "shipments", shown, q, names=names)
