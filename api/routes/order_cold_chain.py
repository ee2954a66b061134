"""An order's view of its cold chain: each cold shipment's trip as the order shows it, and the
credit notes its claims took off what the buyer owes.

Read from ``db.cold_chain`` in one query an order (its trips, their credit notes and how many
loggers each carried), never one a shipment; the list sums its page's credit notes in one more.
Money follows the order's rule (``api.routes.order_access.carries``): the order's carrier sees
no amounts, and a claim and its credit note only when it is the party liable for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.routes.cold_chain_losses import RATE
from api.routes.cold_chain_reads import sees_claim, stored_quantities
from api.routes.order_access import carries
from contracts.common import Actor, Money
from db.cold_chain import ColdTrip, CreditNote, LoggerAssignment
from db.models import Order

NOTHING = Decimal("0.00")  # credited without a credit note, in cents as the amounts are kept


class ShipmentColdChain(BaseModel):
    """A cold shipment's trip: its status, its zones' labels, how many loggers it carried, and
    once decided the disposition, the quantities lost (line id to quantity) and the loss rate
    (lost over shipped, to 0.0001), the temperature report and any claim with its credit note.
    The full trip is at ``/orders/{order_id}/shipments/{shipment}/temperature``."""

    trip_id: str
    status: str
    zones: list[str]
    loggers: int
    disposition: str | None
    lost: dict[str, Decimal] | None
    loss_rate: Decimal | None
    report_document_id: str | None
    claim: Money | None
    credit_note_id: str | None


class OrderColdChain(BaseModel):
    """The order's cold shipments by number, and its credit notes' sum (None for a carrier)."""

    shipments: dict[int, ShipmentColdChain]
    credited: Decimal | None


def order_cold_chain(session: Session, actor: Actor, order: Order) -> OrderColdChain:
    """The order's trips and credit notes as the caller may see them, in one query."""
    loggers = (
        select(func.count())
        .where(LoggerAssignment.trip_id == ColdTrip.id)
        .correlate(ColdTrip)
        .scalar_subquery()
    )
    rows = session.execute(
        select(ColdTrip, loggers, CreditNote.amount, CreditNote.currency)
        .outerjoin(CreditNote, CreditNote.trip_id == ColdTrip.id)
        .where(ColdTrip.order_id == order.id)
    )
    shipments: dict[int, ShipmentColdChain] = {}
    credited = NOTHING
    for trip, logged, amount, currency in rows:
        credited += amount or 0
        priced = sees_claim(actor, order, trip)
        lost = stored_quantities(trip.lost)
        shipments[trip.shipment] = ShipmentColdChain(
            trip_id=trip.id,
            status=trip.status,
            zones=[zone["label"] for zone in trip.plan.get("zones", [])],
            loggers=logged,
            disposition=trip.disposition,
            lost=lost,
            loss_rate=_rate(lost, stored_quantities(trip.shipped)),
            report_document_id=trip.report_document_id,
            claim=Money(amount=amount, currency=currency) if priced and amount else None,
            credit_note_id=trip.credit_note_id if priced else None,
        )
    return OrderColdChain(shipments=shipments, credited=None if carries(actor, order) else credited)


def credited_by_order(session: Session, order_ids: Sequence[str]) -> dict[str, Decimal]:
    """Each order's credit notes' sum (orders without one are left out), in one query."""
    if not order_ids:
        return {}
    rows = session.execute(
        select(CreditNote.order_id, func.sum(CreditNote.amount))
        .where(CreditNote.order_id.in_(order_ids))
        .group_by(CreditNote.order_id)
    )
    return {order_id: total for order_id, total in rows}


def _rate(lost: dict[str, Decimal] | None, shipped: dict[str, Decimal] | None) -> Decimal | None:
    """Lost over shipped, summed over the lines; None until the trip is decided."""
    if lost is None or not shipped:
        return None
    total = sum(shipped.values(), Decimal(0))
    if not total:
        return None
    return (sum(lost.values(), Decimal(0)) / total).quantize(RATE, ROUND_HALF_UP)
