"""The one way a listing is written: a product matched or made, its offer inserted or updated.

The single listing (``PUT /catalogue/listings/{sku}``) and an import's batches both come here.

- ``listing_rows`` turns a checked listing into the rows it writes: its product, indexed for
  search (``rules.search_text.index_fields``), and its offer. It reads no database, so an import
  computes them while it checks its file and keeps them in its batches as JSON: a batch is then
  written without its listings being validated or indexed a second time.
- ``write_rows`` upserts them, ``BATCH`` listings a statement, each statement taking its
  listings as one JSON parameter that PostgreSQL unpacks (``jsonb_to_record``): an import's
  batch lines go to the database as they were stored, and matching products, finding new search
  terms and attaching offers to products are set operations there. A product is shared by every
  supplier listing the same brand and model in a category with the same dangerous-goods
  identity and temperature profile (``rules.catalogue_listing.product_identity``); only its
  first lister's listings describe it. An offer is one a supplier and SKU: listing it again
  updates it in place.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, TextClause, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from db.catalogue import CatalogueOffer, Product
from db.models import Base, new_id
from rules.catalogue_listing import CheckedListing, product_identity
from rules.search_text import index_fields

BATCH = 1_000  # listings a statement when they are written in bulk


@dataclass(frozen=True, slots=True)
class Written:
    """What writing one listing did: its product and offer, and whether the offer is new."""

    sku: str
    product_id: str
    offer_id: str
    created: bool


def listing_rows(checked: CheckedListing) -> dict[str, Any]:
    """The rows a listing writes, as ``write_rows`` takes them in JSON: ``product`` holds the
    product's columns but its lister, ``offer`` the offer's but its product, supplier and import
    (prices and quantities as exact strings)."""
    listing, offer = checked.listing, checked.listing.offer
    search_text, terms = index_fields(
        listing.name, listing.brand, listing.model, checked.attributes, units=checked.units
    )
    product = {
        "id": new_id("prd"),
        "category_id": listing.category_id,
        "identity": product_identity(
            listing.brand,
            listing.model,
            listing.un_number,
            listing.packing_group,
            listing.temperature_profile,
        ),
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
    }
    return {
        "product": product,
        "offer": {
            "id": new_id("ofr"),
            "sku": listing.sku,
            "currency": offer.currency,
            "unit": offer.unit,
            "list_price": str(offer.list_price),
            "terms": offer.model_dump(mode="json"),
            "stock": str(offer.stock),
            "min_order_quantity": str(offer.min_order_quantity),
            "lead_time_days": offer.lead_time_days,
            "delivery_regions": list(offer.delivery_regions),
            "valid_until": offer.valid_until.isoformat(),
        },
    }


def write_listings(
    session: Session,
    supplier_org_id: str,
    listings: Sequence[CheckedListing],
    import_id: str | None,
) -> list[Written]:
    """Write checked listings (one SKU at most once in ``listings``)."""
    rows = [json.dumps(listing_rows(c), ensure_ascii=False) for c in listings]
    return write_rows(session, supplier_org_id, rows, import_id)


def write_rows(
    session: Session,
    supplier_org_id: str,
    listings: Sequence[str | bytes],
    import_id: str | None,
) -> list[Written]:
    """Write listings given as JSON objects with their ``product`` and ``offer`` rows
    (``listing_rows``; one SKU at most once in ``listings``): products matched or made,
    offers inserted or updated in place."""
    written: list[Written] = []
    for start in range(0, len(listings), BATCH):
        chunk = [
            line if isinstance(line, str) else line.decode()
            for line in listings[start : start + BATCH]
        ]
        values = {
            "rows": "[" + ",".join(chunk) + "]",
            "supplier": supplier_org_id,
            "import_id": import_id,
        }
        session.execute(_PRODUCT_UPSERT, values)
        session.execute(_TERM_INSERT, values)
        written.extend(Written(*row) for row in session.execute(_OFFER_UPSERT, values))
    return written


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _record(model: type[Base], side: str, names: Sequence[str]) -> str:
    """``side`` of each listing (``product`` or ``offer``) as a record of the table's types."""
    columns, dialect = _table(model).c, postgresql.dialect()  # type: ignore[no-untyped-call]
    fields = ", ".join(f"{name} {columns[name].type.compile(dialect=dialect)}" for name in names)
    return (
        f"jsonb_array_elements(CAST(:rows AS jsonb)) WITH ORDINALITY AS listing(value, n)"
        f" CROSS JOIN LATERAL jsonb_to_record(listing.value -> '{side}') AS {side[0]}({fields})"
    )


