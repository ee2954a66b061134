"""Cold chain: loss rates by carrier or by route, over decided trips, for the console's charts.

Each decided trip recorded what was shipped and lost per line and the loss's value. Grouped by
carrier (none: the supplier shipped itself) or by route, a group's loss rate is the quantity
lost over the quantity shipped, summed over its trips' lines (lines of one product in one unit
are what the rate compares; across products it weighs each by its quantity), and its loss value
is summed per currency, never converted. Platform staff see every trip; anyone else the trips
of the orders they see (``api.routes.order_access.visible_sides``): a carrier its own, a buyer
or supplier those of its orders.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import or_, select

from api.deps import CurrentActor, SessionDep
from api.routes.order_access import visible_sides
from contracts.common import Money
from db.cold_chain import ColdTrip, TripStatus
from db.models import Order

router = APIRouter(prefix="/cold-chain", tags=["cold chain"])
RATE = Decimal("0.0001")


class LossRate(BaseModel):
    """A carrier's or a route's decided trips: shipped, lost, the rate, the value lost."""

    by: Literal["carrier", "route"]
    key: str | None  # the carrier's organisation (None: the supplier's own) or the route
    trips: int
    shipped: Decimal
    lost: Decimal
    loss_rate: Decimal  # lost / shipped, to 0.0001
    loss_value: list[Money]  # per currency


@dataclass
class _Group:
    trips: int = 0
    shipped: Decimal = Decimal(0)
    lost: Decimal = Decimal(0)
    value: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))


@router.get("/loss-rates")
def loss_rates(
    actor: CurrentActor,
    session: SessionDep,
    by: Annotated[Literal["carrier", "route"], Query(description="group by")] = "carrier",
) -> list[LossRate]:
    """Loss quantity, rate and value of decided trips by carrier or route, of the trips the
    caller sees (platform staff: all)."""
    key = ColdTrip.carrier_org_id if by == "carrier" else ColdTrip.route
    query = (
        select(key, ColdTrip.shipped, ColdTrip.lost, ColdTrip.loss_value, ColdTrip.currency)
        .join(Order, Order.id == ColdTrip.order_id)
        .where(ColdTrip.status == TripStatus.DECIDED)
    )
    sides = visible_sides(actor)
    if sides is not None:
        query = query.where(or_(*sides))
    groups: dict[str | None, _Group] = defaultdict(_Group)
    for group_key, shipped, lost, value, currency in session.execute(query):
        group = groups[group_key]
        group.trips += 1
        group.shipped += _total(shipped)
        group.lost += _total(lost)
        if value and currency:
            group.value[currency] += value
    return [
        LossRate(
            by=by,
            key=group_key,
            trips=g.trips,
            shipped=g.shipped,
            lost=g.lost,
            loss_rate=(g.lost / g.shipped).quantize(RATE, ROUND_HALF_UP)
            if g.shipped
            else Decimal(0),
            loss_value=[Money(amount=a, currency=c) for c, a in sorted(g.value.items())],
        )
        for group_key, g in sorted(groups.items(), key=lambda item: item[0] or "")
    ]


def _total(quantities: dict[str, object] | None) -> Decimal:
    return sum((Decimal(str(q)) for q in (quantities or {}).values()), Decimal(0))
