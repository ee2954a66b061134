"""Reading what a buyer selected from the catalogue: the products and the offers it may take.

Shared by the comparison, the RFQ made from a selection and the order placed from it, so the
three see the same offers: those ``db.catalogue.visible_offer`` lets buyers see today, delivering
to the buyer's region (or to the whole mainland).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.catalogue import AttributeSpec, OfferTerms
from db.catalogue import CatalogueCategory, CatalogueOffer, Product, visible_offer
from db.models import Organisation
from rules.catalogue_comparison import OfferFacts, ProductFacts
from rules.provinces import WHOLE_MAINLAND


@dataclass(frozen=True, slots=True)
class SelectedProduct:
    product_id: str
    category_id: str
    facts: ProductFacts


@dataclass(frozen=True, slots=True)
class OfferSeen:
    """A visible offer: its terms as compared (``facts``) and what the buyer reads beside."""

    product_id: str
    sku: str
    supplier_name: str
    supplier_credit_code: str
    delivery_regions: tuple[str, ...]
    facts: OfferFacts

    @property
    def unit(self) -> str:
        return self.facts.terms.unit

    @property
    def currency(self) -> str:
        return self.facts.terms.currency


def selected_products(session: Session, product_ids: Collection[str]) -> dict[str, SelectedProduct]:
    """The products by id, with their category's specifications; unknown ids are absent."""
    rows = session.execute(
        select(Product, CatalogueCategory)
        .join(CatalogueCategory, CatalogueCategory.id == Product.category_id)
        .where(Product.id.in_(list(product_ids)))
    )
    found: dict[str, SelectedProduct] = {}
    for product, category in rows:
        specs = tuple(AttributeSpec.model_validate(spec) for spec in category.attributes)
        found[product.id] = SelectedProduct(
            product_id=product.id,
            category_id=product.category_id,
            facts=ProductFacts(
                name=product.name,
                brand=product.brand,
                model=product.model,
                attributes=dict(product.attributes),
                specs=specs,
                un_number=product.un_number,
                packing_group=product.packing_group,
                temperature_profile=product.temperature_profile,
            ),
        )
    return found


def offers_seen(
    session: Session,
    *,
    today: date,
    product_ids: Collection[str] = (),
    offer_ids: Collection[str] = (),
    region: str | None,
) -> list[OfferSeen]:
    """The visible offers of ``product_ids`` (or the offers ``offer_ids``) delivering to
    ``region`` (None: anywhere), by product, lowest list price first."""
    if not product_ids and not offer_ids:
        return []
    query = (
        select(CatalogueOffer, Organisation.legal_name, Organisation.credit_code)
        .join(Organisation, Organisation.id == CatalogueOffer.supplier_org_id)
        .where(visible_offer(today))
        .order_by(CatalogueOffer.product_id, CatalogueOffer.list_price, CatalogueOffer.id)
    )
    if region is not None:
        query = query.where(CatalogueOffer.delivery_regions.overlap([region, WHOLE_MAINLAND]))
    if product_ids:
        query = query.where(CatalogueOffer.product_id.in_(list(product_ids)))
    if offer_ids:
        query = query.where(CatalogueOffer.id.in_(list(offer_ids)))
    return [_seen(row, name, code) for row, name, code in session.execute(query)]


def _seen(row: CatalogueOffer, supplier_name: str, credit_code: str) -> OfferSeen:
    return OfferSeen(
        product_id=row.product_id,
        sku=row.sku,
        supplier_name=supplier_name,
        supplier_credit_code=credit_code,
        delivery_regions=tuple(row.delivery_regions),
        facts=OfferFacts(
            offer_id=row.id,
            supplier_org_id=row.supplier_org_id,
            revision=row.revision,
            terms=OfferTerms.model_validate(row.terms),
            stock=row.stock,
        ),
    )


def by_product(offers: Sequence[OfferSeen]) -> dict[str, list[OfferSeen]]:
    grouped: dict[str, list[OfferSeen]] = {}
    for offer in offers:
        grouped.setdefault(offer.product_id, []).append(offer)
    return grouped
