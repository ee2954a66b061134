"""A catalogue selection turned into an RFQ (``POST /catalogue/rfqs``), buyers only.

The products, their quantities and the suppliers the buyer chose become a normal RFQ to those
suppliers, opened by the same path as ``POST /rfqs`` (``api.routes.rfq_opening.open_rfq``: the
same checks, process and answer). Each line carries the product's name, its specification
written out from the category's attributes, its UN number and packing group and the temperature
range of its profile (``rules.catalogue_comparison.product_line``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Request, status
from pydantic import AwareDatetime, BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.catalogue_selection import WantedProduct, buyer_organisation, selected
from api.deps import PlatformDep
from api.errors import invalid
from api.platform import Platform
from api.routes.rfq_access import MAX_SUPPLIERS, BuyerActor
from api.routes.rfq_opening import Accepted, CreateRfq, OrgId, open_rfq
from contracts.common import Actor, Text
from contracts.sourcing import Currency, EvaluationWeights, Incoterm, RfqLine, Text200
from db.catalogue_selection import by_product, offers_seen
from rules.catalogue_comparison import product_line, titled, usual_unit
from rules.waybill_parties import china_today

router = APIRouter(prefix="/catalogue", tags=["catalogue"])

MAX_LINES = 200


class SelectionRfq(BaseModel):
    """The selection as an RFQ; the title defaults to the products' names. Each chosen
    supplier must offer at least one of the products; a line's unit defaults to the one the
    chosen suppliers' offers state most."""

    products: list[WantedProduct] = Field(min_length=1, max_length=MAX_LINES)
    supplier_ids: list[OrgId] = Field(min_length=1, max_length=MAX_SUPPLIERS)
    title: Text200 | None = None
    delivery_place: Text200
    incoterm: Incoterm = Incoterm.DAP
    needed_by: date
    quote_deadline: AwareDatetime
    currency: Currency = "CNY"
    payment_terms: Annotated[Text, Field(min_length=1, max_length=2000)]
    weights: EvaluationWeights = Field(default_factory=EvaluationWeights)
    sealed: bool = False


@router.post("/rfqs", status_code=status.HTTP_202_ACCEPTED)
async def rfq_from_selection(
    body: SelectionRfq, actor: BuyerActor, platform: PlatformDep, request: Request
) -> Accepted:
    """Open an RFQ for the selected products to the chosen suppliers, as ``POST /rfqs``
    does; answers 202 and the RFQ's URL."""
    return await open_selection_rfq(body, actor, platform, request.headers.get("idempotency-key"))


async def open_selection_rfq(
    body: SelectionRfq, actor: Actor, platform: Platform, key: str | None
) -> Accepted:
    """The selection checked and opened as an RFQ (the route, and the workbench's form)."""
    lines = await run_in_threadpool(_lines, platform, body, actor)
    rfq = CreateRfq(
        title=body.title or titled("目录询价 Catalogue RFQ", (ln.description for ln in lines)),
        lines=lines,
        delivery_place=body.delivery_place,
        incoterm=body.incoterm,
        needed_by=body.needed_by,
        quote_deadline=body.quote_deadline,
        currency=body.currency,
        payment_terms=body.payment_terms,
        weights=body.weights,
        sealed=body.sealed,
        invited_supplier_ids=body.supplier_ids,
    )
    return await open_rfq(rfq, actor, platform, key)


def _lines(platform: Platform, body: SelectionRfq, actor: Actor) -> list[RfqLine]:
    ids = [wanted.product_id for wanted in body.products]
    with platform.sessions() as session:
        buyer_organisation(session, actor)
        products = selected(session, ids, field="products")
        # Any region: the RFQ's suppliers quote their own delivery to its place.
        today = china_today()
        offers = offers_seen(session, today=today, product_ids=ids, region=None)
    chosen = set(body.supplier_ids)
    offering = {o.facts.supplier_org_id for o in offers}
    for i, supplier_id in enumerate(body.supplier_ids):
        if supplier_id not in offering:
            raise invalid(
                f"supplier_ids.{i}", f"{supplier_id} offers none of the selected products"
            )
    seen = by_product([o for o in offers if o.facts.supplier_org_id in chosen])
    lines = []
    for place, wanted in enumerate(body.products):
        unit = wanted.unit or usual_unit(o.unit for o in seen.get(wanted.product_id, []))
        if unit is None:
            raise invalid(
                f"products.{place}.unit", "no chosen supplier offers this product: name its unit"
            )
        lines.append(product_line(place, products[wanted.product_id].facts, wanted.quantity, unit))
    return lines
