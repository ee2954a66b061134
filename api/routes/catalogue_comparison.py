"""One-click comparison from a product (``POST /catalogue/comparisons``), buyers only.

For each product the buyer picks, at the buyer's quantity, every eligible supplier's offer side
by side: the offers buyers may see (``db.catalogue.visible_offer``) that deliver to the buyer's
province, in the buyer's currency and the product's unit. The figures (price after the break,
landed cost on the buyer's VAT basis, stock, MOQ, arrival against the needed-by date, supplier
score, weighted score, rank) are ``rules.quotes.compare``'s for the offers expressed as quotes
of the selection's RFQ (``rules.catalogue_comparison``): an RFQ comparison of the same prices
shows the same figures.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.catalogue_selection import (
    Province,
    WantedProduct,
    buyer_organisation,
    check_delivery,
    selected,
)
from api.deps import SessionDep
from api.routes.rfq_access import BuyerActor
from contracts.sourcing import (
    Currency,
    EvaluationWeights,
    InvitedSupplier,
    QuoteComparison,
    Text200,
)
from db.catalogue_selection import OfferSeen, SelectedProduct, by_product, offers_seen
from db.sourcing import current_standings
from rules.catalogue_comparison import (
    Selection,
    compare_offers,
    line_id,
    product_line,
    selection_rfq,
    usual_unit,
)
from rules.waybill_parties import china_today

router = APIRouter(prefix="/catalogue", tags=["catalogue"])

MAX_PRODUCTS = 20


class ComparisonRequest(BaseModel):
    products: list[WantedProduct] = Field(min_length=1, max_length=MAX_PRODUCTS)
    needed_by: date
    delivery_region: Province  # ISO 3166-2:CN, e.g. CN-SH
    delivery_place: Text200
    currency: Currency = "CNY"
    weights: EvaluationWeights = Field(default_factory=EvaluationWeights)


class ComparedOffer(BaseModel):
    """One offer beside the others: ``figures`` as an RFQ comparison shows a quote's (its
    ``quote_id`` is the offer's id); ``orderable``: in stock, MOQ met, ready for
    ``POST /catalogue/orders``."""

    offer_id: str
    sku: str
    supplier_org_id: str
    supplier_name: str
    revision: int
    stock: Decimal
    min_order_quantity: Decimal
    lead_time_days: int
    valid_until: date
    delivery_regions: list[str]
    orderable: bool
    figures: QuoteComparison


class ProductComparison(BaseModel):
    product_id: str
    name: str
    brand: str
    model: str
    category_id: str
    un_number: str | None
    packing_group: str | None
    temperature_profile: str | None
    line_id: str
    quantity: Decimal
    unit: str | None  # None when no offer reaches the buyer
    offers: list[ComparedOffer]  # best first
    # Visible offers delivering to the region but in another currency or unit: not comparable.
    not_compared: int


class CatalogueComparison(BaseModel):
    as_of: date
    currency: str
    deducts_input_vat: bool
    needed_by: date
    delivery_region: str
    delivery_place: str
    products: list[ProductComparison]


@router.post("/comparisons")
def compare_products(
    body: ComparisonRequest, actor: BuyerActor, session: SessionDep
) -> CatalogueComparison:
    """Every eligible offer of each product side by side, at the buyer's quantity, ranked as an
    RFQ's quotes of the same prices would be."""
    # Offers valid today in China time, as search shows them; compared on the day an RFQ's
    # comparison is made (db.comparison_store.buyer_as_of), so its arrivals are the same.
    today, as_of = china_today(), date.today()
    buyer = buyer_organisation(session, actor)
    check_delivery(body.delivery_region, body.needed_by, today=as_of)
    ids = [wanted.product_id for wanted in body.products]
    products = selected(session, ids, field="products")
    seen = by_product(
        offers_seen(session, today=today, product_ids=ids, region=body.delivery_region)
    )
    units: list[str | None] = []
    compared: list[list[OfferSeen]] = []
    for wanted in body.products:
        offers = [o for o in seen.get(wanted.product_id, []) if o.currency == body.currency]
        unit = wanted.unit or usual_unit(o.unit for o in offers)
        units.append(unit)
        compared.append([o for o in offers if o.unit == unit])
    suppliers = sorted({o.facts.supplier_org_id for offers in compared for o in offers})
    standings = current_standings(session, suppliers)
    scores = {s.org_id: s.score for s in standings.suppliers}
    names = {o.facts.supplier_org_id: o for offers in compared for o in offers}
    now = datetime.now(UTC)
    rfq = selection_rfq(
        Selection(
            rfq_id="catalogue-comparison",
            buyer=actor,
            buyer_legal_name=buyer.legal_name,
            buyer_credit_code=buyer.credit_code,
            title="Catalogue comparison",
            lines=tuple(
                product_line(place, products[w.product_id].facts, w.quantity, unit)
                for place, (w, unit) in enumerate(zip(body.products, units, strict=True))
                if unit is not None
            ),
            delivery_place=body.delivery_place,
            needed_by=body.needed_by,
            currency=body.currency,
            payment_terms="-",
            weights=body.weights,
        ),
        [
            InvitedSupplier(
                org_id=org_id,
                legal_name=names[org_id].supplier_name,
                credit_code=names[org_id].supplier_credit_code,
                score=scores[org_id],
            )
            for org_id in suppliers
        ],
        at=now,
    )
    comparison = compare_offers(
        rfq,
        [[o.facts for o in offers] for offers in compared],
        as_of=as_of,
        supplier_scores=scores,
        ineligible={s.org_id for s in standings.suppliers if not s.eligible},
        deducts_input_vat=buyer.deducts_input_vat,
    )
    ranked = {line.line_id: line.offers for line in comparison.lines}
    return CatalogueComparison(
        as_of=as_of,
        currency=body.currency,
        deducts_input_vat=buyer.deducts_input_vat,
        needed_by=body.needed_by,
        delivery_region=body.delivery_region,
        delivery_place=body.delivery_place,
        products=[
            _product(
                products[wanted.product_id],
                place,
                wanted,
                units[place],
                {o.facts.offer_id: o for o in compared[place]},
                ranked.get(line_id(place), ()),
                len(seen.get(wanted.product_id, [])) - len(compared[place]),
            )
            for place, wanted in enumerate(body.products)
        ],
    )


