"""A small catalogue for the workbench's page tests: one product (a screwdriver, named by a
synonym of what buyers type) offered by two accredited suppliers and, cheapest, a suspended one;
a buyer and the best supplier who sign in with the demo password."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from contracts.common import Role
from db.catalogue import CatalogueCategory
from db.session import transaction
from storage.object_store import ObjectStore
from tests.harness import catalogue_offers as c
from tests.harness import sourcing as s
from tests.harness.workbench import login_user

NAME = "螺丝起子 一字 5毫米"
SYNONYMS = ["螺丝刀", "螺丝起子", "改锥"]


@dataclass(frozen=True)
class Shop:
    category: str
    product_id: str
    offer_id: str  # the best eligible offer (8.00 CNY, to Shanghai)
    other_offer_id: str  # another accredited supplier's (9.00 CNY, nationwide)
    suspended_offer_id: str  # the cheapest (1.00 CNY), by a suspended supplier
    suspended_name: str
    buyer_email: str
    supplier_email: str  # of the best offer's supplier


def shop(sessions: sessionmaker[Session], store: ObjectStore) -> Shop:
    """The product in a category of its own (the database is shared) with its synonyms."""
    category = c.category(sessions)
    with transaction(sessions) as session:
        session.get_one(CatalogueCategory, category).synonyms = [SYNONYMS]
    best, other = s.accredited_supplier(sessions, store), s.accredited_supplier(sessions, store)
    suspended = s.accredited_supplier(sessions, store, status="suspended")
    model = f"SATA-{uuid.uuid4().hex[:6]}"
    written = {}
    for org, price, regions in (
        (best, "8.00", ("CN-SH",)),
        (other, "9.00", ("CN",)),
        (suspended, "1.00", ("CN",)),
    ):
        offer = c.terms([("1", price)], stock="500", moq="1", unit="件", regions=regions)
        written[org.id] = c.list_offer(
            sessions, org.id, offer, category_id=category, model=model, name=NAME, brand="世达"
        )
    return Shop(
        category=category,
        product_id=written[best.id].product_id,
        offer_id=written[best.id].offer_id,
        other_offer_id=written[other.id].offer_id,
        suspended_offer_id=written[suspended.id].offer_id,
        suspended_name=suspended.legal_name,
        buyer_email=login_user(sessions, s.buyer_org(sessions).id, Role.BUYER),
        supplier_email=login_user(sessions, best.id, Role.SUPPLIER),
    )
