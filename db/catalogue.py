"""The catalogue's tables and the one rule for who may see an offer. Listings are written by
``db.catalogue_writes``.

The tables live on ``db.models.Base`` (``db.models`` imports this module at its end).

- ``catalogue_categories``: the tree ops maintain. A category's parent is fixed when it is
  created, so its ``path`` (the ids from the root, joined by ``/``) never changes and a subtree
  is one prefix match.
- ``products``: shared by every supplier that lists the same brand and model in a category
  with the same dangerous-goods identity and temperature profile (``identity``:
  ``rules.catalogue_listing.product_identity``); the descriptive fields are the first lister's,
  and only that supplier's later listings change them, so a competitor cannot rename a product
  it also sells, nor change what its orders carry (a listing declaring another UN number or
  profile is another product).
- ``catalogue_offers``: one a supplier and SKU; listing a SKU again updates the offer in place
  (``revision`` counts the changes) and may move it to another product.

Buyers see an offer only while its supplier is accredited, unexpired and unsuspended and the
offer is valid: ``visible_offer``, the single condition search, product pages and comparisons
all apply.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    and_,
    func,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from contracts.accreditation import AccreditationStatus
from db.catalogue_filters import Day
from db.models import Base, JsonDict, SupplierAccreditation


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
        # The fixed sample broad searches count their facets on (db.catalogue_search.sampled).
        Index(
            "ix_products_terms_sample",
            "terms",
            postgresql_using="gin",
            postgresql_where=text("(hashtext(id) & 63) = 0"),
        ),
        Index(
            "ix_products_category_sample",
            "category_id",
            postgresql_where=text("(hashtext(id) & 63) = 0"),
        ),
        # A broad search's page by relevance, among texts short enough (db.catalogue_broad).
        Index("ix_products_text_length", func.length(text("search_text"))),
        # A brand filter's products where the brand has no terms of ASCII to ask of the terms
        # index (db.catalogue_filters.described), and a walk's check of a product's brand.
        Index("ix_products_brand_lower", func.lower(text("brand"))),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    category_id: Mapped[str] = mapped_column(ForeignKey("catalogue_categories.id"))
    identity: Mapped[str] = mapped_column(String(260))  # product_identity(...)
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
    __table_args__ = (
        # A misspelt word's nearest known terms (db.catalogue_vocabulary.neighbours, 0029).
        Index(
            "ix_catalogue_terms_trigrams",
            "term",
            postgresql_using="gin",
            postgresql_ops={"term": "gin_trgm_ops"},
        ),
    )

    term: Mapped[str] = mapped_column(Text, primary_key=True)
    category_id: Mapped[str] = mapped_column(
        ForeignKey("catalogue_categories.id"), primary_key=True
    )


class CatalogueOffer(Base):
    __tablename__ = "catalogue_offers"
    __table_args__ = (
        UniqueConstraint("supplier_org_id", "sku"),
        # Covering what search asks of an offer, so it reads no table (migrations 0023, 0031).
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
                "break_quantities",
                "break_prices",
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
    # The price breaks' quantities and prices, ascending by quantity, computed by PostgreSQL
    # from the terms (migration 0031): a price at a quantity read from the covering index.
    # None only for terms without breaks, which no listing passes.
    break_quantities: Mapped[list[Decimal] | None] = mapped_column(
        ARRAY(Numeric()),
        Computed("catalogue_break_quantities(terms -> 'price_breaks')", persisted=True),
    )
    break_prices: Mapped[list[Decimal] | None] = mapped_column(
        ARRAY(Numeric()),
        Computed("catalogue_break_prices(terms -> 'price_breaks')", persisted=True),
    )
    stock: Mapped[Decimal] = mapped_column(Numeric(15, 3))
    min_order_quantity: Mapped[Decimal] = mapped_column(Numeric(15, 3))
    lead_time_days: Mapped[int] = mapped_column(Integer)
    delivery_regions: Mapped[list[str]] = mapped_column(ARRAY(String(5)))
    valid_until: Mapped[date] = mapped_column(Date)
    import_id: Mapped[str | None] = mapped_column(String(40))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


# The quantities below which a product's summed floors hold (``CatalogueProductPrice``), by
# column; None: any quantity. A price at a quantity is never below the floor of the least step
# above it, the bound a page at a quantity is walked by (``db.catalogue_walk``).
FLOORS: dict[str, Decimal | None] = {
    "floor_10": Decimal(10),
    "floor_100": Decimal(100),
    "floor_1000": Decimal(1000),
    "floor_any": None,
}


class CatalogueProductPrice(Base):
    """What a product's visible offers in one currency come to (migration 0025), as of the
    refresher's last sum (``db.catalogue_prices``); it holds until ``fresh_until``."""

    __tablename__ = "catalogue_product_prices"
    __table_args__ = (
        Index("ix_catalogue_product_prices_fresh", "fresh_until"),
        # A broad search's page walked in its order (db.catalogue_broad).
        Index("ix_catalogue_product_prices_price", "currency", "price", "product_id"),
        Index(
            "ix_catalogue_product_prices_lead_time",
            "currency",
            "lead_time_days",
            "price",
            "product_id",
        ),
        # A broad page at a buyer's quantity walked by price, or by lead time and price
        # (db.catalogue_walk, migration 0034).
        *(
            Index(f"ix_catalogue_product_prices_{floor}", "currency", floor, "product_id")
            for floor in FLOORS
        ),
        *(
            Index(
                f"ix_catalogue_product_prices_lead_time_{floor}",
                "currency",
                "lead_time_days",
                floor,
                "product_id",
            )
            for floor in FLOORS
        ),
        # A brand's page walked along its own sums, by price or by lead time and price
        # (db.catalogue_walk, migration 0035).
        Index(
            "ix_catalogue_product_prices_brand_price", "currency", "brand", "price", "product_id"
        ),
        Index(
            "ix_catalogue_product_prices_brand_lead_time",
            "currency",
            "brand",
            "lead_time_days",
            "price",
            "product_id",
        ),
        # Rows a refresher older than migration 0033 wrote (migration 0034): asked of their offers,
        # summed again.
        Index(
            "ix_catalogue_product_prices_unfloored",
            "product_id",
            postgresql_where=text("floor_any IS NULL"),
        ),
    )

    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    # The product's brand, folded as the brand filter compares it (``lower``): written by the
    # refresher; triggers (migration 0035) copy it from the product into a sum written without
    # it (an older refresher during an upgrade) and pass a rewritten brand to its sums.
    brand: Mapped[str] = mapped_column(String(100))
    price: Mapped[Decimal] = mapped_column(Numeric(22, 4))  # the best list price
    lead_time_days: Mapped[int] = mapped_column(Integer)  # the shortest
    offers: Mapped[int] = mapped_column(Integer)
    regions: Mapped[list[str]] = mapped_column(ARRAY(String(5)))  # where any of them delivers
    fresh_until: Mapped[date] = mapped_column(Date)  # the day the first of them lapses
    # Any of them holds stock; the least minimum order among them (migration 0030: None only
    # on a row summed before it that no visible offer answered, lapsed there).
    in_stock: Mapped[bool | None] = mapped_column(Boolean)
    least_moq: Mapped[Decimal | None] = mapped_column(Numeric(15, 3))
    # The least any of them asks at a quantity below 10, 100, 1,000, or any (``FLOORS``): its
    # list price or a break reached there (migration 0033: None only on a row summed by a
    # refresher older than it).
    floor_10: Mapped[Decimal | None] = mapped_column(Numeric(22, 4))
    floor_100: Mapped[Decimal | None] = mapped_column(Numeric(22, 4))
    floor_1000: Mapped[Decimal | None] = mapped_column(Numeric(22, 4))
    floor_any: Mapped[Decimal | None] = mapped_column(Numeric(22, 4))


