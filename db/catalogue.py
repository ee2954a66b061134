"""The catalogue's tables, who may see an offer, and the one way a listing is written.

The tables live on ``db.models.Base`` (``db.models`` imports this module at its end).

- ``catalogue_categories``: the tree ops maintain. A category's parent is fixed when it is
  created, so its ``path`` (the ids from the root, joined by ``/``) never changes and a subtree
  is one prefix match.
- ``products``: shared by every supplier that lists the same brand and model in a category
  (``identity``); the descriptive fields are the first lister's, and only that supplier's later
  listings change them, so a competitor cannot rename a product it also sells.
- ``catalogue_offers``: one a supplier and SKU; listing a SKU again updates the offer in place
  (``revision`` counts the changes) and may move it to another product.

Buyers see an offer only while its supplier is accredited, unexpired and unsuspended and the
offer is valid: ``visible_offer``, the single condition search, product pages and comparisons
all apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.dml import ReturningInsert
from sqlalchemy.sql.elements import ColumnElement

from contracts.accreditation import AccreditationStatus
from db.models import Base, JsonDict, SupplierAccreditation, new_id
from rules.catalogue_listing import CheckedListing, identity_key
from rules.search_text import index_fields

BATCH = 500  # rows a statement when listings are written in bulk


class CatalogueCategory(Base):
    __tablename__ = "catalogue_categories"
    __table_args__ = (
        Index("ix_catalogue_categories_path", "path", postgresql_ops={"path": "text_pattern_ops"}),
    )

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("catalogue_categories.id"))
    path: Mapped[str] = mapped_column(String(1000))
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))
    # contracts.catalogue.AttributeSpec and SynonymGroup, as JSON lists.
    attributes: Mapped[list[JsonDict]] = mapped_column(JSONB)
    synonyms: Mapped[list[list[str]]] = mapped_column(JSONB)
    updated_by: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("category_id", "identity"),
        Index("ix_products_terms", "terms", postgresql_using="gin"),
        Index(
            "ix_products_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    category_id: Mapped[str] = mapped_column(ForeignKey("catalogue_categories.id"))
    identity: Mapped[str] = mapped_column(
        String(210)
    )  # identity_key(brand) "|" identity_key(model)
    name: Mapped[str] = mapped_column(String(200))
    brand: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    attributes: Mapped[JsonDict]  # canonical values (rules.catalogue_listing), keyed by spec
    un_number: Mapped[str | None] = mapped_column(String(6))
    packing_group: Mapped[str | None] = mapped_column(String(3))
    hazard_class: Mapped[str | None] = mapped_column(String(12))
    temperature_profile: Mapped[str | None] = mapped_column(String(30))
    # rules.search_text.index_fields: the normalised text (trigram index) and exact terms (GIN).
    search_text: Mapped[str] = mapped_column(Text)
    terms: Mapped[list[str]] = mapped_column(ARRAY(Text))
    # Images and datasheets: [{"document_id", "kind", "filename", "sha256"}], in the object store.
    media: Mapped[list[JsonDict]] = mapped_column(JSONB)
    listed_by_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class CatalogueTerm(Base):
    """A term some product of the category holds (``Product.terms``): search asks here whether
    a word is known before matching it exactly or, unknown, by trigrams. Only ever added to: a
    term whose products changed their description stays, and its word is then matched exactly."""

    __tablename__ = "catalogue_terms"

    term: Mapped[str] = mapped_column(Text, primary_key=True)
    category_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_categories.id"), primary_key=True
    )


class CatalogueOffer(Base):
    __tablename__ = "catalogue_offers"
    __table_args__ = (
        UniqueConstraint("supplier_org_id", "sku"),
        # Covering what search asks of an offer, so it reads no table (migration 0023).
        Index(
            "ix_catalogue_offers_product_price",
            "product_id",
            "list_price",
            postgresql_include=[
                "currency",
                "valid_until",
                "supplier_org_id",
                "lead_time_days",
                "min_order_quantity",
                "stock",
                "delivery_regions",
            ],
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    supplier_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    sku: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    unit: Mapped[str] = mapped_column(String(20))
    list_price: Mapped[Decimal] = mapped_column(Numeric(22, 4))  # the first price break's
    terms: Mapped[JsonDict]  # contracts.catalogue.OfferTerms as JSON
    stock: Mapped[Decimal] = mapped_column(Numeric(15, 3))
    min_order_quantity: Mapped[Decimal] = mapped_column(Numeric(15, 3))
    lead_time_days: Mapped[int] = mapped_column(Integer)
    delivery_regions: Mapped[list[str]] = mapped_column(ARRAY(String(5)))
    valid_until: Mapped[date] = mapped_column(Date)
    import_id: Mapped[str | None] = mapped_column(String(40))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


def visible_offer(today: date) -> ColumnElement[bool]:
    """An offer buyers may see: valid today, from a supplier accredited, unexpired and not
    suspended (a suspension sets the standing's status, so one comparison covers both). The
    standing is asked as a set (a few thousand suppliers at most), which PostgreSQL hashes once,
    rather than row by row: a broad search meets 160,000 offers."""
    standing = select(SupplierAccreditation.supplier_org_id).where(
        SupplierAccreditation.status == AccreditationStatus.ACCREDITED,
        SupplierAccreditation.expires_on > today,
    )
    return and_(CatalogueOffer.valid_until >= today, CatalogueOffer.supplier_org_id.in_(standing))


@dataclass(frozen=True, slots=True)
class Written:
    """What writing one listing did: its product and offer, and whether the offer is new."""

    sku: str
    product_id: str
    offer_id: str
    created: bool


def write_listings(
    session: Session,
    supplier_org_id: str,
    listings: Sequence[CheckedListing],
    import_id: str | None,
) -> list[Written]:
    """Write checked listings (one SKU at most once in ``listings``): products matched or made,
    offers inserted or updated in place. Statements of ``BATCH`` rows, for bulk imports."""
    written: list[Written] = []
    for start in range(0, len(listings), BATCH):
        chunk = listings[start : start + BATCH]
        products = _products(session, supplier_org_id, chunk)
        written.extend(_offers(session, supplier_org_id, chunk, products, import_id))
    return written


def _identity(checked: CheckedListing) -> tuple[str, str]:
    listing = checked.listing
    return listing.category_id, f"{identity_key(listing.brand)}|{identity_key(listing.model)}"


def _products(
    session: Session, supplier_org_id: str, chunk: Sequence[CheckedListing]
) -> dict[tuple[str, str], str]:
    rows: dict[tuple[str, str], dict[str, object]] = {}
    vocabulary: set[tuple[str, str]] = set()
    for checked in chunk:  # the last listing of a product in the chunk describes it
        listing = checked.listing
        search_text, terms = index_fields(
            listing.name, listing.brand, listing.model, checked.attributes, units=checked.units
        )
        category_id, identity = _identity(checked)
        vocabulary.update((term, category_id) for term in terms)
        rows[(category_id, identity)] = {
            "id": new_id("prd"),
            "category_id": category_id,
            "identity": identity,
            "name": listing.name,
            "brand": listing.brand,
            "model": listing.model,
            "attributes": checked.attributes,
            "un_number": listing.un_number,
            "packing_group": listing.packing_group,
            "hazard_class": checked.hazard_class,
            "temperature_profile": listing.temperature_profile,
            "search_text": search_text,
            "terms": terms,
            "media": [],
            "listed_by_org_id": supplier_org_id,
        }
    session.execute(_PRODUCT_UPSERT, list(rows.values())).all()
    # Most of a chunk's terms are known already: asked first, only the new ones are written.
    known = session.execute(
        select(CatalogueTerm.term, CatalogueTerm.category_id).where(
            CatalogueTerm.term.in_(sorted({term for term, _ in vocabulary}))
        )
    )
    new = vocabulary - {(term, category) for term, category in known}
    if new:
        held = [{"term": term, "category_id": category} for term, category in sorted(new)]
        session.execute(_TERM_INSERT, held).all()
    # Identities are unique within a category: ask by identity, keep the chunk's categories.
    found = session.execute(
        select(Product.category_id, Product.identity, Product.id).where(
            Product.identity.in_(sorted({identity for _, identity in rows}))
        )
    )
    return {
        (category, identity): product_id
        for category, identity, product_id in found
        if (category, identity) in rows
    }


def _offers(
    session: Session,
    supplier_org_id: str,
    chunk: Sequence[CheckedListing],
    products: dict[tuple[str, str], str],
    import_id: str | None,
) -> list[Written]:
    rows = []
    for checked in chunk:
        offer = checked.listing.offer
        rows.append(
            {
                "id": new_id("ofr"),
                "product_id": products[_identity(checked)],
                "supplier_org_id": supplier_org_id,
                "sku": checked.listing.sku,
                "currency": offer.currency,
                "unit": offer.unit,
                "list_price": offer.list_price,
                "terms": offer.model_dump(mode="json"),
                "stock": offer.stock,
                "min_order_quantity": offer.min_order_quantity,
                "lead_time_days": offer.lead_time_days,
                "delivery_regions": list(offer.delivery_regions),
                "valid_until": offer.valid_until,
                "import_id": import_id,
            }
        )
    return [
        Written(sku, product, offer, bool(new))
        for sku, product, offer, new in session.execute(_OFFER_UPSERT, rows)
    ]


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _product_upsert() -> ReturningInsert[Any]:
    values = insert(_table(Product))
    described = (
        "name",
        "brand",
        "model",
        "attributes",
        "un_number",
        "packing_group",
        "hazard_class",
        "temperature_profile",
        "search_text",
        "terms",
    )
    products = _table(Product).c
    upsert = values.on_conflict_do_update(
        index_elements=["category_id", "identity"],
        set_={name: values.excluded[name] for name in described} | {"updated_at": func.now()},
        # Only the product's first lister describes it; the others' offers just attach.
        where=products.listed_by_org_id == values.excluded.listed_by_org_id,
    )
    return upsert.returning(products.id)


def _offer_upsert() -> ReturningInsert[Any]:
    values = insert(_table(CatalogueOffer))
    kept = ("id", "supplier_org_id", "sku", "created_at", "revision")
    table = CatalogueOffer.__table__.c
    upsert = values.on_conflict_do_update(
        index_elements=["supplier_org_id", "sku"],
        set_={
            column.name: values.excluded[column.name]
            for column in CatalogueOffer.__table__.columns
            if column.name not in kept
        }
        | {"revision": table.revision + 1, "updated_at": func.now()},
    )
    return upsert.returning(
        table.sku,
        table.product_id,
        table.id,
        # xmax is 0 on a freshly inserted row version: PostgreSQL's way to tell an upsert's
        # insert from its update.
        literal_column("(xmax = 0)", Boolean),
    )


# Built once and executed with a chunk's rows as parameter sets: SQLAlchemy compiles each
# once (its cache) and sends them as multi-row VALUES (insertmanyvalues). A statement built
# from a chunk's 500 rows was compiled anew for every chunk: 40% of an import's time. Each has
# RETURNING because only then does SQLAlchemy batch an upsert into multi-row VALUES; without,
# psycopg2's executemany sent one statement a row.
_PRODUCT_UPSERT = _product_upsert()
_TERM_INSERT = (
    insert(_table(CatalogueTerm)).on_conflict_do_nothing().returning(_table(CatalogueTerm).c.term)
)
_OFFER_UPSERT = _offer_upsert()