def _product(
    product: SelectedProduct,
    place: int,
    wanted: WantedProduct,
    unit: str | None,
    offers: dict[str, OfferSeen],
    ranked: tuple[QuoteComparison, ...],
    not_compared: int,
) -> ProductComparison:
    facts = product.facts
    return ProductComparison(
        product_id=product.product_id,
        name=facts.name,
        brand=facts.brand,
        model=facts.model,
        category_id=product.category_id,
        un_number=facts.un_number,
        packing_group=facts.packing_group,
        temperature_profile=facts.temperature_profile,
        line_id=line_id(place),
        quantity=wanted.quantity,
        unit=unit,
        offers=[_offer(offers[figures.quote_id], figures) for figures in ranked],
        not_compared=not_compared,
    )


def _offer(offer: OfferSeen, figures: QuoteComparison) -> ComparedOffer:
    facts = offer.facts
    terms = facts.terms
    return ComparedOffer(
        offer_id=facts.offer_id,
        sku=offer.sku,
        supplier_org_id=facts.supplier_org_id,
        supplier_name=offer.supplier_name,
        revision=facts.revision,
        stock=facts.stock,
        min_order_quantity=terms.min_order_quantity,
        lead_time_days=terms.lead_time_days,
        valid_until=terms.valid_until,
        delivery_regions=list(offer.delivery_regions),
        orderable=figures.eligible and figures.stock_covers,
        figures=figures,
    )
