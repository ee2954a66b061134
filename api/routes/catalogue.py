"""Listing products and offers, one at a time; reading products and one's own offers.

- ``PUT /catalogue/listings/{sku}``: a supplier lists a product with its offer. The SKU is the
  supplier's own: listing it again updates the offer in place (bulk imports write the same way,
  ``db.catalogue_writes.write_listings``). Every problem is answered at once, each naming its field.
- ``GET /catalogue/offers`` and ``/catalogue/offers/{sku}``: the supplier's own offers only;
  ``DELETE`` withdraws one. Another supplier's SKU answers 404 like a missing one.
- ``GET /catalogue/products/{id}``: a product as buyers see it, with how many offers they can
  see and the lowest list price among them (``db.catalogue.visible_offer``).
- ``POST /catalogue/products/{id}/media``: images and datasheets, by the product's first lister
  (who describes it), stored like every upload; any signed-in user may read them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, HTTPException, Response, UploadFile, status
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentActor, PlatformDep, SessionDep, SupplierActor, not_found
from api.errors import invalid
from api.pagination import NEXT_PAGE_HEADERS, Keyset, Page, ascending, paged
from api.params import IdPath
from api.routes.catalogue_categories import category_specs
from api.uploads import check_upload, store_uploads
from contracts.catalogue import OfferTerms, ProductListing
from contracts.common import Actor, Money
from db.catalogue import CatalogueCategory, CatalogueOffer, Product, visible_offer
from db.catalogue_writes import write_listings
from db.session import transaction
from rules.catalogue_listing import CheckedListing, check_listing
from rules.waybill_parties import china_today

router = APIRouter(prefix="/catalogue", tags=["catalogue"])
BY_SKU = Keyset("offers", (ascending(CatalogueOffer.sku),))
MAX_MEDIA = 12
MAX_MEDIA_BYTES = 10 * 1024 * 1024
UNSUPPORTED = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE


class ListingView(BaseModel):
    sku: str
    product_id: str
    offer_id: str
    revision: int
    offer: OfferTerms
    updated_at: datetime


class MediaView(BaseModel):
    document_id: str
    kind: str
    filename: str
    sha256: str


class ProductView(BaseModel):
    product_id: str
    category_id: str
    name: str
    brand: str
    model: str
    attributes: dict[str, str]
    un_number: str | None
    packing_group: str | None
    hazard_class: str | None
    temperature_profile: str | None
    media: list[MediaView]
    visible_offers: int
    lowest_list_price: Money | None  # None with no visible offer, or offers in several currencies


def checked(session: Session, listing: ProductListing) -> CheckedListing:
    """The listing checked against its category; 422 naming every field that fails."""
    category = session.get(CatalogueCategory, listing.category_id)
    if category is None:
        raise invalid("category_id", f"no category {listing.category_id}")
    result = check_listing(listing, category_specs(category), today=china_today())
    if isinstance(result, list):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=[{"field": p.field, "rule": p.rule} for p in result],
        )
    return result


@router.put("/listings/{sku:path}")  # a SKU may hold "/" (contracts.catalogue.Sku)
def put_listing(
    sku: IdPath,
    body: ProductListing,
    actor: SupplierActor,
    platform: PlatformDep,
    response: Response,
) -> ListingView:
    """List a product with an offer under the supplier's SKU: 201 new, 200 updated."""
    if body.sku != sku:
        raise invalid("sku", "must be the SKU in the path")
    with transaction(platform.sessions) as session:
        (written,) = write_listings(session, actor.org_id, [checked(session, body)], None)
        row = session.get(CatalogueOffer, written.offer_id)
        assert row is not None  # written just now, in this transaction
        session.refresh(row)
        view = _listing_view(row)
    if written.created:
        response.status_code = status.HTTP_201_CREATED
    response.headers["Location"] = f"/catalogue/offers/{sku}"
    return view


@router.get("/offers", responses=NEXT_PAGE_HEADERS)
def list_own_offers(
    actor: SupplierActor, session: SessionDep, page: Annotated[Page, paged(BY_SKU)]
) -> list[ListingView]:
    """The caller's organisation's offers by SKU, a page at a time."""
    query = select(CatalogueOffer).where(CatalogueOffer.supplier_org_id == actor.org_id)
    return [_listing_view(row) for row in page.rows(session, query)]