class CataloguePriceChange(Base):
    """A product whose offers or whose suppliers' standing changed since its prices were
    summed; written by triggers (migration 0025), taken away by the refresher."""

    __tablename__ = "catalogue_price_changes"
    __table_args__ = (Index("ix_catalogue_price_changes_product", "product_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(40))


# An offer holds stock when it has at least the least quantity an offer states (stock has
# three places): "in stock" without a quantity asked.
IN_STOCK = Decimal("0.001")


def visible_offer(today: Day, *, hashed: bool = False) -> ColumnElement[bool]:
    """An offer buyers may see: valid today, from a supplier accredited, unexpired and not
    suspended (a suspension sets the standing's status, so one comparison covers both). The
    standing is asked as a set (a few thousand suppliers at most), which PostgreSQL hashes once,
    rather than row by row: a broad search meets 160,000 offers.

    ``hashed`` (for a WHERE clause, where ``IS TRUE`` keeps the same rows): where the planner
    would expect a few offers and meet thousands, the set is kept out of the join, a subplan,
    which PostgreSQL hashes unless it expects very few rows or the standing outgrows its hash
    memory (8 MB by default, about 100,000 suppliers). Joined, it probed the standing's key
    once an offer: a broad search's sampled facets meet about 2,500 offers, estimated at 45,
    and spent 5 of their 20-30 ms on the probes."""
    standing = select(SupplierAccreditation.supplier_org_id).where(
        SupplierAccreditation.status == AccreditationStatus.ACCREDITED,
        SupplierAccreditation.expires_on > today,
    )
    accredited = CatalogueOffer.supplier_org_id.in_(standing)
    if hashed:
        # Not a plain IN in the WHERE clause, so the planner cannot pull it up into a join.
        accredited = accredited.is_(true())
    return and_(CatalogueOffer.valid_until >= today, accredited)
