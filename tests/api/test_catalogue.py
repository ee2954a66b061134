"""The catalogue over the real API: ops keep categories, suppliers list under their own SKUs,
products are shared by brand and model, offers stay each supplier's own, buyers see only what
accredited suppliers offer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contracts.common import OPERATOR_ORG_ID, Role
from db.catalogue import CatalogueTerm
from db.models import AuditEntry, Organisation
from settings import Settings
from storage.object_store import ObjectStore
from tests.harness import sourcing as s
from tests.harness.api_server import TokenCaller

TODAY = datetime.now(UTC).date()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class People:
    ops: TokenCaller
    supplier: TokenCaller
    rival: TokenCaller
    buyer: TokenCaller
    category: str


@pytest.fixture(scope="module")
def people(
    api_url: str, settings: Settings, sessions: sessionmaker[Session], store: ObjectStore
) -> People:
    def caller(org: Organisation, role: Role) -> TokenCaller:
        return TokenCaller(api_url, settings.jwt_secret, s.member(sessions, org, role))

    with sessions() as session:
        operator = session.get(Organisation, OPERATOR_ORG_ID)
    assert operator is not None
    return People(
        ops=caller(operator, Role.OPS_SUPERVISOR),
        supplier=caller(s.accredited_supplier(sessions, store), Role.SUPPLIER),
        rival=caller(s.accredited_supplier(sessions, store), Role.SUPPLIER),
        buyer=caller(s.buyer_org(sessions), Role.BUYER),
        category=f"screwdrivers-{uuid.uuid4().hex[:8]}",
    )


def category(category_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "category_id": category_id,
        "name_zh": "螺丝刀",
        "name_en": "Screwdrivers",
        "attributes": [
            {"key": "length", "label_zh": "长度", "label_en": "Length", "kind": "number",
             "unit": "mm", "required": True},
            {"key": "tip", "label_zh": "刀头", "label_en": "Tip", "kind": "choice",
             "choices": ["Phillips", "Slotted"]},
        ],
        "synonyms": [["螺丝刀", "螺丝起子", "改锥"]],
    } | changes  # fmt: skip


def listing(people: People, sku: str, **changes: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "category_id": people.category,
        "name": "十字螺丝刀 PH2 100毫米",
        "brand": "Stanley",
        "model": "STHT-65",
        "attributes": {"length": "10 cm", "tip": "phillips"},
        "offer": {
            "currency": "CNY",
            "unit": "把",
            "price_breaks": [
                {"min_quantity": "1", "unit_price": "12.50"},
                {"min_quantity": "100", "unit_price": "10.80"},
            ],
            "stock": "500",
            "min_order_quantity": "10",
            "lead_time_days": 3,
            "delivery_regions": ["CN-JS", "CN-SH"],
            "valid_until": (TODAY + timedelta(days=90)).isoformat(),
        },
    } | changes


async def made_category(people: People) -> None:
    response = await people.ops.http.put(
        f"/catalogue/categories/{people.category}", json=category(people.category)
    )
    assert response.status_code in (200, 201), response.text


async def test_ops_keep_categories_and_the_change_is_audited(
    people: People, sessions: sessionmaker[Session]
) -> None:
    first = await people.ops.http.put(
        f"/catalogue/categories/{people.category}", json=category(people.category)
    )
    assert first.status_code == 201, first.text
    assert first.json()["path"] == people.category
    again = await people.ops.http.put(
        f"/catalogue/categories/{people.category}",
        json=category(people.category, synonyms=[["螺丝刀", "螺丝起子"]]),
    )
    assert again.status_code == 200 and again.json()["synonyms"] == [["螺丝刀", "螺丝起子"]]
    child_id = f"{people.category}-ph"
    child = await people.ops.http.put(
        f"/catalogue/categories/{child_id}",
        json=category(child_id, parent_id=people.category, name_en="Phillips screwdrivers"),
    )
    assert child.json()["path"] == f"{people.category}/{child_id}"
    moved = await people.ops.http.put(
        f"/catalogue/categories/{child_id}", json=category(child_id, parent_id=None)
    )
    assert moved.status_code == 422 and moved.json()["errors"][0]["field"] == "parent_id"
    with sessions() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target_id == people.category)
        ).all()
    assert actions == ["catalogue.category_created", "catalogue.category_changed"]


async def test_only_ops_keep_categories_and_bad_units_are_named(
    people: People, api_url: str, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    refused = await people.supplier.http.put(
        "/catalogue/categories/anything", json=category("anything")
    )
    assert refused.status_code == 403
    # The role is staff's only inside the operator: a supplier's user holding it is refused.
    with sessions() as session:
        supplier_org = session.get(Organisation, people.supplier.org_id)
    assert supplier_org is not None
    posing = TokenCaller(
        api_url, settings.jwt_secret, s.member(sessions, supplier_org, Role.OPS_SUPERVISOR)
    )
    staff_only = await posing.http.put("/catalogue/categories/anything", json=category("x"))
    assert staff_only.status_code == 403
    assert staff_only.json()["detail"] == "requires the platform operator's staff"
    furlongs = category("furlongs")
    furlongs["attributes"][0]["unit"] = "furlong"
    bad = await people.ops.http.put("/catalogue/categories/furlongs", json=furlongs)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "attributes.0.unit"
    everyone = await people.buyer.http.get("/catalogue/categories")
    assert everyone.status_code == 200


async def test_a_sku_listed_again_updates_its_offer_in_place(people: People) -> None:
    await made_category(people)
    sku = f"SD/{uuid.uuid4().hex[:6]}"  # a SKU may hold "/", and is still reached by its path
    first = await people.supplier.http.put(f"/catalogue/listings/{sku}", json=listing(people, sku))
    assert first.status_code == 201, first.text
    cheaper = listing(people, sku)
    cheaper["offer"]["price_breaks"][0]["unit_price"] = "11.90"
    second = await people.supplier.http.put(f"/catalogue/listings/{sku}", json=cheaper)
    assert second.status_code == 200
    body = second.json()
    assert body["offer_id"] == first.json()["offer_id"]
    assert body["revision"] == 2 and body["offer"]["price_breaks"][0]["unit_price"] == "11.90"
    product = await people.buyer.http.get(f"/catalogue/products/{body['product_id']}")
    assert product.json()["attributes"] == {"length": "100", "tip": "Phillips"}
    own = await people.supplier.http.get("/catalogue/offers")
    assert [o["sku"] for o in own.json()].count(sku) == 1
    encoded = f"/catalogue/offers/{quote(sku, safe='')}"
    assert (await people.supplier.http.get(encoded)).json()["offer_id"] == body["offer_id"]
    assert (await people.supplier.http.delete(encoded)).status_code == 204


async def test_suppliers_share_a_product_but_not_its_description_or_their_offers(
    people: People, sessions: sessionmaker[Session]
) -> None:
    await made_category(people)
    sku = f"SD-{uuid.uuid4().hex[:6]}"
    mine = await people.supplier.http.put(f"/catalogue/listings/{sku}", json=listing(people, sku))
    renamed = listing(people, sku, name="Rival's name", model="stht 65", brand="STANLEY")
    theirs = await people.rival.http.put(f"/catalogue/listings/{sku}", json=renamed)
    assert theirs.status_code == 201  # the SKU is each supplier's own
    assert theirs.json()["product_id"] == mine.json()["product_id"]
    product = await people.buyer.http.get(f"/catalogue/products/{mine.json()['product_id']}")
    assert product.json()["name"] == "十字螺丝刀 PH2 100毫米"
    with sessions() as session:  # nor its words: search's vocabulary takes the product's
        assert session.get(CatalogueTerm, ("rival", renamed["category_id"])) is None
        assert session.get(CatalogueTerm, ("ph2", renamed["category_id"])) is not None
    assert product.json()["visible_offers"] >= 2
    assert (await people.rival.http.get(f"/catalogue/offers/{sku}")).json()["offer_id"] == (
        theirs.json()["offer_id"]
    )
    withdrawn = await people.rival.http.delete(f"/catalogue/offers/{sku}")
    assert withdrawn.status_code == 204
    assert (await people.rival.http.get(f"/catalogue/offers/{sku}")).status_code == 404
    assert (await people.supplier.http.get(f"/catalogue/offers/{sku}")).status_code == 200


async def test_a_listing_declaring_other_dangerous_goods_is_a_product_of_its_own(
    people: People,
) -> None:
    """Shared, the first lister's declaration was every supplier's: the rival's UN number was
    dropped and the orders of its offer carried none. A listing declaring another UN number is
    another product; the first lister declaring it later moves its own offer there, and the
    product it leaves still declares nothing for whoever else sells it."""
    await made_category(people)
    sku, model = f"SD-{uuid.uuid4().hex[:6]}", f"X-{uuid.uuid4().hex[:6]}"
    declared = {"model": model, "un_number": "UN1090", "packing_group": "II"}
    plain = await people.supplier.http.put(
        f"/catalogue/listings/{sku}", json=listing(people, sku, model=model)
    )
    rivals = await people.rival.http.put(
        f"/catalogue/listings/{sku}", json=listing(people, sku, **declared)
    )
    assert (plain.status_code, rivals.status_code) == (201, 201), rivals.text
    plain_id, declared_id = plain.json()["product_id"], rivals.json()["product_id"]
    assert declared_id != plain_id

    async def product(product_id: str) -> dict[str, Any]:
        answer = await people.buyer.http.get(f"/catalogue/products/{product_id}")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    assert (await product(declared_id))["un_number"] == "UN1090"
    assert (await product(declared_id))["hazard_class"] is not None
    assert (await product(plain_id))["un_number"] is None
    again = await people.supplier.http.put(
        f"/catalogue/listings/{sku}", json=listing(people, sku, **declared)
    )
    assert again.status_code == 200, again.text
    assert again.json()["product_id"] == declared_id
    assert (await product(declared_id))["visible_offers"] == 2
    assert (await product(plain_id))["un_number"] is None


async def test_a_bad_listing_names_every_field(people: People) -> None:
    await made_category(people)
    bad = listing(
        people, "BAD-1", attributes={"length": "3 kg", "colour": "red"}, un_number="UN0000"
    )
    response = await people.supplier.http.put("/catalogue/listings/BAD-1", json=bad)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"attributes.colour", "attributes.length", "un_number"}
    unknown = await people.supplier.http.put(
        "/catalogue/listings/BAD-2", json=listing(people, "BAD-2", category_id="no-such")
    )
    assert unknown.json()["errors"][0]["field"] == "category_id"
    as_buyer = await people.buyer.http.put(
        "/catalogue/listings/BAD-3", json=listing(people, "BAD-3")
    )
    assert as_buyer.status_code == 403


async def test_a_suspended_suppliers_offer_is_not_seen(
    people: People, api_url: str, settings: Settings, sessions: sessionmaker[Session],
    store: ObjectStore,
) -> None:  # fmt: skip
    await made_category(people)
    org = s.accredited_supplier(sessions, store)
    seller = TokenCaller(api_url, settings.jwt_secret, s.member(sessions, org, Role.SUPPLIER))
    sku = "ONLY-1"
    only = listing(people, sku, brand="Solo", model=f"S-{uuid.uuid4().hex[:6]}")
    product_id = (await seller.http.put(f"/catalogue/listings/{sku}", json=only)).json()[
        "product_id"
    ]
    seen = (await people.buyer.http.get(f"/catalogue/products/{product_id}")).json()
    assert seen["visible_offers"] == 1
    assert seen["lowest_list_price"] == {"amount": "12.5000", "currency": "CNY"}
    s.set_standing(sessions, org.id, "suspended")
    unseen = (await people.buyer.http.get(f"/catalogue/products/{product_id}")).json()
    assert unseen["visible_offers"] == 0 and unseen["lowest_list_price"] is None


async def test_images_by_the_describing_supplier_readable_by_buyers(people: People) -> None:
    await made_category(people)
    sku = f"IMG-{uuid.uuid4().hex[:6]}"
    body = listing(people, sku, model=f"M-{uuid.uuid4().hex[:6]}")
    product_id = (await people.supplier.http.put(f"/catalogue/listings/{sku}", json=body)).json()[
        "product_id"
    ]
    files = {"file": ("photo.png", PNG, "image/png")}
    added = await people.supplier.http.post(
        f"/catalogue/products/{product_id}/media", files=files, data={"kind": "image"}
    )
    assert added.status_code == 201, added.text
    media = added.json()["media"][0]
    download = await people.buyer.http.get(f"/documents/{media['document_id']}")
    assert download.status_code == 200 and download.content == PNG
    not_theirs = await people.rival.http.post(
        f"/catalogue/products/{product_id}/media", files=files, data={"kind": "image"}
    )
    assert not_theirs.status_code == 403
    wrong_kind = await people.supplier.http.post(
        f"/catalogue/products/{product_id}/media", files=files, data={"kind": "datasheet"}
    )
    assert wrong_kind.status_code == 415
    # Listing the product again (a new price) keeps its images: they are not the listing's.
    body["offer"]["price_breaks"] = [{"min_quantity": "1", "unit_price": "11.00"}]
    again = await people.supplier.http.put(f"/catalogue/listings/{sku}", json=body)
    assert again.status_code == 200, again.text
    kept = (await people.buyer.http.get(f"/catalogue/products/{product_id}")).json()
    assert [m["document_id"] for m in kept["media"]] == [media["document_id"]]