@router.get("/offers/{sku:path}")
def get_own_offer(sku: IdPath, actor: SupplierActor, session: SessionDep) -> ListingView:
    return _listing_view(_own_offer(session, actor, sku))


@router.delete("/offers/{sku:path}", status_code=status.HTTP_204_NO_CONTENT)
def withdraw_offer(sku: IdPath, actor: SupplierActor, platform: PlatformDep) -> None:
    """Withdraw an offer: buyers no longer see it; orders placed from it keep their terms."""
    with transaction(platform.sessions) as session:
        session.delete(_own_offer(session, actor, sku))


def _own_offer(session: Session, actor: Actor, sku: str) -> CatalogueOffer:
    row = session.scalar(
        select(CatalogueOffer).where(
            CatalogueOffer.supplier_org_id == actor.org_id, CatalogueOffer.sku == sku
        )
    )
    if row is None:
        raise not_found("offer")
    return row


def _listing_view(row: CatalogueOffer) -> ListingView:
    return ListingView(
        sku=row.sku,
        product_id=row.product_id,
        offer_id=row.id,
        revision=row.revision,
        offer=OfferTerms.model_validate(row.terms),
        updated_at=row.updated_at,
    )


@router.get("/products/{product_id}")
def get_product(product_id: IdPath, _: CurrentActor, session: SessionDep) -> ProductView:
    row = session.get(Product, product_id)
    if row is None:
        raise not_found("product")
    return _product_view(session, row)


@router.post("/products/{product_id}/media", status_code=status.HTTP_201_CREATED)
async def add_media(
    product_id: IdPath,
    actor: SupplierActor,
    platform: PlatformDep,
    file: Annotated[UploadFile, File()],
    kind: Annotated[Literal["image", "datasheet"], Form()],
) -> ProductView:
    """Add an image (PNG, JPEG) or a datasheet (PDF) to a product the caller describes."""
    upload = await check_upload(file, field="file", max_bytes=MAX_MEDIA_BYTES)
    if kind == "image" and upload.content_type == "application/pdf":
        raise invalid(
            "file", "an image must be PNG or JPEG", code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
        )
    if kind == "datasheet" and upload.content_type != "application/pdf":
        raise invalid(
            "file", "a datasheet must be a PDF", code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
        )

    def store() -> ProductView:
        with transaction(platform.sessions) as session:
            row = session.get(Product, product_id, with_for_update=True)
            if row is None:
                raise not_found("product")
            if row.listed_by_org_id != actor.org_id:
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN, detail="only the product's first lister describes it"
                )
            if len(row.media) >= MAX_MEDIA:
                raise invalid("file", f"a product has at most {MAX_MEDIA} images and datasheets")
            ref = store_uploads(
                session, platform.store, [upload], actor=actor, kind="catalogue_media"
            )["file"]
            entry = MediaView(
                document_id=ref.document_id, kind=kind, filename=ref.filename, sha256=ref.sha256
            )
            row.media = [*row.media, entry.model_dump()]
            session.flush()
            return _product_view(session, row)

    return await run_in_threadpool(store)


def _product_view(session: Session, row: Product) -> ProductView:
    count, first_currency, last_currency, lowest = session.execute(
        select(
            func.count(),
            func.min(CatalogueOffer.currency),
            func.max(CatalogueOffer.currency),
            func.min(CatalogueOffer.list_price),
        ).where(
            CatalogueOffer.product_id == row.id,
            visible_offer(china_today()),
        )
    ).one()
    price = None
    if count and first_currency == last_currency:
        price = Money(amount=Decimal(lowest), currency=first_currency)
    return ProductView(
        product_id=row.id,
        category_id=row.category_id,
        name=row.name,
        brand=row.brand,
        model=row.model,
        attributes=row.attributes,
        un_number=row.un_number,
        packing_group=row.packing_group,
        hazard_class=row.hazard_class,
        temperature_profile=row.temperature_profile,
        media=[MediaView.model_validate(entry) for entry in row.media],
        visible_offers=count,
        lowest_list_price=price,
    )