_PRODUCT_COLUMNS = (
    "id", "category_id", "identity", "name", "brand", "model", "attributes", "un_number",
    "packing_group", "hazard_class", "temperature_profile", "search_text", "terms", "media",
)  # fmt: skip
# What a later listing by the first lister changes: not the product's images and datasheets,
# which are added apart (POST /catalogue/products/{id}/media) and no listing carries.
_DESCRIBED = tuple(name for name in _PRODUCT_COLUMNS[3:] if name != "media")
_OFFER_COLUMNS = (
    "id", "sku", "currency", "unit", "list_price", "terms", "stock", "min_order_quantity",
    "lead_time_days", "delivery_regions", "valid_until",
)  # fmt: skip
_OFFER_CHANGED = (*_OFFER_COLUMNS[2:], "product_id", "import_id")


# A listing's product identity as the statements match it: recomputed from the listing's row
# (brand and model as ``identity_key`` folded them, then what the row declares:
# ``rules.catalogue_listing.product_identity``). A row kept in an import's batch before
# migration 0040 holds brand and model alone; recomputed, it finds the product a listing made
# now finds, never one declaring other goods.
_DECLARED = ("un_number", "packing_group", "temperature_profile")
_IDENTITY = (
    "(split_part(p.identity, '|', 1) || '|' || split_part(p.identity, '|', 2)"
    " || CASE WHEN p.un_number IS NULL THEN ''"
    " ELSE '|dg:' || p.un_number || ':' || coalesce(p.packing_group, '') END"
    " || CASE WHEN p.temperature_profile IS NULL THEN '' ELSE '|temp:' || p.temperature_profile"
    " END)"
)


def _product_upsert() -> TextClause:
    # The last listing of a product among them describes it; only the product's first lister's
    # listings change its description, so a competitor cannot rename a product it also sells.
    return text(
        f"INSERT INTO products ({', '.join(_PRODUCT_COLUMNS)}, listed_by_org_id)"
        f" SELECT DISTINCT ON (p.category_id, {_IDENTITY})"
        f" {', '.join(_IDENTITY if n == 'identity' else 'p.' + n for n in _PRODUCT_COLUMNS)}"
        ", :supplier"
        f" FROM {_record(Product, 'product', _PRODUCT_COLUMNS)}"
        f" ORDER BY p.category_id, {_IDENTITY}, listing.n DESC"
        " ON CONFLICT (category_id, identity) DO UPDATE SET "
        + ", ".join(f"{name} = excluded.{name}" for name in _DESCRIBED)
        + ", updated_at = now() WHERE products.listed_by_org_id = excluded.listed_by_org_id"
    )


def _term_insert() -> TextClause:
    # The terms of the products as the upsert left them: a listing whose description was not
    # taken (a competitor's, or one of two listings of a product in a batch) adds none of its
    # own, which no product would hold and a misspelling's nearest words would count. Most
    # terms are known already: only those the category does not hold are inserted.
    return text(
        "INSERT INTO catalogue_terms (term, category_id)"
        " SELECT DISTINCT word.term, products.category_id"
        f" FROM {_record(Product, 'product', ('category_id', 'identity', *_DECLARED))}"
        " JOIN products ON products.category_id = p.category_id"
        f" AND products.identity = {_IDENTITY}"
        " CROSS JOIN LATERAL unnest(products.terms) AS word(term)"
        " WHERE NOT EXISTS (SELECT FROM catalogue_terms known"
        " WHERE known.term = word.term AND known.category_id = products.category_id)"
        " ON CONFLICT DO NOTHING"
    )


def _offer_upsert() -> TextClause:
    # xmax is 0 on a freshly inserted row version: PostgreSQL's way to tell an upsert's insert
    # from its update.
    return text(
        f"INSERT INTO catalogue_offers ({', '.join(_OFFER_COLUMNS)}, product_id,"
        " supplier_org_id, import_id, revision)"
        f" SELECT {', '.join('o.' + name for name in _OFFER_COLUMNS)}, products.id,"
        " :supplier, :import_id, 1"
        f" FROM {_record(CatalogueOffer, 'offer', _OFFER_COLUMNS)}"
        " CROSS JOIN LATERAL jsonb_to_record(listing.value -> 'product')"
        f" AS p(category_id text, identity text, {', '.join(n + ' text' for n in _DECLARED)})"
        " JOIN products ON products.category_id = p.category_id"
        f" AND products.identity = {_IDENTITY}"
        " ORDER BY o.sku"
        " ON CONFLICT (supplier_org_id, sku) DO UPDATE SET "
        + ", ".join(f"{name} = excluded.{name}" for name in _OFFER_CHANGED)
        + ", revision = catalogue_offers.revision + 1, updated_at = now()"
        " RETURNING catalogue_offers.sku, catalogue_offers.product_id, catalogue_offers.id,"
        " (catalogue_offers.xmax = 0)"
    )


_PRODUCT_UPSERT = _product_upsert()
_TERM_INSERT = _term_insert()
_OFFER_UPSERT = _offer_upsert()
