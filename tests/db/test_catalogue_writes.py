"""A listing's rows kept in an import's batch before migration 0040 (their product identity brand
and model alone) are written to the product a listing declaring the same goods finds now, never
to one declaring other goods (found by review: the batch's identity was used as kept)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from db.catalogue import Product
from db.catalogue_writes import listing_rows, write_rows
from db.session import transaction
from rules.catalogue_listing import check_listing, identity_key, product_identity
from storage.object_store import ObjectStore
from tests.harness import catalogue_offers as c
from tests.harness import sourcing as s


def test_rows_kept_before_the_identity_held_the_goods_find_the_product_declaring_them(
    sessions: sessionmaker[Session], store: ObjectStore
) -> None:
    category = c.category(sessions)
    model = f"X-{uuid.uuid4().hex[:6]}"
    first = s.accredited_supplier(sessions, store)
    plain = c.list_offer(
        sessions, first.id, c.terms([("1", "9")]), category_id=category, model=model
    )
    declared = c.list_offer(
        sessions, first.id, c.terms([("1", "9")]), category_id=category, model=model,
        un_number="UN1090", packing_group="II",
    )  # fmt: skip
    assert declared.product_id != plain.product_id
    rival = s.accredited_supplier(sessions, store)
    listing = c.listing_of(category, model, un_number="UN1090", packing_group="II")
    checked = check_listing(listing, (c.LENGTH,))
    assert not isinstance(checked, list), checked
    rows: dict[str, Any] = listing_rows(checked)
    # As a batch kept before migration 0040 holds it: brand and model alone.
    rows["product"]["identity"] = f"{identity_key('Hengxin')}|{identity_key(model)}"
    with transaction(sessions) as session:
        (written,) = write_rows(session, rival.id, [json.dumps(rows)], None)
    assert written.product_id == declared.product_id
    with sessions() as session:
        product = session.get(Product, declared.product_id)
        assert product is not None
        assert product.identity == product_identity("Hengxin", model, "UN1090", "II", None)
        assert session.get(Product, plain.product_id) is not None
