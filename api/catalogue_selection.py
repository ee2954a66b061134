"""What the catalogue's buyer routes share: the products a buyer selects, where they go, and who
may buy (comparison, an RFQ from a selection, an order from the catalogue)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import HTTPException, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.errors import invalid
from api.routes.rfq_opening import MAX_LEAD
from contracts.common import Actor, Line, OrgKind
from contracts.sourcing import Quantity
from db.catalogue_selection import SelectedProduct, selected_products
from db.models import Organisation
from rules.provinces import PROVINCES

ProductId = Annotated[Line, Field(min_length=1, max_length=40)]
Unit = Annotated[Line, Field(min_length=1, max_length=20)]
Province = Annotated[Line, Field(pattern=r"^CN-[A-Z]{2}$")]


class WantedProduct(BaseModel):
    """A product at the buyer's quantity; ``unit`` defaults to the one most offers state."""

    product_id: ProductId
    quantity: Quantity
    unit: Unit | None = None


def buyer_organisation(session: Session, actor: Actor) -> Organisation:
    """The caller's organisation, which must be a buyer: 403 to a supplier's people."""
    org = session.get(Organisation, actor.org_id)
    if org is None or org.kind != OrgKind.BUYER:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only buyer organisations")
    return org


def check_delivery(region: str, needed_by: date | None, *, today: date) -> None:
    if region not in PROVINCES:
        raise invalid("delivery_region", f"{region} is not an ISO 3166-2:CN province code")
    if needed_by is not None and needed_by <= today:
        raise invalid("needed_by", "must be after today")
    if needed_by is not None and needed_by > today + MAX_LEAD:
        raise invalid("needed_by", f"must be within {MAX_LEAD.days} days")


def selected(session: Session, product_ids: list[str], *, field: str) -> dict[str, SelectedProduct]:
    """The products named, each once; 422 naming the first unknown or repeated one."""
    found = selected_products(session, product_ids)
    for i, product_id in enumerate(product_ids):
        if product_id not in found:
            raise invalid(f"{field}.{i}.product_id", f"no product {product_id}")
        if product_id in product_ids[:i]:
            raise invalid(f"{field}.{i}.product_id", f"{product_id} is selected twice")
    return found
