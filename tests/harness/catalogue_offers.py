"""Catalogue test data: a category and suppliers' offers, written as a listing writes them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from contracts.catalogue import AttributeKind, AttributeSpec, OfferTerms, ProductListing
from contracts.catalogue_orders import CatalogueOrderInput
from contracts.sourcing import InvitedSupplier, PriceBreak
from db.catalogue import CatalogueCategory, CatalogueOffer
from db.catalogue_selection import offers_seen, selected_products
from db.catalogue_writes import Written, write_listings
from db.models import new_id
from db.session import transaction
from db.sourcing import current_standings
from rules.catalogue_comparison import Ordered, purchase
from rules.catalogue_listing import check_listing
from tests.harness.sourcing import Member

LENGTH = AttributeSpec(
    key="length", label_zh="长度", label_en="Length", kind=AttributeKind.NUMBER, unit="mm"
)


def category(sessions: sessionmaker[Session]) -> str:
    """A top-level category whose products state a length in mm; its id."""
    category_id = f"cat-{uuid.uuid4().hex[:10]}"
    with transaction(sessions) as session:
        session.add(
            CatalogueCategory(
                id=category_id,
                parent_id=None,
                path=category_id,
                name_zh="测试品类",
                name_en="Test category",
                attributes=[LENGTH.model_dump(mode="json")],
                synonyms=[],
                updated_by="usr_test",
            )
        )
    return category_id


def terms(
    breaks: Sequence[tuple[str, str]],
    *,
    stock: str = "1000",
    moq: str = "0",
    lead_time_days: int = 5,
    regions: Sequence[str] = ("CN-SH",),
    logistics: str = "0",
    tax_rate: str = "0.13",
    currency: str = "CNY",
    unit: str = "L",
    valid_for: timedelta = timedelta(days=60),
) -> OfferTerms:
    """Offer terms; ``breaks``: (min quantity, unit price) in ascending order."""
    return OfferTerms(
        currency=currency,
        unit=unit,
        price_breaks=tuple(
            PriceBreak(min_quantity=Decimal(q), unit_price=Decimal(p)) for q, p in breaks
        ),
        stock=Decimal(stock),
        min_order_quantity=Decimal(moq),
        lead_time_days=lead_time_days,
        delivery_regions=tuple(regions),
        valid_until=date.today() + valid_for,
        logistics_cost=Decimal(logistics),
        tax_rate=Decimal(tax_rate),
    )


def listing_of(
    category_id: str,
    model: str,
    *,
    offer: OfferTerms | None = None,
    name: str = "丙酮 Acetone, technical grade",
    brand: str = "Hengxin",
    un_number: str | None = None,
    packing_group: str | None = None,
    temperature_profile: str | None = None,
    sku: str | None = None,
) -> ProductListing:
    """A listing of ``brand`` ``model`` in the category (``LENGTH`` given), unchecked."""
    return ProductListing(
        sku=sku or f"SKU-{uuid.uuid4().hex[:8]}",
        category_id=category_id,
        name=name,
        brand=brand,
        model=model,
        attributes={"length": "10 cm"},
        un_number=un_number,
        packing_group=packing_group,
        temperature_profile=temperature_profile,
        offer=offer or terms([("1", "9")]),
    )


def list_offer(
    sessions: sessionmaker[Session],
    supplier_org_id: str,
    offer: OfferTerms,
    *,
    category_id: str,
    model: str,
    name: str = "丙酮 Acetone, technical grade",
    brand: str = "Hengxin",
    un_number: str | None = None,
    packing_group: str | None = None,
    temperature_profile: str | None = None,
    sku: str | None = None,
) -> Written:
    """The supplier lists ``brand`` ``model`` with ``offer``, checked as the API checks it."""
    listing = listing_of(
        category_id,
        model,
        offer=offer,
        name=name,
        brand=brand,
        un_number=un_number,
        packing_group=packing_group,
        temperature_profile=temperature_profile,
        sku=sku,
    )
    checked = check_listing(listing, (LENGTH,))
    assert not isinstance(checked, list), checked
    with transaction(sessions) as session:
        (written,) = write_listings(session, supplier_org_id, [checked], None)
    return written


def stock_of(sessions: sessionmaker[Session], offer_id: str) -> tuple[Decimal, str]:
    """An offer's stock, and as its listed terms state it."""
    with sessions() as session:
        row = session.get_one(CatalogueOffer, offer_id)
        return row.stock, str(row.terms["stock"])


def purchase_of(
    sessions: sessionmaker[Session],
    buyer: Member,
    quantities: dict[str, Decimal],
    *,
    region: str = "CN-SH",
    at: datetime,
) -> CatalogueOrderInput:
    """The purchase process's input for ``quantities`` of offers (by id) as the order route
    builds it from the offers buyers see, unchecked: a test may order more than the stock."""
    with sessions() as session:
        offers = offers_seen(session, today=at.date(), offer_ids=list(quantities), region=region)
        products = selected_products(session, {o.product_id for o in offers})
        (standing,) = current_standings(session, [offers[0].facts.supplier_org_id]).suppliers
    first = offers[0]
    return purchase(
        purchase_id=new_id("cat"),
        buyer=buyer.actor,
        buyer_legal_name=buyer.org.legal_name,
        buyer_credit_code=buyer.org.credit_code,
        supplier=InvitedSupplier(
            org_id=first.facts.supplier_org_id,
            legal_name=first.supplier_name,
            credit_code=first.supplier_credit_code,
            score=standing.score,
        ),
        ordered=[
            Ordered(products[o.product_id].facts, o.facts, o.sku, quantities[o.facts.offer_id])
            for o in offers
        ],
        delivery_place="上海市金山区化学工业区 Jinshan Chemical Park, Shanghai",
        delivery_region=region,
        needed_by=None,
        at=at,
    )
